"""The core: MedEmbed (or any BERT-family sentence-transformers model) on the CPU through OpenVINO."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import hashlib
import logging
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..text.medical_texts import calibration_samples
from ..errors import (
    EmbeddingIntegrityError,
    InputTooLongError,
    InvalidInputError,
    ModelLoadError,
    TruncationWarning,
)
from .batching import run_sorted_batches
from ..inputs import validate_texts
from .settings import EncoderSettings, read_settings, settings_from_spec
from .cache import (
    PicklesWithoutModel,
    PRECISIONS,
    ModelSource,
    compile_model,
    ensure_ir,
    export_with_optimum,
    quantize_int8,
    precision_family,
    read_manifest,
    resolve_source,
)
from .pooling import l2_normalize, pool
from .registry import DEFAULT_MODEL, ModelSpec, get_model_spec

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16", "int8"]
Truncation = Literal["warn", "error", "silent"]
_TASK = "feature-extraction"


def load_tokenizer(folder: Path):
    """The fast (Rust) tokenizer saved beside the IR, and its padding id. Imports neither torch nor transformers."""
    import json

    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelLoadError(f"{folder} has no tokenizer.json; delete this cache entry so it is re-exported.")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    pad_token = "[PAD]"
    config_path = folder / "tokenizer_config.json"
    if config_path.is_file():
        pad = json.loads(config_path.read_text(encoding="utf-8")).get("pad_token") or pad_token
        pad_token = pad.get("content", pad_token) if isinstance(pad, dict) else str(pad)
    pad_id = tokenizer.token_to_id(pad_token)
    return tokenizer, (0 if pad_id is None else pad_id)


class _Loaded:
    """Everything that exists only after the model is loaded."""

    def __init__(self, folder: Path, precision: str, settings: EncoderSettings, threads: int | None):
        self.folder = folder
        self.settings = settings
        self.manifest = read_manifest(folder)
        self.tokenizer, self.pad_id = load_tokenizer(folder)
        self.compiled = compile_model(folder, precision, threads=threads)
        # A second instance that cuts at max_length; the first stays untouched for token counting.
        self.truncating_tokenizer, _ = load_tokenizer(folder)
        self.truncating_tokenizer.enable_truncation(settings.max_length)
        self.output = self.compiled.output(0)


class MedEmbedEncoder(PicklesWithoutModel):
    """Turns text into MedEmbed vectors on the CPU through OpenVINO.

    The model is exported from its checkpoint to OpenVINO once and cached on disk, keyed by model,
    revision and precision; later starts load the cached IR without torch and without a hub call.
    Construction is cheap: nothing is loaded until the first encode (or :meth:`load`).

    Args:
        model: A hub id (the registered MedEmbed models are pinned to a revision) or a local folder
            holding a BERT-family checkpoint, optionally with sentence-transformers files.
        revision: The hub commit to load. Defaults to the registry's pinned revision; an unregistered
            hub model without one is loaded from ``main`` with a warning.
        precision: ``"auto"`` (the faster of fp32 and bf16 on this CPU, measured once and cached; bf16 only
            where its vectors match fp32's: see :mod:`medembed_rag.models.precision`), ``"fp32"`` (exact), ``"bf16"``
            (forced), or ``"int8"`` (static quantisation of weights and activations with NNCF; the layers
            left in floating point run as ``auto`` decides).
        max_length: The most tokens per input, special tokens included; default and upper bound is the
            model's own limit.
        batch_size: Inputs per forward pass. Inputs are sorted by length first, so padding stays small.
        cache_dir: Where exported models are kept (default ``$MEDEMBED_RAG_CACHE`` or
            ``~/.cache/medembed-rag``).
        show_progress: Show a progress bar; ``None`` shows one only for runs of more than 8 batches.
        truncation: What to do with inputs longer than ``max_length``: ``"warn"`` (cut them and warn once
            per call with their count), ``"error"`` (raise :class:`InputTooLongError`), or ``"silent"``.
        calibration_texts: Texts to calibrate ``int8`` with (default: built-in medical sentences).
        num_threads: CPU threads OpenVINO may use (default: all cores). Setting it also stops OpenVINO
            pinning its threads to cores, so several processes with a share each (Spark tasks, server
            workers) spread over the CPU instead of piling onto the first cores.
        query_prefix: Text put before every query, replacing the model's own query prompt (MedEmbed has
            none). Part of the fingerprint, so an index remembers it.
        document_prefix: The same for documents.
    """

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
    ) -> None:
        if precision not in PRECISIONS:
            raise InvalidInputError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if truncation not in ("warn", "error", "silent"):
            raise InvalidInputError(f"truncation must be 'warn', 'error' or 'silent'; got {truncation!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be a positive integer; got {batch_size!r}")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 8):
            raise InvalidInputError(f"max_length must be an integer of at least 8; got {max_length!r}")
        self._spec: ModelSpec | None = None if not isinstance(model, str) else get_model_spec(model)
        pinned = revision or (self._spec.revision if self._spec else None)
        self._source: ModelSource = resolve_source(model, pinned)
        if not self._source.is_local and pinned is None:
            warnings.warn(
                f"{model} is loaded without a pinned revision (from 'main'); pass revision='<commit>' so "
                f"the model cannot change under an existing index.",
                UserWarning,
                stacklevel=2,
            )
        self.precision: Precision = precision
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.show_progress = show_progress
        self.truncation: Truncation = truncation
        self.num_threads = num_threads
        self._requested_max_length = max_length
        for name, value in (("query_prefix", query_prefix), ("document_prefix", document_prefix)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be a string or None; got {type(value).__name__}")
        self._prefixes = {"query_prefix": query_prefix, "document_prefix": document_prefix}
        self._calibration = list(validate_texts(calibration_texts, what="calibration text")) if calibration_texts else None
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self.exports_run = 0
        """How many exports this encoder ran (0 when it loaded from the cache)."""

    # ------------------------------------------------------------------ description
    @property
    def model_id(self) -> str:
        """The hub id, or the resolved path of a local folder."""
        return self._source.model_id

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
        """The cache variant: the IR for ``auto`` and ``fp32`` is the same fp32 export."""
        if self.precision != "int8":
            return "fp32"
        if self._calibration is None:
            return "int8"
        digest = hashlib.sha256("\0".join(self._calibration).encode()).hexdigest()[:8]
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
            "max_length": s.max_length,
            "query_prefix": s.query_prefix,
            "document_prefix": s.document_prefix,
        }

    def init_kwargs(self) -> dict[str, Any]:
        """Constructor arguments that rebuild an equivalent encoder (plain values, safe to serialise)."""
        return {
            "model": self.model_id,
            "revision": None if self._source.is_local else self.revision,
            "precision": self.precision,
            "max_length": self._requested_max_length,
            "batch_size": self.batch_size,
            "cache_dir": str(self.cache_dir) if self.cache_dir is not None else None,
            "show_progress": self.show_progress,
            "truncation": self.truncation,
            "num_threads": self.num_threads,
            **self._prefixes,
        }

    def __repr__(self) -> str:
        return f"MedEmbedEncoder(model={self.model_id!r}, revision={self.revision!r}, precision={self.precision!r})"

    # ------------------------------------------------------------------ loading
    def _adjust(self, settings: EncoderSettings) -> EncoderSettings:
        """Applies the caller's max_length and prefixes to the model's own settings."""
        changes = {k: v for k, v in self._prefixes.items() if v is not None}
        wanted = self._requested_max_length
        if wanted is not None:
            if wanted > settings.max_length:
                raise InvalidInputError(
                    f"max_length={wanted} exceeds what {self.model_id} reads ({settings.max_length} tokens); "
                    f"use at most {settings.max_length} and chunk longer texts (medembed_rag.chunking)."
                )
            changes["max_length"] = wanted
        return dataclasses.replace(settings, **changes) if changes else settings

    def _export(self, checkpoint: Path, out: Path) -> None:
        export_with_optimum(_TASK)(checkpoint, out)
        if self.precision == "int8":
            settings = self._adjust(read_settings(checkpoint, self._spec))
            tokenizer, _ = load_tokenizer(out)
            tokenizer.enable_truncation(settings.max_length)
            texts = self._calibration or calibration_samples()
            samples = [
                {
                    "input_ids": np.asarray([enc.ids], dtype=np.int64),
                    "attention_mask": np.asarray([enc.attention_mask], dtype=np.int64),
                    "token_type_ids": np.asarray([enc.type_ids], dtype=np.int64),
                }
                for enc in tokenizer.encode_batch([settings.document_prefix + t for t in texts])
            ]
            quantize_int8(out, samples)

    def _count_export(self) -> None:
        self.exports_run += 1
        logger.info("no cached OpenVINO model for %s (%s): exporting it once", self.model_id, self.variant)

    def _ensure_export(self) -> Path:
        return ensure_ir(self._source, task=_TASK, variant=self.variant, cache_dir=self.cache_dir,
                         export=self._export, on_export=self._count_export)

    def load(self) -> _Loaded:
        """Loads the model now (exporting it first if the cache has no valid copy) and returns it."""
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                folder = self._ensure_export()
                settings = self._adjust(read_settings(folder, self._spec))
                self._loaded = _Loaded(folder, self.precision, settings, self.num_threads)
                logger.debug("loaded %s from %s", self.model_id, folder)
        return self._loaded

    @property
    def cache_folder(self) -> Path:
        """The verified cache entry of this model and precision (exported first if absent; not compiled)."""
        return self._loaded.folder if self._loaded is not None else self._ensure_export()

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
