"""Encoder speed, memory and int8 quality (issues: the core OpenVINO encoder; auto precision by measurement).

Speed: documents per second over PubMedQA abstracts (up to 512 tokens) on a MedEmbed-base-shaped model,
each configuration in its own process, all in one run, with the CPU's features recorded beside the figures:
  * sentence-transformers on torch fp32 with its defaults (the reference), and its ``backend="openvino"``,
  * MedEmbedEncoder at auto, fp32, bf16 (forced) and int8,
  * openvino-genai's ``TextEmbeddingPipeline`` on the same IRs (length-sorted batches of 32) at fp32, bf16 and
    int8: the anchor ours must stay ahead of at the same precision.
Targets, by host kind: with AMX, auto >= 4.5x and int8 >= 6x the reference; without AMX, auto >= 0.95x the
faster of forced fp32 and bf16, auto >= 1.3x and int8 >= 3.5x the reference. On both, auto and int8 ahead of
openvino-genai at the same precision.

Quality: nDCG@10 on MedQuAD with the stand-in model (exact cosine search), fp32 against int8 and auto;
target: int8 within 1.0 point of fp32.

Usage: python benchmarks/bench_encoder.py [--docs 96] [--skip-quality] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

SPEED_CONFIGS = ["st-torch", "st-openvino", "ours-auto", "ours-fp32", "ours-bf16", "ours-int8",
                 "genai-fp32", "genai-bf16", "genai-int8"]


def _pubmedqa_texts(n: int) -> list[str]:
    from medembed_rag.evaluation.metrics import document_text, load_beir

    data = load_beir(_common.dataset("pubmedqa"))
    return [document_text(*data.corpus[d]) for d in sorted(data.corpus)[:n]]


def _genai_encode(precision: str, model: Path):
    import openvino_genai as genai

    from medembed_rag import MedEmbedEncoder

    ir = MedEmbedEncoder(model, precision="int8" if precision == "int8" else "fp32").cache_folder
    config = genai.TextEmbeddingPipeline.Config(pooling_type=genai.TextEmbeddingPipeline.PoolingType.CLS,
                                                normalize=True, max_length=512)
    hint = _common.genai_precision(precision)
    pipe = genai.TextEmbeddingPipeline(str(_common.genai_folder(ir)), "CPU", config, **hint)

    def encode(texts):
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # length-sorted batches of 32
        out = [None] * len(texts)
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            for i, vector in zip(idx, pipe.embed_documents([texts[i] for i in idx])):
                out[i] = vector
        return out

    return encode


def speed_worker(config: str, n: int) -> dict:
    texts = _pubmedqa_texts(n)
    model = _common.medembed_shaped_model()
    extra = {}
    if config.startswith("st-"):
        from sentence_transformers import SentenceTransformer

        kwargs = {"backend": "openvino"} if config == "st-openvino" else {}
        st = SentenceTransformer(str(model), device="cpu", **kwargs)
        encode = st.encode
    elif config.startswith("genai-"):
        encode = _genai_encode(config.split("-")[1], model)
    else:
        from medembed_rag import MedEmbedEncoder
        from medembed_rag.models.runtime import float_precision

        enc = MedEmbedEncoder(model, precision=config.split("-")[1], truncation="silent")
        encode = enc.encode_documents
        encode(texts[:1])
        extra["float_precision"] = float_precision(enc.cache_folder, enc.precision)
    encode(texts[:8])  # warm-up: export / compile / decide outside the timing
    started = time.perf_counter()
    encode(texts)
    elapsed = time.perf_counter() - started
    return {"config": config, "docs": n, "seconds": elapsed, "docs_per_s": n / elapsed,
            "peak_rss_mb": _common.peak_rss_mb(), **extra}


def cpu_worker() -> dict:
    import openvino as ov

    from medembed_rag.models.precision import cpu_features

    features = cpu_features()
    return {"cpu": features.describe(), "amx": features.amx, "bf16": features.bf16, "avx512": features.avx512,
            "vnni": features.vnni, "openvino": ov.get_version()}


def quality_worker(precision: str) -> dict:
    import numpy as np

    from medembed_rag.evaluation.metrics import document_text, evaluate, load_beir

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
    parser.add_argument("--docs", type=int, default=96)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()
    if args.worker:
        kind = args.worker[0]
        if kind == "cpu":
            result = cpu_worker()
        elif kind == "speed":
            result = speed_worker(args.worker[1], int(args.worker[2]))
        else:
            result = quality_worker(args.worker[1])
        print(json.dumps(result))
        return

    cpu = _common.run_worker(__file__, "cpu")
    host = "AMX" if cpu["amx"] else ("AVX-512 BF16 without AMX" if cpu["bf16"] else "no bf16")
    print(f"CPU: {cpu['cpu']}; host kind: {host}; OpenVINO {cpu['openvino']}")
    report: dict = {"docs": args.docs, "cpu": cpu, "host_kind": host}
    failures = []
    if not args.skip_speed:
        for config in SPEED_CONFIGS:  # export / convert / decide once beforehand, so peak RSS is the serving process's
            _common.run_worker(__file__, "speed", config, "8")
        speed = {c: _common.run_worker(__file__, "speed", c, str(args.docs)) for c in SPEED_CONFIGS}
        ref = speed["st-torch"]["docs_per_s"]
        print(f"\nSpeed, MedEmbed-base-shaped model, {args.docs} PubMedQA abstracts (docs/s, x reference, peak RSS)"
              f"\non {cpu['cpu']}")
        for c, r in speed.items():
            r["x_reference"] = r["docs_per_s"] / ref
            runs_at = f"  (float layers: {r['float_precision']})" if "float_precision" in r else ""
            print(f"  {c:12s} {r['docs_per_s']:8.2f}  {r['x_reference']:5.2f}x  {r['peak_rss_mb']:7.0f} MB{runs_at}")
        report["speed"] = speed
        x = {c: r["x_reference"] for c, r in speed.items()}
        if cpu["amx"]:
            targets = [("ours-auto", 4.5), ("ours-int8", 6.0)]
        else:
            targets = [("ours-auto", 1.3), ("ours-int8", 3.5)]
            best_float = max(x["ours-fp32"], x["ours-bf16"])
            if x["ours-auto"] < 0.95 * best_float:
                failures.append(f"ours-auto is {x['ours-auto'] / best_float:.2f}x the faster forced float precision "
                                f"(target 0.95)")
        failures += [f"{c} is {x[c]:.2f}x, target {t}x" for c, t in targets if x[c] < t]
        auto_at = speed["ours-auto"]["float_precision"]
        for ours, anchor in (("ours-auto", f"genai-{auto_at}"), ("ours-int8", "genai-int8")):
            if x[ours] <= x[anchor]:
                failures.append(f"{ours} ({x[ours]:.2f}x) is not ahead of {anchor} ({x[anchor]:.2f}x)")
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
    # One results file per host kind: figures from an AMX host and from one without are both kept.
    _common.finish("encoder-" + ("amx" if cpu["amx"] else "bf16-no-amx" if cpu["bf16"] else "no-bf16"), report, failures)


if __name__ == "__main__":
    main()
