"""Reranker speed (issue: the cross-encoder reranker): (query, passage) pairs per second of MedEmbedReranker
against sentence-transformers' CrossEncoder on torch with the same local model, and openvino-genai's
``TextRerankPipeline`` on the same IRs, in one run, with the CPU's features recorded.
Targets: >= 2x at auto; auto and int8 ahead of openvino-genai at the same precision.

The local model is the stand-in's BERT with a seeded one-label head (medembed_rag.testing.build_cross_encoder);
each PubMedQA question is reranked with 16 candidate abstracts (its own and 15 others).

Usage: python benchmarks/bench_rerank.py [--pairs 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from medembed_rag.evaluation.metrics import document_text, load_beir  # noqa: E402
from medembed_rag.models.reranker import MedEmbedReranker  # noqa: E402
from medembed_rag.testing import build_cross_encoder  # noqa: E402


def _genai_pairs_per_s(reranker: MedEmbedReranker, groups) -> float:
    """openvino-genai's TextRerankPipeline on the IR ``reranker`` loaded, at the float precision it runs at."""
    import openvino_genai as genai

    from medembed_rag.models.runtime import float_precision

    folder = reranker.cache_folder
    hint = _common.genai_precision(float_precision(folder, reranker.precision) if reranker.precision != "int8" else "int8")
    config = genai.TextRerankPipeline.Config(top_n=len(groups[0][1]), max_length=512)
    pipe = genai.TextRerankPipeline(str(_common.genai_folder(folder)), "CPU", config, **hint)
    pipe.rerank(groups[0][0], groups[0][1][:2])
    started = time.perf_counter()
    for q, passages in groups:
        pipe.rerank(q, passages)
    return sum(len(p) for _, p in groups) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=256)
    args = parser.parse_args()
    data = load_beir(_common.dataset("pubmedqa"))
    doc_ids = list(data.corpus)
    per_query = 16  # a first stage hands the reranker a pool of candidates per question
    groups = []
    for n, q in enumerate(list(data.queries)[: max(1, args.pairs // per_query)]):
        relevant = next(iter(data.qrels[q]))
        others = [d for d in doc_ids[n * per_query : (n + 1) * per_query] if d != relevant][: per_query - 1]
        groups.append((data.queries[q], [document_text(*data.corpus[d]) for d in [relevant, *others]]))
    pairs = [(q, p) for q, passages in groups for p in passages]
    model = build_cross_encoder(_common.WORK / "cross-encoder")
    results = {}

    from sentence_transformers import CrossEncoder

    st = CrossEncoder(str(model), device="cpu", max_length=512)
    st.predict(pairs[:8])
    started = time.perf_counter()
    for q, passages in groups:
        st.predict([(q, p) for p in passages], batch_size=16)
    results["st-torch"] = len(pairs) / (time.perf_counter() - started)

    for precision in ("auto", "fp32", "int8"):
        rr = MedEmbedReranker(model, precision=precision, truncation="silent")
        rr.predict(groups[0][0], groups[0][1][:2])
        started = time.perf_counter()
        for q, passages in groups:
            rr.rank(q, passages)
        results[f"ours-{precision}"] = len(pairs) / (time.perf_counter() - started)
        if precision != "fp32":
            results[f"genai-{precision}"] = _genai_pairs_per_s(rr, groups)
    report = {"pairs": len(pairs), "pairs_per_s": results}
    ref = results["st-torch"]
    print(f"{len(pairs)} PubMedQA (question, abstract) pairs, pairs/s and x sentence-transformers CrossEncoder (torch)")
    for k, v in results.items():
        print(f"  {k:24s} {v:8.1f}  {v / ref:5.2f}x")
    failures = [] if results["ours-auto"] / ref >= 2 else ["auto is below 2x"]
    failures += [f"ours-{p} is not ahead of genai-{p}" for p in ("auto", "int8")
                 if results[f"ours-{p}"] <= results[f"genai-{p}"]]
    _common.finish("rerank", report, failures)


if __name__ == "__main__":
    main()
