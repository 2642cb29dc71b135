"""A Chroma-backed store that cannot silently mix models, duplicate or lose documents."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .chunking import MedicalChunker, aggregate_to_documents
from .chunking.aggregate import ChunkHit, DocumentHit
from .encoder import MedEmbedEncoder
from .errors import (
    DocumentNotFoundError,
    InvalidInputError,
    InvalidInputTypeError,
    ModelMismatchError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)
from .inputs import validate_texts
from .metadata import to_chroma_metadata

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "medembed"
_FINGERPRINT_PREFIX = "medembed:"
# What must match for two encoders' vectors to share an index (precision only by family: auto and fp32 agree).
_MATCH_KEYS = ("model_id", "revision", "dim", "pooling", "normalize", "precision_family", "max_length",
               "query_prefix", "document_prefix")
_DOCS_PER_ROUND = 64
_REVISION_KEY = "medembed_revision"


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk. ``score`` is the cosine similarity (1 - Chroma's cosine distance)."""

    id: str
    doc_id: str | None
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


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


def _flatten_fingerprint(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    return {_FINGERPRINT_PREFIX + k: (v if isinstance(v, (str, int, float, bool)) else json.dumps(v))
            for k, v in fingerprint.items()}


def _read_fingerprint(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k[len(_FINGERPRINT_PREFIX):]: v for k, v in (metadata or {}).items() if k.startswith(_FINGERPRINT_PREFIX)}


def _chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{doc_id}\0{occurrence}\0{text}".encode()).hexdigest()[:20]
    return f"{doc_id}::{digest}"


def chunk_ids(doc_id: str, chunks: Sequence[Any]) -> list[str]:
    """The store's ids for one document's chunks (Spark writes the same): derived from what is embedded, the
    text and any section heading given as context; identical chunks are told apart by their occurrence."""
    seen: dict[str, int] = {}
    ids = []
    for chunk in chunks:
        seen[chunk.embed_text] = seen.get(chunk.embed_text, -1) + 1
        ids.append(_chunk_id(doc_id, chunk.embed_text, seen[chunk.embed_text]))
    return ids


def derive_doc_id(text: str) -> str:
    """The id of a document given without one: a hash of its text (so re-adding it is idempotent)."""
    return "doc-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class MedEmbedChromaStore:
    """Chunks, embeds and stores medical documents in Chroma, with the model stamped on the collection.

    Open an embedded store by folder (``path=``; the default) or a Chroma server (``host=``, ``port=``).
    Every collection records its encoder's fingerprint; opening it with a different model raises
    :class:`ModelMismatchError`. Chunk ids derive from the document id and chunk content, so re-ingesting
    writes no duplicates and re-embeds only what changed; a changed document's stale chunks are removed.

    Chroma's embedded mode is not safe for several processes: this store holds an exclusive lock on the
    folder while open, and a second process waits up to ``lock_timeout`` seconds, then is refused with a
    pointer to server mode. Telemetry is off in every client this class creates.

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
        self._bm25 = None
        if host is not None:
            scheme = "https" if ssl else "http"
            self.address = f"{scheme}://{host}:{port}"
            self.path = None
            with self._guard("connecting"):
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
            with self._guard("reading the batch size"):
                limit = self.client.get_max_batch_size()
            self.batch_size = min(batch_size or limit, limit)
            self.collection = self._open_collection()
        except BaseException:
            self.close()  # a refused open must not keep the folder locked
            raise

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Releases the folder lock (embedded mode). The store cannot be used afterwards."""
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

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turns a lost server connection into a clear error naming the address."""
        try:
            yield
        except (InvalidInputError, ModelMismatchError, StoreError):
            raise
        except Exception as exc:
            if self.path is None and _is_connection_error(exc):
                raise StoreUnavailableError(
                    f"the Chroma server at {self.address} is not reachable while {action} ({type(exc).__name__}). "
                    f"Start it (`chroma run --path FOLDER --host HOST --port PORT`) or check host= and port=."
                ) from exc
            raise

    # ------------------------------------------------------------------ collection and fingerprint
    def _open_collection(self):
        fingerprint = self.encoder.fingerprint
        with self._guard("opening the collection"):
            collection = self.client.get_or_create_collection(
                self.collection_name,
                metadata={**_flatten_fingerprint(fingerprint), "medembed:format": 1},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        space = ((collection.configuration or {}).get("hnsw") or {}).get("space")
        if space not in (None, "cosine"):
            raise ModelMismatchError(
                f"collection {self.collection_name!r} uses the {space!r} distance; medembed-rag needs cosine. "
                f"Re-index into a new collection (collection='...')."
            )
        recorded = _read_fingerprint(collection.metadata)
        if not recorded:
            if collection.count():
                raise ModelMismatchError(
                    f"collection {self.collection_name!r} holds {collection.count()} vectors but no medembed "
                    f"fingerprint, so its model is unknown. Re-index into a new collection (collection='...')."
                )
            collection.modify(metadata={**_flatten_fingerprint(fingerprint), "medembed:format": 1})
            return collection
        differences = [k for k in _MATCH_KEYS if str(recorded.get(k)) != str(fingerprint.get(k))]
        if differences:
            theirs = ", ".join(f"{k}={recorded.get(k)!r}" for k in differences)
            ours = ", ".join(f"{k}={fingerprint.get(k)!r}" for k in differences)
            raise ModelMismatchError(
                f"collection {self.collection_name!r} at {self.address} was built with {recorded.get('model_id')} "
                f"({theirs}), but this encoder is {fingerprint.get('model_id')} ({ours}). Vectors of different "
                f"models cannot be compared. Either open it with the recorded model "
                f"(MedEmbedEncoder(model={recorded.get('model_id')!r}, revision={recorded.get('revision')!r}, "
                f"precision={recorded.get('precision')!r})), or re-index into a new collection (collection='...')."
            )
        return collection

    def revision(self) -> int:
        """A counter bumped by every write through this package (the BM25 sidecar uses it to stay in step)."""
        with self._guard("reading the collection revision"):
            meta = self.client.get_collection(self.collection_name).metadata or {}
        return int(meta.get(_REVISION_KEY, 0))

    def _bump_revision(self) -> None:
        with self._guard("recording the collection revision"):
            meta = dict(self.client.get_collection(self.collection_name).metadata or {})
            meta[_REVISION_KEY] = int(meta.get(_REVISION_KEY, 0)) + 1
            self.collection.modify(metadata=meta)

    @property
    def bm25(self):
        """The BM25 sidecar index (saved under ``<store>/bm25/<collection>`` in embedded mode)."""
        if self._bm25 is None:
            from .hybrid import BM25Index

            self._bm25 = BM25Index(self.path / "bm25" / self.collection_name if self.path is not None else None)
        return self._bm25

    def hybrid(self, **options: Any):
        """A :class:`~medembed_rag.hybrid.HybridRetriever` over this store (dense + BM25)."""
        from .hybrid import HybridRetriever

        return HybridRetriever(self, **options)

    @property
    def fingerprint(self) -> dict[str, Any]:
        """The fingerprint recorded on the collection."""
        return _read_fingerprint(self.collection.metadata)

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
                :func:`medembed_rag.metadata.to_chroma_metadata` describes; bad values raise before any write).

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
        try:
            for start in range(0, len(items), _DOCS_PER_ROUND):
                stop = start + _DOCS_PER_ROUND
                self._ingest_round(items[start:stop], doc_ids[start:stop], metas[start:stop], report)
        finally:
            if report.chunks_added or report.chunks_removed or report.metadata_updated:
                self._bump_revision()
        logger.info(
            "ingested %d documents into %r: %d chunks added, %d unchanged, %d removed",
            report.documents, self.collection_name, report.chunks_added, report.chunks_unchanged, report.chunks_removed,
        )
        return report

    def _ingest_round(self, texts, doc_ids, metas, report: IngestReport) -> None:
        planned: dict[str, tuple[str, dict[str, Any], str]] = {}  # chunk id -> (text, metadata, text to embed)
        wanted_by_doc: dict[str, set[str]] = {}
        for text, doc_id, meta in zip(texts, doc_ids, metas):
            doc_hash = hashlib.sha256(json.dumps([text, meta], sort_keys=True, default=str).encode()).hexdigest()[:16]
            wanted = wanted_by_doc.setdefault(doc_id, set())
            chunks = self.chunker.split(text)
            for chunk, chunk_id in zip(chunks, chunk_ids(doc_id, chunks)):
                chunk_meta = {**meta, "doc_id": doc_id, "chunk_index": chunk.index, "start": chunk.start,
                              "end": chunk.end, "medembed_doc_hash": doc_hash}
                if chunk.section:
                    chunk_meta["section"] = chunk.section
                planned[chunk_id] = (chunk.text, chunk_meta, chunk.embed_text)
                wanted.add(chunk_id)
        with self._guard("reading existing chunks"):
            existing = self.collection.get(where={"doc_id": {"$in": list(wanted_by_doc)}}, include=["metadatas"])
        existing_meta = dict(zip(existing["ids"], existing["metadatas"]))
        to_embed = [cid for cid in planned if cid not in existing_meta]
        to_update = [cid for cid in planned if cid in existing_meta and existing_meta[cid] != planned[cid][1]]
        wanted_all = set(planned)
        stale = [cid for cid in existing_meta if cid not in wanted_all]
        report.chunks_unchanged += len(planned) - len(to_embed)

        embed_batch = max(self.encoder.batch_size, min(self.batch_size, 256))
        for start in range(0, len(to_embed), embed_batch):
            batch = to_embed[start : start + embed_batch]
            vectors = self.encoder.encode_documents([planned[cid][2] for cid in batch])
            report.embedded += len(batch)
            for w in range(0, len(batch), self.batch_size):
                part = batch[w : w + self.batch_size]
                with self._guard("writing chunks"):
                    self.collection.add(
                        ids=part,
                        embeddings=vectors[w : w + len(part)],
                        documents=[planned[cid][0] for cid in part],
                        metadatas=[planned[cid][1] for cid in part],
                    )
            report.chunks_added += len(batch)
        for w in range(0, len(to_update), self.batch_size):
            part = to_update[w : w + self.batch_size]
            with self._guard("updating metadata"):
                self.collection.update(ids=part, metadatas=[planned[cid][1] for cid in part])
            report.metadata_updated += len(part)
        # Stale chunks go last: an ingest interrupted before this point leaves the old ones, never a gap.
        for w in range(0, len(stale), self.batch_size):
            with self._guard("removing stale chunks"):
                self.collection.delete(ids=stale[w : w + self.batch_size])
        report.chunks_removed += len(stale)

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
                text in its write log and in free SQLite pages; purging scrubs the log entries of the deleted
                chunks, vacuums the database and rebuilds the BM25 index. It does not reach backups or copies.

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
        with self._guard("deleting"):
            got = self.collection.get(where=dict(where), include=["metadatas"])
            found = got["ids"]
            if document_id is not None:
                self._refuse_missing(ids, {(m or {}).get("doc_id") for m in got["metadatas"]})
            for w in range(0, len(found), self.batch_size):
                self.collection.delete(ids=found[w : w + self.batch_size])
        if found:
            self._bump_revision()
        if purge:
            self._purge(found)
        logger.info("deleted %d chunks from %r%s", len(found), self.collection_name, " (purged)" if purge else "")
        return len(found)

    def _refuse_missing(self, wanted: list[str], found: set) -> None:
        missing = [d for d in dict.fromkeys(wanted) if d not in found]
        if not missing:
            return
        held = self.collection.get(limit=50, include=["metadatas"])["metadatas"]
        examples = list(dict.fromkeys((m or {}).get("doc_id") for m in held if (m or {}).get("doc_id")))[:3]
        shown = ", ".join(repr(d) for d in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        hint = f"its document ids look like {', '.join(map(repr, examples))}" if examples else "it holds no documents"
        raise DocumentNotFoundError(
            f"{len(missing)} of {len(dict.fromkeys(wanted))} document ids match nothing in collection "
            f"{self.collection_name!r} at {self.address}: {shown}. Nothing was deleted. Check the ids: {hint}.",
            missing=missing,
            examples=examples,
        )

    def _purge(self, chunk_ids: list[str]) -> None:
        """Erases deleted chunks' bytes: Chroma's write log, its full-text index, free SQLite pages, BM25.

        Chroma keeps a deleted chunk's text in three places: its write log (``embeddings_queue``, scrubbed here:
        ``chroma vacuum`` purges only what every segment has persisted, which a small store may not have), the
        FTS5 trigram index (whose segments keep a deleted row's postings until they are merged; the FTS5
        ``rebuild`` command re-derives the index from the live rows) and SQLite's free pages (``VACUUM``)."""
        import sqlite3

        database = self.path / "chroma.sqlite3"
        if chunk_ids and database.is_file():
            con = sqlite3.connect(str(database), timeout=60)
            try:
                for w in range(0, len(chunk_ids), 500):
                    part = chunk_ids[w : w + 500]
                    # Keep the rows (their sequence numbers must not be reused); drop text, metadata and vector.
                    con.execute(
                        f"UPDATE embeddings_queue SET metadata = NULL, vector = zeroblob(length(vector)) "
                        f"WHERE id IN ({','.join('?' * len(part))})",
                        part,
                    )
                con.commit()
                has_fts = con.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'embedding_fulltext_search'"
                ).fetchone()
                if has_fts:
                    con.execute(
                        "INSERT INTO embedding_fulltext_search(embedding_fulltext_search) VALUES('rebuild')"
                    )
                    con.commit()
                con.execute("VACUUM")
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                con.close()
        self.bm25.remove_files()
        self._bm25 = None
        self.bm25.sync(self)

    # ------------------------------------------------------------------ reading
    def count(self) -> int:
        """Number of chunks in the collection."""
        with self._guard("counting"):
            return self.collection.count()

    def query(self, text: str, k: int = 4, *, where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` chunks most similar to ``text`` (optionally filtered by metadata), best first."""
        if not isinstance(k, int) or k < 1:
            raise InvalidInputError(f"k must be a positive integer; got {k!r}")
        vector = self.encoder.encode_queries(validate_texts([text], what="query"))
        with self._guard("querying"):
            n = min(k, self.collection.count())
            if n == 0:
                return []
            result = self.collection.query(
                query_embeddings=vector, n_results=n, where=dict(where) if where else None,
                include=["documents", "metadatas", "distances"],
            )
        return [
            Hit(id=cid, doc_id=(meta or {}).get("doc_id"), text=doc or "", score=1.0 - float(dist), metadata=dict(meta or {}))
            for cid, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

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
        """A ``langchain_chroma.Chroma`` over this collection, embedding with this store's encoder."""
        from .integrations import require

        langchain_chroma = require("langchain_chroma", "langchain", "MedEmbedChromaStore.as_langchain()")
        from .integrations.langchain import MedEmbedEmbeddings

        return langchain_chroma.Chroma(
            client=self.client,
            collection_name=self.collection_name,
            embedding_function=MedEmbedEmbeddings(encoder=self.encoder),
        )

    def as_llama_index(self):
        """A LlamaIndex ``ChromaVectorStore`` over this collection (use with :meth:`llama_index_embed_model`)."""
        from .integrations import require

        module = require("llama_index.vector_stores.chroma", "llama-index", "MedEmbedChromaStore.as_llama_index()")
        return module.ChromaVectorStore(chroma_collection=self.collection)

    def as_llama_index_index(self):
        """A stock ``VectorStoreIndex.from_vector_store`` over this collection, embedding with this encoder."""
        from llama_index.core import VectorStoreIndex

        from .integrations.llama_index import MedEmbedEmbedding

        return VectorStoreIndex.from_vector_store(self.as_llama_index(), embed_model=MedEmbedEmbedding(encoder=self.encoder))


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    if names & {"ConnectError", "ConnectTimeout", "ReadError", "ReadTimeout", "RemoteProtocolError", "WriteError",
                "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "NetworkError", "PoolTimeout"}:
        return True
    return any("could not connect" in str(e).lower() or "connection refused" in str(e).lower() for e in _chain(exc))


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
