"""The core install runs without torch, optimum or transformers: the two-stage path, as a deployment does it.

Build stage (this test environment, the full install): the stand-in model is published as a hub model in an
offline hub cache at a pinned commit and exported with ``medembed-rag export``. The cache folder is copied.
Run stage: a fresh virtual environment with ``pip install medembed-rag`` (no extras) loads the copied export,
encodes, stores in Chroma and queries; torch, optimum, transformers and nncf are neither installed nor
imported, and the environment stays under 1.2 GB. Asked for a model that was never exported, it fails at once
naming the ``[export]`` extra, ``medembed-rag export`` and ``cache_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO = "sentence-transformers/all-MiniLM-L6-v2"
COMMIT = "c0ffee" + "0" * 34  # the pinned revision of the published stand-in
MAX_VENV_BYTES = 1.2e9
HEAVY = ("torch", "optimum", "transformers", "nncf")

pytestmark = pytest.mark.slow


def _du(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def lean_python(tmp_path_factory) -> Path:
    """A fresh venv with the core install only (from this checkout, dependencies from the registry)."""
    venv = tmp_path_factory.mktemp("lean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    out = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-4000:]
    size = _du(venv)
    print(f"\ncore-only venv: {size / 1e9:.2f} GB")  # recorded in the README's install section
    assert size <= MAX_VENV_BYTES, f"the core install takes {size / 1e9:.2f} GB (limit 1.2 GB)"
    return python


@pytest.fixture(scope="module")
def exported_cache(tmp_path_factory, standin_path) -> Path:
    """Build stage: the stand-in as a pinned hub model in an offline hub cache, exported by the full install."""
    root = tmp_path_factory.mktemp("build")
    snapshot = root / "hub" / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    shutil.copytree(standin_path, snapshot, ignore=shutil.ignore_patterns("*.onnx", "onnx", "openvino", "*.h5"))
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text(COMMIT)
    env = {**os.environ, "HF_HUB_CACHE": str(root / "hub"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "medembed_rag.app.cli", "export", REPO, "--revision", COMMIT,
                          "--precision", "fp32", "--cache-dir", str(root / "cache")],
                         capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0 and "exported" in out.stdout, out.stderr[-3000:]
    return root / "cache"


def _run(python: Path, code: str, tmp_path: Path, cache: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MEDEMBED_RAG_"))}
    env.update(MEDEMBED_RAG_CACHE=str(cache), HF_HUB_CACHE=str(tmp_path / "empty-hub"), HF_HUB_OFFLINE="1",
               HOME=str(tmp_path / "home"))
    return subprocess.run([str(python), "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=900)


def test_core_install_runs_a_copied_export_without_torch(lean_python, exported_cache, tmp_path):
    runtime_cache = tmp_path / "copied-cache"  # as a Docker build stage's cache copied into the runtime image
    shutil.copytree(exported_cache, runtime_cache)
    out = _run(lean_python, f"""
        import importlib.util, json, sys
        from medembed_rag import MedEmbedEncoder
        from medembed_rag.index.store import MedEmbedChromaStore
        encoder = MedEmbedEncoder({REPO!r}, revision={COMMIT!r}, precision="fp32")
        with MedEmbedChromaStore("store", encoder=encoder) as store:
            store.add_documents(["Warfarin needs regular INR blood tests.", "Metformin is taken with meals.",
                                 "Amoxicillin treats community-acquired pneumonia."], ids=["w", "m", "a"])
            best = store.query("Which blood test does warfarin need?", k=1)[0].doc_id
        print(json.dumps({{
            "best": best, "exports_run": encoder.exports_run, "dim": encoder.dim,
            "imported": sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})),
            "installed": [n for n in {HEAVY!r} if importlib.util.find_spec(n)],
        }}))
    """, tmp_path, runtime_cache)
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"best": "w", "exports_run": 0, "dim": 384, "imported": [], "installed": []}


def test_core_install_asked_for_an_unexported_model_says_how_to_get_one(lean_python, tmp_path, standin_path):
    out = _run(lean_python, f"""
        from medembed_rag import MedEmbedEncoder, MissingDependencyError
        for model in ({str(standin_path)!r}, "abhinand/MedEmbed-base-v0.1"):
            try:
                MedEmbedEncoder(model).encode_documents(["Warfarin needs INR tests."])
            except MissingDependencyError as exc:
                print("ERROR:", exc)
    """, tmp_path, tmp_path / "empty-cache")
    assert out.returncode == 0, out.stderr[-4000:]
    errors = [line for line in out.stdout.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 2  # a local folder and a hub id: both refused before any download or export
    for message in errors:
        assert "medembed-rag[export]" in message and "medembed-rag export" in message
        assert "cache_dir" in message and "MEDEMBED_RAG_CACHE" in message
    cli = subprocess.run([str(lean_python.parent / "medembed-rag"), "export", str(standin_path), "--cache-dir",
                          str(tmp_path / "c")], capture_output=True, text=True, timeout=300)
    assert cli.returncode == 4 and "medembed-rag[export]" in cli.stderr
