"""medembed-rag: MedEmbed medical embeddings for retrieval-augmented generation, fast on a CPU.

The top-level package holds the framework-free core. Framework adapters live in
``medembed_rag.integrations.llama_index`` and ``medembed_rag.integrations.langchain`` and import their
framework only when used.
"""

from ._version import __version__
from .encoder import MedEmbedEncoder
from .errors import (
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
from .model_config import EncoderSettings
from .pooling import Pooling
from .registry import DEFAULT_MODEL, ModelSpec, get_model_spec, list_supported_models

__all__ = [
    "DEFAULT_MODEL",
    "EmbeddingIntegrityError",
    "EncoderSettings",
    "InputTooLongError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "MedEmbedEncoder",
    "MedEmbedError",
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
    "__version__",
    "get_model_spec",
    "list_supported_models",
]
