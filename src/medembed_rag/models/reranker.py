"""A cross-encoder reranker on OpenVINO: reads each (query, passage) pair together and orders the passages."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import (
    EmbeddingIntegrityError,
    InputTooLongError,
    InvalidInputError,
    InvalidInputTypeError,
    ModelLoadError,
    TruncationWarning,
)
from ..inputs import validate_texts
from ..text.medical_texts import MEDICAL_SENTENCES, calibration_samples
from .batching import model_inputs, run_sorted_batches
from .export import export_checkpoint, quantize_int8
from .lifecycle import LazyModel, pinned_source
from .options import PRECISIONS, TRUNCATIONS, Precision, Truncation, check_choice, check_positive_int
from .registry import DEFAULT_RERANKER, RerankerSpec, get_reranker_spec, list_supported_rerankers
from .runtime import compile_model
from .tokenizer import load_tokenizer, pad_token_id

__all__ = ["MedEmbedReranker", "RankResult", "RerankerSpec", "list_supported_rerankers"]

logger = logging.getLogger(__name__)


class RankResult(NamedTuple):
    """One ranked passage: its index in the input list and its score (the model's relevance logit)."""

    index: int
    score: float


class _Loaded(NamedTuple):
    compiled: object
    tokenizer: object  # cuts the passage side of a pair at the limit
    query_tokenizer: object  # never cuts: counts a query's tokens
    pad_id: int
    limit: int


class MedEmbedReranker(LazyModel):
    """Scores (query, passage) pairs with a cross-encoder on OpenVINO and orders passages by relevance.

    The default is MedCPT's cross-encoder (trained on PubMed search logs). Any local folder with a
    BERT-family sequence-classification model with one output also works. The model is exported once and
    cached by the same lifecycle as the encoder (:mod:`medembed_rag.models.lifecycle`).

    Pairs are scored in length-sorted batches. A pair longer than ``max_length`` is cut on the passage side
    only, never the query; the number of cut pairs is reported once per call.

    Args:
        model: Hub id or local folder.
        revision: Hub commit (default: the registry's pinned one).
        precision: ``auto``, ``fp32``, ``bf16`` or ``int8`` (as for the encoder: ``auto`` is measured once per CPU).
        batch_size: Pairs per forward pass.
        max_length: Most tokens per pair (default: the model's limit).
        cache_dir: Where exported models are cached.
        num_threads: CPU threads for OpenVINO.
        truncation: ``"warn"`` (cut long passages and warn once per call), ``"silent"``, or ``"error"``.
    """

    task = "text-classification"
    label = "reranker"

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_RERANKER,
        revision: str | None = None,
        precision: Precision = "auto",
        batch_size: int = 16,
        max_length: int | None = None,
        cache_dir: str | os.PathLike | None = None,
        num_threads: int | None = None,
        truncation: Truncation = "warn",
    ) -> None:
        check_choice("precision", precision, PRECISIONS)
        check_positive_int("batch_size", batch_size)
        check_choice("truncation", truncation, TRUNCATIONS)
        spec = get_reranker_spec(model) if isinstance(model, str) else None
        self._spec_max = spec.max_length if spec else None
        self._requested_max_length = max_length
        self.precision = precision
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.truncation = truncation
        self._init_lazy(pinned_source(model, revision, spec.revision if spec else None), cache_dir, False)

    def __repr__(self) -> str:
        return f"MedEmbedReranker(model={self.model_id!r}, precision={self.precision!r})"

    # ------------------------------------------------------------------ loading
    @property
    def variant(self) -> str:
        return "int8" if self.precision == "int8" else "fp32"

    def _export(self, checkpoint: Path, out: Path) -> None:
        export_checkpoint(self.task)(checkpoint, out)
        if self.precision == "int8":
            tokenizer = load_tokenizer(out, cache_entry=True)
            tokenizer.enable_truncation(self._limit(out), strategy="only_second")
            passages = calibration_samples(64)
            pairs = [(MEDICAL_SENTENCES[i % 8], p) for i, p in enumerate(passages)]  # the first 8 are questions
            quantize_int8(out, [model_inputs([e]) for e in tokenizer.encode_batch(pairs)])

    def _limit(self, folder: Path) -> int:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        limit = min(int(config.get("max_position_embeddings", 512)), self._spec_max or 512)
        labels = int(config.get("num_labels", len(config.get("id2label", {}) or {0: 0})))
        if labels != 1:
            raise ModelLoadError(
                f"{self.model_id} has {labels} output labels; medembed-rag's reranker needs a cross-encoder with one "
                f"relevance score (num_labels=1)."
            )
        wanted = self._requested_max_length
        if wanted is not None:
            if not isinstance(wanted, int) or not 16 <= wanted <= limit:
                raise InvalidInputError(f"max_length must be an integer from 16 to {limit}; got {wanted!r}")
            return wanted
        return limit

    def _build(self, folder: Path) -> _Loaded:
        limit = self._limit(folder)
        tokenizer = load_tokenizer(folder, cache_entry=True)
        tokenizer.enable_truncation(limit, strategy="only_second")
        return _Loaded(compile_model(folder, self.precision, threads=self.num_threads), tokenizer,
                       load_tokenizer(folder, cache_entry=True), pad_token_id(folder, tokenizer), limit)

    # ------------------------------------------------------------------ scoring
    def predict(self, query: str, passages: list[str]) -> np.ndarray:
        """Relevance scores (float32, one per passage, in input order)."""
        if not isinstance(query, str):
            raise InvalidInputTypeError(f"query must be str, got {type(query).__name__}")
        validate_texts([query], what="query")
        if isinstance(passages, str):
            raise InvalidInputTypeError("passages must be a list of strings, not one string")
        items = validate_texts(passages, what="passage") if passages else []
        if not items:
            return np.empty((0,), dtype=np.float32)
        compiled, tokenizer, query_tokenizer, pad_id, limit = self.load()
        query_tokens = len(query_tokenizer.encode(query, add_special_tokens=False).ids)
        if query_tokens > limit - 8:
            raise InputTooLongError(
                f"the query has {query_tokens} tokens; the reranker reads {limit} per pair and never cuts the query. "
                f"Shorten the query."
            )
        encodings = tokenizer.encode_batch([(query, p) for p in items])
        cut = sum(1 for e in encodings if e.overflowing)
        if cut and self.truncation == "error":
            raise InputTooLongError(f"{cut} of {len(items)} (query, passage) pairs exceed {limit} tokens")
        if cut and self.truncation == "warn":
            warnings.warn(
                f"{cut} of {len(items)} passages were cut to fit {limit} tokens with the query (the query is never "
                f"cut); rerank chunks rather than whole documents.",
                TruncationWarning,
                stacklevel=3,
            )
        scores = run_sorted_batches(
            compiled,
            encodings,
            batch_size=self.batch_size,
            pad_id=pad_id,
            max_length=limit,
            out_dim=1,
            reduce=lambda logits, mask: logits[:, :1],
            show_progress=False,
            desc="Reranking",
        )[:, 0]
        if not np.isfinite(scores).all():
            from ..errors import EmbeddingIntegrityError

            bad = int(np.flatnonzero(~np.isfinite(scores))[0])
            raise EmbeddingIntegrityError(f"the reranker produced a NaN score for passage {bad}; re-export the model")
        return scores

    def rank(self, query: str, passages: list[str], top_k: int | None = None) -> list[RankResult]:
        """Passages ordered by relevance to ``query``, best first, as ``(index, score)``; ties keep input order.

        Args:
            query: The question.
            passages: Candidate passages (e.g. the first stage's top 50).
            top_k: How many to return (default: all).
        """
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise InvalidInputError(f"top_k must be a positive integer or None; got {top_k!r}")
        scores = self.predict(query, passages)
        order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
        ranked = [RankResult(i, float(scores[i])) for i in order]
        return ranked[:top_k] if top_k is not None else ranked

    async def arank(self, query: str, passages: list[str], top_k: int | None = None) -> list[RankResult]:
        """:meth:`rank` in a worker thread."""
        return await asyncio.to_thread(self.rank, query, passages, top_k)
