"""MedEmbed in LangChain: one module per class, each only converting types around the core.

* :class:`MedEmbedEmbeddings` (``embeddings``) - ``Embeddings`` over the encoder: ``embeddings = MedEmbedEmbeddings()``
* :class:`MedicalTextSplitter` (``splitter``) - a ``TextSplitter`` over the medical chunker
* :class:`MedEmbedLangChainVectorStore` (``vector_store``) - a ``VectorStore`` over a store:
  ``MedEmbedLangChainVectorStore.from_store(store)``
* :class:`MedEmbedHybridRetriever` (``retriever``), :class:`MedEmbedRerank` (``rerank``),
  :class:`MedEmbedChatModel` (``chat_model``), :class:`MedEmbedVerifiedAnswer` (``verified_answer``)

Needs ``pip install 'medembed-rag[langchain]'``.
"""

from __future__ import annotations

from .. import require

require("langchain_core", "langchain", "medembed_rag.integrations.langchain")
require("langchain_text_splitters", "langchain", "medembed_rag.integrations.langchain")

from .chat_model import MedEmbedChatModel  # noqa: E402
from .embeddings import MedEmbedEmbeddings  # noqa: E402
from .rerank import MedEmbedRerank  # noqa: E402
from .retriever import MedEmbedHybridRetriever  # noqa: E402
from .splitter import MedicalTextSplitter  # noqa: E402
from .vector_store import MedEmbedLangChainVectorStore  # noqa: E402
from .verified_answer import MedEmbedVerifiedAnswer  # noqa: E402

__all__ = [
    "MedEmbedChatModel",
    "MedEmbedEmbeddings",
    "MedEmbedHybridRetriever",
    "MedEmbedLangChainVectorStore",
    "MedEmbedRerank",
    "MedEmbedVerifiedAnswer",
    "MedicalTextSplitter",
]
