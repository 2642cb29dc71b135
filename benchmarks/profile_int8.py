"""Where int8 spends its time (issue 27): OpenVINO's runtime model and per-layer profile of each IR of an int8
cache entry (fp32, static int8, weight-only int8), at one fixed shape.

For every IR: the compiled graph's ops grouped by ``layerType`` with their kernels (``primitiveType``, e.g.
``brgemm_avx512_amx``, ``jit_gemm_i8``, ``gemm_mlas_f32``) and ``runtimePrecision``, and the time per layer
type from ``PERF_COUNT`` (median of --repeats runs). Each IR runs in its own process, so an ISA cap applies:
``--isa AVX2`` sets oneDNN's ``ONEDNN_MAX_CPU_ISA=AVX2`` there; the script reports whether OpenVINO honoured
it (the kernels' names say which ISA ran). A cap only approximates an AVX2-only CPU: its caches, clocks and
port layout are the real host's.

    python benchmarks/profile_int8.py [--model medembed-shaped|standin] [--batch 8 --tokens 256] [--isa AVX2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def worker(xml: str, batch: int, tokens: int, repeats: int) -> dict:
    import numpy as np
    import openvino as ov
    import openvino.properties.hint as hints

    core = ov.Core()
    model = core.read_model(xml)
    names = {p.get_any_name() for p in model.inputs}
    rng = np.random.default_rng(0)
    feed = {"input_ids": rng.integers(1000, 20000, (batch, tokens)), "attention_mask": np.ones((batch, tokens)),
            "token_type_ids": np.zeros((batch, tokens))}
    feed = {k: v.astype(np.int64) for k, v in feed.items() if k in names}
    compiled = core.compile_model(model, "CPU", {hints.performance_mode: hints.PerformanceMode.LATENCY,
                                                 hints.inference_precision: ov.Type.f32, "PERF_COUNT": True})
    request = compiled.create_infer_request()
    request.infer(feed)
    per_type: dict[str, list[float]] = defaultdict(list)
    totals = []
    kernel_time: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for _ in range(repeats):
        request.infer(feed)
        sums: dict[str, float] = defaultdict(float)
        for info in request.profiling_info:
            sums[info.node_type] += info.real_time.total_seconds()
            kernel_time[info.node_type][info.exec_type] += info.real_time.total_seconds() / repeats
        for k, v in sums.items():
            per_type[k].append(v)
        totals.append(sum(sums.values()))
    # the runtime model: which kernel and precision each compiled op runs at
    kernels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for op in compiled.get_runtime_model().get_ordered_ops():
        rt = {k: v.astype(str) if hasattr(v, "astype") else str(v) for k, v in op.get_rt_info().items()}
        layer = rt.get("layerType", op.get_type_name())
        kernels[layer][f"{rt.get('primitiveType', '?')} ({rt.get('runtimePrecision', '?')})"] += 1
    return {"total_s": statistics.median(totals),
            "per_type_s": {k: statistics.median(v) for k, v in sorted(per_type.items(), key=lambda kv: -max(kv[1]))},
            "kernels": {k: dict(v) for k, v in kernels.items()},
            "kernel_ms": {k: {e: round(t * 1000, 1) for e, t in v.items()} for k, v in kernel_time.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="medembed-shaped", choices=["medembed-shaped", "standin"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--isa", default=None, help="cap oneDNN's ISA in the workers, e.g. AVX2")
    parser.add_argument("--worker", nargs=4)
    args = parser.parse_args()
    if args.worker:
        xml, batch, tokens, repeats = args.worker
        print(json.dumps(worker(xml, int(batch), int(tokens), int(repeats))))
        return

    from medembed_rag import MedEmbedEncoder
    from medembed_rag.models.precision import cpu_features, int8_candidates

    os.environ.setdefault("MEDEMBED_RAG_CACHE", str(_common.WORK / "ov-cache"))
    path = _common.medembed_shaped_model() if args.model == "medembed-shaped" else None
    enc = MedEmbedEncoder(path, precision="int8") if path else _common.standin_encoder("int8")
    candidates = int8_candidates(enc.cache_folder)
    env = {**os.environ, **({"ONEDNN_MAX_CPU_ISA": args.isa} if args.isa else {})}
    print(f"CPU: {cpu_features().describe()}; ISA cap: {args.isa or 'none'}; shape {args.batch} x {args.tokens}")
    report = {"cpu": cpu_features().describe(), "isa_cap": args.isa, "batch": args.batch, "tokens": args.tokens}
    for name, xml in candidates.items():
        out = subprocess.run([sys.executable, __file__, "--worker", str(xml), str(args.batch), str(args.tokens),
                              str(args.repeats)], capture_output=True, text=True, env=env)
        if out.returncode:
            lines = out.stderr.strip().splitlines() or ["?"]
            error = next((line for line in reversed(lines) if "[CPU]" in line or "Error" in line), lines[-1])
            report[name] = {"error": error}
            print(f"\n{name}: does not run here: {error[:300]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        report[name] = r
        print(f"\n{name}: {r['total_s'] * 1000:.0f} ms per batch")
        for layer, seconds in list(r["per_type_s"].items())[:6]:
            print(f"  {layer:26s} {seconds * 1000:7.1f} ms  {r['kernel_ms'].get(layer, {})}")
    kernels = " ".join(k for name in candidates for ks in report[name].get("kernel_ms", {}).values() for k in ks)
    if args.isa:
        honoured = "avx512" not in kernels.lower() and "amx" not in kernels.lower()
        print(f"\nISA cap {args.isa} honoured (no AVX-512/AMX kernel named): {honoured}")
        report["isa_cap_honoured"] = honoured
    _common.save(f"profile-int8-{args.model}" + (f"-{args.isa.lower()}" if args.isa else ""), report)


if __name__ == "__main__":
    main()
