"""A LlamaIndex ``BaseEmbedding`` over the encoder: ``Settings.embed_model = MedEmbedEmbedding()``."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr

from ...models.encoder import MedEmbedEncoder
from .._options import encoder_fields_model, prepare, shared_or_new_encoder

# LlamaIndex batches by its own ``embed_batch_size``: that field stands for the encoder's ``batch_size``.
_RENAMED = {"batch_size": "embed_batch_size"}
_Options = encoder_fields_model("_MedEmbedEmbeddingOptions", BaseEmbedding, skip=("batch_size",))


class MedEmbedEmbedding(_Options):
    """A LlamaIndex ``BaseEmbedding`` over :class:`~medembed_rag.MedEmbedEncoder` (OpenVINO, CPU).

    Its fields are the encoder's options (:class:`~medembed_rag.models.options.EncoderOptions`; ``model_name``
    is also accepted as ``model``, ``embed_batch_size`` is the batch size, the prefixes are
    ``query_instruction`` and ``text_instruction``). Pass ``encoder=`` to share one loaded encoder between faces
    (then leave the options that change vectors unset). Construction is cheap: the model loads on first use.
    ``to_dict`` / ``from_dict`` carry the options, never the compiled model.

    Example:
        >>> from llama_index.core import Settings
        >>> Settings.embed_model = MedEmbedEmbedding()  # MedEmbed-base, pinned revision
    """

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=("pydantic_model_",), arbitrary_types_allowed=True, populate_by_name=True
    )

    embed_batch_size: int = Field(
        default=32, gt=0, le=2048, description="Texts per call into the encoder (LlamaIndex batches by this)."
    )

    _encoder: MedEmbedEncoder = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, **data: Any) -> None:
        data, _ = prepare(encoder, data, **_RENAMED)
        super().__init__(**data)
        self._encoder = shared_or_new_encoder(self, encoder, **_RENAMED)

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedEmbedding"

    @property
    def encoder(self) -> MedEmbedEncoder:
        """The shared core encoder."""
        return self._encoder

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._encoder.encode_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._encoder.aencode_queries([query]))[0].tolist()

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._encoder.encode_documents([text])[0].tolist()

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._encoder.aencode_documents([text]))[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._encoder.encode_documents(texts).tolist()

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return (await self._encoder.aencode_documents(texts)).tolist()
