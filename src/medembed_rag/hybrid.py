"""Hybrid retrieval: BM25 (bm25s) over the same chunks as the dense index, fused with the dense results.

Two fusions:

* ``weighted`` (default): each list's scores are min-max normalised over its own candidates, then
  ``weight * dense + (1 - weight) * bm25``; a chunk missing from one list gets 0 there. Scores keep their
  margins, so a lexical near-miss cannot overtake a clearly better dense hit.
* ``rrf``: reciprocal-rank fusion, ``sum(1 / (60 + rank))``. Ranks only: it can promote lexically similar
  but wrong chunks, which is why it is not the default (see the README's table).

The BM25 index is saved beside an embedded store (``<store>/bm25/<collection>``) with the collection
revision it was built from; the store bumps that revision on every write, so a stale index is rebuilt
before it is used (in server mode it is kept in memory and rebuilt the same way).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidInputError, MissingDependencyError
from .inputs import validate_texts

if TYPE_CHECKING:  # pragma: no cover
    from .store import Hit, MedEmbedChromaStore

logger = logging.getLogger(__name__)

DEFAULT_WEIGHT = 0.8  # best mean nDCG@10 over MedQuAD and MedQuAD-long (benchmarks/bench_eval.py)
RRF_K = 60


def _bm25s():
    try:
        import bm25s
    except ImportError as exc:
        raise MissingDependencyError("hybrid retrieval needs bm25s: pip install 'medembed-rag[hybrid]'") from exc
    return bm25s


def bm25_tokenize(texts: Sequence[str]):
    return _bm25s().tokenize(list(texts), stopwords="en", show_progress=False)


class BM25Index:
    """A BM25 index of a collection's chunks, rebuilt whenever the collection's revision changes."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._model = None
        self._ids: list[str] = []
        self._revision: int | None = None

    def sync(self, store: MedEmbedChromaStore) -> None:
        """Makes the index match the collection (loading the saved one when it is current)."""
        revision = store.revision()
        if self._model is not None and self._revision == revision:
            return
        if self.folder is not None and self._load(revision):
            return
        with store._guard("reading chunks for BM25"):
            got = store.collection.get(include=["documents"])
        ids, docs = list(got["ids"]), [d or "" for d in got["documents"]]
        self._ids, self._revision = ids, revision
        if not ids:
            self._model = None
            return
        model = _bm25s().BM25()
        model.index(bm25_tokenize(docs), show_progress=False)
        self._model = model
        logger.info("built a BM25 index of %d chunks (revision %d)", len(ids), revision)
        if self.folder is not None:
            self._save()

    def _save(self) -> None:
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._model.save(str(tmp), show_progress=False)
        (tmp / "medembed-bm25.json").write_text(json.dumps({"revision": self._revision, "ids": self._ids}))
        shutil.rmtree(self.folder, ignore_errors=True)
        tmp.rename(self.folder)

    def _load(self, revision: int) -> bool:
        meta_path = self.folder / "medembed-bm25.json"
        if not meta_path.is_file():
            return False
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:
            return False
        if meta.get("revision") != revision:
            return False
        self._model = _bm25s().BM25.load(str(self.folder), show_progress=False) if meta["ids"] else None
        self._ids, self._revision = list(meta["ids"]), revision
        return True

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids with their BM25 scores (chunks without a shared term are left out)."""
        if self._model is None or not self._ids:
            return []
        tokens = bm25_tokenize([text])
        if not tokens.vocab:
            return []
        k = min(k, len(self._ids))
        docs, scores = self._model.retrieve(tokens, k=k, show_progress=False)
        return [(self._ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    def remove_files(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


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
    """Dense + BM25 retrieval over one :class:`~medembed_rag.store.MedEmbedChromaStore`.

    Args:
        store: The store (its chunks are the BM25 corpus).
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
        from .store import Hit

        validate_texts([text], what="query")
        if where:
            raise InvalidInputError("hybrid retrieval does not support where= filters yet; use store.query")
        dense_hits = self.store.query(text, max(k, self.candidates))
        bm25 = self.store.bm25
        bm25.sync(self.store)
        lexical = bm25.search(text, max(k, self.candidates))
        fused = fuse([(h.id, h.score) for h in dense_hits], lexical, method=self.method, weight=self.weight)[:k]
        by_id = {h.id: h for h in dense_hits}
        missing = [cid for cid, _ in fused if cid not in by_id]
        if missing:
            with self.store._guard("reading chunks"):
                got = self.store.collection.get(ids=missing, include=["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                by_id[cid] = Hit(cid, (meta or {}).get("doc_id"), doc or "", 0.0, dict(meta or {}))
        return [
            Hit(cid, by_id[cid].doc_id, by_id[cid].text, float(score), by_id[cid].metadata)
            for cid, score in fused
            if cid in by_id
        ]
