"""Retrieval metrics computed the standard way, and a reader for BEIR-format data sets.

Definitions follow trec_eval (as BEIR reports them through pytrec_eval): graded relevance with linear gain,
``nDCG@k = DCG@k / IDCG@k`` with ``DCG@k = sum(rel_i / log2(i + 1))`` over ranks ``i = 1..k``; the ideal
ranking sorts all judged documents by grade. ``Recall@k`` is the share of relevant (grade > 0) documents
in the top k; ``MRR@k`` is ``1 / rank`` of the first relevant document within the top k (0 if none).
Every metric is averaged over the queries that have at least one relevant document.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]  # query id -> ranked document ids, best first


def ndcg_at_k(relevant: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    """nDCG@k of one ranking against graded judgements."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(relevant: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    """Share of relevant documents found in the top k."""
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(relevant: Mapping[str, int], ranked: Sequence[str], k: int) -> float:
    """Reciprocal rank of the first relevant document within the top k."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(qrels: Qrels, run: Run) -> dict[str, float]:
    """nDCG@10, Recall@10, Recall@100 and MRR@10 averaged over judged queries (as percentages)."""
    queries = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    if not queries:
        raise ValueError("qrels hold no relevant document for any query")
    totals = {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for q in queries:
        ranked = list(run.get(q, ()))
        rel = qrels[q]
        totals["ndcg@10"] += ndcg_at_k(rel, ranked, 10)
        totals["recall@10"] += recall_at_k(rel, ranked, 10)
        totals["recall@100"] += recall_at_k(rel, ranked, 100)
        totals["mrr@10"] += mrr_at_k(rel, ranked, 10)
    return {name: 100.0 * value / len(queries) for name, value in totals.items()}


@dataclass
class BeirDataset:
    """A BEIR-format data set: ``corpus`` id -> (title, text), ``queries`` id -> text, ``qrels``."""

    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: str | Path, split: str = "test") -> BeirDataset:
    """Reads ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` from a BEIR folder."""
    folder = Path(folder)
    for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder} is not a BEIR folder: {name} is missing")
    corpus: dict[str, tuple[str, str]] = {}
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    queries: dict[str, str] = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for row in reader:
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return BeirDataset(corpus=corpus, queries={q: queries[q] for q in qrels if q in queries}, qrels=qrels)


def document_text(title: str, text: str) -> str:
    """How a BEIR document is embedded: its title and text, as BEIR's own dense baselines join them."""
    return f"{title} {text}".strip() if title else text
