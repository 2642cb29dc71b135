"""A LangChain runnable that turns a question and retrieved documents into a verified, cited answer."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable

from ...errors import InvalidInputTypeError
from ...index.records import Hit
from ...models.encoder import MedEmbedEncoder
from ...models.registry import DEFAULT_MODEL
from .chat_model import as_chat


class MedEmbedVerifiedAnswer(Runnable):
    """Question + retrieved documents -> a verified, cited answer (or "the documents do not answer this").

    A drop-in for ``create_stuff_documents_chain`` in ``create_retrieval_chain``: it reads ``input`` (or
    ``question``) and ``context`` (or ``documents``), and returns a
    :class:`~medembed_rag.answers.answerer.VerifiedAnswer` (``str()`` of it is the answer text; ``.answered``,
    ``.citations``, ``.removed`` and ``.to_dict()`` carry the rest). Every number, interval and drug name the
    model writes is checked against the sentence it cites; see :mod:`medembed_rag.answers`.

    Args:
        embeddings: A :class:`MedEmbedEmbeddings` whose encoder scores evidence sentences (or pass ``encoder``).
        llm: A LangChain chat model, a medembed-rag LLM, or ``None`` for extractive answers.
        strictness: When to abstain: ``"high"`` abstains more, ``"lenient"`` answers more (figures in the README).
        **options: Passed to :class:`~medembed_rag.answers.answerer.VerifiedAnswerer` (``min_probability``, ...).
    """

    def __init__(self, embeddings: Any = None, llm: Any = None, *, encoder: Any = None, strictness: str = "balanced",
                 **options: Any) -> None:
        from ...answers.answerer import VerifiedAnswerer

        if encoder is None:
            encoder = embeddings.encoder if embeddings is not None else MedEmbedEncoder(DEFAULT_MODEL)
        self.answerer = VerifiedAnswerer(encoder=encoder, llm=as_chat(llm), hybrid=False, strictness=strictness,
                                         **options)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any):
        if not isinstance(input, dict):
            raise InvalidInputTypeError(
                f"MedEmbedVerifiedAnswer takes a dict with 'input' and 'context'; got {type(input).__name__}")
        question = input.get("input", input.get("question"))
        documents = input.get("context", input.get("documents")) or []
        passages = []
        for i, d in enumerate(documents):
            doc_id = d.metadata.get("doc_id") or getattr(d, "id", None)
            part = f"#{d.metadata['chunk_index']}" if "chunk_index" in d.metadata else ""
            chunk_id = d.metadata.get("chunk_id") or (f"{doc_id}{part}" if doc_id else f"document-{i}")
            passages.append(Hit(str(chunk_id), doc_id, d.page_content, float(d.metadata.get("score", 0.0) or 0.0),
                                dict(d.metadata)))
        return self.answerer.answer(question, passages)
