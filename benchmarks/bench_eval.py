"""Pipeline evaluation and hybrid fusion settings (issue: hybrid retrieval, CLI and evaluation), one run:

1. No loss: nDCG@10 of `medembed-rag eval` (OpenVINO, dense) on MedQuAD against sentence-transformers on
   torch with exact cosine search, same stand-in model. Target: within 0.5 points.
2. Fusion: dense alone, weighted fusion at dense weights 0.5-0.9, and RRF, on MedQuAD (whole passages) and
   MedQuAD-long (chunked). Target: the default setting >= dense alone on both; the table goes in the README.

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

WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
# Default fusion's nDCG@10 with the old lexical side (bm25s, no stemming, rebuilt per write); the store's
# persistent SQLite FTS5 index must stay within 0.3 points of it.
BEFORE_FTS5 = {"medquad": 72.79, "medquad-long (chunked)": 94.13}


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
        change = table[default]["ndcg@10"] - BEFORE_FTS5[name]
        print(f"{name}: default fusion {table[default]['ndcg@10']:.2f} vs {BEFORE_FTS5[name]:.2f} before ({change:+.2f})")
        if change < -0.3:
            failures.append(f"default fusion on {name} fell {-change:.2f} nDCG@10 points below the previous lexical index")
    _common.finish("eval", report, failures)


if __name__ == "__main__":
    main()
