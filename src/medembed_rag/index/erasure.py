"""Erasing deleted text from an embedded store's files: raw SQL on Chroma's SQLite database (through apsw).

Chroma keeps a deleted chunk's text in its write log (``embeddings_queue``: scrubbed here; the rows stay, their
sequence numbers must not be reused) and, like any SQLite file, in freed and reused pages it does not zero
(``VACUUM`` rewrites the file). Its full-text (trigram FTS5) index is set to ``secure-delete`` once, so a deleted
row's postings leave the index in place instead of at the next segment merge. The lexical index's own rows are
erased by :mod:`medembed_rag.index.lexical`. Used by :class:`~medembed_rag.index.collection.ChunkIndex` only,
under its write turn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import apsw

_MERGE_FULL_TEXT = "INSERT INTO embedding_fulltext_search (embedding_fulltext_search) VALUES ('optimize')"


@contextlib.contextmanager
def chroma_database(folder: Path) -> Iterator[apsw.Connection]:
    """An embedded store's SQLite file, on a connection that zeroes what it frees (``secure_delete``)."""
    con = apsw.Connection(str(Path(folder) / "chroma.sqlite3"))
    try:
        con.set_busy_timeout(60_000)
        con.execute("PRAGMA secure_delete = ON")
        yield con
    finally:
        con.close()


def _has_full_text(con: apsw.Connection) -> bool:
    """Whether Chroma's FTS5 trigram index exists in this database."""
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'embedding_fulltext_search'").fetchone() is not None


def set_fts_secure_delete(folder: Path) -> None:
    """Sets FTS5 ``secure-delete`` on Chroma's trigram index, once per store.

    Without it FTS5 keeps a deleted row's postings (trigrams of its text) in its segments until a merge,
    so erasing one document meant merging the whole index (seconds at 100,000 chunks). With it, Chroma's
    own SQLite (3.46 in chromadb 1.x; 3.42 needed) removes them in place as it deletes. Postings of rows
    deleted before are dropped by one merge here.
    """
    with chroma_database(folder) as con:
        if not _has_full_text(con):
            return
        if con.execute("SELECT 1 FROM embedding_fulltext_search_config WHERE k = 'secure-delete' AND v = 1"
                       ).fetchone():
            return
        with con:
            con.execute(_MERGE_FULL_TEXT)
            con.execute("INSERT INTO embedding_fulltext_search (embedding_fulltext_search, rank) "
                        "VALUES ('secure-delete', 1)")


def _log_topic(collection_id: str) -> str:
    """A LIKE pattern for one collection's entries in Chroma's write log."""
    return f"%/{collection_id}"


def _scrub_log(con: apsw.Connection, collection_id: str, chunk_ids: Sequence[str]) -> None:
    for w in range(0, len(chunk_ids), 500):
        part = list(chunk_ids[w : w + 500])
        con.execute(f"UPDATE embeddings_queue SET metadata = NULL, vector = zeroblob(length(vector)) "
                    f"WHERE topic LIKE ? AND id IN ({','.join('?' * len(part))})", [_log_topic(collection_id), *part])


def purge(folder: Path, collection_id: str, chunk_ids: Sequence[str]) -> None:
    """Scrubs deleted chunks' write-log entries and vacuums the database (their postings went at delete time)."""
    with chroma_database(folder) as con:
        with con:
            _scrub_log(con, collection_id, chunk_ids)
        con.execute("VACUUM")


def compact(folder: Path, collection_id: str, held: set[str]) -> None:
    """Scrubs the write-log entries of every chunk not ``held``, merges the full-text index and vacuums."""
    with chroma_database(folder) as con:
        logged = [row[0] for row in con.execute(
            "SELECT DISTINCT id FROM embeddings_queue WHERE topic LIKE ? AND metadata IS NOT NULL",
            (_log_topic(collection_id),))]
        with con:
            _scrub_log(con, collection_id, [cid for cid in logged if cid not in held])
            if _has_full_text(con):
                con.execute(_MERGE_FULL_TEXT)
        con.execute("VACUUM")
