"""A LangChain retriever over the store's hybrid (dense + BM25) retrieval."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class MedEmbedHybridRetriever(BaseRetriever):
    """A LangChain retriever over :class:`~medembed_rag.index.hybrid.HybridRetriever` (dense + BM25, fused).

    Each document keeps the chunk's metadata and gains ``score`` (the fused score).
    """

    hybrid: Any
    """The core hybrid retriever (``store.hybrid()``)."""
    k: int = 4
    """Documents returned."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None):
        return [
            Document(page_content=h.text, metadata={**h.metadata, "score": h.score}, id=h.id)
            for h in self.hybrid.query(query, self.k)
        ]
