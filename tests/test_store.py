"""The Chroma store: framework views, model safety, idempotent and crash-safe ingest, processes, server mode."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from medembed_rag import MedEmbedEncoder, ModelMismatchError, StoreUnavailableError
from medembed_rag.errors import DocumentNotFoundError, InvalidInputError, InvalidInputTypeError
from medembed_rag.index.store import MedEmbedChromaStore
from medembed_rag.integrations.langchain import MedEmbedLangChainVectorStore
from medembed_rag.integrations.llama_index import vector_store_index

from .chroma_server import ChromaServer
from .sample_texts import PASSAGES, QUERIES

IDS = [f"p{i}" for i in range(len(PASSAGES))]


def generated_docs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    drugs = ["metformin", "warfarin", "amoxicillin", "salbutamol", "atorvastatin", "lisinopril", "insulin"]
    problems = ["diabetes", "pneumonia", "atrial fibrillation", "asthma", "hypertension", "heart failure"]
    docs = []
    for i in range(n):
        d, p = rng.choice(drugs), rng.choice(problems)
        docs.append(
            f"Case {i}: a patient with {p} was treated with {d}. "
            f"Follow-up visit {int(rng.integers(1, 12))} weeks later showed improvement. "
            f"Note {i} mentions dose {int(rng.integers(1, 100))} mg."
        )
    return docs


@pytest.fixture
def store(tmp_path, encoder):
    with MedEmbedChromaStore(tmp_path / "store", encoder=encoder) as s:
        yield s


class TestLangChainViewStandard(VectorStoreIntegrationTests):
    """The LangChain view over a fresh collection passes LangChain's own vector-store suite."""

    @pytest.fixture
    def vectorstore(self, tmp_path, encoder):
        with MedEmbedChromaStore(tmp_path / "lc", encoder=encoder) as s:
            yield MedEmbedLangChainVectorStore.from_store(s)

    @property
    def has_async(self) -> bool:
        return True


def test_stock_llama_index_and_langchain_find_the_right_passage(store):
    store.add_documents(PASSAGES, ids=IDS)
    engine_index = vector_store_index(store)
    retriever = MedEmbedLangChainVectorStore.from_store(store).as_retriever(search_kwargs={"k": 1})
    li_retriever = engine_index.as_retriever(similarity_top_k=1)
    for question, target in QUERIES:
        assert retriever.invoke(question)[0].id == IDS[target]
        assert li_retriever.retrieve(question)[0].node.metadata["doc_id"] == IDS[target]
    from llama_index.core.llms.mock import MockLLM

    response = engine_index.as_query_engine(llm=MockLLM(max_tokens=4), similarity_top_k=1).query(QUERIES[2][0])
    assert response.source_nodes[0].node.text == PASSAGES[2]


def test_query_returns_true_cosine_similarity(store, encoder):
    store.add_documents(PASSAGES, ids=IDS)
    hits = store.query(QUERIES[0][0], k=3)
    q = encoder.encode_queries([QUERIES[0][0]])[0]
    d = encoder.encode_documents([hits[0].text])[0]
    assert hits[0].doc_id == "p0" and hits[0].score == pytest.approx(float(q @ d), abs=1e-4)
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert [h.doc_id for h in store.query(QUERIES[0][0], k=3, where={"doc_id": "p3"})] == ["p3"]
    docs = store.query_documents(QUERIES[4][0], k=2)
    assert docs[0].doc_id == "p4" and docs[0].chunks[0].payload.text == PASSAGES[4]
    assert store.query("anything", k=50)  # k larger than the collection


def test_long_document_is_chunked_with_sections(store):
    note = "HISTORY:\n" + "Cough and fever for three days. " * 60 + "\n\nMEDICATIONS:\nMetformin 500 mg b.i.d."
    report = store.add_documents([note], ids=["note"], metadatas=[{"ward": "resp"}])
    assert report.chunks_added > 1 and store.count() == report.chunks_added
    hit = store.query("metformin dose", k=1)[0]
    assert hit.metadata["section"] == "MEDICATIONS" and hit.metadata["ward"] == "resp"
    assert note[hit.metadata["start"] : hit.metadata["end"]] == hit.text


