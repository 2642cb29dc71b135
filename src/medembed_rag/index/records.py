"""The one chunk-record schema every writer uses: the store, Spark, and the LangChain / LlamaIndex stores.

A record is one chunk as Chroma holds it: an id derived from the document id and what is embedded, the
chunk's exact text, and metadata = the document's own metadata plus the keys in :data:`RECORD_KEYS`:

* ``doc_id`` - the document the chunk belongs to;
* ``chunk_index``, ``chunk_count`` - its place among the document's chunks;
* ``start``, ``end`` - character offsets of the text in the original document;
* ``section`` - the section header it falls under, and ``heading`` - the heading lines embedded with it
  when the chunk does not begin with them (a later chunk of a long section);
* ``medembed_doc_hash`` - a hash of the document's text and metadata (its version).

What is embedded is the heading above the text (:func:`embed_text`); what the lexical index holds is the
document's ``title`` (when its metadata has one), the heading and the text (:func:`searchable_text`). Both
derive from the record alone, so a record read back from Chroma is re-indexed exactly as it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..chunking.chunker import with_heading

#: The keys this package adds to a chunk's metadata, and the type of each value.
RECORD_TYPES: dict[str, type] = {"doc_id": str, "chunk_index": int, "chunk_count": int, "start": int, "end": int,
                                 "section": str, "heading": str, "medembed_doc_hash": str}
RECORD_KEYS = tuple(RECORD_TYPES)
#: Where a chunk lies in its document (what a chunker adds; the rest is the document's id and version).
LOCATION_KEYS = ("chunk_index", "chunk_count", "start", "end", "section", "heading")
#: The name the framework faces give ``heading`` in their metadata (the splitter's, the node parser's, the nodes').
HEADING_FIELD = "section_heading"


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: what the store returns and what the answerer reads (``Passage`` is this type).

    ``score`` is the cosine similarity (dense), the fused score (hybrid) or the reranker's score.
    """

    id: str
    doc_id: str | None
    text: str
    score: float = 0.0
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as stored: ``id``, ``text`` (exact original text) and Chroma ``metadata``."""

    id: str
    text: str
    metadata: dict[str, Any]

    @property
    def doc_id(self) -> str:
        return self.metadata["doc_id"]

    @property
    def embed_text(self) -> str:
        return embed_text(self.text, self.metadata)


def embed_text(text: str, metadata: Mapping[str, Any]) -> str:
    """What the encoder sees for a record: its heading lines (if any) on a line above its text."""
    return with_heading(metadata.get("heading") or "", text)


def searchable_text(text: str, metadata: Mapping[str, Any]) -> str:
    """What the lexical index holds for a record: the document title, the heading and the text."""
    return "\n".join(str(part) for part in (metadata.get("title"), metadata.get("heading"), text) if part)


def chunk_id(doc_id: str, embedded: str, occurrence: int = 0) -> str:
    """A chunk's id: the document id and a hash of what is embedded (identical chunks told apart by occurrence)."""
    digest = hashlib.sha256(f"{doc_id}\0{occurrence}\0{embedded}".encode()).hexdigest()[:20]
    return f"{doc_id}::{digest}"


def chunk_ids(doc_id: str, chunks: Sequence[Any]) -> list[str]:
    """The ids of one document's chunks (objects with an ``embed_text``), in order."""
    seen: dict[str, int] = {}
    ids = []
    for chunk in chunks:
        seen[chunk.embed_text] = seen.get(chunk.embed_text, -1) + 1
        ids.append(chunk_id(doc_id, chunk.embed_text, seen[chunk.embed_text]))
    return ids


def derive_doc_id(text: str) -> str:
    """The id of a document given without one: a hash of its text (so re-adding it is idempotent)."""
    return "doc-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def document_hash(text: str, metadata: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps([text, dict(metadata)], sort_keys=True, default=str).encode()).hexdigest()[:16]


def location(chunk: Any, count: int) -> dict[str, Any]:
    """The location keys of one chunk of a document split into ``count`` chunks."""
    meta: dict[str, Any] = {"chunk_index": chunk.index, "chunk_count": count, "start": chunk.start, "end": chunk.end}
    if chunk.section:
        meta["section"] = chunk.section
    if chunk.context:
        meta["heading"] = chunk.context
    return meta


def document_records(doc_id: str, text: str, chunks: Sequence[Any], metadata: Mapping[str, Any]) -> list[ChunkRecord]:
    """The records of one document split into ``chunks`` (from :class:`~medembed_rag.chunking.MedicalChunker`)."""
    base = {**metadata, "doc_id": doc_id, "medembed_doc_hash": document_hash(text, metadata)}
    return [
        ChunkRecord(cid, chunk.text, {**base, **location(chunk, len(chunks))})
        for chunk, cid in zip(chunks, chunk_ids(doc_id, chunks))
    ]


def user_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's metadata without the keys this package adds (what the document was given)."""
    return {k: v for k, v in (metadata or {}).items() if k not in RECORD_KEYS}


def shown_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the LangChain vector store shows of a record: the document's own metadata, its ``section``, and
    where the chunk lies (``chunk_index``, ``chunk_count``, ``start``, ``end``, ``heading``) when the document
    was split; a document stored whole comes back with exactly the metadata it was given."""
    meta = dict(metadata or {})
    shown = user_metadata(meta)
    keys = LOCATION_KEYS if meta.get("chunk_count", 1) > 1 else ("section",)
    shown.update((k, meta[k]) for k in keys if k in meta)
    return shown


def node_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a LlamaIndex node shows of a record: everything but the offsets (the node's own fields) and the
    document hash, with ``heading`` under :data:`HEADING_FIELD`."""
    meta = dict(metadata or {})
    shown = {k: v for k, v in meta.items() if k not in ("start", "end", "heading", "medembed_doc_hash")}
    if meta.get("heading"):
        shown[HEADING_FIELD] = meta["heading"]
    return shown


def face_location(chunk: Any, count: int, names: Mapping[str, str]) -> dict[str, Any]:
    """:func:`location` under a framework's names for some keys (e.g. LangChain's ``start_index``)."""
    return {names.get(k, k): v for k, v in location(chunk, count).items()}


def hit(chunk_id_: str, text: str | None, metadata: Mapping[str, Any] | None, score: float) -> Hit:
    meta = dict(metadata or {})
    return Hit(chunk_id_, meta.get("doc_id"), text or "", float(score), meta)
