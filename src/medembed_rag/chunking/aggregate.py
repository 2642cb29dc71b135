"""From chunk hits back to documents: ask for documents, not fragments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import InvalidInputError


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk: its document id, similarity score and whatever the caller attaches."""

    doc_id: str
    score: float
    payload: Any = None


@dataclass
class DocumentHit:
    """A document ranked by its chunks: ``score`` and its best chunks, best first."""

    doc_id: str
    score: float
    chunks: list[ChunkHit] = field(default_factory=list)


def aggregate_to_documents(
    hits: Iterable[ChunkHit | tuple],
    *,
    mode: Literal["max", "mean_top_k"] = "max",
    chunks_per_document: int = 3,
    top_k: int | None = None,
) -> list[DocumentHit]:
    """Groups chunk hits by document and ranks documents.

    Args:
        hits: :class:`ChunkHit` objects or ``(doc_id, score[, payload])`` tuples, in any order.
        mode: ``"max"`` scores a document by its best chunk; ``"mean_top_k"`` by the mean of its best
            ``chunks_per_document`` chunks.
        chunks_per_document: How many best chunks each document keeps (and ``mean_top_k`` averages).
        top_k: How many documents to return (default: all).

    Returns:
        Documents, best first; ties keep the order in which their best chunk was first seen.
    """
    if mode not in ("max", "mean_top_k"):
        raise InvalidInputError(f"mode must be 'max' or 'mean_top_k'; got {mode!r}")
    if not isinstance(chunks_per_document, int) or chunks_per_document < 1:
        raise InvalidInputError(f"chunks_per_document must be a positive integer; got {chunks_per_document!r}")
    grouped: dict[str, list[ChunkHit]] = {}
    for hit in hits:
        if not isinstance(hit, ChunkHit):
            hit = ChunkHit(*hit)
        grouped.setdefault(str(hit.doc_id), []).append(hit)
    docs = []
    for doc_id, chunk_hits in grouped.items():
        best = sorted(chunk_hits, key=lambda h: h.score, reverse=True)[:chunks_per_document]
        score = best[0].score if mode == "max" else sum(h.score for h in best) / len(best)
        docs.append(DocumentHit(doc_id, float(score), best))
    docs.sort(key=lambda d: d.score, reverse=True)
    return docs[:top_k] if top_k is not None else docs