def test_later_chunks_are_embedded_with_their_section_heading(store, encoder):
    note = "HISTORY:\n" + "Cough and fever for three days. " * 60 + "\n\nMEDICATIONS:\nMetformin 500 mg b.i.d."
    store.add_documents([note], ids=["note"])
    got = store.collection.get(include=["documents", "embeddings", "metadatas"])
    later = [i for i, m in enumerate(got["metadatas"]) if m["section"] == "HISTORY" and m["chunk_index"] > 0]
    assert later
    for i in later:
        text = got["documents"][i]
        assert not text.startswith("HISTORY")  # the stored text stays exactly the document's
        want = encoder.encode_documents(["HISTORY:\n" + text])[0]
        assert float(np.dot(got["embeddings"][i], want)) > 0.9999
        assert float(np.dot(got["embeddings"][i], encoder.encode_documents([text])[0])) < 0.9999


@pytest.mark.parametrize("field", ["dim", "pooling", "model_id"])
def test_model_mismatch_is_refused_with_both_names_and_the_ways_out(tmp_path, encoder, field):
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as s:
        s.add_documents(PASSAGES[:2], ids=IDS[:2])
        meta = dict(s.collection.metadata)
        meta["medembed:" + field] = {"dim": 768, "pooling": "cls", "model_id": "abhinand/MedEmbed-base-v0.1"}[field]
        s.collection.modify(metadata=meta)
    with pytest.raises(ModelMismatchError) as info:
        MedEmbedChromaStore(tmp_path / "s", encoder=encoder)
    message = str(info.value)
    assert field in message and "re-index into a new collection" in message and "open it with the recorded model" in message


def test_other_real_model_is_refused(tmp_path, encoder, medembed_shaped_path, cache_dir):
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as s:
        s.add_documents(PASSAGES[:2], ids=IDS[:2])
    other = MedEmbedEncoder(medembed_shaped_path, cache_dir=cache_dir)
    with pytest.raises(ModelMismatchError, match="dim=768") as info:
        MedEmbedChromaStore(tmp_path / "s", encoder=other)
    assert "dim=384" in str(info.value) and "pooling='cls'" in str(info.value)
    # auto and fp32 share a precision family: opening with auto is allowed
    MedEmbedChromaStore(tmp_path / "s", encoder=MedEmbedEncoder(encoder.model_id, precision="auto", cache_dir=cache_dir)).close()


class CountingEncoder(MedEmbedEncoder):
    embedded = 0

    def encode_documents(self, texts):
        texts = list(texts)
        CountingEncoder.embedded += len(texts)
        return super().encode_documents(texts)


def test_reingest_embeds_nothing_and_edits_replace_only_their_chunks(tmp_path, standin_path, cache_dir):
    enc = CountingEncoder(standin_path, precision="fp32", cache_dir=cache_dir)
    docs = generated_docs(40) + ["HISTORY:\n" + "Long history sentence about asthma. " * 80]
    ids = [f"d{i}" for i in range(len(docs))]
    with MedEmbedChromaStore(tmp_path / "s", encoder=enc) as s:
        first = s.add_documents(docs, ids=ids)
        total = s.count()
        CountingEncoder.embedded = 0
        again = s.add_documents(docs, ids=ids)
        assert CountingEncoder.embedded == 0 and again.chunks_added == 0 and s.count() == total
        assert again.chunks_unchanged == first.chunks_added
        edited = docs[:]
        edited[-1] = "HISTORY:\n" + "Long history sentence about asthma. " * 40 + "A new sentence about warfarin."
        CountingEncoder.embedded = 0
        report = s.add_documents(edited, ids=ids)
        new_chunks = s.collection.get(where={"doc_id": ids[-1]}, include=["documents"])
        assert CountingEncoder.embedded == report.chunks_added == len(new_chunks["ids"])
        assert report.chunks_removed >= 1
        assert "".join(new_chunks["documents"]).count("warfarin") == 1
        assert s.count() == total - report.chunks_removed + report.chunks_added
        # metadata change only: updated in place, nothing embedded
        CountingEncoder.embedded = 0
        report = s.add_documents(edited[:1], ids=ids[:1], metadatas=[{"reviewed": True}])
        assert CountingEncoder.embedded == 0 and report.metadata_updated == 1
        assert s.collection.get(ids=s.collection.get(where={"doc_id": "d0"})["ids"])["metadatas"][0]["reviewed"] is True


