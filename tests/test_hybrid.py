"""Hybrid retrieval: fusion maths, BM25 kept in step with Chroma, framework retrievers."""

import pytest

from medembed_rag import InvalidInputError
from medembed_rag.index.hybrid import fuse
from medembed_rag.index.store import MedEmbedChromaStore

from .sample_texts import PASSAGES, QUERIES

IDS = [f"p{i}" for i in range(len(PASSAGES))]


def test_weighted_fusion_normalises_and_weights():
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    lexical = [("c", 12.0), ("b", 6.0)]
    fused = dict(fuse(dense, lexical, weight=0.8))
    assert fused["a"] == pytest.approx(0.8)  # dense 1.0, lexical 0
    assert fused["b"] == pytest.approx(0.8 * 0.5 + 0.2 * 0.0)
    assert fused["c"] == pytest.approx(0.8 * 0.0 + 0.2 * 1.0)
    assert [k for k, _ in fuse(dense, lexical, weight=1.0)][:1] == ["a"]
    with pytest.raises(InvalidInputError):
        fuse(dense, lexical, weight=1.5)


def test_rrf_by_hand():
    fused = dict(fuse([("a", 1), ("b", 0.5)], [("b", 3), ("c", 1)], method="rrf"))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61) and fused["c"] == pytest.approx(1 / 62)


def test_bm25_stays_in_step_after_reingest_and_delete(tmp_path, encoder):
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        store.add_documents(PASSAGES, ids=IDS)
        hybrid = store.hybrid()
        assert hybrid.query("warfarin INR", 1)[0].doc_id == "p2"
        store.add_documents(["Heparin is given by injection; it needs APTT monitoring instead of INR."], ids=["p2"])
        texts = [h.text for h in hybrid.query("heparin injection", 3)]
        assert "Heparin" in texts[0] and not any("Warfarin" in t for t in texts)
        store.delete("p2")
        assert all(h.doc_id != "p2" for h in hybrid.query("heparin injection APTT", 5))
        assert {h.id for h in hybrid.query("anything at all", 10)} <= set(store.collection.get()["ids"])
    # a new process (here: a new store object) opens the persistent index, in step
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        assert store.index.lexical.ids() == set(store.collection.get()["ids"])
        assert all(h.doc_id != "p2" for h in store.hybrid().query("heparin injection APTT", 5))


def test_hybrid_finds_the_right_passage_and_framework_retrievers(tmp_path, encoder):
    from medembed_rag.integrations.langchain import MedEmbedHybridRetriever as LCHybrid
    from medembed_rag.integrations.llama_index import MedEmbedHybridRetriever as LIHybrid

    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        store.add_documents(PASSAGES, ids=IDS)
        lc = LCHybrid(hybrid=store.hybrid(), k=2)
        li = LIHybrid(store.hybrid(), similarity_top_k=2)
        for question, target in QUERIES:
            assert lc.invoke(question)[0].metadata["doc_id"] == IDS[target]
            assert li.retrieve(question)[0].node.metadata["doc_id"] == IDS[target]
        assert store.hybrid(method="rrf").query(QUERIES[0][0], 1)[0].doc_id == "p0"


def test_an_index_written_with_porter_stemming_is_rebuilt_unstemmed(tmp_path, encoder):
    """Indexes of the releases that stemmed (no ``tokenizer`` row) are rebuilt from Chroma on open."""
    import apsw

    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        store.add_documents(PASSAGES, ids=IDS)
        path, ids = store.index.lexical.path, set(store.collection.get()["ids"])
    con = apsw.Connection(str(path))
    con.execute("DROP TABLE fts")
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(body, tokenize = 'porter unicode61 remove_diacritics 2')")
    con.execute("INSERT INTO fts (rowid, body) SELECT rowid, 'stale treated treating' FROM chunks")
    con.execute("DELETE FROM meta WHERE key = 'tokenizer'")
    con.close()
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        lexical = store.index.lexical
        sql = lexical._con.execute("SELECT sql FROM sqlite_master WHERE name = 'fts'").fetchone()[0]
        assert "porter" not in sql
        assert lexical.ids() == ids
        assert lexical.search("stale", 5) == []  # the old postings are gone
        assert store.lexical_search("warfarin INR", 1)[0][0].startswith("p2::")
        # unstemmed: "treats" no longer matches "treated" (Porter made them one term)
        assert not any(cid.startswith("p1::") for cid, _ in lexical.search("treats", 10))


def test_a_lock_sqlite_does_not_wait_for_is_retried_then_named(tmp_path, monkeypatch):
    """Two writers opening a new lexical index at once: switching it to WAL can return "database is locked"
    without waiting (a full run saw it); the open retries, and a lock that never clears names the file."""
    import apsw

    from medembed_rag import StoreLockedError
    from medembed_rag.index import lexical

    calls = []

    def busy_twice():
        calls.append(1)
        if len(calls) < 3:
            raise apsw.BusyError("database is locked")
        return "wal"

    assert lexical.when_free(tmp_path / "lexical.sqlite", "setting journal_mode=WAL", busy_twice) == "wal"
    assert len(calls) == 3
    monkeypatch.setattr(lexical, "BUSY_TIMEOUT_S", 0.05)

    def always_busy():
        raise apsw.BusyError("database is locked")

    with pytest.raises(StoreLockedError, match="lexical.sqlite.*another process"):
        lexical.when_free(tmp_path / "lexical.sqlite", "setting journal_mode=WAL", always_busy)
    index = lexical.LexicalIndex(tmp_path / "idx" / "lexical.sqlite", owner="c1")  # opens as before
    assert index._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    index.close()


def test_many_processes_opening_a_new_lexical_index_at_once_all_succeed(tmp_path):
    """The race itself: before the retry, about one round in three of six simultaneous opens lost a process
    to "database is locked"."""
    import subprocess
    import sys
    import time

    code = ("import sys, time, pathlib\nfrom medembed_rag.index.lexical import LexicalIndex\n"
            "start = float(sys.argv[1])\nwhile time.time() < start: pass\n"
            "LexicalIndex(pathlib.Path(sys.argv[2]), owner='c1').close()\nprint('ok')\n")
    for round_ in range(4):
        path = tmp_path / f"round{round_}" / "lexical.sqlite"
        start = time.time() + 3
        procs = [subprocess.Popen([sys.executable, "-c", code, str(start), str(path)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        results = [p.communicate(timeout=120) for p in procs]
        assert all(out.strip() == "ok" for out, _ in results), [err[-300:] for _, err in results if err]
