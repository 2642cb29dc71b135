"""One write path: every way in (store, LangChain, LlamaIndex, Spark) keeps records, fingerprint and lexical index.

The lexical index must hold exactly Chroma's chunk ids after any write, crash or concurrent writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from medembed_rag.index.store import MedEmbedChromaStore
from medembed_rag.integrations.langchain import MedEmbedLangChainVectorStore
from medembed_rag.integrations.llama_index import MedEmbedLlamaIndexVectorStore

from .chroma_server import ChromaServer
from .sample_texts import PASSAGES, QUERIES

IDS = [f"p{i}" for i in range(len(PASSAGES))]
LONG = ("HISTORY:\n" + "Chronic kidney disease stage 3 with stable eGFR and controlled blood pressure. " * 45
        + "\n\nPLAN:\nRepeat potassium and creatinine in 2 weeks; zolvarin dose unchanged.")


def _in_step(store) -> None:
    """The lexical index holds exactly Chroma's chunks and has no unfinished journal."""
    assert store.index.lexical.ids() == set(store.collection.get(include=[])["ids"])
    assert store.index.lexical.pending() == []


def _snapshot(store) -> dict:
    got = store.collection.get(include=["documents", "metadatas"])
    return {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}


# ---------------------------------------------------------------------- LangChain's standard suite
try:
    from langchain_tests.integration_tests import VectorStoreIntegrationTests
except ImportError:  # pragma: no cover - the [test] extra installs it
    VectorStoreIntegrationTests = object


class TestLangChainVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path, encoder):
        with MedEmbedChromaStore(tmp_path / "lc-suite", encoder=encoder) as store:
            yield MedEmbedLangChainVectorStore.from_store(store)


# ---------------------------------------------------------------------- each face writes what add_documents writes
def test_langchain_face_writes_the_store_records_and_hybrid_and_delete_behave_the_same(tmp_path, encoder):
    from langchain_core.documents import Document

    docs = [*PASSAGES, LONG]
    ids = [*IDS, "long"]
    metas = [{"source": f"s{i}"} for i in range(len(docs))]
    with MedEmbedChromaStore(tmp_path / "a", encoder=encoder) as direct, \
            MedEmbedChromaStore(tmp_path / "b", encoder=encoder) as via_face:
        direct.add_documents(docs, ids=ids, metadatas=metas)
        face = MedEmbedLangChainVectorStore.from_store(via_face)
        assert face.add_documents([Document(page_content=t, metadata=m, id=i) for t, m, i in zip(docs, metas, ids)]) == ids
        assert _snapshot(via_face) == _snapshot(direct)  # same ids, text, metadata (headings, offsets, doc ids)
        assert len([c for c in _snapshot(direct) if c.startswith("long::")]) > 1
        for store in (direct, via_face):
            _in_step(store)
            for question, target in QUERIES:
                assert store.hybrid().query(question, 1)[0].doc_id == IDS[target]
            assert store.hybrid().query("zolvarin potassium creatinine", 1)[0].doc_id == "long"
        split = face.similarity_search("zolvarin dose", k=1)[0]
        assert split.id == "long" and split.metadata["source"] == f"s{len(PASSAGES)}" and split.metadata["chunk_count"] > 1
        assert LONG[split.metadata["start"] : split.metadata["end"]] == split.page_content
        direct.delete(["long", "p2"])
        face.delete(["long", "p2", "never-added"])  # LangChain: unknown ids are ignored
        assert _snapshot(via_face) == _snapshot(direct)
        for store in (direct, via_face):
            _in_step(store)
            assert all(h.doc_id not in ("long", "p2") for h in store.hybrid().query("zolvarin warfarin INR", 10))


def test_llama_index_face_writes_through_the_store(tmp_path, encoder):
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    from medembed_rag.integrations.llama_index import MedEmbedEmbedding, MedicalNodeParser

    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        documents = [Document(text=t, id_=i, metadata={"source": i}) for t, i in zip([*PASSAGES, LONG], [*IDS, "long"])]
        index = VectorStoreIndex.from_documents(
            documents, storage_context=_storage(store), embed_model=MedEmbedEmbedding(encoder=encoder),
            transformations=[MedicalNodeParser(encoder=encoder)],
        )
        _in_step(store)
        assert store.count() > len(documents)
        held = store.collection.get(where={"doc_id": "long"}, include=["metadatas"])["metadatas"]
        assert any(m.get("heading") for m in held) and all("start" in m for m in held)  # offsets, headings kept
        retriever = index.as_retriever(similarity_top_k=1)
        for question, target in QUERIES:
            assert retriever.retrieve(question)[0].node.ref_doc_id == IDS[target]
            assert store.hybrid().query(question, 1)[0].doc_id == IDS[target]
        face = MedEmbedLlamaIndexVectorStore.from_store(store)
        hybrid = face.query(VectorStoreQuery(query_str="zolvarin potassium", similarity_top_k=1, mode=VectorStoreQueryMode.HYBRID))
        assert hybrid.nodes[0].ref_doc_id == "long"
        index.delete_ref_doc("long")
        _in_step(store)
        assert store.collection.get(where={"doc_id": "long"})["ids"] == []
        assert all(h.doc_id != "long" for h in store.hybrid().query("zolvarin potassium creatinine", 10))


def _storage(store):
    from llama_index.core import StorageContext

    return StorageContext.from_defaults(vector_store=MedEmbedLlamaIndexVectorStore.from_store(store))


