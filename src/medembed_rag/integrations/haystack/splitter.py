"""A Haystack document splitter over the token-exact medical chunker."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict

from ...chunking import MedicalChunker
from ...errors import InvalidInputTypeError
from ...index.records import HEADING_FIELD
from ...models.encoder import MedEmbedEncoder
from ...models.options import EncoderOptions


@component
class MedicalDocumentSplitter:
    """Splits ``Document``s with :class:`~medembed_rag.chunking.MedicalChunker`: chunks that the model reads whole
    (sections, paragraphs, sentences; medical abbreviations never end a sentence), cut by the model's own tokens.

    Each chunk keeps its document's metadata and gains Haystack's ``source_id``, ``split_id`` and
    ``split_idx_start`` (its character offset), and ``section``, ``chunk_count`` and, for a later chunk of a long
    section, ``section_heading`` (embed it with ``meta_fields_to_embed=["section_heading"]``).

    Args:
        chunk_tokens: Content tokens per chunk; default: the model's limit.
        overlap_tokens: Tokens repeated from the previous chunk of the same section.
        heading_context: Record a long section's heading on its later chunks.
        **options: The encoder's options (the model whose tokenizer and limit decide the cuts).
    """

    def __init__(self, chunk_tokens: int | None = None, overlap_tokens: int = 0, heading_context: bool = True,
                 **options: Any) -> None:
        self.chunk_tokens, self.overlap_tokens, self.heading_context = chunk_tokens, overlap_tokens, heading_context
        self.options = EncoderOptions(**options)
        self._chunker: MedicalChunker | None = None

    def warm_up(self) -> None:
        """Loads the model's tokenizer (the model is exported once if the cache has none)."""
        if self._chunker is None:
            self._chunker = MedicalChunker(MedEmbedEncoder(options=self.options), chunk_tokens=self.chunk_tokens,
                                           overlap_tokens=self.overlap_tokens, heading_context=self.heading_context)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, chunk_tokens=self.chunk_tokens, overlap_tokens=self.overlap_tokens,
                               heading_context=self.heading_context, **self.options.explicit())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MedicalDocumentSplitter:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        if not isinstance(documents, list) or any(not isinstance(d, Document) for d in documents):
            raise InvalidInputTypeError("MedicalDocumentSplitter splits a list of Documents")
        self.warm_up()
        out = []
        for document in documents:
            chunks = self._chunker.split(document.content or "", doc_id=document.id)
            for chunk in chunks:
                meta = {**document.meta, "source_id": document.id, "split_id": chunk.index,
                        "split_idx_start": chunk.start, "chunk_count": len(chunks)}
                if chunk.section:
                    meta["section"] = chunk.section
                if chunk.context:
                    meta[HEADING_FIELD] = chunk.context
                out.append(Document(content=chunk.text, meta=meta))
        return {"documents": out}
