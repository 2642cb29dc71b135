"""Encoder speed, memory and int8 quality (issue: the core OpenVINO encoder).

Speed: documents per second over PubMedQA abstracts (up to 512 tokens) on a MedEmbed-base-shaped model,
each configuration in its own process, all in one run:
  * sentence-transformers on torch fp32 with its defaults (the reference),
  * sentence-transformers' own ``backend="openvino"``,
  * MedEmbedEncoder at auto, fp32 and int8.
Targets: auto >= 4.5x and int8 >= 6x the reference; auto faster than sentence-transformers' OpenVINO.

Quality: nDCG@10 on MedQuAD with the stand-in model (exact cosine search), fp32 against int8 and auto;
target: int8 within 1.0 point of fp32.

Usage: python benchmarks/bench_encoder.py [--docs 256] [--skip-quality] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

SPEED_CONFIGS = ["st-torch", "st-openvino", "ours-auto", "ours-fp32", "ours-int8"]


def _pubmedqa_texts(n: int) -> list[str]:
    from medembed_rag.evaluation import document_text, load_beir

    data = load_beir(_common.dataset("pubmedqa"))
    return [document_text(*data.corpus[d]) for d in sorted(data.corpus)[:n]]


def speed_worker(config: str, n: int) -> dict:
    texts = _pubmedqa_texts(n)
    model = _common.medembed_shaped_model()
    if config.startswith("st-"):
        from sentence_transformers import SentenceTransformer

        kwargs = {"backend": "openvino"} if config == "st-openvino" else {}
        st = SentenceTransformer(str(model), device="cpu", **kwargs)
        encode = st.encode
    else:
        from medembed_rag import MedEmbedEncoder

        enc = MedEmbedEncoder(model, precision=config.split("-")[1], truncation="silent")
        encode = enc.encode_documents
    encode(texts[:8])  # warm-up: export / compile outside the timing
    started = time.perf_counter()
    encode(texts)
    elapsed = time.perf_counter() - started
    return {"config": config, "docs": n, "seconds": elapsed, "docs_per_s": n / elapsed, "peak_rss_mb": _common.peak_rss_mb()}


def quality_worker(precision: str) -> dict:
    import numpy as np

    from medembed_rag.evaluation import document_text, evaluate, load_beir

    data = load_beir(_common.dataset("medquad"))
    ids = list(data.corpus)
    enc = _common.standin_encoder(precision, batch_size=64)
    started = time.perf_counter()
    docs = enc.encode_documents([document_text(*data.corpus[d]) for d in ids])
    seconds = time.perf_counter() - started
    qids = list(data.queries)
    queries = enc.encode_queries([data.queries[q] for q in qids])
    scores = queries @ docs.T
    top = np.argsort(-scores, axis=1)[:, :100]
    run = {q: [ids[j] for j in top[i]] for i, q in enumerate(qids)}
    return {"precision": precision, **evaluate(data.qrels, run), "docs_per_s": len(ids) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=256)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()
    if args.worker:
        kind, value = args.worker[0], args.worker[1]
        result = speed_worker(value, int(args.worker[2])) if kind == "speed" else quality_worker(value)
        print(json.dumps(result))
        return

    report: dict = {"docs": args.docs}
    failures = []
    if not args.skip_speed:
        for config in SPEED_CONFIGS:  # export / convert once beforehand, so peak RSS is the serving process's
            _common.run_worker(__file__, "speed", config, "8")
        speed = {c: _common.run_worker(__file__, "speed", c, str(args.docs)) for c in SPEED_CONFIGS}
        ref = speed["st-torch"]["docs_per_s"]
        print(f"\nSpeed, MedEmbed-base-shaped model, {args.docs} PubMedQA abstracts (docs/s, x reference, peak RSS)")
        for c, r in speed.items():
            r["x_reference"] = r["docs_per_s"] / ref
            print(f"  {c:12s} {r['docs_per_s']:8.2f}  {r['x_reference']:5.2f}x  {r['peak_rss_mb']:7.0f} MB")
        report["speed"] = speed
        for config, target in (("ours-auto", 4.5), ("ours-int8", 6.0)):
            if speed[config]["x_reference"] < target:
                failures.append(f"{config} is {speed[config]['x_reference']:.2f}x, target {target}x")
        if speed["ours-auto"]["docs_per_s"] <= speed["st-openvino"]["docs_per_s"]:
            failures.append("ours-auto is not faster than sentence-transformers' OpenVINO backend")
    if not args.skip_quality:
        quality = {p: _common.run_worker(__file__, "quality", p) for p in ("fp32", "auto", "int8")}
        print("\nQuality, stand-in model on MedQuAD (exact cosine search)")
        for p, r in quality.items():
            print(f"  {p:5s} nDCG@10 {r['ndcg@10']:.2f}  Recall@100 {r['recall@100']:.2f}  ({r['docs_per_s']:.0f} docs/s)")
        report["quality"] = quality
        drop = quality["fp32"]["ndcg@10"] - quality["int8"]["ndcg@10"]
        report["int8_ndcg_drop"] = drop
        if drop > 1.0:
            failures.append(f"int8 loses {drop:.2f} nDCG@10 points (target <= 1.0)")
    _common.finish("encoder", report, failures)


if __name__ == "__main__":
    main()