def test_bad_metadata_and_ids_are_refused_before_any_write(store):
    with pytest.raises(InvalidInputTypeError, match="document 1"):
        store.add_documents(PASSAGES[:2], ids=IDS[:2], metadatas=[{"ok": 1}, {"bad": object()}])
    with pytest.raises(InvalidInputError, match="unique"):
        store.add_documents(PASSAGES[:2], ids=["same", "same"])
    with pytest.raises(InvalidInputError, match="index 1"):
        store.add_documents(PASSAGES[:2], ids=["a", ""])
    with pytest.raises(InvalidInputError, match="index 0 is empty"):
        store.add_documents(["  "])
    assert store.count() == 0
    with pytest.raises(InvalidInputError, match="exactly one"):
        store.delete()


def test_delete_by_document_and_where(store):
    store.add_documents(PASSAGES, ids=IDS, metadatas=[{"group": i % 2} for i in range(len(PASSAGES))])
    assert store.delete("p0") == 1 and store.count() == len(PASSAGES) - 1
    assert store.delete(where={"group": 1}) == 3
    assert {h.doc_id for h in store.query("anything", k=10)} == {"p2", "p4"}
    assert store.delete(where={"group": 1}) == 0  # a filter that matches nothing is not an error


@pytest.mark.parametrize("purge", [False, True])
def test_deleting_an_unknown_id_is_refused_and_deletes_nothing(store, purge):
    store.add_documents(PASSAGES[:3], ids=IDS[:3])
    with pytest.raises(DocumentNotFoundError, match=r"1 of 2 .*'not-there'.*Nothing was deleted.*look like 'p") as caught:
        store.delete(["p1", "not-there"], purge=purge)
    assert caught.value.missing == ["not-there"] and set(caught.value.examples) <= set(IDS[:3])
    assert store.count() == 3 and store.query(PASSAGES[1], k=1)[0].doc_id == "p1"  # p1 was not deleted either


def test_telemetry_is_off(store):
    assert store.client.get_settings().anonymized_telemetry is False


