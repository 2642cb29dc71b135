"""Patient-data safety: erasure reaches the bytes on disk; logs never carry document or query words."""

import logging

import pytest

from medembed_rag import StoreError
from medembed_rag.store import MedEmbedChromaStore

MARKER = "zqxjmarker7731"  # one token, so it would also show in the BM25 vocabulary


def _files_with(folder, needle: bytes):
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_purge_erases_text_from_disk_and_the_store_keeps_working(tmp_path, encoder):
    folder = tmp_path / "store"
    secret = f"Patient {MARKER} was admitted with asthma and discharged on salbutamol."
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents([secret, "Metformin is taken with meals.", "Warfarin needs INR tests."],
                            ids=["secret", "m", "w"])
        assert store.hybrid().query(MARKER, 1)[0].doc_id == "secret"  # builds and saves the BM25 index
        assert _files_with(folder, MARKER.encode())  # the marker is on disk before the purge
        assert store.delete("secret", purge=True) == 1
        assert _files_with(folder, MARKER.encode()) == []
        assert store.collection.get(where={"doc_id": "secret"})["ids"] == []
        assert all(h.doc_id != "secret" for h in store.query(f"{MARKER} asthma", k=3))
        assert all(h.doc_id != "secret" for h in store.hybrid().query(MARKER, 3))
    with MedEmbedChromaStore(folder, encoder=encoder) as store:  # reopened: consistent, and still writable
        assert store.count() == 2
        store.add_documents(["Amoxicillin treats pneumonia."], ids=["a"])
        assert store.count() == 3 and store.query("pneumonia antibiotic", 1)[0].doc_id == "a"
    assert _files_with(folder, MARKER.encode()) == []


def test_purge_in_server_mode_says_where_to_run_it(encoder, tmp_path):
    from .chroma_server import ChromaServer

    server = ChromaServer(tmp_path / "server").start()
    try:
        store = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
        store.add_documents(["Some note."], ids=["n"])
        with pytest.raises(StoreError, match="--purge --store"):
            store.delete("n", purge=True)
        assert store.count() == 1  # nothing deleted by the refused call
    finally:
        server.stop()


def test_no_document_or_query_words_in_logs_at_debug(tmp_path, encoder, caplog):
    words = ["xylophonitis", "quokkamab", "brindlecough"]
    document = f"The patient with {words[0]} received {words[1]} for {words[2]}."
    caplog.set_level(logging.DEBUG)
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        store.add_documents([document, "Unrelated text about metformin."], ids=["d1", "d2"], metadatas=[{"ward": "w1"}, {}])
        store.query(f"what is {words[0]}?", k=1)
        store.hybrid().query(f"{words[1]} dose", k=1)
        store.query_documents(words[2], k=1)
        store.delete("d1", purge=True)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # the pipeline does log (ids, counts), just never content
    for word in words:
        assert word not in text
