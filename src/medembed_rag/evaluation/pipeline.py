"""Evaluate the retrieval pipeline on a BEIR folder: dense (exact cosine), chunking, hybrid, rerank.

Used by ``medembed-rag eval`` and the benchmark scripts. Embeddings are computed once per index; each
setting (fusion method, weight, reranking) is then a cheap re-ranking of the same candidates.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..chunking import MedicalChunker, aggregate_to_documents
from ..models.encoder import MedEmbedEncoder
from .metrics import BeirDataset, document_text, evaluate, load_beir
from ..index.hybrid import DEFAULT_WEIGHT, fuse
from ..index.lexical import LexicalIndex
from ..index.records import searchable_text

_UNIT_CANDIDATES = 1000


@dataclass
class EvalIndex:
    """Embedded units (documents or chunks) of one BEIR corpus, plus queries, ready to score settings."""

    data: BeirDataset
    encoder: MedEmbedEncoder
    chunk: bool = False
    max_queries: int | None = None
    units: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    docs_per_s: float = 0.0

    def __post_init__(self) -> None:
        self.qids = [q for q in self.data.queries if q in self.data.qrels][: self.max_queries]
        self.qrels = {q: self.data.qrels[q] for q in self.qids}
        doc_ids = list(self.data.corpus)
        chunker = MedicalChunker(self.encoder) if self.chunk else None
        tok = self.encoder.tokenizer if self.chunk else None
        self.searchable: list[str] = []  # what the store's lexical index would hold for each unit
        for d in doc_ids:
            title, text = self.data.corpus[d]
            if chunker is None:
                self.units.append(document_text(title, text))
                self.searchable.append(self.units[-1])
                self.owners.append(d)
                continue
            head = f"{title}\n" if title else ""
            reserved = len(tok.encode(head, add_special_tokens=False).ids) if head else 0
            chunks = chunker.split(text, reserved_tokens=reserved) if text.strip() else []
            for chunk in chunks:
                self.units.append(head + chunk.embed_text)
                self.searchable.append(searchable_text(chunk.text, {"title": title, "heading": chunk.context}))
                self.owners.append(d)
            if not chunks:
                self.units.append(title or d)
                self.searchable.append(self.units[-1])
                self.owners.append(d)
        started = time.perf_counter()
        self.vectors = self.encoder.encode_documents(self.units)
        self.docs_per_s = len(doc_ids) / (time.perf_counter() - started)
        self.query_vectors = self.encoder.encode_queries([self.data.queries[q] for q in self.qids])
        self._lexical_index: LexicalIndex | None = None
        self._lexical_runs: dict[Any, list[list[tuple[str, float]]]] = {}

    def _lexical_lists(self, ranker: Callable[[str], list[tuple[str, float]]] | None) -> list[list[tuple[str, float]]]:
        """Each query's lexical list, computed once per ranker: the store's index (``None``), or ``ranker(query
        text)`` (ids are unit positions)."""
        if ranker not in self._lexical_runs:
            search = ranker
            if search is None:
                index, k = self._store_index(), min(_UNIT_CANDIDATES, len(self.units))
                search = lambda text: index.search(text, k)  # noqa: E731
            self._lexical_runs[ranker] = [search(self.data.queries[q]) for q in self.qids]
        return self._lexical_runs[ranker]

    def rephrased(self, queries: Mapping[str, str]) -> EvalIndex:
        """The same corpus and vectors with other query texts (e.g. consumer-style rephrasings), re-encoded."""
        self._store_index()  # built once and shared: the units are the same
        twin = copy.copy(self)
        twin.data = replace(self.data, queries={**self.data.queries, **queries})
        twin.query_vectors = self.encoder.encode_queries([twin.data.queries[q] for q in self.qids])
        twin._lexical_runs = {}
        return twin

    def _dense(self, i: int) -> list[tuple[str, float]]:
        scores = self.vectors @ self.query_vectors[i]
        n = min(_UNIT_CANDIDATES, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(j), float(scores[j])) for j in top]

    def _store_index(self) -> LexicalIndex:
        """The store's lexical index (same engine, same indexed text) of the units, built once in a temporary file."""
        if self._lexical_index is None:
            import tempfile
            from pathlib import Path

            self._lexical_folder = tempfile.TemporaryDirectory(prefix="medembed-eval-")
            self._lexical_index = LexicalIndex(Path(self._lexical_folder.name) / "eval.sqlite3", owner="eval")
            self._lexical_index.apply(upserts=[(str(j), t) for j, t in enumerate(self.searchable)])
        return self._lexical_index

    def run(
        self,
        *,
        hybrid: bool = False,
        fusion: str = "weighted",
        weight: float | None = None,
        reranker: Any = None,
        rerank_top: int = 20,
        qids: Sequence[str] | None = None,
        lexical: Callable[[str], list[tuple[str, float]]] | None = None,
    ) -> dict[str, float]:
        """nDCG@10, Recall@10/100 and MRR@10 for one setting, over ``qids`` (default: all) with the store's
        lexical index or another ``lexical`` ranker (query text -> ``(unit position, score)``, best first)."""
        run: dict[str, list[str]] = {}
        wanted = set(self.qids if qids is None else qids)
        lexical_lists = self._lexical_lists(lexical) if hybrid else None
        for i, q in enumerate(self.qids):
            if q not in wanted:
                continue
            ranked = self._dense(i)
            if hybrid:
                w = DEFAULT_WEIGHT if weight is None else weight
                ranked = fuse(ranked, lexical_lists[i], method=fusion, weight=w)
            docs = aggregate_to_documents(
                ((self.owners[int(u)], s, int(u)) for u, s in ranked), chunks_per_document=1, top_k=100
            )
            if reranker is not None and docs:
                head = docs[:rerank_top]
                order = reranker.rank(self.data.queries[q], [self.units[d.chunks[0].payload] for d in head])
                docs = [head[r.index] for r in order] + docs[rerank_top:]
            run[q] = [d.doc_id for d in docs]
        return evaluate({q: self.qrels[q] for q in run}, run)


def run_eval(args) -> dict[str, Any]:
    """The ``medembed-rag eval`` command's work."""
    data = load_beir(args.beir_dir)
    encoder = MedEmbedEncoder(args.model, precision=args.precision, truncation="silent", show_progress=not args.quiet)
    index = EvalIndex(data, encoder, chunk=args.chunk, max_queries=args.max_queries)
    reranker = None
    if args.rerank:
        from ..models.reranker import MedEmbedReranker

        reranker = MedEmbedReranker(args.reranker, precision=args.precision, truncation="silent")
    metrics = index.run(hybrid=args.hybrid, fusion=args.fusion, weight=args.weight, reranker=reranker)
    setting = ", ".join(
        name for name, on in (("chunked", args.chunk), (f"hybrid ({args.fusion})", args.hybrid), ("reranked", args.rerank)) if on
    ) or "dense"
    return {
        "dataset": str(args.beir_dir),
        "model": encoder.model_id,
        "precision": args.precision,
        "setting": setting,
        "documents": len(data.corpus),
        "queries": len(index.qids),
        **metrics,
        "docs_per_s": index.docs_per_s,
    }
