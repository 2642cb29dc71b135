"""A cross-encoder reranker on OpenVINO: reads each (query, passage) pair together and orders the passages."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from ..text.medical_texts import MEDICAL_SENTENCES, calibration_samples
from .encoder import load_tokenizer
from ..errors import InputTooLongError, InvalidInputError, InvalidInputTypeError, ModelLoadError, TruncationWarning
from .batching import run_sorted_batches
from ..inputs import validate_texts
from .registry import DEFAULT_RERANKER
from .cache import (
    PicklesWithoutModel,
    PRECISIONS,
    compile_model,
    ensure_ir,
    export_with_optimum,
    quantize_int8,
    resolve_source,
)

logger = logging.getLogger(__name__)

_TASK = "text-classification"


@dataclass(frozen=True)
class RerankerSpec:
    """A registered cross-encoder: hub id, pinned revision (None: unpinned), length limit, licence."""

    model_id: str
    revision: str | None
    max_length: int
    license: str = ""


_RERANKERS = (
    RerankerSpec("ncbi/MedCPT-Cross-Encoder", "71caf65d4927987813984f54c284405a13fcca49", 512, "public-domain"),
    # General-purpose cross-encoders; no verified commit was recorded for them yet (pass revision= to pin).
    RerankerSpec("BAAI/bge-reranker-base", None, 512, "mit"),
    RerankerSpec("cross-encoder/ms-marco-MiniLM-L-6-v2", None, 512, "apache-2.0"),
)


def list_supported_rerankers() -> list[RerankerSpec]:
    """The registered cross-encoders, medical first."""
    return list(_RERANKERS)


class RankResult(NamedTuple):
    """One ranked passage: its index in the input list and its score (the model's relevance logit)."""

    index: int
    score: float


class MedEmbedReranker(PicklesWithoutModel):
    """Scores (query, passage) pairs with a cross-encoder on OpenVINO and orders passages by relevance.

    The default is MedCPT's cross-encoder (trained on PubMed search logs). Any local folder with a
    BERT-family sequence-classification model with one output also works. The model is exported once and
    cached by the same helper as the encoder.

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

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_RERANKER,
        revision: str | None = None,
        precision: Literal["auto", "fp32", "bf16", "int8"] = "auto",
        batch_size: int = 16,
        max_length: int | None = None,
        cache_dir: str | os.PathLike | None = None,
        num_threads: int | None = None,
        truncation: Literal["warn", "error", "silent"] = "warn",
    ) -> None:
        if precision not in PRECISIONS:
            raise InvalidInputError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be a positive integer; got {batch_size!r}")
        if truncation not in ("warn", "error", "silent"):
            raise InvalidInputError(f"truncation must be 'warn', 'error' or 'silent'; got {truncation!r}")
        spec = next((s for s in _RERANKERS if isinstance(model, str) and s.model_id.lower() == model.lower()), None)
        pinned = revision or (spec.revision if spec else None)
        self._source = resolve_source(model, pinned)
        if not self._source.is_local and pinned is None:
            warnings.warn(
                f"{model} is loaded without a pinned revision (from 'main'); pass revision='<commit>'.",
                UserWarning,
                stacklevel=2,
            )
        self._spec_max = spec.max_length if spec else None
        self._requested_max_length = max_length
        self.precision = precision
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.num_threads = num_threads
        self.truncation = truncation
        self._loaded = None
        self._lock = threading.Lock()
        self.exports_run = 0
        self._folder: Path | None = None

    @property
    def model_id(self) -> str:
        return self._source.model_id

    def __repr__(self) -> str:
        return f"MedEmbedReranker(model={self.model_id!r}, precision={self.precision!r})"


    # ------------------------------------------------------------------ loading
    def _export(self, checkpoint: Path, out: Path) -> None:
        export_with_optimum(_TASK)(checkpoint, out)
        if self.precision == "int8":
            tokenizer, _ = load_tokenizer(out)
            tokenizer.enable_truncation(self._limit(out), strategy="only_second")
            passages = calibration_samples(64)
            pairs = [(MEDICAL_SENTENCES[i % 8], p) for i, p in enumerate(passages)]  # the first 8 are questions
            samples = [
                {
                    "input_ids": np.asarray([e.ids], dtype=np.int64),
                    "attention_mask": np.asarray([e.attention_mask], dtype=np.int64),
                    "token_type_ids": np.asarray([e.type_ids], dtype=np.int64),
                }
                for e in tokenizer.encode_batch(pairs)
            ]
            quantize_int8(out, samples)

    def _limit(self, folder: Path) -> int:
        import json

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

    def _count_export(self) -> None:
        self.exports_run += 1

    def _ensure_export(self) -> Path:
        return ensure_ir(self._source, task=_TASK, variant="int8" if self.precision == "int8" else "fp32",
                         cache_dir=self.cache_dir, export=self._export, on_export=self._count_export)

    @property
    def cache_folder(self) -> Path:
        """The verified cache entry of this model and precision (exported first if absent; not compiled)."""
        return self._folder if self._folder is not None else self._ensure_export()

    def load(self):
        """Loads (exporting once if needed) and returns the compiled model bundle."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    folder = self._ensure_export()
                    limit = self._limit(folder)
                    tokenizer, pad_id = load_tokenizer(folder)
                    tokenizer.enable_truncation(limit, strategy="only_second")
                    query_tokenizer, _ = load_tokenizer(folder)
                    compiled = compile_model(folder, self.precision, threads=self.num_threads)
                    self._folder = folder
                    self._loaded = (compiled, tokenizer, query_tokenizer, pad_id, limit)
        return self._loaded

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
