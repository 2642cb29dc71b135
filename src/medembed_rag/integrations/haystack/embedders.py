"""Haystack embedder components over the encoder: a text (query) embedder and a document embedder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict

from ...errors import InvalidInputTypeError
from ...models.encoder import MedEmbedEncoder
from ...models.options import EncoderOptions


class _EncoderComponent:
    """What both embedders share: the encoder built from its options, loaded in ``warm_up``, and serialised."""

    def __init__(self, **options: Any) -> None:
        self.options = EncoderOptions(**options)  # checked now, as the encoder checks them; nothing is loaded
        self.encoder = MedEmbedEncoder(options=self.options)

    def warm_up(self) -> None:
        """Loads the model (exporting it to OpenVINO once if the cache has none)."""
        self.encoder.load()

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Rebuilds the component from :meth:`to_dict`'s output."""
        return default_from_dict(cls, data)


@component
class MedEmbedTextEmbedder(_EncoderComponent):
    """Embeds one query (the encoder's query path): ``run(text) -> {"embedding": list[float]}``.

    Put it before a retriever that takes ``query_embedding`` (e.g. ``InMemoryEmbeddingRetriever``). Its keyword
    arguments are the encoder's options (``model=``, ``precision=``, ...).
    """

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, **self.options.explicit())

    @component.output_types(embedding=list[float], meta=dict[str, Any])
    def run(self, text: str) -> dict[str, Any]:
        if not isinstance(text, str):
            raise InvalidInputTypeError(
                f"MedEmbedTextEmbedder embeds one string; got {type(text).__name__} (use MedEmbedDocumentEmbedder "
                f"for Documents)")
        vector = self.encoder.encode_queries([text])[0]
        return {"embedding": vector.tolist(), "meta": {"model": self.encoder.model_id}}


@component
class MedEmbedDocumentEmbedder(_EncoderComponent):
    """Embeds ``Document``s (the encoder's document path): their ``content``, after the values of
    ``meta_fields_to_embed`` joined by ``embedding_separator``, as Haystack's own document embedders do.

    Returns new ``Document`` objects with ``embedding`` set; the input documents are not modified.

    Args:
        meta_fields_to_embed: Metadata fields whose values are embedded before the content.
        embedding_separator: What joins those values and the content.
        **options: The encoder's options (``model=``, ``precision=``, ...).
    """

    def __init__(self, meta_fields_to_embed: list[str] | None = None, embedding_separator: str = "\n",
                 **options: Any) -> None:
        _EncoderComponent.__init__(self, **options)  # @component rebuilds the class: no zero-argument super()
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])
        self.embedding_separator = embedding_separator

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, meta_fields_to_embed=self.meta_fields_to_embed,
                               embedding_separator=self.embedding_separator, **self.options.explicit())

    def _text(self, document: Document) -> str:
        values = [str(document.meta[k]) for k in self.meta_fields_to_embed if document.meta.get(k) is not None]
        return self.embedding_separator.join([*values, document.content or ""])

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        if not isinstance(documents, list) or any(not isinstance(d, Document) for d in documents):
            raise InvalidInputTypeError("MedEmbedDocumentEmbedder embeds a list of Documents (use "
                                        "MedEmbedTextEmbedder for a query string)")
        if not documents:
            return {"documents": [], "meta": {"model": self.encoder.model_id}}
        vectors = self.encoder.encode_documents([self._text(d) for d in documents])
        embedded = [replace(d, embedding=v.tolist()) for d, v in zip(documents, vectors)]
        return {"documents": embedded, "meta": {"model": self.encoder.model_id}}
