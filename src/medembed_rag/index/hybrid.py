"""Hybrid retrieval: the lexical (BM25) index of the same chunks as the dense index, fused with the dense results.

Two fusions:

* ``weighted`` (default): each list's scores are min-max normalised over its own candidates, then
  ``weight * dense + (1 - weight) * bm25``; a chunk missing from one list gets 0 there. Scores keep their
  margins, so a lexical near-miss cannot overtake a clearly better dense hit.
* ``rrf``: reciprocal-rank fusion, ``sum(1 / (60 + rank))``. Ranks only: it can promote lexically similar
  but wrong chunks, which is why it is not the default (see the README's table).

The lexical index (:mod:`medembed_rag.index.lexical`) is updated by every write to the store, so a query never
rebuilds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InvalidInputError
from ..inputs import validate_texts
from .records import Hit

DEFAULT_WEIGHT = 0.8  # best MedQuAD nDCG@10, mean over MedQuAD and MedQuAD-long within 0.1 of the best (bench_eval.py)
RRF_K = 60


def _min_max(scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    *,
    method: Literal["weighted", "rrf"] = "weighted",
    weight: float = DEFAULT_WEIGHT,
) -> list[tuple[str, float]]:
    """Fuses two ranked ``(id, score)`` lists into one, best first."""
    if method == "rrf":
        fused: dict[str, float] = {}
        for ranked in (dense, lexical):
            for rank, (cid, _) in enumerate(ranked, start=1):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank)
    elif method == "weighted":
        if not 0.0 <= weight <= 1.0:
            raise InvalidInputError(f"weight must be between 0 and 1; got {weight!r}")
        d, b = _min_max(dict(dense)), _min_max(dict(lexical))
        fused = {cid: weight * d.get(cid, 0.0) + (1 - weight) * b.get(cid, 0.0) for cid in {*d, *b}}
    else:
        raise InvalidInputError(f"method must be 'weighted' or 'rrf'; got {method!r}")
    order = {cid: i for i, (cid, _) in enumerate(dense)}
    return sorted(fused.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))


@dataclass
class HybridRetriever:
    """Dense + BM25 retrieval over one :class:`~medembed_rag.index.store.MedEmbedChromaStore`.

    Args:
        store: The :class:`~medembed_rag.index.store.MedEmbedChromaStore` (its chunks are the BM25 corpus).
        method: ``weighted`` (default) or ``rrf``.
        weight: Dense share for ``weighted`` (default 0.8, from the shared-set measurements).
        candidates: How many chunks each retriever contributes before fusion.
    """

    store: Any
    method: Literal["weighted", "rrf"] = "weighted"
    weight: float = DEFAULT_WEIGHT
    candidates: int = 100

    def query(self, text: str, k: int = 4, *, where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` best chunks by fused score (``Hit.score`` is the fused score)."""
        validate_texts([text], what="query")
        if where:
            raise InvalidInputError("hybrid retrieval does not support where= filters yet; use store.query")
        dense_hits = self.store.query(text, max(k, self.candidates))
        lexical = self.store.lexical_search(text, max(k, self.candidates))
        fused = fuse([(h.id, h.score) for h in dense_hits], lexical, method=self.method, weight=self.weight)[:k]
        by_id = {h.id: h for h in dense_hits}
        by_id.update((h.id, h) for h in self.store.get([cid for cid, _ in fused if cid not in by_id]))
        return [Hit(cid, by_id[cid].doc_id, by_id[cid].text, float(score), by_id[cid].metadata)
                for cid, score in fused if cid in by_id]
