"""A persistent, incremental lexical (BM25) index of a collection's chunks: SQLite FTS5.

Why SQLite FTS5: it is incremental (a write touches only the rows it changes), its ``bm25()`` ranking is
the Okapi BM25 every lexical baseline uses, it is transactional (a crash leaves the last committed state),
and several processes may read and write one file (WAL mode; writers take turns). Tantivy would be faster on
very large corpora but adds a native dependency and a writer lock of its own; Chroma's own sparse index is
Cloud-only. SQLite comes through ``apsw`` (wheels for every platform, each bundling a current SQLite) rather
than the standard library's ``sqlite3``, whose SQLite is whatever the Python build linked (3.40 on Debian 12)
and may lack FTS5's ``secure-delete`` (3.42+), which erasure needs.

Text is tokenised by FTS5's ``unicode61`` tokenizer (case and diacritics folded), without stemming: Porter
stemming (used by earlier releases' FTS5 indexes) made more chunks match and cost hybrid retrieval up to 0.4
nDCG@10 on the fit half of MedQuAD's questions, plain and consumer-style (``benchmarks/bench_eval.py``). Query
words in :data:`STOPWORDS` are dropped. An index written with another tokenizer is rebuilt from Chroma on open
(its ``meta`` row ``tokenizer`` names the one it was written with).

Consistency with Chroma is kept by the index object that owns both (:mod:`medembed_rag.index.collection`): before a
write reaches Chroma its chunk ids are journaled here (``pending``), and the journal is cleared in the same
transaction that updates the index. A process killed between the two writes leaves the journal, and the
next open reconciles exactly those ids against Chroma.

Erasure: FTS5's ``secure-delete`` option removes a deleted row's postings from the index in place (FTS5
otherwise keeps them until a segment merge), the ``secure_delete`` pragma zeroes the bytes SQLite frees, and
:meth:`LexicalIndex.erase` truncates the WAL, which still holds earlier copies of changed pages.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import apsw

from ..errors import StoreLockedError
from ..text.words import STOPWORDS

_WORD = re.compile(r"[^\W_]+")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS pending (chunk_id TEXT PRIMARY KEY);
"""
TOKENIZER = "unicode61 remove_diacritics 2"
_FTS = f"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize = '{TOKENIZER}')"


def query_terms(text: str) -> list[str]:
    """The distinct non-stopword words of a query, lower-cased, in order."""
    return list(dict.fromkeys(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS))


BUSY_TIMEOUT_S = 60.0


def when_free(path: Path, what: str, call):
    """``call()``, retried while another process holds a lock SQLite does not wait for through the busy
    handler (switching a new file to WAL while a second writer opens it returns "database is locked" at
    once); :class:`StoreLockedError` naming ``path`` after :data:`BUSY_TIMEOUT_S`."""
    deadline, delay = time.monotonic() + BUSY_TIMEOUT_S, 0.01
    while True:
        try:
            return call()
        except apsw.BusyError:
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"the lexical index {path} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s "
                    f"({what}); let the other writer finish or close it, then retry") from None
            time.sleep(delay)
            delay = min(2 * delay, 0.5)


