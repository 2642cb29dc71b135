"""MedEmbed in LangChain: embeddings (``embeddings = MedEmbedEmbeddings()``), a text splitter and a reranker.

Needs ``pip install 'medembed-rag[langchain]'``.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from .. import require

require("langchain_core", "langchain", "medembed_rag.integrations.langchain")

from langchain_core.embeddings import Embeddings  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr  # noqa: E402

from ...models.encoder import MedEmbedEncoder  # noqa: E402
from ...errors import InvalidInputError, InvalidInputTypeError  # noqa: E402
from ...inputs import validate_texts  # noqa: E402
from ...index.records import derive_doc_id, location, shown_metadata  # noqa: E402
from ...models.registry import DEFAULT_MODEL, DEFAULT_RERANKER  # noqa: E402
from .._options import adapter_encoder, adapter_init, reranker_init, reranker_of  # noqa: E402


class MedEmbedEmbeddings(BaseModel, Embeddings):
    """LangChain ``Embeddings`` over :class:`~medembed_rag.MedEmbedEncoder` (OpenVINO, CPU).

    Returns lists of plain Python floats. Pass ``encoder=`` to share one loaded encoder with other
    adapters (then leave the encoder options unset). Construction is cheap: the model loads on first use.
    Pickling and ``model_dump`` carry the options, never the compiled model.

    Example:
        >>> embeddings = MedEmbedEmbeddings()  # MedEmbed-base, pinned revision
        >>> vector = embeddings.embed_query("first-line treatment of hypertension")
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=True)

    model_name: str = Field(default=DEFAULT_MODEL, alias="model")
    """Hub id of a registered MedEmbed model, or a local model folder."""
    revision: str | None = None
    """Hub commit; default: the registry's pinned revision."""
    precision: Literal["auto", "fp32", "int8"] = "auto"
    """auto (bf16 on AMX CPUs), fp32 (exact) or int8 (static NNCF quantisation)."""
    max_length: int | None = None
    """Most tokens per input; default: the model's limit."""
    batch_size: int = Field(default=32, gt=0)
    """Inputs per forward pass."""
    cache_dir: str | None = None
    """Where exported OpenVINO models are cached."""
    truncation: Literal["warn", "error", "silent"] = "warn"
    """What to do with inputs longer than max_length."""
    show_progress: bool | None = None
    """Show a progress bar; None: only on long runs."""
    num_threads: int | None = None
    """CPU threads for OpenVINO; default: all cores."""
    query_instruction: str | None = None
    """Text put before each query; default: the model's own (none for MedEmbed)."""
    text_instruction: str | None = None
    """Text put before each document; default: the model's own (none for MedEmbed)."""

    _encoder: MedEmbedEncoder = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, **data: Any) -> None:
        data, explicit = adapter_init(encoder, data)
        super().__init__(**data)
        self._encoder = adapter_encoder(self, encoder, explicit)

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


def _text_splitter_base():
    return require("langchain_text_splitters", "langchain", "MedicalTextSplitter").TextSplitter


_SPLITTER_NAMES = {"start": "start_index", "end": "end_index", "heading": "section_heading"}


class MedicalTextSplitter(_text_splitter_base()):
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
        from ...chunking import MedicalChunker

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
                # The store's location keys, under LangChain's names for the offsets (add_start_index).
                extra = {_SPLITTER_NAMES.get(k, k): v for k, v in location(chunk, len(chunks)).items()}
                if chunk.doc_id is not None:
                    extra["doc_id"] = chunk.doc_id
                out.append(Document(page_content=chunk.text, metadata={**copy.deepcopy(meta), **extra}))
        return out

    def split_documents(self, documents):
        documents = list(documents)
        return self.create_documents(
            [d.page_content for d in documents], [d.metadata for d in documents], [d.id for d in documents]
        )


def _compressor_base():
    return require("langchain_core.documents", "langchain", "MedEmbedRerank").BaseDocumentCompressor


