"""The model runtime: which models exist, where a checkpoint comes from, its OpenVINO export and cache, the
precision it runs at, and the three models built on one lifecycle (encoder, reranker, local LLM)."""

from .encoder import MedEmbedEncoder
from .llm import LocalLLM, OpenAICompatibleLLM
from .options import PRECISIONS, EncoderOptions
from .pooling import Pooling
from .registry import (
    DEFAULT_MODEL,
    DEFAULT_RERANKER,
    ModelSpec,
    RerankerSpec,
    get_model_spec,
    list_supported_models,
    list_supported_rerankers,
)
from .reranker import MedEmbedReranker, RankResult
from .settings import EncoderSettings

__all__ = ["DEFAULT_MODEL", "DEFAULT_RERANKER", "PRECISIONS", "EncoderOptions", "EncoderSettings", "LocalLLM",
           "MedEmbedEncoder", "MedEmbedReranker", "ModelSpec", "OpenAICompatibleLLM", "Pooling", "RankResult",
           "RerankerSpec", "get_model_spec", "list_supported_models", "list_supported_rerankers"]
