"""MedEmbed in LlamaIndex: one module per class, each only converting types around the core.

* :class:`MedEmbedEmbedding` (``embedding``) - ``Settings.embed_model = MedEmbedEmbedding()``
* :class:`MedicalNodeParser` (``node_parser``) - nodes from the medical chunker
* :class:`MedEmbedLlamaIndexVectorStore` and :func:`vector_store_index` (``vector_store``) - a store as a
  LlamaIndex vector store / ``VectorStoreIndex``: ``index = vector_store_index(store)``
* :class:`MedEmbedHybridRetriever` (``retriever``), :class:`MedEmbedRerank` (``rerank``),
  :class:`MedEmbedLocalLLM` (``llm``), :class:`MedEmbedVerifiedQueryEngine` (``query_engine``)

Needs ``pip install 'medembed-rag[llama-index]'``.
"""

from __future__ import annotations

from .. import require

require("llama_index.core", "llama-index", "medembed_rag.integrations.llama_index")

from .embedding import MedEmbedEmbedding  # noqa: E402
from .llm import MedEmbedLocalLLM  # noqa: E402
from .node_parser import MedicalNodeParser  # noqa: E402
from .query_engine import MedEmbedVerifiedQueryEngine  # noqa: E402
from .rerank import MedEmbedRerank  # noqa: E402
from .retriever import MedEmbedHybridRetriever  # noqa: E402
from .vector_store import MedEmbedLlamaIndexVectorStore, vector_store_index  # noqa: E402

__all__ = [
    "MedEmbedEmbedding",
    "MedEmbedHybridRetriever",
    "MedEmbedLlamaIndexVectorStore",
    "MedEmbedLocalLLM",
    "MedEmbedRerank",
    "MedEmbedVerifiedQueryEngine",
    "MedicalNodeParser",
    "vector_store_index",
]