def _ingest_script(model: str, cache: str, n: int, body: str) -> str:
    """A script that builds ``n`` generated documents and an encoder, then runs ``body``."""
    head = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {os.path.dirname(os.path.dirname(__file__))!r})
        from tests.test_store import generated_docs
        from medembed_rag import MedEmbedEncoder
        from medembed_rag.index.store import MedEmbedChromaStore
        docs = generated_docs({n})
        enc = MedEmbedEncoder({model!r}, precision="fp32", cache_dir={cache!r})
        """
    )
    return head + textwrap.dedent(body)


def test_sigkill_mid_ingest_then_rerun_equals_clean_ingest(tmp_path, encoder, standin_path, cache_dir):
    n = 1500
    code = _ingest_script(str(standin_path), str(cache_dir), n, f"""
        with MedEmbedChromaStore({str(tmp_path / "crash")!r}, encoder=enc) as s:
            for start in range(0, {n}, 100):
                print("round", start, flush=True)
                s.add_documents(docs[start:start + 100], ids=[f"g{{i}}" for i in range(start, start + 100)])
        """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("round 500"):
            break
    time.sleep(0.4)  # somewhere inside the next round's embedding or write
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    docs = generated_docs(n)
    ids = [f"g{i}" for i in range(n)]
    with MedEmbedChromaStore(tmp_path / "crash", encoder=encoder, lock_timeout=10) as s:
        partial = s.count()
        assert 0 < partial < n
        s.add_documents(docs, ids=ids)
        crashed = s.collection.get(include=["documents", "metadatas", "embeddings"])
    with MedEmbedChromaStore(tmp_path / "clean", encoder=encoder) as s:
        s.add_documents(docs, ids=ids)
        clean = s.collection.get(include=["documents", "metadatas", "embeddings"])
    assert len(crashed["ids"]) == len(set(crashed["ids"])) == len(clean["ids"]) == n
    by_id = lambda got: {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}  # noqa: E731
    assert by_id(crashed) == by_id(clean)
    assert all(e is not None and len(e) == 384 for e in crashed["embeddings"])


def test_second_process_is_refused_or_waits(tmp_path, encoder, standin_path, cache_dir):
    folder = tmp_path / "shared"
    code = _ingest_script(str(standin_path), str(cache_dir), 300, f"""
        import sys
        from medembed_rag import StoreLockedError
        part, timeout = int(sys.argv[1]), float(sys.argv[2])
        try:
            with MedEmbedChromaStore({str(folder)!r}, encoder=enc, lock_timeout=timeout) as s:
                print("opened", flush=True)
                s.add_documents(docs[part * 150:(part + 1) * 150], ids=[f"x{{i}}" for i in range(part * 150, (part + 1) * 150)])
                if part == 0:
                    sys.stdin.readline()  # hold the store open until the test says so
            print("done")
        except StoreLockedError as exc:
            print("refused", "chroma run" in str(exc))
        """)
    first = subprocess.Popen([sys.executable, "-c", code, "0", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "opened"
    refused = subprocess.run([sys.executable, "-c", code, "1", "0"], capture_output=True, text=True, timeout=300)
    assert "refused True" in refused.stdout, refused.stderr[-2000:]
    waiting = subprocess.Popen([sys.executable, "-c", code, "1", "300"], stdout=subprocess.PIPE, text=True)
    time.sleep(3)
    assert first.communicate("go\n", timeout=300)[0].strip().endswith("done")
    assert waiting.communicate(timeout=300)[0].strip().endswith("done")
    with MedEmbedChromaStore(folder, encoder=encoder) as s:
        got = s.collection.get(include=["embeddings"])
        assert len(got["ids"]) == 300
        for cid, emb in zip(got["ids"][::37], got["embeddings"][::37]):
            found = s.collection.query(query_embeddings=[emb], n_results=1)["ids"][0][0]
            assert found == cid


def test_server_mode_two_writers_and_a_dead_server(tmp_path, encoder, standin_path, cache_dir):
    server = ChromaServer(tmp_path / "server").start()
    try:
        code = _ingest_script(str(standin_path), str(cache_dir), 200, f"""
            part = int(sys.argv[1])
            s = MedEmbedChromaStore(host="127.0.0.1", port={server.port}, encoder=enc, collection="shared")
            s.add_documents(docs[part * 100:(part + 1) * 100], ids=[f"s{{i}}" for i in range(part * 100, (part + 1) * 100)])
            print("done")
            """)
        procs = [subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, text=True) for p in (0, 1)]
        assert all(p.communicate(timeout=300)[0].strip().endswith("done") for p in procs)
        s = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder, collection="shared")
        assert s.count() == 200
        assert s.query("pneumonia treated", k=1)
        server.stop()
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{server.port}"):
            s.query("pneumonia treated", k=1)
    finally:
        server.stop()
    with pytest.raises(StoreUnavailableError, match=f"http://127.0.0.1:{server.port}"):
        MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