class LexicalIndex:
    """One SQLite file holding the lexical index of one collection (see the module docstring).

    Args:
        path: The SQLite file (created with its folder).
        owner: The id of the Chroma collection it indexes; a file that indexed another collection (one since
            deleted and re-created under the same name) is emptied.
    """

    def __init__(self, path: Path, owner: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con = apsw.Connection(str(self.path))
        self._con.set_busy_timeout(int(BUSY_TIMEOUT_S * 1000))
        for pragma in ("journal_mode=WAL", "secure_delete=ON", "synchronous=NORMAL"):
            when_free(self.path, f"setting {pragma}", lambda: self._con.execute(f"PRAGMA {pragma}").fetchall())
        with self._transaction() as con:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            written_with = con.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
            if written_with is None or written_with[0] != TOKENIZER:
                # Another tokenizer (or none recorded: an index of the Porter-stemming releases): postings are
                # in other terms, so the table is dropped and the next open step rebuilds it from Chroma.
                # Dropping removes the table's pages; secure_delete zeroes them.
                con.execute("DROP TABLE IF EXISTS fts")
                con.execute("DELETE FROM chunks")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('tokenizer', ?), ('revision', '-1')", (TOKENIZER,))
            con.execute(_FTS)
            con.execute("INSERT INTO fts (fts, rank) VALUES ('secure-delete', 1)")
            recorded = con.execute("SELECT value FROM meta WHERE key = 'owner'").fetchone()
            if recorded is None or recorded[0] != owner:
                for table in ("chunks", "pending", "fts"):
                    con.execute(f"DELETE FROM {table}")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('owner', ?), ('revision', '-1')", (owner,))

    # ------------------------------------------------------------------ plumbing
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[apsw.Connection]:
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # ------------------------------------------------------------------ state
    @property
    def revision(self) -> int:
        """The collection revision this index was last brought in step with."""
        with self._lock:
            return int(self._con.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def set_revision(self, revision: int) -> None:
        with self._transaction() as con:
            con.execute("UPDATE meta SET value = ? WHERE key = 'revision'", (str(int(revision)),))

    def count(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._con.execute("SELECT chunk_id FROM chunks")}

    def pending(self) -> list[str]:
        """Chunk ids journaled by a write that has not finished (or was killed)."""
        with self._lock:
            return [row[0] for row in self._con.execute("SELECT chunk_id FROM pending")]

    # ------------------------------------------------------------------ writes
    def journal(self, chunk_ids: Iterable[str]) -> None:
        """Records that these chunks are about to change in Chroma (committed before Chroma is written)."""
        with self._transaction() as con:
            con.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((c,) for c in chunk_ids))

    def apply(self, upserts: Iterable[tuple[str, str]] = (), deletes: Iterable[str] = ()) -> None:
        """In one transaction: (re)indexes ``(chunk id, text)`` pairs, removes ids, clears their journal."""
        upserts, deletes = list(dict(upserts).items()), list(deletes)  # one row per chunk id: the last text wins
        with self._transaction() as con:
            for cid in [*deletes, *(c for c, _ in upserts)]:
                row = con.execute("SELECT rowid FROM chunks WHERE chunk_id = ?", (cid,)).fetchone()
                if row is not None:
                    con.execute("DELETE FROM fts WHERE rowid = ?", row)
                    con.execute("DELETE FROM chunks WHERE rowid = ?", row)
            for cid, text in upserts:
                con.execute("INSERT INTO chunks (chunk_id) VALUES (?)", (cid,))
                rowid = con.last_insert_rowid()
                con.execute("INSERT INTO fts (rowid, body) VALUES (?, ?)", (rowid, text))
            finished = [*deletes, *(c for c, _ in upserts)]
            con.executemany("DELETE FROM pending WHERE chunk_id = ?", ((c,) for c in finished))

    def erase(self) -> None:
        """Removes deleted rows' last copies from the folder: checkpoints and truncates the WAL.

        Deletes already removed their postings and zeroed their pages in place (see the module docstring).
        """
        with self._lock:
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def compact(self) -> None:
        """Merges the FTS5 segments (dropping postings left by rows deleted before ``secure-delete`` was set),
        then truncates the WAL. Linear in the index's size; :meth:`erase` is enough for this index's deletes."""
        with self._lock:
            self._con.execute("INSERT INTO fts (fts) VALUES ('optimize')")
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ------------------------------------------------------------------ reads
    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids with their BM25 scores, best first (chunks sharing no word are left out)."""
        terms = query_terms(text)
        if not terms:
            return []
        with self._lock:
            expression = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
            rows = self._con.execute(
                "SELECT c.chunk_id, -f.score FROM (SELECT rowid, bm25(fts) AS score FROM fts WHERE fts MATCH ? "
                "ORDER BY score LIMIT ?) AS f JOIN chunks AS c ON c.rowid = f.rowid ORDER BY f.score",
                (expression, int(k)),
            ).fetchall()
        return [(cid, float(score)) for cid, score in rows if score > 0]

