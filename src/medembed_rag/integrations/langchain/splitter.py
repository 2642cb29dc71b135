"""A LangChain ``TextSplitter`` over the medical chunker."""

from __future__ import annotations

import copy
from typing import Any

from langchain_text_splitters import TextSplitter

from ...chunking import MedicalChunker
from ...index.records import HEADING_FIELD, face_location
from ...models.encoder import MedEmbedEncoder

# The store's location keys under LangChain's names (``add_start_index`` writes ``start_index``).
_NAMES = {"start": "start_index", "end": "end_index", "heading": HEADING_FIELD}


class MedicalTextSplitter(TextSplitter):
    """A LangChain ``TextSplitter`` over :class:`~medembed_rag.chunking.MedicalChunker`.

    ``split_documents`` keeps each document's metadata and adds ``section``, ``chunk_index``, ``chunk_count``,
    ``start_index``, ``end_index`` (character offsets into the original) and ``doc_id`` (the document's
    ``id``, or its ``doc_id`` / ``source`` metadata). Later chunks of a long section also get
    ``section_heading`` (its heading lines). ``page_content`` is always the exact original text, as with
    LangChain's own header splitters, so a LangChain vector store embeds it without the heading;
    :class:`~medembed_rag.MedEmbedChromaStore` and the LlamaIndex parser embed the heading too.

    Example:
        >>> splitter = MedicalTextSplitter(encoder=encoder)
        >>> chunks = splitter.split_documents(loader.load())
    """

    def __init__(
        self,
        encoder: MedEmbedEncoder | None = None,
        *,
        tokenizer: Any = None,
        chunk_tokens: int | None = None,
        overlap_tokens: int = 0,
        heading_context: bool = True,
        max_length: int | None = None,
    ) -> None:
        options = {"chunk_tokens": chunk_tokens, "overlap_tokens": overlap_tokens, "heading_context": heading_context}
        if tokenizer is not None:
            options["max_length"] = max_length
        self.chunker = MedicalChunker(encoder, tokenizer=tokenizer, **options)
        super().__init__(
            chunk_size=self.chunker.chunk_tokens,
            chunk_overlap=self.chunker.overlap_tokens,
            length_function=lambda text: len(self.chunker.tokenizer.encode(text).ids),
            add_start_index=True,
        )

    def split_text(self, text: str) -> list[str]:
        return self.chunker.split_text(text)

    def create_documents(self, texts: list[str], metadatas: list[dict] | None = None, ids: list | None = None):
        from langchain_core.documents import Document

        metadatas = metadatas or [{}] * len(texts)
        out = []
        for i, text in enumerate(texts):
            meta = copy.deepcopy(dict(metadatas[i]))
            doc_id = (ids[i] if ids else None) or meta.get("doc_id") or meta.get("source")
            chunks = self.chunker.split(text, doc_id=None if doc_id is None else str(doc_id))
            for chunk in chunks:
                extra = face_location(chunk, len(chunks), _NAMES)
                if chunk.doc_id is not None:
                    extra["doc_id"] = chunk.doc_id
                out.append(Document(page_content=chunk.text, metadata={**copy.deepcopy(meta), **extra}))
        return out

    def split_documents(self, documents):
        documents = list(documents)
        return self.create_documents(
            [d.page_content for d in documents], [d.metadata for d in documents], [d.id for d in documents]
        )
