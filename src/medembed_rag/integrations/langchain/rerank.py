"""A LangChain document compressor over the cross-encoder reranker."""

from __future__ import annotations

import copy
from typing import Any

from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, PrivateAttr

from ...models.options import Precision
from ...models.registry import DEFAULT_RERANKER
from .._options import reranker_values, shared_or_new_reranker


class MedEmbedRerank(BaseDocumentCompressor):
    """A LangChain document compressor that reorders documents with :class:`~medembed_rag.models.reranker.MedEmbedReranker`.

    Use it in a ``ContextualCompressionRetriever`` over a retriever that returns a larger pool than
    ``top_n`` (e.g. ``k=50``, ``top_n=5``). Each returned document keeps its metadata and gains
    ``rerank_score``; the input documents are not modified.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    top_n: int = Field(default=5, gt=0)
    """Documents kept after reranking."""
    model: str = DEFAULT_RERANKER
    """Cross-encoder hub id or local folder."""
    precision: Precision = "auto"
    """OpenVINO precision (as for the encoder)."""

    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any = None, **data: Any) -> None:
        super().__init__(**reranker_values(reranker, data))
        self._reranker = shared_or_new_reranker(self, reranker)

    def compress_documents(self, documents, query, callbacks=None):
        documents = list(documents)
        if not documents:
            return []
        ranked = self._reranker.rank(query, [d.page_content for d in documents], top_k=self.top_n)
        return [
            Document(
                page_content=documents[i].page_content,
                metadata={**copy.deepcopy(documents[i].metadata), "rerank_score": score},
                id=documents[i].id,
            )
            for i, score in ranked
        ]
