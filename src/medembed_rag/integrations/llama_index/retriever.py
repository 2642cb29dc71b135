"""A LlamaIndex retriever over the store's hybrid (dense + BM25) retrieval."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode


class MedEmbedHybridRetriever(BaseRetriever):
    """A LlamaIndex retriever over :class:`~medembed_rag.index.hybrid.HybridRetriever` (dense + BM25, fused)."""

    def __init__(self, hybrid: Any, similarity_top_k: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hybrid = hybrid
        self._k = similarity_top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=h.id, text=h.text, metadata=dict(h.metadata)), score=h.score)
            for h in self._hybrid.query(query_bundle.query_str, self._k)
        ]
