"""The README's main job runs offline from a fresh checkout and cites the right passages."""

import difflib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "medembed_rag.app.cli", "demo", "--store", str(tmp_path / "store"), *args],
        capture_output=True, text=True, env=env, timeout=600,
    )


def test_demo_answers_one_question_abstains_on_the_other_and_reuses_its_store(tmp_path):
    first = _run([], tmp_path)  # what scripts/demo.sh runs: the two default questions
    assert first.returncode == 0, first.stderr[-3000:]
    assert "stand-in" in first.stderr  # the hub is unreachable here: said plainly, once
    assert "newly indexed" in first.stderr
    answered, abstained = first.stdout.split("\nQ: ")
    assert answered.startswith("Q: How often should INR be checked when starting warfarin?")
    assert "(answered;" in answered and "2 to 3 days" in answered
    assert "[1] monitoring_warfarin_inr.md > Starting warfarin" in answered.split("Sources:")[1]
    assert "(not answered by the documents; abstained)" in abstained
    assert "The documents do not answer this question" in abstained and "Closest passages:" in abstained
    second = _run(["--question", "How long should metformin be stopped after a scan with contrast dye?"], tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing re-embedded" in second.stderr and "(from the cache)" in second.stderr
    assert "48 hours" in second.stdout and "leaflet_metformin.md" in second.stdout.split("Sources:")[1]


def test_demo_without_llm_answers_with_the_evidence(tmp_path):
    out = _run(["--question", "How many puffs of salbutamol can be taken during an asthma attack?", "--no-llm"],
               tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "the evidence sentences themselves" in out.stdout and "up to 10 puffs" in out.stdout
    assert "asthma_action_plan.md" in out.stdout


def test_quick_encode_example_runs():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quick_encode.py")], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "1. [" in out.stdout and "warfarin" in out.stdout.split("1. [")[1].split("\n")[0].lower()


def _example(name, *args, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(ROOT / "examples" / name), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=900)


@pytest.mark.parametrize("script", ["llamaindex_chatbot.py", "langchain_chatbot.py"])
def test_chatbots_answer_a_two_turn_conversation(script, tmp_path):
    out = _example(script, "--store", tmp_path / "store", "--scripted", "--json", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    turns = json.loads(out.stdout)
    assert len(turns) == 2 and all(len(t["answer"].strip()) > 10 for t in turns)
    assert turns[0]["sources"][0].startswith("leaflet_warfarin.md"), turns
    # the second question ("...while taking it?") only makes sense with the first: its evidence must be about warfarin
    assert any("warfarin" in s for s in turns[1]["sources"][:2]), turns[1]["sources"]
    assert "INR" in turns[1]["answer"], turns[1]


def test_switch_is_one_line():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import switch_existing_chain as example
    finally:
        sys.path.remove(str(ROOT / "examples"))
    before = inspect.getsource(example.build_chain_default).splitlines()[1:]
    after = inspect.getsource(example.build_chain_medembed).splitlines()[1:]
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 2 and "embeddings =" in changed[0] and "MedEmbedEmbeddings" in changed[1]


def test_switch_example_runs(tmp_path):
    out = _example("switch_existing_chain.py", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "--- usual embedding" in out.stdout and "--- MedEmbed" in out.stdout
