"""Patient-data safety: erasure reaches the bytes on disk; logs never carry document or query words."""

import logging
import re

import pytest

from medembed_rag import StoreError
from medembed_rag.index.store import MedEmbedChromaStore

MARKER = "zqxjmarker7731"  # one token, so it would also show in the BM25 vocabulary
# Written for this test: unusual words, so many of its trigrams occur nowhere else in the store.
SECRET = (
    "Patient QWJZKMARKERVXYQ, born in Vexborough, was admitted with xylophagous wheezing and "
    f"discharged on bumblezafenib 12 mg plus {MARKER}."
)
OTHERS = ["Metformin is taken with meals.", "Warfarin needs INR tests."]


HEX = re.compile(r"[0-9a-f]{3}")
# Random per store (collection, segment ids): cut out, or their first and last characters make trigrams with
# the bytes beside them ("owner" + "7d46..." spells "er7") that no control store can predict.
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _files_with(folder, needle: bytes):
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _trigrams(text: str) -> set[str]:
    text = text.lower()
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _folder_bytes(folder) -> bytes:
    """The bytes of every file but HNSW's binary vector files (random float bytes match short trigrams by chance),
    UUIDs cut out."""
    return b"\n".join(UUID.sub(b"\n", p.read_bytes().lower()) for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.suffix != ".bin")


def _fill(folder, encoder, docs, ids):
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents(docs, ids=ids)
        store.hybrid().query("wheezing", 1)


def test_purge_leaves_no_trigram_of_the_erased_text(tmp_path, encoder):
    """Chroma's FTS5 trigram index keeps a deleted row's postings in its segments; a purge must not.

    The trigrams checked are those of the erased text that occur in no other stored text and nowhere in the
    bytes of a control store built the same way without it (SQLite's schema, ids and vectors contain trigrams
    of their own). FTS5 stores terms prefix-compressed, so not every trigram shows as 3 plain bytes; each one
    that does must be gone.
    """
    control = tmp_path / "control"
    _fill(control, encoder, OTHERS, ["m", "w"])
    background = _folder_bytes(control)
    checked = {t for t in _trigrams(SECRET) - set().union(*map(_trigrams, OTHERS))
               if t.encode() not in background and not HEX.fullmatch(t)}  # random UUIDs hold hex trigrams
    assert len(checked) > 60

    folder = tmp_path / "store"
    _fill(folder, encoder, [SECRET, *OTHERS], ["secret", "m", "w"])
    before = _folder_bytes(folder)
    assert {"jzk", "zkm", "vxy"} <= {t for t in checked if t.encode() in before}  # visible before the purge
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        assert store.delete("secret", purge=True) == 1
    after = _folder_bytes(folder)
    assert sorted(t for t in checked if t.encode() in after) == []


def test_purge_erases_text_from_disk_and_the_store_keeps_working(tmp_path, encoder):
    folder = tmp_path / "store"
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents([SECRET, *OTHERS], ids=["secret", "m", "w"])
        assert store.hybrid().query(MARKER, 1)[0].doc_id == "secret"
        assert _files_with(folder, MARKER.encode())  # the marker is on disk before the purge
        assert store.delete("secret", purge=True) == 1
        assert _files_with(folder, MARKER.encode()) == []
        assert store.collection.get(where={"doc_id": "secret"})["ids"] == []
        assert all(h.doc_id != "secret" for h in store.query(f"{MARKER} asthma", k=3))
        assert all(h.doc_id != "secret" for h in store.hybrid().query(MARKER, 3))
        assert store.hybrid().query("INR", 1)[0].doc_id == "w"  # the indexes still find the rest
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
        with pytest.raises(StoreError, match="server host"):
            store.compact()
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


def test_both_full_text_indexes_drop_postings_in_place(tmp_path, encoder):
    """FTS5 secure-delete on Chroma's trigram index and the lexical index: a purge needs no whole-index merge."""
    import apsw

    folder = tmp_path / "store"
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents(OTHERS, ids=["m", "w"])
    for database, table in [(folder / "chroma.sqlite3", "embedding_fulltext_search"),
                            (folder / "medembed-lexical" / "medembed.sqlite3", "fts")]:
        con = apsw.Connection(str(database))
        assert con.execute(f"SELECT v FROM {table}_config WHERE k = 'secure-delete'").fetchone() == (1,), database
        con.close()


def test_compact_erases_text_deleted_behind_the_stores_back(tmp_path, encoder):
    """A chunk deleted through Chroma directly (as a server client or another tool would) is not purged;
    compact() erases it, and brings the lexical index in step."""
    folder = tmp_path / "store"
    _fill(folder, encoder, [SECRET, *OTHERS], ["secret", "m", "w"])
    with MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.collection.delete(where={"doc_id": "secret"})
        assert _files_with(folder, MARKER.encode())  # deleted, but its text is still on disk
        store.compact()
        assert _files_with(folder, MARKER.encode()) == []
        assert all(h.doc_id != "secret" for h in store.hybrid().query(MARKER, 3))
        assert store.index.lexical.count() == 2
        assert store.hybrid().query("INR", 1)[0].doc_id == "w"
