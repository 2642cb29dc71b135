"""The README's main job runs offline from a fresh checkout and cites the right passages."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "medembed_rag.cli", "demo", "--store", str(tmp_path / "store"), *args],
        capture_output=True, text=True, env=env, timeout=600,
    )


def test_demo_answers_with_citations_and_reuses_its_store(tmp_path):
    first = _run(["--question", "What is the first medicine for type 2 diabetes?"], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "stand-in" in first.stderr  # the hub is unreachable here: said plainly, once
    assert "newly indexed" in first.stderr
    answer, sources = first.stdout.split("Sources:")
    assert "[1] guideline_type2_diabetes.md > Recommendations" in sources
    assert "Answer (SmolLM2-135M-Instruct (local, OpenVINO))" in answer  # the local LLM answered
    assert len(answer.split("):", 1)[1].strip()) > 20
    second = _run(["--question", "Why do patients on warfarin need regular blood tests?"], tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing re-embedded" in second.stderr and "(from the cache)" in second.stderr
    assert "leaflet_warfarin.md > Blood tests" in second.stdout.split("Sources:")[1]


def test_demo_without_llm_says_so(tmp_path):
    out = _run(["--question", "What is warfarin used for?", "--no-llm"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "retrieval only" in out.stdout and "leaflet_warfarin.md" in out.stdout


def test_quick_encode_example_runs():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quick_encode.py")], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "1. [" in out.stdout and "warfarin" in out.stdout.split("1. [")[1].split("\n")[0].lower()
