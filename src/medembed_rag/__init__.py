"""medembed-rag: MedEmbed medical embeddings for retrieval-augmented generation, fast on a CPU.

The top-level package holds the framework-free core: the encoder and its options here; the store, the
reranker, the chunker and the answerer are imported on first use (``from medembed_rag import
MedEmbedChromaStore``). Framework faces live in ``medembed_rag.integrations.<framework>`` and import their
framework only when used. ARCHITECTURE.md at the repository root maps the packages.
"""

from .telemetry import disable_library_telemetry

disable_library_telemetry()  # before anything below can import openvino, nncf, chromadb or huggingface_hub

from .integrations.chroma_registration import register_when_chroma_loads  # noqa: E402

register_when_chroma_loads()  # so a new process can reopen a collection written with MedEmbedEmbeddingFunction

from ._version import __version__  # noqa: E402
from .models.encoder import MedEmbedEncoder  # noqa: E402
from .errors import (  # noqa: E402
    DocumentNotFoundError,
    EmbeddingIntegrityError,
    InputTooLongError,
    InvalidInputError,
    InvalidInputTypeError,
    MedEmbedError,
    MissingDependencyError,
    ModelLoadError,
    ModelMismatchError,
    ModelNotFoundError,
    OfflineModelError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
    TruncationWarning,
)
from .models.options import EncoderOptions  # noqa: E402
from .models.pooling import Pooling  # noqa: E402
from .models.registry import DEFAULT_MODEL, ModelSpec, get_model_spec, list_supported_models  # noqa: E402
from .models.settings import EncoderSettings  # noqa: E402

# Imported on first use: each pulls in more (Chroma's client, SQLite, the chunker's rules).
_LAZY = {
    "MedEmbedChromaStore": "medembed_rag.index.store",
    "HybridRetriever": "medembed_rag.index.hybrid",
    "MedicalChunker": "medembed_rag.chunking",
    "MedEmbedEmbeddingFunction": "medembed_rag.integrations.chroma",
    "MedEmbedReranker": "medembed_rag.models.reranker",
    "VerifiedAnswerer": "medembed_rag.answers.answerer",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'medembed_rag' has no attribute {name!r}")

__all__ = [
    "DEFAULT_MODEL",
    "DocumentNotFoundError",
    "EmbeddingIntegrityError",
    "EncoderOptions",
    "EncoderSettings",
    "HybridRetriever",
    "InputTooLongError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "MedEmbedChromaStore",
    "MedEmbedEmbeddingFunction",
    "MedEmbedEncoder",
    "MedEmbedError",
    "MedEmbedReranker",
    "MedicalChunker",
    "MissingDependencyError",
    "ModelLoadError",
    "ModelMismatchError",
    "ModelNotFoundError",
    "ModelSpec",
    "OfflineModelError",
    "Pooling",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "TruncationWarning",
    "VerifiedAnswerer",
    "__version__",
    "get_model_spec",
    "list_supported_models",
]
