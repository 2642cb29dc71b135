"""medembed-rag: MedEmbed medical embeddings for retrieval-augmented generation, fast on a CPU.

The top-level package holds the framework-free core. Framework adapters live in
``medembed_rag.integrations.llama_index`` and ``medembed_rag.integrations.langchain`` and import their
framework only when used.
"""

from .telemetry import disable_library_telemetry

disable_library_telemetry()  # before anything below can import openvino, nncf, chromadb or huggingface_hub

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
from .models.settings import EncoderSettings  # noqa: E402
from .models.pooling import Pooling  # noqa: E402
from .models.registry import DEFAULT_MODEL, ModelSpec, get_model_spec, list_supported_models  # noqa: E402

__all__ = [
    "DEFAULT_MODEL",
    "DocumentNotFoundError",
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
