"""Long documents on a long-context encoder: docs/s and peak memory at 1k, 4k and 8k tokens.

Model: a gte-modernbert-base-shaped ModernBERT (22 layers, 768 hidden, 12 heads, global attention every third
layer, 128-token local window, 8,192 tokens) with random weights (``medembed_rag.testing.build_modernbert_model``):
gte-modernbert-base's cost, so this measures speed and memory only, never quality. Engines: ours at fp32, auto
and int8, and sentence-transformers on torch (fp32), each length in a fresh process so peak RSS is its own.
A document is timed after one warm-up document of the same length; exports run beforehand in their own process.

Targets: ours at ``auto`` >= 1.5x sentence-transformers at 8k tokens; peak RSS for one 8k document <= 2.5 GB at
fp32. Also recorded: whether attention compiled to one fused kernel per layer (a decomposed one would hold a
12 x 8192 x 8192 fp32 score tensor, 3.2 GB).

Usage: python benchmarks/bench_long_context.py [--lengths 1024 4096 8192]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import WORK, finish, peak_rss_mb, run_worker  # noqa: E402

ENGINES = (("ours", "fp32"), ("ours", "auto"), ("ours", "int8"), ("sentence-transformers", "fp32"))
WORDS = "patient dose blood heart kidney drug pain day week test level risk care insulin fever water diet".split()


def model_folder() -> Path:
    from medembed_rag.testing import build_modernbert_model

    return build_modernbert_model(WORK / "gte-modernbert-base-shaped")


def document(tokens: int, seed: int) -> str:
    """A text of exactly ``tokens`` tokens, special tokens included (one word a token in this vocabulary)."""
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(tokens - 2))


def worker(engine: str, precision: str, tokens: int) -> dict:
    folder = model_folder()
    if engine == "prepare":  # the one-time export (torch, conversion, int8 calibration), outside the timed runs
        from medembed_rag import MedEmbedEncoder

        MedEmbedEncoder(folder, precision=precision, show_progress=False).encode_documents(["warm up"])
        return {"prepared": precision}
    warm, timed = document(tokens, 1), document(tokens, 2)
    fused = None
    if engine == "ours":
        from medembed_rag import MedEmbedEncoder

        encoder = MedEmbedEncoder(folder, precision=precision, show_progress=False)
        assert encoder.count_tokens(timed)[0] == tokens
        encode = encoder.encode_documents
        encode([warm])
        runtime = encoder.load().compiled.get_runtime_model()
        kinds = [(op.get_rt_info()["layerType"].astype(str), op.get_rt_info()["originalLayersNames"].astype(str))
                 for op in runtime.get_ordered_ops()]
        fused = sum(k == "Subgraph" and "scaled_dot_product_attention" in names for k, names in kinds)
        fused = {"fused_attention_kernels": fused, "standalone_softmax": sum(k == "Softmax" for k, _ in kinds)}
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(folder), device="cpu")

        def encode(texts):
            return model.encode(texts, batch_size=1, convert_to_numpy=True)

        encode([warm])
    started = time.perf_counter()
    encode([timed])
    seconds = time.perf_counter() - started
    return {"engine": engine, "precision": precision, "tokens": tokens, "seconds_per_doc": round(seconds, 3),
            "docs_per_s": round(1 / seconds, 4), "peak_rss_mb": round(peak_rss_mb()), "attention": fused}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 8192])
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "PRECISION", "TOKENS"))
    args = parser.parse_args()
    if args.worker:
        engine, precision, tokens = args.worker
        print(json.dumps(worker(engine, precision, int(tokens))))
        return
    model_folder()
    for precision in ("fp32", "auto", "int8"):
        run_worker(__file__, "prepare", precision, "0")
    rows = []
    for tokens in args.lengths:
        for engine, precision in ENGINES:
            row = run_worker(__file__, engine, precision, str(tokens))
            rows.append(row)
            print(f"{tokens:5d} tokens  {engine:21s} {precision:5s} {row['seconds_per_doc']:8.2f} s/doc  "
                  f"peak RSS {row['peak_rss_mb']:6d} MiB  {row['attention'] or ''}", flush=True)
    failures = []
    by = {(r["engine"], r["precision"], r["tokens"]): r for r in rows}
    longest = max(args.lengths)
    if longest == 8192:
        ratio = by[("ours", "auto", 8192)]["docs_per_s"] / by[("sentence-transformers", "fp32", 8192)]["docs_per_s"]
        print(f"8k tokens: ours auto {ratio:.2f}x sentence-transformers (target >= 1.5x); ours fp32 peak RSS "
              f"{by[('ours', 'fp32', 8192)]['peak_rss_mb']} MiB (target <= 2560)")
        if ratio < 1.5:
            failures.append(f"auto {ratio:.2f}x sentence-transformers at 8k (< 1.5x)")
        if by[("ours", "fp32", 8192)]["peak_rss_mb"] > 2560:
            failures.append("fp32 peak RSS for one 8k document above 2.5 GB")
    finish("long-context", {"rows": rows}, failures)


if __name__ == "__main__":
    main()
