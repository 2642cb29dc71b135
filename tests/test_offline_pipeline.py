"""With outbound sockets blocked, the whole pipeline runs: ingest, hybrid query, rerank, local-LLM answer, delete.

The guard replaces socket connects in the process (and in a CLI subprocess) so that any attempt to open a
network connection (hub, telemetry, version checks) raises instead of silently succeeding or timing out.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GUARD = textwrap.dedent(
    """
    import socket
    _attempts = []
    def _refuse(self, address, *args, **kwargs):
        if self.family == socket.AF_UNIX:
            return _orig_connect(self, address, *args, **kwargs)
        _attempts.append(str(address))
        raise ConnectionRefusedError(f"network blocked by the test: {address}")
    _orig_connect = socket.socket.connect
    socket.socket.connect = _refuse
    socket.socket.connect_ex = lambda self, address: (_refuse(self, address), 1)[1]
    socket.create_connection = lambda address, *a, **k: _refuse(socket.socket(), address)
    """
)


def _env(cache_dir):
    return {**os.environ, "MEDEMBED_RAG_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_CACHE": str(cache_dir)}


def test_full_pipeline_with_network_blocked(tmp_path, cache_dir, standin_path):
    from medembed_rag.testing import build_cross_encoder

    cross = build_cross_encoder(tmp_path / "cross")
    code = GUARD + textwrap.dedent(
        f"""
        from medembed_rag import MedEmbedEncoder
        from medembed_rag.index.store import MedEmbedChromaStore
        from medembed_rag.models.reranker import MedEmbedReranker
        from medembed_rag.models.llm import default_llm, answer_with_citations
        enc = MedEmbedEncoder({str(standin_path)!r}, precision="fp32")
        with MedEmbedChromaStore({str(tmp_path / "store")!r}, encoder=enc) as store:
            store.add_documents(["Warfarin needs regular INR blood tests.", "Metformin is taken with meals.",
                                 "Amoxicillin treats pneumonia."], ids=["w", "m", "a"])
            hits = store.hybrid().query("INR blood test for warfarin", k=3)
            ranked = MedEmbedReranker({str(cross)!r}, precision="fp32").rank("warfarin INR", [h.text for h in hits])
            llm = default_llm()
            assert llm is not None, "the local LLM did not load"
            reply = answer_with_citations(llm, "Why INR tests?", [hits[r.index].text for r in ranked[:2]])
            assert hits[0].doc_id == "w" and len(reply) > 5
            assert store.delete("w", purge=True) == 1 and store.count() == 2
        assert _attempts == [], _attempts
        print("PIPELINE OK")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(cache_dir), timeout=900)
    assert "PIPELINE OK" in out.stdout, out.stderr[-4000:]


def test_cli_with_network_blocked(tmp_path, cache_dir, standin_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "warfarin.txt").write_text("Warfarin needs regular INR blood tests.")
    (docs / "metformin.txt").write_text("Metformin is taken with meals.")
    (tmp_path / "guard.py").write_text(GUARD)
    runner = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import guard, runpy; runpy.run_module('medembed_rag.app.cli', run_name='__main__')"
    common = ["--store", str(tmp_path / "store"), "--model", str(standin_path), "--precision", "fp32", "--quiet"]
    for args in (["index", str(docs), *common], ["query", "INR test", "--hybrid", *common],
                 ["delete", "warfarin.txt", "--purge", *common]):
        out = subprocess.run([sys.executable, "-c", runner, *args], capture_output=True, text=True, env=_env(cache_dir),
                             timeout=600)
        assert out.returncode == 0, (args[0], out.stderr[-3000:])
        assert "network blocked" not in out.stderr
