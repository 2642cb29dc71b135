"""The export-or-load cache: warm starts do no export and no hub call; broken entries are rebuilt."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from medembed_rag import MedEmbedEncoder, OfflineModelError
from medembed_rag.models.cache import MANIFEST, ensure_ir, entry_dir, verify_entry
from medembed_rag.models.source import resolve_source


def _fake_export(checkpoint: Path, out: Path) -> None:
    (out / "openvino_model.xml").write_text("<net/>")
    (out / "openvino_model.bin").write_bytes(b"\0" * 64)


def test_second_process_loads_from_cache_without_export_torch_or_network(encoder, cache_dir, standin_path):
    code = textwrap.dedent(
        f"""
        import json, socket, sys
        def refuse(*a, **k):
            raise RuntimeError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from medembed_rag import MedEmbedEncoder
        enc = MedEmbedEncoder({str(standin_path)!r}, precision="fp32", cache_dir={str(cache_dir)!r})
        v = enc.encode_documents(["Metformin for type 2 diabetes."])
        print(json.dumps({{"exports": enc.exports_run, "torch": "torch" in sys.modules,
                           "optimum": "optimum" in sys.modules, "shape": list(v.shape)}}))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"exports": 0, "torch": False, "optimum": False, "shape": [1, 384]}


def test_export_killed_midway_is_rebuilt(tmp_path, standin_path):
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from medembed_rag.models.cache import ensure_ir
        from medembed_rag.models.source import resolve_source
        def slow_export(checkpoint, out):
            (out / "openvino_model.xml").write_text("<half")
            print("writing", flush=True)
            time.sleep(600)
        ensure_ir(resolve_source({str(standin_path)!r}, None), task="feature-extraction", variant="fp32",
                  cache_dir=Path({str(tmp_path)!r}), export=slow_export)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    source = resolve_source(str(standin_path), None)
    final = entry_dir(tmp_path, source, "feature-extraction", "fp32")
    assert not final.exists() and list(final.parent.glob("*.partial-*"))  # the half-written export is left behind
    calls = []
    entry = ensure_ir(source, task="feature-extraction", variant="fp32", cache_dir=tmp_path,
                      export=lambda c, o: (calls.append(1), _fake_export(c, o)))
    assert calls == [1] and entry == final and verify_entry(entry) is None
    assert not list(final.parent.glob("*.partial-*"))  # leftovers are cleaned
    assert (entry / "openvino_model.xml").read_text() == "<net/>"


@pytest.mark.parametrize("damage", ["no-manifest", "tampered", "missing-file"])
def test_broken_or_tampered_entries_are_rebuilt(tmp_path, standin_path, damage):
    source = resolve_source(str(standin_path), None)
    calls = []

    def export(c, o):
        calls.append(1)
        _fake_export(c, o)

    entry = ensure_ir(source, task="feature-extraction", variant="fp32", cache_dir=tmp_path, export=export)
    if damage == "no-manifest":
        (entry / MANIFEST).unlink()
    elif damage == "tampered":
        (entry / "openvino_model.bin").write_bytes(b"\1" * 64)  # same size, other bytes
    else:
        (entry / "openvino_model.bin").unlink()
    assert verify_entry(entry) is not None
    again = ensure_ir(source, task="feature-extraction", variant="fp32", cache_dir=tmp_path, export=export)
    assert again == entry and calls == [1, 1] and verify_entry(entry) is None


def test_cache_key_separates_precision_and_revision(standin_path, tmp_path):
    source = resolve_source(str(standin_path), None)
    a = entry_dir(tmp_path, source, "feature-extraction", "fp32")
    b = entry_dir(tmp_path, source, "feature-extraction", "int8")
    hub_a = entry_dir(tmp_path, resolve_source("org/model", "a" * 40), "feature-extraction", "fp32")
    hub_b = entry_dir(tmp_path, resolve_source("org/model", "b" * 40), "feature-extraction", "fp32")
    assert len({a, b, hub_a, hub_b}) == 4


def test_hub_model_offline_without_cache_fails_fast_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    enc = MedEmbedEncoder("abhinand/MedEmbed-base-v0.1", cache_dir=tmp_path / "ov")
    started = time.perf_counter()
    with pytest.raises(OfflineModelError) as info:
        enc.encode_documents(["Metformin for type 2 diabetes."])
    assert time.perf_counter() - started < 10
    message = str(info.value)
    assert "offline mode is on" in message and "local folder" in message and "MedEmbed-base-v0.1" in message


def test_unreachable_hub_fails_fast(tmp_path):
    code = textwrap.dedent(
        f"""
        from medembed_rag import MedEmbedEncoder, OfflineModelError
        try:
            MedEmbedEncoder("abhinand/MedEmbed-small-v0.1", cache_dir={str(tmp_path / "ov")!r}).load()
        except OfflineModelError as exc:
            print("OFFLINE-ERROR", "cannot be reached" in str(exc))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    env.pop("MEDEMBED_RAG_OFFLINE", None)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert "OFFLINE-ERROR True" in out.stdout, out.stderr[-2000:]
    assert time.perf_counter() - started < 60
