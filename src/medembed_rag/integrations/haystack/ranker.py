"""A Haystack ranker component over the cross-encoder reranker."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict

from ...errors import InvalidInputError, InvalidInputTypeError
from ...models.registry import DEFAULT_RERANKER
from ...models.reranker import MedEmbedReranker


@component
class MedEmbedRanker:
    """Reorders ``Document``s by a cross-encoder's relevance to the query (MedCPT's by default), best first,
    with ``score`` set to the cross-encoder's score; the input documents are not modified.

    Args:
        model: Cross-encoder hub id or local folder.
        top_k: Documents kept (``run(top_k=...)`` overrides it per call).
        precision: ``auto``, ``fp32``, ``bf16`` or ``int8``.
        meta_fields_to_embed: Metadata fields whose values are read before the content.
        embedding_separator: What joins those values and the content.
        cache_dir: Where the exported model is cached.
    """

    def __init__(self, model: str = DEFAULT_RERANKER, top_k: int = 10, precision: str = "auto",
                 meta_fields_to_embed: list[str] | None = None, embedding_separator: str = "\n",
                 cache_dir: str | None = None) -> None:
        if not isinstance(top_k, int) or top_k < 1:
            raise InvalidInputError(f"top_k must be a positive integer; got {top_k!r}")
        self.model, self.top_k, self.precision, self.cache_dir = model, top_k, precision, cache_dir
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])
        self.embedding_separator = embedding_separator
        self.reranker = MedEmbedReranker(model, precision=precision, cache_dir=cache_dir)

    def warm_up(self) -> None:
        """Loads the model (exporting it to OpenVINO once if the cache has none)."""
        self.reranker.load()

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, model=self.model, top_k=self.top_k, precision=self.precision,
                               meta_fields_to_embed=self.meta_fields_to_embed,
                               embedding_separator=self.embedding_separator, cache_dir=self.cache_dir)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MedEmbedRanker:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        if not isinstance(documents, list) or any(not isinstance(d, Document) for d in documents):
            raise InvalidInputTypeError("MedEmbedRanker reorders a list of Documents")
        if not documents:
            return {"documents": []}
        texts = [self.embedding_separator.join([*(str(d.meta[k]) for k in self.meta_fields_to_embed
                                                  if d.meta.get(k) is not None), d.content or ""])
                 for d in documents]
        ranked = self.reranker.rank(query, texts, top_k=top_k or self.top_k)
        return {"documents": [replace(documents[i], score=score) for i, score in ranked]}
