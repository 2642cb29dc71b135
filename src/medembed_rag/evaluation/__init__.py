"""Retrieval metrics, a BEIR reader, and the pipeline evaluation behind ``medembed-rag eval``."""

from .metrics import BeirDataset, document_text, evaluate, load_beir, mrr_at_k, ndcg_at_k, recall_at_k
from .pipeline import EvalIndex, run_eval

__all__ = ["BeirDataset", "EvalIndex", "document_text", "evaluate", "load_beir", "mrr_at_k", "ndcg_at_k",
           "recall_at_k", "run_eval"]
