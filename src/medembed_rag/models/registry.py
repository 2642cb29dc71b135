"""Known embedding models: frozen descriptions with pinned hub revisions.

A registered model is configured from this table (its hub folder need not carry sentence-transformers
files: MedEmbed-base, for one, ships only the BERT checkpoint). Any other model, a local folder or a hub id,
is configured from its own sentence-transformers files instead (see :mod:`medembed_rag.models.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pooling import Pooling


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to load and use one embedding model.

    Attributes:
        model_id: The Hugging Face hub id.
        revision: The pinned hub commit; ``None`` means unpinned (loading it warns).
        dim: Embedding dimension.
        pooling: Token pooling.
        max_length: The most tokens (special tokens included) the model reads.
        normalize: Whether vectors are L2-normalised.
        query_prefix: Text put before each query.
        document_prefix: Text put before each document.
        license: The model's licence.
        base_model: What it was fine-tuned from.
    """

    model_id: str
    revision: str | None
    dim: int
    pooling: Pooling
    max_length: int
    normalize: bool = True
    query_prefix: str = ""
    document_prefix: str = ""
    license: str = ""
    base_model: str = ""


DEFAULT_MODEL = "abhinand/MedEmbed-base-v0.1"
DEFAULT_RERANKER = "ncbi/MedCPT-Cross-Encoder"

_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        model_id="abhinand/MedEmbed-small-v0.1",
        revision="4cca5ec1d9b22745e1b0f2f035bab5ef2394e2e9",
        dim=384,
        pooling=Pooling.CLS,
        max_length=512,
        license="apache-2.0",
        base_model="BAAI/bge-small-en-v1.5",
    ),
    ModelSpec(
        model_id="abhinand/MedEmbed-base-v0.1",
        revision="101a3f63286f44b661f5caf1491dbe7f3468b064",
        dim=768,
        pooling=Pooling.CLS,
        max_length=512,
        license="apache-2.0",
        base_model="BAAI/bge-base-en-v1.5",
    ),
    # No verified commit of MedEmbed-large was available when this table was written: it stays unpinned
    # (loading it warns) until a maintainer records one. Pass ``revision=`` to pin it yourself.
    ModelSpec(
        model_id="abhinand/MedEmbed-large-v0.1",
        revision=None,
        dim=1024,
        pooling=Pooling.CLS,
        max_length=512,
        license="apache-2.0",
        base_model="BAAI/bge-large-en-v1.5",
    ),
    # A long-context encoder of MedEIR's class (8,192 tokens; ModernBERT, exported by models.export_native).
    # No verified commit was found in public material when this row was written: unpinned (loading it warns).
    ModelSpec(
        model_id="Alibaba-NLP/gte-modernbert-base",
        revision=None,
        dim=768,
        pooling=Pooling.CLS,
        max_length=8192,
        license="apache-2.0",
        base_model="answerdotai/ModernBERT-base",
    ),
)

_BY_ID = {spec.model_id.lower(): spec for spec in _MODELS}


def list_supported_models() -> list[ModelSpec]:
    """Returns the registered models, smallest first."""
    return list(_MODELS)


def get_model_spec(model_id: str) -> ModelSpec | None:
    """Returns the registered spec for a hub id (case-insensitive), or ``None``."""
    return _BY_ID.get(model_id.lower())


@dataclass(frozen=True)
class RerankerSpec:
    """A registered cross-encoder: hub id, pinned revision (None: unpinned), length limit, licence."""

    model_id: str
    revision: str | None
    max_length: int
    license: str = ""


_RERANKERS = (
    RerankerSpec(DEFAULT_RERANKER, "71caf65d4927987813984f54c284405a13fcca49", 512, "public-domain"),
    # General-purpose cross-encoders; no verified commit was recorded for them yet (pass revision= to pin).
    RerankerSpec("BAAI/bge-reranker-base", None, 512, "mit"),
    RerankerSpec("cross-encoder/ms-marco-MiniLM-L-6-v2", None, 512, "apache-2.0"),
)


def list_supported_rerankers() -> list[RerankerSpec]:
    """The registered cross-encoders, medical first."""
    return list(_RERANKERS)


def get_reranker_spec(model_id: str) -> RerankerSpec | None:
    """The registered cross-encoder for a hub id (case-insensitive), or ``None``."""
    return next((s for s in _RERANKERS if s.model_id.lower() == model_id.lower()), None)
