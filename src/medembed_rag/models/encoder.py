"""The core: MedEmbed (or any BERT-family sentence-transformers model) on the CPU through OpenVINO."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbeddingIntegrityError, InputTooLongError, InvalidInputError, TruncationWarning
from ..inputs import validate_texts
from ..text.medical_texts import calibration_samples
from .batching import model_inputs, run_sorted_batches
from .cache import read_manifest
from .export import export_checkpoint, quantize_int8
from .lifecycle import LazyModel, pinned_source
from .options import EncoderOptions, Precision, Truncation, precision_family
from .pooling import l2_normalize, pool
from .registry import DEFAULT_MODEL, get_model_spec
from .runtime import compile_model, scheme
from .settings import EncoderSettings, read_settings, settings_from_spec
from .tokenizer import load_tokenizer, pad_token_id

logger = logging.getLogger(__name__)

#: What must be equal for two encoders' vectors to share an index (precision only by family: auto and fp32
#: agree). The store checks a collection's recorded fingerprint on exactly these keys.
FINGERPRINT_MATCH_KEYS = ("model_id", "revision", "dim", "pooling", "normalize", "precision_family", "max_length",
                          "query_prefix", "document_prefix")


class _Loaded:
    """Everything that exists only after the model is loaded."""

    def __init__(self, folder: Path, precision: str, settings: EncoderSettings, threads: int | None):
        self.folder = folder
        self.settings = settings
        self.manifest = read_manifest(folder)
        self.tokenizer = load_tokenizer(folder, cache_entry=True)
        self.pad_id = pad_token_id(folder, self.tokenizer)
        self.compiled = compile_model(folder, precision, threads=threads)
        self.scheme = scheme(folder, precision)
        # A second instance that cuts at max_length; the first stays untouched for token counting.
        self.truncating_tokenizer = load_tokenizer(self.tokenizer)
        self.truncating_tokenizer.enable_truncation(settings.max_length)
        self.output = self.compiled.output(0)


class MedEmbedEncoder(LazyModel):
    """Turns text into MedEmbed vectors on the CPU through OpenVINO.

    The model is exported from its checkpoint to OpenVINO once and cached on disk, keyed by model,
    revision and precision; later starts load the cached IR without torch and without a hub call.
    Construction is cheap: nothing is loaded until the first encode (or :meth:`load`).

    Every argument is an option of :class:`~medembed_rag.models.options.EncoderOptions`, which documents each
    (the framework faces, the Spark stage and the command line take the same options). Pass ``options=`` to
    build the encoder from such an object instead.

    Args:
        model: A hub id (the registered MedEmbed models are pinned to a revision) or a local folder.
        revision: The hub commit; default: the registry's pinned revision.
        precision: ``"auto"``, ``"fp32"``, ``"bf16"`` or ``"int8"`` (see :mod:`medembed_rag.models.precision`).
        max_length: The most tokens per input, special tokens included; default: the model's own limit.
        batch_size: Inputs per forward pass.
        cache_dir: Where exported models are kept.
        show_progress: Progress bars; ``None``: only for work longer than about a second.
        truncation: ``"warn"``, ``"error"`` (raise :class:`InputTooLongError`) or ``"silent"``.
        calibration_texts: Texts to calibrate ``int8`` with.
        num_threads: CPU threads OpenVINO may use.
        query_prefix: Text put before every query, replacing the model's own query prompt.
        document_prefix: The same for documents.
        options: All of the above as one :class:`EncoderOptions` (then pass no other argument).
    """

    task = "feature-extraction"
    label = "embedding model"

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_MODEL,
        revision: str | None = None,
        precision: Precision = "auto",
        max_length: int | None = None,
        batch_size: int = 32,
        cache_dir: str | Path | None = None,
        show_progress: bool | None = None,
        truncation: Truncation = "warn",
        calibration_texts: Sequence[str] | None = None,
        num_threads: int | None = None,
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        *,
        options: EncoderOptions | None = None,
    ) -> None:
        if options is None:
            options = EncoderOptions(
                model=os.fspath(model) if isinstance(model, os.PathLike) else model, revision=revision,
                precision=precision, max_length=max_length, batch_size=batch_size,
                cache_dir=os.fspath(cache_dir) if cache_dir is not None else None, show_progress=show_progress,
                truncation=truncation, num_threads=num_threads, query_prefix=query_prefix,
                document_prefix=document_prefix,
                calibration_texts=tuple(calibration_texts) if calibration_texts is not None and not isinstance(
                    calibration_texts, str) else calibration_texts,
            )
        elif not isinstance(options, EncoderOptions):
            raise InvalidInputError(f"options must be an EncoderOptions, got {type(options).__name__}")
        self.options = options
        self._spec = get_model_spec(options.model)
        source_arg = model if isinstance(model, os.PathLike) and options.model == os.fspath(model) else options.model
        source = pinned_source(source_arg, options.revision, self._spec.revision if self._spec else None)
        self._init_lazy(source, options.cache_dir, options.show_progress)

    # ------------------------------------------------------------------ options, as attributes
    @property
    def precision(self) -> Precision:
        return self.options.precision

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    @property
    def truncation(self) -> Truncation:
        return self.options.truncation

    @property
    def num_threads(self) -> int | None:
        return self.options.num_threads

    # ------------------------------------------------------------------ description
    @property
    def revision(self) -> str:
        """The hub revision, or ``local-<signature>`` for a local folder."""
        return self._source.revision

    @property
    def settings(self) -> EncoderSettings:
        """Pooling, normalisation, dimension, length and prefixes (read without loading the IR when possible)."""
        if self._loaded is not None:
            return self._loaded.settings
        if self._spec is not None:
            return self._adjust(settings_from_spec(self._spec))
        if self._source.local_folder is not None:
            return self._adjust(read_settings(self._source.local_folder))
        return self.load().settings

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self.settings.dim

    @property
    def max_length(self) -> int:
        """The most tokens per input, special tokens included."""
        return self.settings.max_length

    @property
    def variant(self) -> str:
        """The cache variant: the IR for ``auto``, ``fp32`` and ``bf16`` is the same fp32 export."""
        if self.precision != "int8":
            return "fp32"
        if self.options.calibration_texts is None:
            return "int8"
        digest = hashlib.sha256("\0".join(self.options.calibration_texts).encode()).hexdigest()[:8]
        return f"int8-cal{digest}"

    @property
    def fingerprint(self) -> dict[str, Any]:
        """What makes two encoders' vectors comparable; the vector store stamps it on collections."""
        s = self.settings
        return {
            "model_id": self.model_id,
            "revision": self.revision,
            "dim": s.dim,
            "pooling": s.pooling.value,
            "normalize": s.normalize,
            "precision": self.precision,
            "precision_family": precision_family(self.precision),
            # int8 runs the scheme measured fastest on this CPU (static, weights or fp32); recorded, not matched:
            # every scheme's vectors were checked against fp32's
            "scheme": self.load().scheme if self.precision == "int8" else "float",
            "max_length": s.max_length,
            "query_prefix": s.query_prefix,
            "document_prefix": s.document_prefix,
        }

    def init_kwargs(self) -> dict[str, Any]:
        """Constructor arguments that rebuild an equivalent encoder (plain values, safe to serialise)."""
        kwargs = self.options.to_dict()
        kwargs["model"] = self.model_id
        kwargs["revision"] = None if self._source.is_local else self.revision
        return kwargs

    def __repr__(self) -> str:
        return f"MedEmbedEncoder(model={self.model_id!r}, revision={self.revision!r}, precision={self.precision!r})"

    # ------------------------------------------------------------------ loading
    def _adjust(self, settings: EncoderSettings) -> EncoderSettings:
        """Applies the caller's max_length and prefixes to the model's own settings."""
        changes = {k: getattr(self.options, k) for k in ("query_prefix", "document_prefix")
                   if getattr(self.options, k) is not None}
        wanted = self.options.max_length
        if wanted is not None:
            if wanted > settings.max_length:
                raise InvalidInputError(
                    f"max_length={wanted} exceeds what {self.model_id} reads ({settings.max_length} tokens); "
                    f"use at most {settings.max_length} and chunk longer texts (medembed_rag.chunking)."
                )
            changes["max_length"] = wanted
        return dataclasses.replace(settings, **changes) if changes else settings

    def _export(self, checkpoint: Path, out: Path) -> None:
        export_checkpoint(self.task)(checkpoint, out)
        if self.precision == "int8":
            settings = self._adjust(read_settings(checkpoint, self._spec))
            tokenizer = load_tokenizer(out, cache_entry=True)
            tokenizer.enable_truncation(settings.max_length)
            texts = self.options.calibration_texts or calibration_samples()
            encodings = tokenizer.encode_batch([settings.document_prefix + t for t in texts])
            quantize_int8(out, [model_inputs([e]) for e in encodings])

    def _build(self, folder: Path) -> _Loaded:
        settings = self._adjust(read_settings(folder, self._spec))
        return _Loaded(folder, self.precision, settings, self.num_threads)

    @property
    def tokenizer(self):
        """The model's ``tokenizers.Tokenizer`` (no padding, no truncation; loads the model). Do not mutate it."""
        return self.load().tokenizer

    # ------------------------------------------------------------------ encoding
    def encode_documents(self, texts: str | Sequence[str] | Iterable[str]) -> np.ndarray:
        """Embeds documents (passages). Returns float32 of shape (n, dim), L2-normalised if the model asks."""
        return self._encode(texts, "document", "documents")

    def encode_queries(self, texts: str | Sequence[str] | Iterable[str]) -> np.ndarray:
        """Embeds queries. Returns float32 of shape (n, dim), L2-normalised if the model asks."""
        return self._encode(texts, "query", "queries")

    async def aencode_documents(self, texts: str | Sequence[str] | Iterable[str]) -> np.ndarray:
        """:meth:`encode_documents` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.encode_documents, texts)

    async def aencode_queries(self, texts: str | Sequence[str] | Iterable[str]) -> np.ndarray:
        """:meth:`encode_queries` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.encode_queries, texts)

    def count_tokens(self, texts: str | Sequence[str], *, prefix: str = "") -> list[int]:
        """Token counts (special tokens included, no truncation) as the model would see them."""
        items = validate_texts(texts)
        return [len(enc.ids) for enc in self.tokenizer.encode_batch([prefix + t for t in items])]

    def _encode(self, texts, what: str, plural: str) -> np.ndarray:
        items = validate_texts(texts, what=what)  # before anything is loaded
        if not items:
            return np.empty((0, self.dim), dtype=np.float32)
        loaded = self.load()
        settings = loaded.settings
        prefix = settings.query_prefix if what == "query" else settings.document_prefix
        encodings = loaded.truncating_tokenizer.encode_batch([prefix + t for t in items], add_special_tokens=True)
        truncated = [i for i, enc in enumerate(encodings) if enc.overflowing]
        self._handle_truncation(truncated, len(items), settings.max_length, plural)

        out = run_sorted_batches(
            loaded.compiled,
            encodings,
            batch_size=self.batch_size,
            pad_id=loaded.pad_id,
            max_length=settings.max_length,
            out_dim=settings.dim,
            reduce=lambda hidden, mask: pool(hidden, mask, settings.pooling),
            show_progress=self.show_progress,
            desc=f"Encoding {plural}",
        )
        if settings.normalize:
            out = l2_normalize(out)
        _check_integrity(out)
        return out

    def _handle_truncation(self, truncated: list[int], total: int, max_length: int, plural: str) -> None:
        if not truncated or self.truncation == "silent":
            return
        if self.truncation == "error":
            raise InputTooLongError(
                f"{len(truncated)} of {total} {plural} exceed {max_length} tokens (first at index {truncated[0]}); "
                f"split them with medembed_rag.chunking.MedicalChunker, or pass truncation='warn' to cut them."
            )
        warnings.warn(
            f"{len(truncated)} of {total} {plural} exceed {max_length} tokens and were cut to fit (first at "
            f"index {truncated[0]}); the cut text is not embedded. Split long texts with "
            f"medembed_rag.chunking.MedicalChunker, or pass truncation='error' to refuse them.",
            TruncationWarning,
            stacklevel=4,
        )


def _check_integrity(vectors: np.ndarray) -> None:
    bad = ~np.isfinite(vectors).all(axis=1)
    zero = ~np.any(vectors, axis=1)
    broken = np.flatnonzero(bad | zero)
    if broken.size:
        i = int(broken[0])
        kind = "NaN or infinite" if bad[i] else "all-zero"
        raise EmbeddingIntegrityError(
            f"the model produced a {kind} vector for input at index {i} ({broken.size} broken in all); nothing "
            f"was returned. Re-export the model (delete its cache entry) or use precision='fp32'."
        )
