"""A Chroma-backed store that cannot silently mix models, duplicate or lose documents."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from ..chunking import MedicalChunker, aggregate_to_documents
from ..chunking.aggregate import ChunkHit, DocumentHit
from ..models.encoder import MedEmbedEncoder
from ..errors import (
    InvalidInputError,
    ModelMismatchError,
    InvalidInputTypeError,
    StoreError,
)
from ..inputs import validate_texts
from .collection import ChunkIndex
from .connection import (
    connection_guard,
    default_lexical_folder,
    embedded_client,
    lock_folder,
    server_client,
    telemetry_off_settings,
)
from .fingerprint import read_fingerprint
from .requests import checked_documents, delete_filter, not_found_error
from .records import ChunkRecord, Hit, chunk_ids, derive_doc_id, document_records

__all__ = ["DEFAULT_COLLECTION", "Hit", "IngestReport", "MedEmbedChromaStore", "chunk_ids", "derive_doc_id",
           "telemetry_off_settings"]

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "medembed"
_DOCS_PER_ROUND = 64


@dataclass
class IngestReport:
    """What one :meth:`MedEmbedChromaStore.add_documents` call did."""

    documents: int = 0
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    metadata_updated: int = 0
    embedded: int = 0


class MedEmbedChromaStore:
    """Chunks, embeds and stores medical documents in Chroma, with the model stamped on the collection.

    Open an embedded store by folder (``path=``; the default) or a Chroma server (``host=``, ``port=``).
    Every collection records its encoder's fingerprint; opening it with a different model raises
    :class:`ModelMismatchError`. Chunk ids derive from the document id and chunk content, so re-ingesting
    writes no duplicates and re-embeds only what changed; a changed document's stale chunks are removed.

    Chroma's embedded mode is not safe for several processes: this store holds an exclusive lock on the
    folder while open, and a second process waits up to ``lock_timeout`` seconds, then is refused with a
    pointer to server mode. Telemetry is off in every client this class creates.

    Every write goes through the collection's :class:`~medembed_rag.index.collection.ChunkIndex` (``store.index``), which
    also keeps the lexical index used by :meth:`hybrid` in step.

    Args:
        path: Folder of an embedded store (default ``./medembed-chroma`` when no ``host`` is given).
        host: Chroma server host (server mode).
        port: Chroma server port.
        ssl: Use https for the server.
        headers: HTTP headers for the server (e.g. an auth token for a reverse proxy).
        collection: Collection name.
        encoder: The encoder (default: MedEmbed-base).
        chunker: The chunker (default: a :class:`MedicalChunker` over ``encoder``).
        lock_timeout: Seconds to wait for another process's lock on an embedded folder (0: refuse at once).
        batch_size: Chunks per write (default and maximum: the client's max batch size).
        lexical_path: Folder of the lexical (BM25) index. Default: inside an embedded store's folder; for a
            server, ``<cache>/lexical/<host_port>``, shared by the processes of this host. Processes on other
            hosts keep their own, which catches up by chunk id when the collection shows another's write.
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        host: str | None = None,
        port: int = 8000,
        ssl: bool = False,
        headers: Mapping[str, str] | None = None,
        collection: str = DEFAULT_COLLECTION,
        encoder: MedEmbedEncoder | None = None,
        chunker: MedicalChunker | None = None,
        lock_timeout: float = 0.0,
        batch_size: int | None = None,
        lexical_path: str | os.PathLike | None = None,
    ) -> None:
        if path is not None and host is not None:
            raise InvalidInputError("pass either path= (embedded store) or host= (Chroma server), not both")
        if encoder is not None and not isinstance(encoder, MedEmbedEncoder):
            raise InvalidInputTypeError(f"encoder must be a MedEmbedEncoder, got {type(encoder).__name__}")
        self.encoder = encoder or MedEmbedEncoder()
        self._chunker = chunker
        self.collection_name = collection
        self._lock: FileLock | None = None
        self.index: ChunkIndex | None = None
        if host is not None:
            self.path = None
            self.client, self.address = server_client(host, port, ssl=ssl, headers=headers)
        else:
            self.path = Path(path if path is not None else "medembed-chroma").expanduser().resolve()
            self.address = str(self.path)
            self._lock = lock_folder(self.path, lock_timeout)
        try:
            if self.path is not None:
                self.client = embedded_client(self.path)
                shutil.rmtree(self.path / "bm25" / collection, ignore_errors=True)  # 0.x BM25 files (hold text)
            with self._guard("reading the batch size"):
                limit = self.client.get_max_batch_size()
            self.batch_size = min(batch_size or limit, limit)
            if lexical_path is not None:
                lexical_folder = Path(lexical_path).expanduser().resolve()
            elif self.path is not None:
                lexical_folder = self.path / "medembed-lexical"
            else:
                lexical_folder = default_lexical_folder(self.address)
            self.index = ChunkIndex(self.client, collection, self.encoder.fingerprint, address=self.address,
                                    remote=self.path is None, lexical_folder=lexical_folder,
                                    batch_size=self.batch_size, chroma_folder=self.path)
        except BaseException:
            self.close()  # a refused open must not keep the folder locked
            raise

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Releases the folder lock (embedded mode). The store cannot be used afterwards."""
        if self.index is not None:
            self.index.close()
            self.index = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> MedEmbedChromaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        with contextlib.suppress(Exception):
            self.close()

    @property
    def chunker(self) -> MedicalChunker:
        """The chunker (built over the encoder on first use)."""
        if self._chunker is None:
            self._chunker = MedicalChunker(self.encoder)
        return self._chunker

    def _guard(self, action: str):
        return connection_guard(self.address, self.path is None, action)

    @property
    def collection(self):
        """The Chroma collection (read it freely; write through this store only)."""
        return self.index.collection

    def revision(self) -> int:
        """A counter bumped by every write through this package."""
        return self.index.revision()

    def hybrid(self, **options: Any):
        """A :class:`~medembed_rag.index.hybrid.HybridRetriever` over this store (dense + BM25)."""
        from .hybrid import HybridRetriever

        return HybridRetriever(self, **options)

    @property
    def fingerprint(self) -> dict[str, Any]:
        """The fingerprint recorded on the collection."""
        return read_fingerprint(self.collection.metadata)

    # ------------------------------------------------------------------ writing
    def add_documents(
        self,
        texts: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> IngestReport:
        """Chunks, embeds and writes documents; idempotent.

        Args:
            texts: The documents.
            ids: Document ids (default: a hash of each text). Re-adding an id replaces that document:
                unchanged chunks are kept without re-embedding, changed ones embedded, stale ones removed.
            metadatas: One mapping per document, copied to each of its chunks (converted as
                :func:`medembed_rag.index.metadata.to_chroma_metadata` describes; bad values raise before any write).

        Returns:
            What was added, kept, updated and removed.
        """
        items, doc_ids, metas = checked_documents(texts, ids, metadatas)

        report = IngestReport(documents=len(items))
        for start in range(0, len(items), _DOCS_PER_ROUND):
            stop = start + _DOCS_PER_ROUND
            records = [record for text, doc_id, meta in zip(items[start:stop], doc_ids[start:stop], metas[start:stop])
                       for record in document_records(doc_id, text, self.chunker.split(text), meta)]
            counts = self.index.write(records, self.encoder.encode_documents)
            report.chunks_added += counts["added"]
            report.embedded += counts["added"]
            report.chunks_unchanged += counts["unchanged"]
            report.metadata_updated += counts["updated"]
            report.chunks_removed += counts["removed"]
        logger.info(
            "ingested %d documents into %r: %d chunks added, %d unchanged, %d removed",
            report.documents, self.collection_name, report.chunks_added, report.chunks_unchanged, report.chunks_removed,
        )
        return report

    def delete(
        self,
        document_id: str | Sequence[str] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
        purge: bool = False,
        missing: Literal["raise", "ignore"] = "raise",
    ) -> int:
        """Deletes every chunk of the given document(s), or every chunk matching a Chroma ``where`` filter.

        Args:
            document_id: One document id or a list of them.
            where: A Chroma metadata filter instead of ids.
            missing: What to do when some of the document ids match nothing: ``"raise"``
                (:class:`DocumentNotFoundError`, and nothing is deleted) or ``"ignore"`` (delete those held; what
                LangChain's ``VectorStore.delete`` promises).
            purge: Also erase the text from the bytes on disk (embedded stores only): Chroma keeps deleted
                text in its write log and in SQLite pages it frees without zeroing; purging scrubs the log
                entries of the deleted chunks, vacuums the database and truncates the lexical index's WAL.
                (Both full-text indexes already drop a deleted chunk's postings in place.) It does not reach
                backups or copies. Text deleted earlier without it, or through a server: :meth:`compact`.

        Returns:
            The number of chunks deleted (a ``where`` filter that matches nothing deletes 0).

        Raises:
            DocumentNotFoundError: some of the given document ids match no chunk. Nothing is deleted (nor purged);
                the error's ``missing`` lists them and its ``examples`` shows ids the collection holds.
        """
        if purge and self.path is None:
            raise StoreError(
                "purge=True needs the store's folder: on the server host, stop the Chroma server and run "
                "`medembed-rag delete DOC_ID --purge --store <server folder>`; a plain delete works remotely."
            )
        ids, where = delete_filter(document_id, where)
        if missing not in ("raise", "ignore"):
            raise InvalidInputError(f"missing must be 'raise' or 'ignore'; got {missing!r}")
        found = self.index.get(where=where)
        if ids is not None and missing == "raise":
            missing_ids = [d for d in dict.fromkeys(ids) if d not in {h.doc_id for h in found}]
            if missing_ids:
                examples = list(dict.fromkeys(h.doc_id for h in self.index.get(limit=50) if h.doc_id))[:3]
                raise not_found_error(missing_ids, len(dict.fromkeys(ids)), examples, self.collection_name, self.address)
        self.index.delete_ids([h.id for h in found])
        if purge:
            self.index.purge([h.id for h in found])
        logger.info("deleted %d chunks from %r%s", len(found), self.collection_name, " (purged)" if purge else "")
        return len(found)

    def compact(self) -> None:
        """Erases what the store's files still hold of every deleted chunk, however it was deleted.

        ``delete(..., purge=True)`` erases one deletion; this reaches the rest: chunks deleted without purging,
        through a Chroma server or by another tool. It scrubs Chroma's write-log entries of chunks no longer
        held, merges Chroma's full-text index and the lexical index, and vacuums the database (embedded stores;
        seconds at 100,000 chunks). For a server's folder, run it on the server host with the server stopped.
        """
        if self.path is None:
            raise StoreError("compact() needs the store's folder: run it on the server host, with the server "
                             "stopped, on MedEmbedChromaStore(<server folder>)")
        self.index.compact()
        logger.info("compacted %r", self.collection_name)

    def write_records(self, records: Sequence[ChunkRecord], *, replace_documents: bool = True) -> dict[str, int]:
        """Writes chunk records split elsewhere (a LlamaIndex node parser), embedded by this store's encoder.

        With ``replace_documents`` each document named by the records ends up with exactly these chunks;
        otherwise records are upserted by id and nothing else is touched. Returns the counts ``added``,
        ``unchanged``, ``updated`` and ``removed``.
        """
        return self.index.write(list(records), self.encoder.encode_documents, replace_documents=replace_documents)

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        """Deletes chunks by chunk id (ids not held are ignored), from Chroma and the lexical index."""
        self.index.delete_ids(list(chunk_ids))

    # ------------------------------------------------------------------ reading
    def count(self) -> int:
        """Number of chunks in the collection."""
        return self.index.count()

    def get(self, ids: Sequence[str] | None = None, *, where: Mapping[str, Any] | None = None,
            limit: int | None = None) -> list[Hit]:
        """Chunks by chunk id (in the order given, missing ones left out), by metadata filter, or all of them."""
        return self.index.get(ids, where=where, limit=limit)

    def get_documents(self, document_ids: Sequence[str]) -> list[Hit]:
        """Every chunk of the given documents, in the order of the ids given, each document's chunks in order."""
        ids = list(document_ids)
        if not ids:
            return []
        order = {d: i for i, d in enumerate(ids)}
        hits = self.index.get(where={"doc_id": {"$in": ids}})
        return sorted(hits, key=lambda h: (order[h.doc_id], h.metadata.get("chunk_index", 0)))

    def search_by_vector(self, vector: Sequence[float], k: int = 4, *,
                         where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` chunks nearest a query vector of this store's model, best first (cosine similarity).

        Raises:
            ModelMismatchError: the vector does not have the store's dimension (another model made it).
        """
        if len(vector) != self.encoder.dim:
            raise ModelMismatchError(
                f"the query vector has {len(vector)} dimensions but the store's model {self.encoder.model_id} "
                f"makes {self.encoder.dim}; embed queries with the store's encoder (store.encoder)")
        return self.index.dense(vector, k, where=where)

    def lexical_search(self, text: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids for ``text`` by BM25 (the lexical index brought in step first)."""
        return self.index.lexical_search(text, k)

    def query(self, text: str, k: int = 4, *, where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` chunks most similar to ``text`` (optionally filtered by metadata), best first."""
        if not isinstance(k, int) or k < 1:
            raise InvalidInputError(f"k must be a positive integer; got {k!r}")
        vector = self.encoder.encode_queries(validate_texts([text], what="query"))[0]
        return self.index.dense(vector, k, where=where)

    def query_documents(
        self, text: str, k: int = 5, *, chunks_per_document: int = 3, candidates: int = 100,
        where: Mapping[str, Any] | None = None,
    ) -> list[DocumentHit]:
        """The ``k`` best documents, each scored by its best chunk, with up to ``chunks_per_document`` chunks."""
        hits = self.query(text, max(k, candidates), where=where)
        return aggregate_to_documents(
            (ChunkHit(h.doc_id or h.id, h.score, h) for h in hits), chunks_per_document=chunks_per_document, top_k=k
        )
