"""The package's error types.

Every error raised on purpose by medembed-rag derives from :class:`MedEmbedError`, and each also derives
from the built-in exception a caller would naturally catch (``ValueError`` for bad input, ``ImportError``
for a missing extra, ...). Messages name the problem and the fix; they never contain document text, only
indexes, ids, model names and paths.
"""

from __future__ import annotations


class MedEmbedError(Exception):
    """Base class of every error medembed-rag raises on purpose."""


class InvalidInputError(MedEmbedError, ValueError):
    """An input text (or argument) is not usable: empty, whitespace-only, or out of range."""


class InvalidInputTypeError(InvalidInputError, TypeError):
    """An input has the wrong type (None, bytes, a number, ...)."""


class InputTooLongError(InvalidInputError):
    """An input is longer than the model reads and ``truncation="error"`` was asked for."""


class MissingDependencyError(MedEmbedError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


class ModelLoadError(MedEmbedError, RuntimeError):
    """A model could not be found, downloaded, exported or loaded."""


class ModelNotFoundError(ModelLoadError, FileNotFoundError):
    """A local model folder does not exist or is not a model folder."""


class OfflineModelError(ModelLoadError):
    """A hub model is not cached locally and the hub cannot be reached (or offline mode is on)."""


class EmbeddingIntegrityError(MedEmbedError, ArithmeticError):
    """The model produced a NaN, infinite or all-zero vector; it is never returned or stored."""


class ModelMismatchError(MedEmbedError, ValueError):
    """An index was built with a different model (or settings) than the encoder now in use."""


class StoreError(MedEmbedError, RuntimeError):
    """A vector-store operation failed; nothing partial was written where the message says so."""


class DocumentNotFoundError(StoreError, LookupError):
    """Some document ids given to delete match no chunk; nothing was deleted.

    Attributes:
        missing: The ids that matched nothing.
        examples: A few document ids the collection does hold (to show their form).
    """

    def __init__(self, message: str, missing: list[str], examples: list[str]) -> None:
        super().__init__(message)
        self.missing = missing
        self.examples = examples


class StoreUnavailableError(StoreError, ConnectionError):
    """The Chroma server cannot be reached; the message names the address."""


class StoreLockedError(StoreError):
    """Another process has the embedded store folder open for writing."""


class TruncationWarning(UserWarning):
    """Some inputs were longer than the model reads and were cut; chunk them to keep every word."""


__all__ = [
    "DocumentNotFoundError",
    "EmbeddingIntegrityError",
    "InputTooLongError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "MedEmbedError",
    "MissingDependencyError",
    "ModelLoadError",
    "ModelMismatchError",
    "ModelNotFoundError",
    "OfflineModelError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "TruncationWarning",
]
