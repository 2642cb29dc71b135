"""A Chroma-backed store that cannot silently mix models, duplicate or lose documents."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..chunking import MedicalChunker, aggregate_to_documents
from ..chunking.aggregate import ChunkHit, DocumentHit
from ..models.encoder import MedEmbedEncoder
from ..errors import (
    DocumentNotFoundError,
    InvalidInputError,
    InvalidInputTypeError,
    StoreError,
    StoreLockedError,
)
from .collection import ChunkIndex, connection_guard, read_fingerprint
from ..inputs import validate_texts
from .metadata import to_chroma_metadata
from .records import Hit, chunk_ids, derive_doc_id, document_records

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


def telemetry_off_settings():
    """Chroma client settings with anonymised telemetry off (used for every client this package creates)."""
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False, allow_reset=False)


def default_lexical_folder(address: str) -> Path:
    """Where a server-mode store keeps its lexical index: the package cache, one folder per server."""
    from ..models.source import default_cache_dir

    safe = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in address.split("://", 1)[-1])
    return default_cache_dir() / "lexical" / safe


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
        import chromadb

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
            self.address = f"{'https' if ssl else 'http'}://{host}:{port}"
            self.path = None
            with connection_guard(self.address, True, "connecting"):
                self.client = chromadb.HttpClient(
                    host=host, port=port, ssl=ssl, headers=dict(headers or {}), settings=telemetry_off_settings()
                )
                self.client.heartbeat()
        else:
            self.path = Path(path if path is not None else "medembed-chroma").expanduser().resolve()
            self.address = str(self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = FileLock(str(self.path / ".medembed-writer.lock"))
            try:
                self._lock.acquire(timeout=lock_timeout)
            except Timeout:
                self._lock = None
                raise StoreLockedError(
                    f"the store folder {self.path} is open elsewhere (another process, or another store object "
                    f"not yet closed). Chroma's embedded mode is not safe "
                    f"for several processes; wait for it to finish (lock_timeout=...), or run a Chroma server "
                    f"(`chroma run --path {self.path} --port 8000`) and open MedEmbedChromaStore(host='localhost', "
                    f"port=8000) in every process."
                ) from None
        try:
            if self.path is not None:
                self.client = chromadb.PersistentClient(path=str(self.path), settings=telemetry_off_settings())
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
        """The Chroma collection (read it freely; write through this store or ``store.index``)."""
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
        items = validate_texts(texts, what="document")
        for name, value in (("ids", ids), ("metadatas", metadatas)):
            if value is not None and not isinstance(value, (list, tuple)):
                raise InvalidInputTypeError(f"{name} must be a list, not {type(value).__name__}")
        if ids is None:
            doc_ids = [derive_doc_id(t) for t in items]
        else:
            doc_ids = list(ids)
            if len(doc_ids) != len(items):
                raise InvalidInputError(f"{len(doc_ids)} ids for {len(items)} documents")
            for i, doc_id in enumerate(doc_ids):
                if not isinstance(doc_id, str) or not doc_id.strip():
                    raise InvalidInputError(f"id at index {i} must be a non-empty string; got {type(doc_id).__name__}")
        if len(set(doc_ids)) != len(doc_ids):
            raise InvalidInputError("document ids must be unique within one call (pass each document once)")
        if metadatas is not None and len(metadatas) != len(items):
            raise InvalidInputError(f"{len(metadatas)} metadatas for {len(items)} documents")
        metas = [to_chroma_metadata(m, index=i) for i, m in enumerate(metadatas or [None] * len(items))]
        for i, meta in enumerate(metas):
            if "doc_id" in meta and meta["doc_id"] != doc_ids[i]:
                raise InvalidInputError(f"metadata of document {i} has a doc_id different from its id")

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
    ) -> int:
        """Deletes every chunk of the given document(s), or every chunk matching a Chroma ``where`` filter.

        Args:
            document_id: One document id or a list of them.
            where: A Chroma metadata filter instead of ids.
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
        if (document_id is None) == (where is None):
            raise InvalidInputError("pass exactly one of document_id= or where=")
        if document_id is not None:
            if isinstance(document_id, str):
                ids = [document_id]
            elif isinstance(document_id, (list, tuple)):
                ids = list(document_id)
            else:
                raise InvalidInputTypeError(f"document_id must be a string or a list of strings, not {type(document_id).__name__}")
            if not ids or not all(isinstance(d, str) and d for d in ids):
                raise InvalidInputError("document_id must be a non-empty string or a list of them")
            where = {"doc_id": {"$in": ids}}
        elif not isinstance(where, Mapping) or not where:
            raise InvalidInputTypeError("where must be a non-empty mapping (a Chroma metadata filter)")
        found = self.index.get(where=where)
        if document_id is not None:
            self._refuse_missing(ids, {h.doc_id for h in found})
        self.index.delete_ids([h.id for h in found])
        if purge:
            self.index.purge([h.id for h in found])
        logger.info("deleted %d chunks from %r%s", len(found), self.collection_name, " (purged)" if purge else "")
        return len(found)

    def _refuse_missing(self, wanted: list[str], found: set) -> None:
        missing = [d for d in dict.fromkeys(wanted) if d not in found]
        if not missing:
            return
        examples = list(dict.fromkeys(h.doc_id for h in self.index.get(limit=50) if h.doc_id))[:3]
        shown = ", ".join(repr(d) for d in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        hint = f"its document ids look like {', '.join(map(repr, examples))}" if examples else "it holds no documents"
        raise DocumentNotFoundError(
            f"{len(missing)} of {len(dict.fromkeys(wanted))} document ids match nothing in collection "
            f"{self.collection_name!r} at {self.address}: {shown}. Nothing was deleted. Check the ids: {hint}.",
            missing=missing,
            examples=examples,
        )

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

    # ------------------------------------------------------------------ reading
    def count(self) -> int:
        """Number of chunks in the collection."""
        return self.index.count()

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

    # ------------------------------------------------------------------ framework views
    def as_langchain(self):
        """This store as a LangChain ``VectorStore`` (writes go through the store; see its docstring)."""
        from ..integrations.langchain import MedEmbedVectorStore

        return MedEmbedVectorStore(self)

    def as_llama_index(self):
        """This store as a LlamaIndex vector store (writes go through the store; see its docstring)."""
        from ..integrations.llama_index import MedEmbedVectorStore

        return MedEmbedVectorStore(self)

    def as_llama_index_index(self):
        """A ``VectorStoreIndex.from_vector_store`` over :meth:`as_llama_index`, querying with this encoder."""
        from llama_index.core import VectorStoreIndex

        from ..integrations.llama_index import MedEmbedEmbedding

        return VectorStoreIndex.from_vector_store(self.as_llama_index(), embed_model=MedEmbedEmbedding(encoder=self.encoder))
