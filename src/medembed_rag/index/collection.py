"""The owner of one collection: the Chroma records, the model fingerprint and the lexical index.

Every write of this package goes through :class:`ChunkIndex` (the store's ``add_documents`` and ``delete``,
Spark's ``write_to_chroma``, the LangChain and LlamaIndex vector stores), so the guarantees hold whichever
way text comes in: records in the one schema of :mod:`medembed_rag.index.records`, vectors from the fingerprinted
model only, a document's stale chunks removed, and the lexical index updated in the same write.

Writes to one collection take turns: a thread lock inside the process, and a file lock beside the lexical
index across the processes of one host (the folder lock covers an embedded store; with a Chroma server, the
processes of a host share one lexical index and its lock). A write journals its chunk ids in the lexical
index, writes Chroma, then updates the lexical index and clears the journal in one transaction; a write
killed in between is reconciled by chunk id the next time the index is opened or queried.

Each write also bumps a revision counter kept in the collection's metadata. A lexical index that finds the
collection at another revision than its own (written by a process with another lexical index, e.g. on
another host, or by hand) catches up by chunk id: it reads the ids, indexes only the chunks it lacks and
drops those Chroma no longer has.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..errors import ModelMismatchError, StoreError
from . import erasure
from .connection import connection_guard
from .fingerprint import describe_mismatch, flatten_fingerprint, read_fingerprint
from .lexical import LexicalIndex
from .records import ChunkRecord, Hit, hit, searchable_text

logger = logging.getLogger(__name__)

_REVISION_KEY = "medembed_revision"
_READ_BATCH = 5000




def upsert_prepared(collection, pairs: Sequence[tuple[ChunkRecord, Any]]) -> None:
    """Upserts ``(record, vector)`` pairs whose ids a :class:`ChunkIndex` announced (Spark executors)."""
    if pairs:
        collection.upsert(ids=[r.id for r, _ in pairs], embeddings=[v for _, v in pairs],
                          documents=[r.text for r, _ in pairs], metadatas=[r.metadata for r, _ in pairs])


class ChunkIndex:
    """One collection's records, fingerprint and lexical index (see the module docstring).

    Args:
        client: A Chroma client.
        name: The collection (created with ``fingerprint`` if missing).
        fingerprint: The encoder fingerprint its vectors must match.
        address: Where the collection lives (for messages).
        remote: ``True`` for a Chroma server (connection errors become :class:`StoreUnavailableError`).
        lexical_folder: Folder of the lexical index file (one file per collection).
        batch_size: Records per Chroma call.
        chroma_folder: An embedded store's folder (to purge and compact; its full-text index deletes in place).
    """

    def __init__(self, client, name: str, fingerprint: Mapping[str, Any], *, address: str, remote: bool,
                 lexical_folder: Path, batch_size: int, chroma_folder: Path | None = None) -> None:
        self.client, self.name, self.fingerprint = client, name, dict(fingerprint)
        self.address, self.remote, self.batch_size, self.chroma_folder = address, remote, batch_size, chroma_folder
        self.collection = self._open_collection()
        lexical_path = Path(lexical_folder) / f"{name}.sqlite3"
        self._thread_lock = threading.RLock()
        self._file_lock = FileLock(str(lexical_path) + ".lock")
        self.lexical = LexicalIndex(lexical_path, owner=str(self.collection.id))
        with self.writing():
            if self.chroma_folder is not None:
                erasure.set_fts_secure_delete(self.chroma_folder)
            self._reconcile(self.lexical.pending())
            if self.lexical.revision != self.revision():
                self._catch_up()

    def guard(self, action: str):
        return connection_guard(self.address, self.remote, action)

    def close(self) -> None:
        self.lexical.close()

    # ------------------------------------------------------------------ collection and fingerprint
    def _open_collection(self):
        with self.guard("opening the collection"):
            collection = self.client.get_or_create_collection(
                self.name,
                metadata={**flatten_fingerprint(self.fingerprint), "medembed:format": 1},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            space = ((collection.configuration or {}).get("hnsw") or {}).get("space")
            count = collection.count()
        if space not in (None, "cosine"):
            raise ModelMismatchError(
                f"collection {self.name!r} uses the {space!r} distance; medembed-rag needs cosine. "
                f"Re-index into a new collection (collection='...')."
            )
        recorded = read_fingerprint(collection.metadata)
        if not recorded:
            if count:
                raise ModelMismatchError(
                    f"collection {self.name!r} holds {count} vectors but no medembed fingerprint, so its model is "
                    f"unknown. Re-index into a new collection (collection='...')."
                )
            with self.guard("stamping the collection"):
                collection.modify(metadata={**flatten_fingerprint(self.fingerprint), "medembed:format": 1})
            return collection
        mismatch = describe_mismatch(recorded, self.fingerprint)
        if mismatch:
            theirs, ours = mismatch
            raise ModelMismatchError(
                f"collection {self.name!r} at {self.address} was built with {recorded.get('model_id')} "
                f"({theirs}), but these vectors come from {self.fingerprint.get('model_id')} ({ours}). Vectors of "
                f"different models cannot be compared. Either open it with the recorded model "
                f"(MedEmbedEncoder(model={recorded.get('model_id')!r}, revision={recorded.get('revision')!r}, "
                f"precision={recorded.get('precision')!r})), or re-index into a new collection (collection='...')."
            )
        return collection

    def revision(self) -> int:
        """A counter bumped by every write through this package."""
        with self.guard("reading the collection revision"):
            meta = self.client.get_collection(self.name).metadata or {}
        return int(meta.get(_REVISION_KEY, 0))

    def _bump_revision(self) -> None:
        with self.guard("recording the collection revision"):
            meta = dict(self.client.get_collection(self.name).metadata or {})
            meta[_REVISION_KEY] = int(meta.get(_REVISION_KEY, 0)) + 1
            self.collection.modify(metadata=meta)
        self.lexical.set_revision(max(meta[_REVISION_KEY], self.lexical.revision))

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Holds this collection's write turn (threads of this process, then processes of this host)."""
        with self._thread_lock, self._file_lock:
            yield

    # ------------------------------------------------------------------ writes
    def write(self, records: Sequence[ChunkRecord], embed: Callable[[list[str]], Any], *,
              replace_documents: bool = True) -> dict[str, int]:
        """Writes records, embedding (``embed`` maps texts to vectors) only those new or whose embedded text changed.

        With ``replace_documents`` each document named by the records ends up with exactly its records here:
        its other chunks (an older version's) are removed, after the new ones are written. Otherwise records
        are upserted by id and nothing else is touched (LlamaIndex adds a document's nodes in batches).

        Returns counts: ``added``, ``unchanged``, ``updated`` (metadata only), ``removed``.
        """
        planned = {r.id: r for r in records}
        with self.writing():
            if replace_documents:
                existing = self._existing(list(dict.fromkeys(r.doc_id for r in records)))
            else:
                existing = {h.id: h for h in self.get(list(planned))}
            to_add, to_update = [], []
            for cid, record in planned.items():
                old = existing.get(cid)
                if old is None or (not replace_documents and old.text != record.text) or (
                        old.metadata.get("heading") != record.metadata.get("heading")):
                    to_add.append(cid)
                elif old.metadata != record.metadata:
                    to_update.append(cid)
            stale = [cid for cid in existing if cid not in planned] if replace_documents else []
            touched = [*to_add, *to_update, *stale]
            if touched:
                self.lexical.journal(touched)
                for w in range(0, len(to_add), self.batch_size):
                    part = [planned[cid] for cid in to_add[w : w + self.batch_size]]
                    vectors = embed([r.embed_text for r in part])
                    with self.guard("writing chunks"):
                        self.collection.upsert(ids=[r.id for r in part], embeddings=vectors,
                                               documents=[r.text for r in part], metadatas=[r.metadata for r in part])
                for w in range(0, len(to_update), self.batch_size):
                    part = [planned[cid] for cid in to_update[w : w + self.batch_size]]
                    with self.guard("updating metadata"):
                        self.collection.update(ids=[r.id for r in part], metadatas=[r.metadata for r in part])
                # Stale chunks go last: a write interrupted before this point leaves the old ones, never a gap.
                self._chroma_delete(stale)
                self.lexical.apply(
                    upserts=[(c, searchable_text(planned[c].text, planned[c].metadata)) for c in to_add + to_update],
                    deletes=stale,
                )
                self._bump_revision()
        return {"added": len(to_add), "unchanged": len(planned) - len(to_add), "updated": len(to_update),
                "removed": len(stale)}

    def announce(self, chunk_ids: Sequence[str]) -> None:
        """Journals chunk ids other processes are about to write (Spark executors), before they do."""
        with self.writing():
            self.lexical.journal(chunk_ids)

    def finish_external_write(self, wanted: Mapping[str, set[str]]) -> int:
        """After announced records were written by others: indexes them from Chroma, then removes each
        document's chunks not in ``wanted[doc_id]``. Returns how many stale chunks were removed."""
        with self.writing():
            existing = self._existing(list(wanted))
            stale = [cid for cid, old in existing.items() if cid not in wanted.get(old.doc_id, ())]
            self.lexical.journal(stale)
            self._chroma_delete(stale)
            self._reconcile(self.lexical.pending())
            self._bump_revision()
        return len(stale)

    def delete_ids(self, chunk_ids: Sequence[str]) -> None:
        """Deletes chunks by id, from Chroma and the lexical index."""
        if not chunk_ids:
            return
        with self.writing():
            self.lexical.journal(chunk_ids)
            self._chroma_delete(list(chunk_ids))
            self.lexical.apply(deletes=chunk_ids)
            self._bump_revision()

    def _chroma_delete(self, ids: Sequence[str]) -> None:
        for w in range(0, len(ids), self.batch_size):
            with self.guard("deleting chunks"):
                self.collection.delete(ids=list(ids[w : w + self.batch_size]))

    def _existing(self, doc_ids: list[str]) -> dict[str, Hit]:
        """The chunks the given documents have now (text left empty: not read)."""
        found: dict[str, Hit] = {}
        for w in range(0, len(doc_ids), 500):
            with self.guard("reading existing chunks"):
                got = self.collection.get(where={"doc_id": {"$in": doc_ids[w : w + 500]}}, include=["metadatas"])
            found.update((cid, hit(cid, None, meta, 0.0)) for cid, meta in zip(got["ids"], got["metadatas"]))
        return found

    # ------------------------------------------------------------------ keeping the lexical index in step
    def _reconcile(self, chunk_ids: Sequence[str]) -> None:
        """Makes the lexical index agree with Chroma on these chunk ids (held or not, and their text)."""
        if not chunk_ids:
            return
        upserts, present = [], set()
        for w in range(0, len(chunk_ids), _READ_BATCH):
            with self.guard("reading chunks"):
                got = self.collection.get(ids=list(chunk_ids[w : w + _READ_BATCH]), include=["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                present.add(cid)
                upserts.append((cid, searchable_text(doc or "", meta or {})))
        self.lexical.apply(upserts=upserts, deletes=[c for c in chunk_ids if c not in present])
        logger.info("lexical index of %r reconciled: %d chunks re-read, %d dropped", self.name, len(present),
                    len(chunk_ids) - len(present))

    def _catch_up(self) -> None:
        revision = self.revision()
        held = self.lexical.ids()
        with self.guard("listing chunk ids"):
            ids = self.collection.get(include=[])["ids"]
        in_chroma = set(ids)
        self._reconcile([*(c for c in ids if c not in held), *(c for c in held if c not in in_chroma)])
        self.lexical.set_revision(revision)

    def ensure_current(self) -> None:
        """Brings the lexical index in step before a query: cheap when it is (one revision read).

        A write under way (here or in another process of this host) is not waited for: its own transaction
        brings the index in step. Only a journal left by a killed writer, or a revision written by a process
        with another lexical index, is reconciled here."""
        if self.lexical.revision == self.revision() and not self.lexical.pending():
            return
        if not self._thread_lock.acquire(blocking=False):
            return
        try:
            try:
                self._file_lock.acquire(timeout=0)
            except Timeout:
                return
            try:
                self._reconcile(self.lexical.pending())
                if self.lexical.revision != self.revision():
                    self._catch_up()
            finally:
                self._file_lock.release()
        finally:
            self._thread_lock.release()

    # ------------------------------------------------------------------ reads
    def get(self, ids: Sequence[str] | None = None, *, where: Mapping[str, Any] | None = None,
            limit: int | None = None) -> list[Hit]:
        """Records by id (in the order given, missing ones left out) or by metadata filter, as hits."""
        if ids is not None and not ids:
            return []
        with self.guard("reading chunks"):
            got = self.collection.get(ids=list(ids) if ids is not None else None, where=dict(where) if where else None,
                                      limit=limit, include=["documents", "metadatas"])
        hits = {cid: hit(cid, doc, meta, 0.0) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return [hits[c] for c in ids if c in hits] if ids is not None else list(hits.values())

    def count(self) -> int:
        with self.guard("counting"):
            return self.collection.count()

    def dense(self, vector: Sequence[float], k: int, *, where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` chunks nearest to ``vector`` (cosine similarity as the score), best first."""
        with self.guard("querying"):  # Chroma 1.x returns fewer than n_results when it holds fewer (no count needed)
            result = self.collection.query(query_embeddings=[list(map(float, vector))], n_results=k,
                                           where=dict(where) if where else None,
                                           include=["documents", "metadatas", "distances"])
        return [hit(cid, doc, meta, 1.0 - float(dist)) for cid, doc, meta, dist in zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0])]

    def lexical_search(self, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids by BM25, with the lexical index brought in step first."""
        self.ensure_current()
        return self.lexical.search(text, k)

    # ------------------------------------------------------------------ erasure (embedded stores: medembed_rag.index.erasure)
    def purge(self, chunk_ids: Sequence[str]) -> None:
        """Erases deleted chunks' bytes from an embedded store's files (see ``MedEmbedChromaStore.delete``):
        Chroma's write-log entries scrubbed, the database vacuumed, the lexical index's WAL truncated."""
        if self.chroma_folder is None:
            raise StoreError("purging needs the embedded store's folder")
        with self.writing():
            erasure.purge(self.chroma_folder, str(self.collection.id), chunk_ids)
            self.lexical.erase()

    def compact(self) -> None:
        """Erases what an embedded store still holds of every deleted chunk, however it was deleted (through a
        Chroma server, by other tools): log entries of chunks no longer held scrubbed, both full-text indexes
        merged, the database vacuumed. Linear in the size."""
        if self.chroma_folder is None:
            raise StoreError("compacting needs the embedded store's folder")
        with self.writing():
            self._catch_up()  # drops lexical rows of chunks deleted behind this package's back
            erasure.compact(self.chroma_folder, str(self.collection.id), self.lexical.ids())
            self.lexical.compact()