def test_llama_index_vectors_of_another_model_are_never_written(tmp_path, encoder):
    from llama_index.core.schema import TextNode

    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        node = TextNode(id_="n1", text=PASSAGES[2], embedding=[0.5] * 7)  # e.g. from another embed model
        MedEmbedLlamaIndexVectorStore.from_store(store).add([node])
        got = store.collection.get(ids=["n1"], include=["embeddings"])["embeddings"][0]
        assert abs(float(got @ encoder.encode_documents([PASSAGES[2]])[0]) - 1.0) < 1e-4


# ---------------------------------------------------------------------- consistency after every kind of write
def test_lexical_index_in_step_after_add_reingest_delete_purge(tmp_path, encoder):
    folder = tmp_path / "s"
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents(PASSAGES, ids=IDS)
        _in_step(store)
        store.add_documents(["Heparin is given by injection and monitored with APTT."], ids=["p2"])  # re-ingest
        _in_step(store)
        assert store.hybrid().query("heparin APTT", 1)[0].doc_id == "p2"
        store.delete("p1")
        _in_step(store)
        store.delete("p2", purge=True)
        _in_step(store)
        assert store.index.lexical.search("heparin APTT", 5) == []
    with MedEmbedChromaStore(folder, encoder=encoder) as store:  # reopened: still in step, nothing rebuilt
        _in_step(store)


_KILL_BETWEEN_WRITES = textwrap.dedent("""
    import os, signal, sys
    from medembed_rag import MedEmbedEncoder
    from medembed_rag.index.lexical import LexicalIndex
    from medembed_rag.index.store import MedEmbedChromaStore

    store = MedEmbedChromaStore(sys.argv[1], encoder=MedEmbedEncoder(sys.argv[2], precision="fp32"))
    store.add_documents(["Warfarin needs INR checks."], ids=["w"])
    original = LexicalIndex.apply
    def die(self, *args, **kwargs):  # Chroma is written; the lexical index is not yet
        os.kill(os.getpid(), signal.SIGKILL)
    LexicalIndex.apply = die
    store.add_documents(["Quorvastin is taken at night; check liver enzymes."], ids=["q"])  # re-ingest would be same
""")


def test_kill_between_the_two_writes_is_reconciled_on_open(tmp_path, encoder, standin_path):
    folder = tmp_path / "s"
    proc = subprocess.run([sys.executable, "-c", _KILL_BETWEEN_WRITES, str(folder), str(standin_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    import sqlite3

    con = sqlite3.connect(str(folder / "medembed-lexical" / "medembed.sqlite3"))
    assert con.execute("SELECT count(*) FROM pending").fetchone()[0] > 0  # the journal survived the kill
    con.close()
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        assert store.count() == 2
        _in_step(store)
        assert store.hybrid().query("quorvastin liver", 1)[0].doc_id == "q"


# ---------------------------------------------------------------------- concurrency
def test_two_concurrent_ingests_of_one_document_leave_exactly_its_chunks(tmp_path, encoder):
    from medembed_rag.index.records import chunk_ids

    versions = [LONG.replace("2 weeks", f"{n} weeks").replace("stage 3", f"stage {n}") for n in (2, 3, 4)]
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        wanted = [set(chunk_ids("d", store.chunker.split(v))) for v in versions]
        assert len({frozenset(w) for w in wanted}) == len(versions)
        for _ in range(3):  # each round: version 0 stored, then versions 1 and 2 ingested at the same moment
            store.add_documents([versions[0]], ids=["d"])
            errors, start = [], threading.Barrier(2)

            def ingest(text):
                try:
                    start.wait()
                    store.add_documents([text], ids=["d"])
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=ingest, args=(v,)) for v in versions[1:]]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            held = set(store.collection.get(where={"doc_id": "d"})["ids"])
            assert held in wanted[1:]  # one version's chunks, nothing of the other
            _in_step(store)


_SERVER_CLIENT = textwrap.dedent("""
    import json, sys
    from medembed_rag import MedEmbedEncoder
    from medembed_rag.index.store import MedEmbedChromaStore

    port, model, doc_id, text, query = sys.argv[1:6]
    store = MedEmbedChromaStore(host="127.0.0.1", port=int(port), encoder=MedEmbedEncoder(model, precision="fp32"))
    store.add_documents([text], ids=[doc_id])
    print(json.dumps([h.doc_id for h in store.hybrid().query(query, 3)]))
""")


def test_processes_on_a_server_store_see_each_others_writes_in_hybrid_results(tmp_path, encoder, standin_path):
    server = ChromaServer(tmp_path / "server").start()
    try:
        here = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
        here.add_documents(["Zembrafil is a rare anticoagulant reversed with protamine."], ids=["here"])
        out = subprocess.run(
            [sys.executable, "-c", _SERVER_CLIENT, str(server.port), str(standin_path), "there",
             "Klorbitane tablets treat night cramps.", "zembrafil protamine"],
            capture_output=True, text=True, timeout=300, env=os.environ.copy(),
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout.strip().splitlines()[-1])[0] == "here"  # the other process sees our write
        assert here.index.lexical.search("klorbitane cramps", 1)[0][0].startswith("there::")  # and we see its
        assert here.hybrid().query("klorbitane night cramps", 1)[0].doc_id == "there"
        # A process on another host keeps its own lexical index: it catches up by chunk id from the revision.
        elsewhere = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder,
                                        lexical_path=tmp_path / "other-host")
        _in_step(elsewhere)
        here.add_documents(["Plenvomycin treats otitis externa."], ids=["later"])
        assert elsewhere.hybrid().query("plenvomycin otitis", 1)[0].doc_id == "later"
        _in_step(elsewhere)
    finally:
        server.stop()
