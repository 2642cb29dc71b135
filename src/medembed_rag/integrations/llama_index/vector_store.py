"""A LlamaIndex vector store over a :class:`~medembed_rag.MedEmbedChromaStore`: the store's writes, LlamaIndex's
types; and :func:`vector_store_index`, the one line that gives a chatbot a ``VectorStoreIndex`` over a store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)

from ...errors import InvalidInputError, InvalidInputTypeError
from ...index.hybrid import DEFAULT_WEIGHT
from ...index.metadata import node_record
from ...index.records import Hit, node_metadata
from ...index.store import MedEmbedChromaStore
from .embedding import MedEmbedEmbedding

_OPERATORS = {"==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte", "in": "$in",
              "nin": "$nin"}


def _where(filters: Any, doc_ids: Sequence[str] | None = None) -> dict | None:
    """LlamaIndex ``MetadataFilters`` (and ``doc_ids``) as a Chroma ``where`` filter."""
    clauses = []
    if filters is not None:
        parts = []
        for f in filters.filters:
            if hasattr(f, "filters"):  # nested MetadataFilters
                parts.append(_where(f))
                continue
            op = _OPERATORS.get(getattr(f.operator, "value", f.operator))
            if op is None:
                raise InvalidInputError(f"filter operator {f.operator!r} is not supported; use one of {sorted(_OPERATORS)}")
            parts.append({f.key: {op: f.value}})
        condition = "$or" if str(getattr(filters.condition, "value", filters.condition)).lower() == "or" else "$and"
        if parts:
            clauses.append(parts[0] if len(parts) == 1 else {condition: parts})
    if doc_ids:
        clauses.append({"doc_id": {"$in": list(doc_ids)}})
    return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}


class MedEmbedLlamaIndexVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store over a :class:`~medembed_rag.MedEmbedChromaStore` (:meth:`from_store`).

    Nodes are written through the store: stored under their node id with ``doc_id`` = their ``ref_doc_id``,
    their offsets and section heading (from :class:`MedicalNodeParser`) kept, embedded by the store's encoder
    with the heading (vectors LlamaIndex computed with another model are never written, so the collection's
    model stamp holds), and indexed for hybrid retrieval. ``delete(ref_doc_id)`` removes a document's nodes.
    Query modes: ``default`` (dense) and ``hybrid`` (dense + BM25, weighted by ``alpha``, default 0.8).
    Returned nodes carry their id, text, offsets, the metadata they were given and the store's ``section``.
    """

    stores_text: bool = True
    flat_metadata: bool = True

    _store: MedEmbedChromaStore = PrivateAttr()

    def __init__(self, store: MedEmbedChromaStore, **kwargs: Any) -> None:
        if not isinstance(store, MedEmbedChromaStore):
            raise InvalidInputTypeError(f"store must be a MedEmbedChromaStore, got {type(store).__name__}")
        super().__init__(**kwargs)
        self._store = store

    @classmethod
    def from_store(cls, store: MedEmbedChromaStore) -> MedEmbedLlamaIndexVectorStore:
        """This face over an open store (the store's encoder embeds; its writes keep every guarantee)."""
        return cls(store)

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedLlamaIndexVectorStore"

    @property
    def client(self) -> MedEmbedChromaStore:
        return self._store

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        records = [node_record(node.node_id, node.ref_doc_id or node.node_id,
                               node.get_content(metadata_mode=MetadataMode.NONE), node.metadata,
                               start=node.start_char_idx, end=node.end_char_idx, index=i)
                   for i, node in enumerate(nodes)]
        if records:  # LlamaIndex adds a document's nodes in batches: upsert, never replace the document
            self._store.write_records(records, replace_documents=False)
        return [node.node_id for node in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._store.delete(ref_doc_id, missing="ignore")

    def delete_nodes(self, node_ids: list[str] | None = None, filters: Any = None, **delete_kwargs: Any) -> None:
        self._store.delete_chunks([n.node_id for n in self.get_nodes(node_ids, filters)])

    def clear(self) -> None:
        self._store.delete_chunks([h.id for h in self._store.get()])

    def get_nodes(self, node_ids: list[str] | None = None, filters: Any = None) -> list[BaseNode]:
        return [_node(h) for h in self._store.get(node_ids, where=_where(filters))]

    def query(self, query: Any, **kwargs: Any) -> VectorStoreQueryResult:
        k = query.similarity_top_k
        where = _where(query.filters, query.doc_ids)
        if query.mode == VectorStoreQueryMode.HYBRID:
            if where:
                raise InvalidInputError("hybrid queries take no filters yet; use the default mode with filters")
            alpha = DEFAULT_WEIGHT if query.alpha is None else query.alpha
            hits = self._store.hybrid(weight=alpha).query(query.query_str, k)
        elif query.mode == VectorStoreQueryMode.DEFAULT:
            vector = query.query_embedding
            if (vector is None or len(vector) != self._store.encoder.dim) and query.query_str:
                hits = self._store.query(query.query_str, k, where=where)  # embedded by the store's own model
            else:
                hits = self._store.search_by_vector(vector or [], k, where=where)
        else:
            raise InvalidInputError(f"query mode {query.mode!r} is not supported; use 'default' or 'hybrid'")
        return VectorStoreQueryResult(nodes=[_node(h) for h in hits], similarities=[h.score for h in hits],
                                      ids=[h.id for h in hits])


def vector_store_index(store: MedEmbedChromaStore) -> VectorStoreIndex:
    """A ``VectorStoreIndex`` over ``store`` that queries with the store's own encoder: a chatbot's one line."""
    return VectorStoreIndex.from_vector_store(MedEmbedLlamaIndexVectorStore.from_store(store),
                                              embed_model=MedEmbedEmbedding(encoder=store.encoder))


def _node(h: Hit) -> TextNode:
    meta = dict(h.metadata)
    return TextNode(
        id_=h.id, text=h.text, metadata=node_metadata(meta),
        start_char_idx=meta.get("start"), end_char_idx=meta.get("end"),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=h.doc_id)} if h.doc_id else {},
    )
