"""Helpers shared by the benchmark scripts: data paths, stand-in models, isolated worker processes."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
WORK = Path(os.environ.get("MEDEMBED_BENCH_DIR", Path.home() / ".cache" / "medembed-rag-bench"))
RESULTS = ROOT / "benchmarks" / "results"


def dataset(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        sys.exit(f"skipped: {path} is not present (the shared data sets are needed for this benchmark)")
    return path


def medembed_shaped_model() -> Path:
    """MedEmbed-base's exact shapes (12 layers, 768 dims, CLS) with random weights; built once."""
    from medembed_rag.testing import build_medembed_shaped_model

    return build_medembed_shaped_model(WORK / "medembed-base-shaped")


def standin_encoder(precision: str = "auto", **options):
    """The stand-in model's encoder as every benchmark times it: quiet, cutting silently, already compiled."""
    from medembed_rag import MedEmbedEncoder
    from medembed_rag.testing import standin_model_path

    encoder = MedEmbedEncoder(standin_model_path(), precision=precision, truncation="silent", show_progress=False,
                              **options)
    encoder.encode_documents(["Metformin is a first-line treatment for type 2 diabetes."])  # compile now
    return encoder


def peak_rss_mb() -> float:
    """This process's own peak resident memory (MiB). Linux's ``ru_maxrss`` survives fork and exec, so a worker
    would report at least its parent's peak; ``VmHWM`` belongs to the worker's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(script: str, *args: str) -> dict:
    """Runs ``script --worker args`` in a fresh process (so peak RSS is its own) and returns its JSON line."""
    env = {**os.environ, "MEDEMBED_RAG_CACHE": str(WORK / "ov-cache"), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [sys.executable, script, "--worker", *args], capture_output=True, text=True, env=env, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def cpu_description() -> str:
    """The CPU and the features that decide its speed (AVX-512, VNNI, BF16, AMX): recorded beside every figure."""
    from medembed_rag.models.precision import cpu_features

    return cpu_features().describe()


def genai_folder(ir_folder: Path) -> Path:
    """A cached IR plus the OpenVINO tokenizer openvino-genai needs (files linked, tokenizer converted once)."""
    target = WORK / "genai" / ir_folder.name
    if not (target / "openvino_tokenizer.xml").is_file():
        import openvino as ov
        from openvino_tokenizers import convert_tokenizer
        from transformers import AutoTokenizer

        target.mkdir(parents=True, exist_ok=True)
        for path in ir_folder.iterdir():
            if path.is_file() and not (target / path.name).exists():
                (target / path.name).hardlink_to(path)
        tokenizer = convert_tokenizer(AutoTokenizer.from_pretrained(str(ir_folder)))
        ov.save_model(tokenizer, target / "openvino_tokenizer.xml")
    return target


def genai_precision(precision: str) -> dict:
    """openvino-genai pipeline properties for a float precision (int8 IRs keep OpenVINO's default)."""
    return {"fp32": {"INFERENCE_PRECISION_HINT": "f32"}, "bf16": {"INFERENCE_PRECISION_HINT": "bf16"}}.get(precision, {})


def finish(name: str, report: dict, failures: list[str]) -> None:
    """Saves the report (with the CPU it ran on) and its failures, prints PASS or FAIL, exits 1 on failure."""
    report.setdefault("cpu", cpu_description())
    print(f"CPU: {report['cpu'] if isinstance(report['cpu'], str) else report['cpu']['cpu']}")
    report["failures"] = failures
    print(f"results: {save(name, report)}")
    print("PASS" if not failures else "FAIL: " + "; ".join(failures))
    sys.exit(1 if failures else 0)


def medquad_passages(n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` MedQuAD passages as (ids, texts), title and text joined as BEIR's dense baselines do."""
    from medembed_rag.evaluation.metrics import document_text, load_beir

    data = load_beir(dataset("medquad"))
    ids = list(data.corpus)[:n]
    return ids, [document_text(*data.corpus[d]) for d in ids]
