"""MedEmbed in DSPy (``pip install 'medembed-rag[dspy]'``): an embedder for ``dspy.Embedder`` and DSPy's
embedding retriever, with the query and document paths kept apart.

``dspy.retrievers.Embeddings`` calls one embedder for both the corpus and the queries. :func:`embeddings_retriever`
builds that stock retriever with the corpus embedded through the document path and then points it at the query
path, so an asymmetric model (query prompts, or MedCPT-style separate encoders) is used as it was trained::

    retriever = embeddings_retriever(corpus, MedEmbedDSPyEmbedder(model="abhinand/MedEmbed-base-v0.1"), k=5)
    retriever("How often should INR be checked?").passages
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..models.encoder import MedEmbedEncoder
from . import require
from ._options import encoder_from

dspy = require("dspy", "dspy", "medembed_rag.integrations.dspy")

__all__ = ["MedEmbedDSPyEmbedder", "embeddings_retriever"]


class MedEmbedDSPyEmbedder:
    """A callable ``list[str] -> (n, dim) float32 array`` over the encoder, for ``dspy.Embedder(...)`` or
    ``dspy.retrievers.Embeddings(embedder=...)``.

    It embeds documents; :meth:`for_queries` gives the same encoder's query path (and :meth:`for_documents` back).

    Args:
        encoder: An encoder to share (then pass no options).
        queries: Embed through the query path instead of the document path.
        **options: The encoder's options (``model=``, ``precision=``, ...).
    """

    def __init__(self, encoder: MedEmbedEncoder | None = None, *, queries: bool = False, **options: Any) -> None:
        self.encoder = encoder_from(encoder, options)
        self.queries = queries

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        return self.encoder.encode_queries(texts) if self.queries else self.encoder.encode_documents(texts)

    def for_queries(self) -> MedEmbedDSPyEmbedder:
        """This embedder's query path (sharing the loaded encoder)."""
        return MedEmbedDSPyEmbedder(self.encoder, queries=True)

    def for_documents(self) -> MedEmbedDSPyEmbedder:
        """This embedder's document path (sharing the loaded encoder)."""
        return MedEmbedDSPyEmbedder(self.encoder, queries=False)

    def __repr__(self) -> str:
        path = "queries" if self.queries else "documents"
        return f"MedEmbedDSPyEmbedder(model={self.encoder.model_id!r}, {path})"


def embeddings_retriever(corpus: Sequence[str], embedder: MedEmbedDSPyEmbedder | None = None, k: int = 5,
                         **kwargs: Any):
    """DSPy's stock ``dspy.retrievers.Embeddings`` over ``corpus``: passages embedded through the document path,
    queries through the query path (see the module docstring). ``kwargs`` go to the retriever."""
    embedder = embedder or MedEmbedDSPyEmbedder()
    retriever = dspy.retrievers.Embeddings(corpus=list(corpus), embedder=embedder.for_documents(), k=k, **kwargs)
    retriever.embedder = embedder.for_queries()  # the corpus is embedded; from now on it embeds queries only
    return retriever
