"""Pipeline evaluation and hybrid fusion settings (issue: hybrid retrieval, CLI and evaluation), one run:

1. No loss: nDCG@10 of `medembed-rag eval` (OpenVINO, dense) on MedQuAD against sentence-transformers on
   torch with exact cosine search, same stand-in model. Target: within 0.5 points.
2. Fusion: dense alone, weighted fusion at dense weights 0.5-0.9, and RRF, on MedQuAD (whole passages) and
   MedQuAD-long (chunked). Target: the default setting >= dense alone on both; the table goes in the README.
3. Lexical rankers side by side (issue 25): the store's SQLite FTS5 index vs the old bm25s index (its exact
   settings: bm25s.tokenize with its English stopwords, no stemming, BM25 lucene k1=1.5 b=0.75, over the
   embedded text), each fused with the same dense lists at the default weight, on MedQuAD and MedQuAD-long
   (fit and held-out halves of splits.py's page split) and PubMedQA (nothing fitted on it), with the questions
   as written and rephrased consumer-style (splits.chatty). Targets: FTS5 hybrid >= bm25s hybrid on every
   row (a tie band of 0.05 nDCG points: one query moving one rank moves a half's nDCG@10 by about 0.1); the
   default fusion >= dense on every row; dense identical whichever lexical side is used.

Usage: python benchmarks/bench_eval.py [--max-queries N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from medembed_rag.evaluation.pipeline import EvalIndex  # noqa: E402
from medembed_rag.evaluation.metrics import document_text, evaluate, load_beir  # noqa: E402
from medembed_rag.index.hybrid import DEFAULT_WEIGHT  # noqa: E402
from medembed_rag.testing import standin_model_path  # noqa: E402
from splits import chatty, medquad_side  # noqa: E402

WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
TIE = 0.05


def bm25s_ranker(units):
    """The old lexical side with its exact settings (commit 0f171b6): what hybrid retrieval used before FTS5."""
    import bm25s

    model = bm25s.BM25()
    model.index(bm25s.tokenize(list(units), stopwords="en", show_progress=False), show_progress=False)

    def search(text: str) -> list[tuple[str, float]]:
        tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = model.retrieve(tokens, k=min(1000, len(units)), show_progress=False)
        return [(str(int(i)), float(x)) for i, x in zip(docs[0], scores[0]) if x > 0]

    return search


def lexical_rows(name: str, index: EvalIndex, failures: list[str]) -> list[dict]:
    """FTS5 vs bm25s hybrid (and dense) on one set, per half and query style."""
    halves = {"all": index.qids} if name == "pubmedqa" else {
        side: [q for q in index.qids if medquad_side(q) == side] for side in ("fit", "held-out")}
    rows, old = [], bm25s_ranker(index.units)  # one bm25s index per set: both question styles share the units
    consumer = index.rephrased({q: chatty(q, index.data.queries[q]) for q in index.qids})
    for style, idx in (("plain", index), ("consumer", consumer)):
        for half, qids in halves.items():
            row = {"set": name, "half": half, "questions": style, "n": len(qids),
                   "dense": idx.run(qids=qids)["ndcg@10"],
                   "bm25s_hybrid": idx.run(qids=qids, hybrid=True, lexical=old)["ndcg@10"],
                   "fts5_hybrid": idx.run(qids=qids, hybrid=True)["ndcg@10"]}
            rows.append(row)
            label = f"{name} {half} {style}"
            if row["fts5_hybrid"] < row["bm25s_hybrid"] - TIE:
                failures.append(f"{label}: FTS5 hybrid {row['fts5_hybrid']:.2f} < bm25s hybrid {row['bm25s_hybrid']:.2f}")
            if row["fts5_hybrid"] < row["dense"]:
                failures.append(f"{label}: default fusion {row['fts5_hybrid']:.2f} below dense {row['dense']:.2f}")
    return rows


def sentence_transformers_ndcg(data, qids) -> float:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(standin_model_path()), device="cpu")
    ids = list(data.corpus)
    docs = model.encode([document_text(*data.corpus[d]) for d in ids], batch_size=64, convert_to_numpy=True,
                        normalize_embeddings=True)
    queries = model.encode([data.queries[q] for q in qids], convert_to_numpy=True, normalize_embeddings=True)
    scores = queries @ docs.T
    top = np.argsort(-scores, axis=1)[:, :100]
    run = {q: [ids[j] for j in top[i]] for i, q in enumerate(qids)}
    return evaluate({q: data.qrels[q] for q in qids}, run)["ndcg@10"]


def settings_table(index: EvalIndex) -> dict[str, dict]:
    rows = {"dense": index.run()}
    for w in WEIGHTS:
        rows[f"weighted w={w}"] = index.run(hybrid=True, fusion="weighted", weight=w)
    rows["rrf"] = index.run(hybrid=True, fusion="rrf")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-queries", type=int, default=None)
    args = parser.parse_args()
    encoder = _common.standin_encoder("fp32", batch_size=64)
    report, failures = {}, []

    medquad = load_beir(_common.dataset("medquad"))
    index = EvalIndex(medquad, encoder, max_queries=args.max_queries)
    ours = index.run()["ndcg@10"]
    reference = sentence_transformers_ndcg(medquad, index.qids)
    report["no_loss"] = {"medembed_eval_ndcg@10": ours, "sentence_transformers_ndcg@10": reference}
    print(f"MedQuAD nDCG@10: medembed-rag eval {ours:.2f}, sentence-transformers exact cosine {reference:.2f}")
    if abs(ours - reference) > 0.5:
        failures.append(f"eval differs from sentence-transformers by {ours - reference:+.2f} points")

    tables = {"medquad": settings_table(index)}
    long_index = EvalIndex(load_beir(_common.dataset("medquad-long")), encoder, chunk=True, max_queries=args.max_queries)
    tables["medquad-long (chunked)"] = settings_table(long_index)
    report["fusion"] = tables
    default = f"weighted w={DEFAULT_WEIGHT}"
    print("\n| setting | " + " | ".join(f"{name} nDCG@10 | Recall@100" for name in tables) + " |")
    print("|---|" + "---|---|" * len(tables))
    for setting in tables["medquad"]:
        cells = " | ".join(f"{t[setting]['ndcg@10']:.2f} | {t[setting]['recall@100']:.2f}" for t in tables.values())
        print(f"| {setting}{' (default)' if setting == default else ''} | {cells} |")
    for name, table in tables.items():
        if table[default]["ndcg@10"] < table["dense"]["ndcg@10"]:
            failures.append(f"the default fusion is below dense alone on {name}")

    pubmedqa = EvalIndex(load_beir(_common.dataset("pubmedqa")), encoder, max_queries=args.max_queries)
    rows = [*lexical_rows("medquad", index, failures), *lexical_rows("medquad-long (chunked)", long_index, failures),
            *lexical_rows("pubmedqa", pubmedqa, failures)]
    report["lexical_rankers"] = rows
    print("\n| set | half | questions | n | dense | bm25s hybrid | FTS5 hybrid | FTS5 - bm25s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {r['half']} | {r['questions']} | {r['n']} | {r['dense']:.2f} | {r['bm25s_hybrid']:.2f} "
              f"| {r['fts5_hybrid']:.2f} | {r['fts5_hybrid'] - r['bm25s_hybrid']:+.2f} |")
    _common.finish("eval", report, failures)


if __name__ == "__main__":
    main()