class MedEmbedRerank(_compressor_base()):
    """A LangChain document compressor that reorders documents with :class:`~medembed_rag.models.reranker.MedEmbedReranker`.

    Use it in a ``ContextualCompressionRetriever`` over a retriever that returns a larger pool than
    ``top_n`` (e.g. ``k=50``, ``top_n=5``). Each returned document keeps its metadata and gains
    ``rerank_score``; the input documents are not modified.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    top_n: int = Field(default=5, gt=0)
    """Documents kept after reranking."""
    model: str = DEFAULT_RERANKER
    """Cross-encoder hub id or local folder."""
    precision: Literal["auto", "fp32", "int8"] = "auto"
    """OpenVINO precision."""

    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any = None, **data: Any) -> None:
        super().__init__(**reranker_init(reranker, data))
        self._reranker = reranker_of(self, reranker)

    def compress_documents(self, documents, query, callbacks=None):
        from langchain_core.documents import Document

        documents = list(documents)
        if not documents:
            return []
        ranked = self._reranker.rank(query, [d.page_content for d in documents], top_k=self.top_n)
        return [
            Document(
                page_content=documents[i].page_content,
                metadata={**copy.deepcopy(documents[i].metadata), "rerank_score": score},
                id=documents[i].id,
            )
            for i, score in ranked
        ]


def _retriever_base():
    return require("langchain_core.retrievers", "langchain", "MedEmbedHybridRetriever").BaseRetriever


class MedEmbedHybridRetriever(_retriever_base()):
    """A LangChain retriever over :class:`~medembed_rag.index.hybrid.HybridRetriever` (dense + BM25, fused).

    Each document keeps the chunk's metadata and gains ``score`` (the fused score).
    """

    hybrid: Any
    """The core hybrid retriever (``store.hybrid()``)."""
    k: int = 4
    """Documents returned."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None):
        from langchain_core.documents import Document

        return [
            Document(page_content=h.text, metadata={**h.metadata, "score": h.score}, id=h.id)
            for h in self.hybrid.query(query, self.k)
        ]


def _chat_model_base():
    return require("langchain_core.language_models", "langchain", "MedEmbedChatModel").BaseChatModel


