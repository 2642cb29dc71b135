"""LangChain ``Embeddings`` over the encoder: ``embeddings = MedEmbedEmbeddings()``."""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, PrivateAttr

from ...models.encoder import MedEmbedEncoder
from .._options import encoder_fields_model, prepare, shared_or_new_encoder

_Options = encoder_fields_model("_MedEmbedEmbeddingsOptions", BaseModel)


class MedEmbedEmbeddings(_Options, Embeddings):
    """LangChain ``Embeddings`` over :class:`~medembed_rag.MedEmbedEncoder` (OpenVINO, CPU).

    Its fields are the encoder's options (:class:`~medembed_rag.models.options.EncoderOptions`; ``model_name``
    is also accepted as ``model``, the prefixes are ``query_instruction`` and ``text_instruction``). Returns
    lists of plain Python floats. Pass ``encoder=`` to share one loaded encoder with other faces (then leave the
    options that change vectors unset). Construction is cheap: the model loads on first use. Pickling and
    ``model_dump`` carry the options, never the compiled model.

    Example:
        >>> embeddings = MedEmbedEmbeddings()  # MedEmbed-base, pinned revision
        >>> vector = embeddings.embed_query("first-line treatment of hypertension")
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=True)

    _encoder: MedEmbedEncoder = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, **data: Any) -> None:
        data, _ = prepare(encoder, data)
        super().__init__(**data)
        self._encoder = shared_or_new_encoder(self, encoder)

    @property
    def encoder(self) -> MedEmbedEncoder:
        """The shared core encoder."""
        return self._encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embeds documents; returns one list of floats per text."""
        return self._encoder.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embeds one query."""
        return self._encoder.encode_queries([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embeds documents in a worker thread; the event loop keeps running."""
        return (await self._encoder.aencode_documents(texts)).tolist()

    async def aembed_query(self, text: str) -> list[float]:
        """Embeds one query in a worker thread; the event loop keeps running."""
        return (await self._encoder.aencode_queries([text]))[0].tolist()