class MedEmbedChatModel(_chat_model_base()):
    """A LangChain chat model over :mod:`medembed_rag.models.llm` (local SmolLM2 on OpenVINO, or an OpenAI-compatible server)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_new_tokens: int = 200
    """Longest answer in tokens."""

    _llm: Any = PrivateAttr()

    def __init__(self, llm: Any = None, **data: Any) -> None:
        super().__init__(**data)
        if llm is None:
            from ...models.llm import LocalLLM

            llm = LocalLLM(max_new_tokens=self.max_new_tokens)
        self._llm = llm

    @property
    def _llm_type(self) -> str:
        return "medembed-local"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        roles = {"human": "user", "ai": "assistant", "system": "system"}
        payload = [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._llm.chat(payload)))])


def _runnable_base():
    return require("langchain_core.runnables", "langchain", "MedEmbedVerifiedAnswer").Runnable


def _langchain_chat(llm: Any):
    """``chat(messages) -> str`` over a LangChain chat model, our LLM classes, or ``None``."""
    if llm is None or hasattr(llm, "chat") or not hasattr(llm, "invoke"):
        return llm
    roles = {"user": "human", "assistant": "ai", "system": "system"}

    def chat(messages: list[dict]) -> str:
        reply = llm.invoke([(roles[m["role"]], m["content"]) for m in messages])
        return str(getattr(reply, "content", reply))

    return chat


class MedEmbedVerifiedAnswer(_runnable_base()):
    """Question + retrieved documents -> a verified, cited answer (or "the documents do not answer this").

    A drop-in for ``create_stuff_documents_chain`` in ``create_retrieval_chain``: it reads ``input`` (or
    ``question``) and ``context`` (or ``documents``), and returns a
    :class:`~medembed_rag.answers.answerer.VerifiedAnswer` (``str()`` of it is the answer text; ``.answered``,
    ``.citations``, ``.removed`` and ``.to_dict()`` carry the rest). Every number, interval and drug name the
    model writes is checked against the sentence it cites; see :mod:`medembed_rag.answers.answerer`.

    Args:
        embeddings: A :class:`MedEmbedEmbeddings` whose encoder scores evidence sentences (or pass ``encoder``).
        llm: A LangChain chat model, a medembed-rag LLM, or ``None`` for extractive answers.
        **options: Passed to :class:`~medembed_rag.answers.answerer.VerifiedAnswerer` (``min_relevance``, ...).
    """

    def __init__(self, embeddings: Any = None, llm: Any = None, *, encoder: Any = None, **options: Any) -> None:
        from ...answers.answerer import VerifiedAnswerer

        if encoder is None:
            encoder = embeddings.encoder if embeddings is not None else MedEmbedEncoder(DEFAULT_MODEL)
        self.answerer = VerifiedAnswerer(encoder=encoder, llm=_langchain_chat(llm), hybrid=False, **options)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any):
        from ...answers.answerer import Passage
        from ...errors import InvalidInputTypeError

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
            passages.append(Passage(str(chunk_id), doc_id, d.page_content,
                                    float(d.metadata.get("score", 0.0) or 0.0), dict(d.metadata)))
        return self.answerer.answer(question, passages)


def _vectorstore_base():
    return require("langchain_core.vectorstores", "langchain", "MedEmbedVectorStore").VectorStore


class MedEmbedVectorStore(_vectorstore_base()):
    """A LangChain ``VectorStore`` over a :class:`~medembed_rag.MedEmbedChromaStore` (``store.as_langchain()``).

    Writes go through the store: each added ``Document`` is one document, its id the ``Document.id`` (or the
    ``ids`` given, or a hash of its text); a document longer than the model's limit is split token-exactly
    with its section headings embedded; re-adding an id replaces that document's chunks; the collection's model
    stamp and the lexical index used by hybrid retrieval are kept. Results carry the document's id as
    ``Document.id``, the metadata it was given, its ``section``, and, for a split document, where the chunk lies
    (``chunk_index``, ``chunk_count``, ``start``, ``end``). ``delete(ids)`` removes whole documents (ids not
    held are ignored, as LangChain expects); ``filter=`` takes a Chroma ``where`` mapping.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self._embeddings = MedEmbedEmbeddings(encoder=store.encoder)

    @property
    def embeddings(self) -> MedEmbedEmbeddings:
        return self._embeddings

    @classmethod
    def from_texts(cls, texts, embedding=None, metadatas=None, *, ids=None, **store_options: Any):
        """Opens (or creates) a store with ``store_options`` (``path=``, ``host=``, ``collection=``...) and adds."""
        from ...index.store import MedEmbedChromaStore

        if embedding is not None and not isinstance(embedding, MedEmbedEmbeddings):
            raise InvalidInputTypeError(f"embedding must be MedEmbedEmbeddings, not {type(embedding).__name__}")
        store = MedEmbedChromaStore(encoder=embedding.encoder if embedding is not None else None, **store_options)
        face = cls(store)
        face.add_texts(list(texts), metadatas, ids=ids)
        return face

    def add_texts(self, texts, metadatas=None, *, ids=None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        if ids is None:
            ids = kwargs.pop("ids", None)
        ids = list(ids) if ids is not None else [None] * len(texts)
        if len(ids) != len(texts):
            raise InvalidInputError(f"{len(ids)} ids for {len(texts)} texts")
        doc_ids = [str(i) if i is not None else derive_doc_id(t) if isinstance(t, str) else None
                   for i, t in zip(ids, texts)]
        self.store.add_documents(texts, ids=doc_ids, metadatas=list(metadatas) if metadatas is not None else None)
        return doc_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        if ids is None:
            raise InvalidInputError("delete() needs the ids of the documents to delete")
        held = {h.doc_id for h in self.store.index.get(where={"doc_id": {"$in": list(ids)}})} if ids else set()
        if held:
            self.store.delete(sorted(held))
        return True

    def get_by_ids(self, ids) -> list:
        ids = list(ids)
        if not ids:
            return []
        hits = self.store.index.get(where={"doc_id": {"$in": ids}})
        order = {d: i for i, d in enumerate(ids)}
        hits.sort(key=lambda h: (order[h.doc_id], h.metadata.get("chunk_index", 0)))
        return [_document(h) for h in hits]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: dict | None = None, **kwargs: Any):
        vector = self.store.encoder.encode_queries(validate_texts([query], what="query"))[0]
        return self.similarity_search_by_vector_with_score(vector, k, filter=filter)

    def similarity_search_by_vector_with_score(self, embedding, k: int = 4, filter: dict | None = None):
        return [(_document(h), h.score) for h in self.store.index.dense(embedding, k, where=filter)]

    def similarity_search(self, query: str, k: int = 4, filter: dict | None = None, **kwargs: Any) -> list:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def similarity_search_by_vector(self, embedding, k: int = 4, filter: dict | None = None, **kwargs: Any) -> list:
        return [doc for doc, _ in self.similarity_search_by_vector_with_score(embedding, k, filter=filter)]

    def _select_relevance_score_fn(self):
        return lambda score: score  # already a cosine similarity


def _document(h: Any):
    from langchain_core.documents import Document

    return Document(id=h.doc_id, page_content=h.text, metadata=shown_metadata(h.metadata))
