"""MedEmbed in LlamaIndex: the embedding model (``Settings.embed_model = MedEmbedEmbedding()``), node parser, reranker.

Needs ``pip install 'medembed-rag[llama-index]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from .. import require

require("llama_index.core", "llama-index", "medembed_rag.integrations.llama_index")

from llama_index.core.base.base_retriever import BaseRetriever  # noqa: E402
from llama_index.core.base.response.schema import Response  # noqa: E402
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding  # noqa: E402
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr  # noqa: E402
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback  # noqa: E402
from llama_index.core.node_parser import NodeParser  # noqa: E402
from llama_index.core.postprocessor.types import BaseNodePostprocessor  # noqa: E402
from llama_index.core.query_engine import CustomQueryEngine  # noqa: E402
from llama_index.core.schema import (  # noqa: E402
    BaseNode,
    MetadataMode,
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    TextNode,
)

from ...models.encoder import MedEmbedEncoder  # noqa: E402
from ...errors import InvalidInputError, ModelMismatchError  # noqa: E402
from ...index.metadata import to_chroma_metadata  # noqa: E402
from ...index.records import location, node_record  # noqa: E402
from ...models.registry import DEFAULT_MODEL, DEFAULT_RERANKER  # noqa: E402
from .._options import adapter_encoder, adapter_init, reranker_init, reranker_of  # noqa: E402


class MedEmbedEmbedding(BaseEmbedding):
    """A LlamaIndex ``BaseEmbedding`` over :class:`~medembed_rag.MedEmbedEncoder` (OpenVINO, CPU).

    Every option has the meaning it has on the encoder. Pass ``encoder=`` to share one loaded encoder
    between adapters (then leave the encoder options unset). Construction is cheap: the model is loaded
    on first use. ``to_dict`` / ``from_dict`` carry the options, never the compiled model.

    Example:
        >>> from llama_index.core import Settings
        >>> Settings.embed_model = MedEmbedEmbedding()  # MedEmbed-base, pinned revision
    """

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=("pydantic_model_",), arbitrary_types_allowed=True, populate_by_name=True
    )

    model_name: str = Field(
        default=DEFAULT_MODEL,
        alias="model",
        description="Hub id of a registered MedEmbed model, or a local model folder.",
    )
    embed_batch_size: int = Field(
        default=32, gt=0, le=2048, description="Texts per call into the encoder (LlamaIndex batches by this)."
    )
    revision: str | None = Field(default=None, description="Hub commit; default: the registry's pinned revision.")
    precision: Literal["auto", "fp32", "int8"] = Field(
        default="auto", description="auto (bf16 on AMX CPUs), fp32 (exact) or int8 (static NNCF quantisation)."
    )
    max_length: int | None = Field(default=None, description="Most tokens per input; default: the model's limit.")
    cache_dir: str | None = Field(default=None, description="Where exported OpenVINO models are cached.")
    truncation: Literal["warn", "error", "silent"] = Field(
        default="warn", description="What to do with inputs longer than max_length."
    )
    show_progress: bool | None = Field(default=None, description="Show a progress bar; None: only on long runs.")
    num_threads: int | None = Field(default=None, description="CPU threads for OpenVINO; default: all cores.")
    query_instruction: str | None = Field(
        default=None, description="Text put before each query; default: the model's own (none for MedEmbed)."
    )
    text_instruction: str | None = Field(
        default=None, description="Text put before each document; default: the model's own (none for MedEmbed)."
    )

    _encoder: MedEmbedEncoder = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, **data: Any) -> None:
        data, explicit = adapter_init(encoder, data, batch_field="embed_batch_size")
        super().__init__(**data)
        self._encoder = adapter_encoder(self, encoder, explicit, batch_size=self.embed_batch_size)

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


def _chunker_from(encoder: Any, tokenizer: Any, options: dict[str, Any]):
    from ...chunking import MedicalChunker

    return MedicalChunker(encoder, tokenizer=tokenizer, **options)


_HEADING_KEY = "section_heading"
_NODE_NAMES = {"heading": _HEADING_KEY}
_NOT_EMBEDDED = ("chunk_index", "chunk_count", "section")
_NOT_SHOWN = ("chunk_index", "chunk_count", _HEADING_KEY)


class MedicalNodeParser(NodeParser):
    """A LlamaIndex node parser over :class:`~medembed_rag.chunking.MedicalChunker`.

    Nodes keep their source relationship, exact ``start_char_idx`` / ``end_char_idx``, the parent's
    metadata, and gain ``section`` and ``chunk_index``; later chunks of a long section also gain
    ``section_heading`` (the section's heading lines), which LlamaIndex embeds with the node but does not show
    the LLM. The metadata LlamaIndex puts in front of each node when embedding is counted against the token
    budget, so no node is ever cut by the encoder.

    Example:
        >>> parser = MedicalNodeParser(encoder=encoder)
        >>> nodes = parser.get_nodes_from_documents(documents)
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    chunk_tokens: int | None = Field(default=None, description="Content tokens per chunk; default: the model's limit.")
    overlap_tokens: int = Field(default=0, ge=0, description="Tokens repeated from the previous chunk.")
    heading_context: bool = Field(
        default=True, description="Embed a long section's heading with each of its later chunks (section_heading)."
    )

    _chunker: Any = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, *, tokenizer: Any = None, **data: Any) -> None:
        super().__init__(**data)
        self._chunker = _chunker_from(
            encoder,
            tokenizer,
            {"chunk_tokens": self.chunk_tokens, "overlap_tokens": self.overlap_tokens,
             "heading_context": self.heading_context},
        )

    @classmethod
    def class_name(cls) -> str:
        return "MedicalNodeParser"

    @property
    def chunker(self):
        """The core chunker."""
        return self._chunker

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> list[BaseNode]:
        from llama_index.core.utils import get_tqdm_iterable

        out: list[BaseNode] = []
        for node in get_tqdm_iterable(nodes, show_progress, "Chunking documents"):
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            # What LlamaIndex prepends when embedding: the parent's metadata header ("key: value" lines + a blank line).
            header = node.get_metadata_str(mode=MetadataMode.EMBED) if self.include_metadata else ""
            reserved = len(self._chunker.tokenizer.encode(header + "\n\n", add_special_tokens=False).ids) if header else 0
            if self.heading_context:  # "section_heading: " in front of the heading the chunker already counts
                reserved += len(self._chunker.tokenizer.encode(f"{_HEADING_KEY}:", add_special_tokens=False).ids)
            doc_id = node.ref_doc_id or node.node_id
            chunks = self._chunker.split(text, doc_id=doc_id, reserved_tokens=reserved)
            for chunk in chunks:
                # The store's location keys; the offsets go to LlamaIndex's own fields, the heading is embedded.
                loc = location(chunk, len(chunks))
                child = TextNode(
                    text=chunk.text,
                    id_=self.id_func(len(out), node),
                    start_char_idx=loc.pop("start"),
                    end_char_idx=loc.pop("end"),
                    metadata={_NODE_NAMES.get(k, k): v for k, v in loc.items()},
                    excluded_embed_metadata_keys=[*node.excluded_embed_metadata_keys, *_NOT_EMBEDDED],
                    excluded_llm_metadata_keys=[*node.excluded_llm_metadata_keys, *_NOT_SHOWN],
                    relationships={NodeRelationship.SOURCE: node.as_related_node_info()},
                )
                out.append(child)
        return out


class MedEmbedRerank(BaseNodePostprocessor):
    """A LlamaIndex node postprocessor that reorders retrieved nodes with :class:`~medembed_rag.models.reranker.MedEmbedReranker`.

    Retrieve a larger pool than you keep (e.g. ``similarity_top_k=50``, ``top_n=5``): the cross-encoder can
    only promote passages the first stage found. Each kept node's score becomes the rerank score; the
    retrieval score is kept in ``metadata["retrieval_score"]``. Emits LlamaIndex's rerank events.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    top_n: int = Field(default=5, gt=0, description="Nodes kept after reranking.")
    model: str = Field(default=DEFAULT_RERANKER, description="Cross-encoder hub id or local folder.")
    precision: Literal["auto", "fp32", "int8"] = Field(default="auto", description="OpenVINO precision.")
    keep_retrieval_score: bool = Field(default=True, description="Keep the first-stage score in metadata.")

    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any = None, **data: Any) -> None:
        super().__init__(**reranker_init(reranker, data))
        self._reranker = reranker_of(self, reranker)

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedRerank"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        from llama_index.core.callbacks import CBEventType, EventPayload
        from llama_index.core.instrumentation import get_dispatcher
        from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent

        if query_bundle is None:
            raise ValueError("MedEmbedRerank needs the query (query_bundle)")
        dispatcher = get_dispatcher(__name__)
        dispatcher.event(
            ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=self.top_n, model_name=self.model)
        )
        if not nodes:
            dispatcher.event(ReRankEndEvent(nodes=[]))
            return []
        with self.callback_manager.event(
            CBEventType.RERANKING,
            payload={
                EventPayload.NODES: nodes,
                EventPayload.MODEL_NAME: self.model,
                EventPayload.QUERY_STR: query_bundle.query_str,
                EventPayload.TOP_K: self.top_n,
            },
        ) as event:
            texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
            ranked = self._reranker.rank(query_bundle.query_str, texts, top_k=self.top_n)
            kept = []
            for index, score in ranked:
                node = nodes[index]
                if self.keep_retrieval_score:
                    node.node.metadata["retrieval_score"] = node.score
                kept.append(NodeWithScore(node=node.node, score=score))
            event.on_end(payload={EventPayload.NODES: kept})
        dispatcher.event(ReRankEndEvent(nodes=kept))
        return kept


class MedEmbedHybridRetriever(BaseRetriever):
    """A LlamaIndex retriever over :class:`~medembed_rag.index.hybrid.HybridRetriever` (dense + BM25, fused)."""

    def __init__(self, hybrid: Any, similarity_top_k: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hybrid = hybrid
        self._k = similarity_top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=h.id, text=h.text, metadata=dict(h.metadata)), score=h.score)
            for h in self._hybrid.query(query_bundle.query_str, self._k)
        ]


def _llama_index_llm_base():
    from llama_index.core.llms import CustomLLM

    return CustomLLM


class MedEmbedLocalLLM(_llama_index_llm_base()):
    """A LlamaIndex LLM over :mod:`medembed_rag.models.llm` (local SmolLM2 on OpenVINO, or an OpenAI-compatible server).

    Example:
        >>> chat = index.as_chat_engine(chat_mode="condense_plus_context", llm=MedEmbedLocalLLM())
    """

    context_window: int = Field(default=8192, description="Tokens the model reads.")
    num_output: int = Field(default=200, description="Longest answer in tokens.")

    _llm: Any = PrivateAttr()

    def __init__(self, llm: Any = None, **data: Any) -> None:
        super().__init__(**data)
        if llm is None:
            from ...models.llm import LocalLLM

            llm = LocalLLM(max_new_tokens=self.num_output)
        self._llm = llm

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedLocalLLM"

    @property
    def metadata(self):
        from llama_index.core.llms import LLMMetadata

        return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                           model_name=self._llm.name, is_chat_model=True)

    def _ask(self, messages: list[dict]) -> str:
        return self._llm.chat(messages)

    @llm_chat_callback()
    def chat(self, messages: Sequence[Any], **kwargs: Any):
        from llama_index.core.llms import ChatMessage, ChatResponse

        reply = self._ask([{"role": str(getattr(m.role, "value", m.role)), "content": m.content or ""} for m in messages])
        return ChatResponse(message=ChatMessage(role="assistant", content=reply))

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        from llama_index.core.llms import CompletionResponse

        return CompletionResponse(text=self._ask([{"role": "user", "content": prompt}]))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        response = self.complete(prompt, formatted=formatted, **kwargs)

        def gen():
            yield response

        return gen()


def _llama_index_chat(llm: Any):
    """``chat(messages) -> str`` over a LlamaIndex LLM, our LLM classes, or ``None``."""
    if llm is None or not isinstance(llm, _llama_index_llm_base()):
        return llm

    def chat(messages: list[dict]) -> str:
        from llama_index.core.llms import ChatMessage

        return str(llm.chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]).message.content)

    return chat


class MedEmbedVerifiedQueryEngine(CustomQueryEngine):
    """A query engine whose answers are verified and cited, or say that the documents do not answer.

    Wraps any LlamaIndex retriever; the answer's ``metadata`` holds ``answered``, ``citations``, ``removed``
    (the shape of ``medembed-rag ask --json``), and ``source_nodes`` are the cited nodes. Every number,
    interval and drug name the LLM writes is checked against the sentence it cites (:mod:`medembed_rag.answers.answerer`).

        engine = MedEmbedVerifiedQueryEngine(retriever=index.as_retriever(similarity_top_k=6),
                                             embed_model=embed_model, llm=llm)
    """

    retriever: BaseRetriever
    embed_model: Any = None
    """A :class:`MedEmbedEmbedding`; its encoder scores evidence sentences (or pass ``encoder``)."""
    encoder: Any = None
    llm: Any = None
    """A LlamaIndex LLM, a medembed-rag LLM, or ``None`` for extractive answers."""
    node_postprocessors: list = []
    """Applied to the retrieved nodes first (e.g. :class:`MedEmbedRerank`)."""
    answer_options: dict = {}
    """Passed to :class:`~medembed_rag.answers.answerer.VerifiedAnswerer` (``min_relevance``, ``min_coverage``, ...)."""

    _answerer: Any = PrivateAttr(default=None)

    def _get_answerer(self):
        """Built once per engine (it measures the encoder's similarity scale on first use)."""
        if self._answerer is None:
            from ...answers.answerer import VerifiedAnswerer

            encoder = self.encoder or getattr(self.embed_model, "encoder", None)
            if encoder is None:
                raise InvalidInputError("MedEmbedVerifiedQueryEngine needs embed_model=MedEmbedEmbedding(...) or "
                                        "encoder=... (it scores evidence sentences)")
            self._answerer = VerifiedAnswerer(encoder=encoder, llm=_llama_index_chat(self.llm), hybrid=False,
                                              **self.answer_options)
        return self._answerer

    def custom_query(self, query_str: str) -> Response:
        from ...answers.answerer import Passage

        answerer = self._get_answerer()
        nodes = self.retriever.retrieve(query_str)
        for postprocessor in self.node_postprocessors:
            nodes = postprocessor.postprocess_nodes(nodes, query_str=query_str)
        passages = [Passage(n.node.node_id, n.node.metadata.get("doc_id") or n.node.ref_doc_id, n.node.get_content(),
                            float(n.score or 0.0), dict(n.node.metadata)) for n in nodes]
        result = answerer.answer(query_str, passages)
        by_id = {n.node.node_id: n for n in nodes}
        cited = [NodeWithScore(node=by_id[c.chunk_id].node, score=c.score) for c in result.citations
                 if c.chunk_id in by_id]
        return Response(response=result.answer, source_nodes=cited, metadata=result.to_dict())


def _vector_store_base():
    from llama_index.core.vector_stores.types import BasePydanticVectorStore

    return BasePydanticVectorStore


_OPERATORS = {"==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte", "in": "$in",
              "nin": "$nin"}


def _where(filters: Any, doc_ids: Sequence[str] | None = None) -> dict | None:
    """LlamaIndex ``MetadataFilters`` (and ``doc_ids``) as a Chroma ``where`` filter."""
    clauses = []
    if filters is not None:
        parts = []
        for f in filters.filters:
            if hasattr(f, "filters"):  # nested MetadataFilters
                parts.append(_where(f))
                continue
            op = _OPERATORS.get(getattr(f.operator, "value", f.operator))
            if op is None:
                raise InvalidInputError(f"filter operator {f.operator!r} is not supported; use one of {sorted(_OPERATORS)}")
            parts.append({f.key: {op: f.value}})
        condition = "$or" if str(getattr(filters.condition, "value", filters.condition)).lower() == "or" else "$and"
        if parts:
            clauses.append(parts[0] if len(parts) == 1 else {condition: parts})
    if doc_ids:
        clauses.append({"doc_id": {"$in": list(doc_ids)}})
    return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}


class MedEmbedVectorStore(_vector_store_base()):
    """A LlamaIndex vector store over a :class:`~medembed_rag.MedEmbedChromaStore` (``store.as_llama_index()``).

    Nodes are written through the store: stored under their node id with ``doc_id`` = their ``ref_doc_id``,
    their offsets and section heading (from :class:`MedicalNodeParser`) kept, embedded by the store's encoder
    with the heading (vectors LlamaIndex computed with another model are never written, so the collection's
    model stamp holds), and indexed for hybrid retrieval. ``delete(ref_doc_id)`` removes a document's nodes.
    Query modes: ``default`` (dense) and ``hybrid`` (dense + BM25, weighted by ``alpha``, default 0.8).
    Returned nodes carry their id, text, offsets, the metadata they were given and the store's ``section``.
    """

    stores_text: bool = True
    flat_metadata: bool = True

    _store: Any = PrivateAttr()

    def __init__(self, store: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store = store

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedVectorStore"

    @property
    def client(self) -> Any:
        return self._store

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        records = []
        for i, node in enumerate(nodes):
            meta = dict(node.metadata)
            heading = meta.pop(_HEADING_KEY, None)
            place = {k: meta.pop(k) for k in ("chunk_index", "chunk_count", "section") if k in meta}
            meta.pop("doc_id", None)  # the node's ref_doc_id is its document
            records.append(node_record(
                node.node_id, node.ref_doc_id or node.node_id, node.get_content(metadata_mode=MetadataMode.NONE),
                {**to_chroma_metadata(meta, index=i), **place}, start=node.start_char_idx, end=node.end_char_idx,
                heading=heading,
            ))
        if records:
            self._store.index.write(records, self._store.encoder.encode_documents, replace_documents=False)
        return [node.node_id for node in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._store.index.delete_ids([h.id for h in self._store.index.get(where={"doc_id": ref_doc_id})])

    def delete_nodes(self, node_ids: list[str] | None = None, filters: Any = None, **delete_kwargs: Any) -> None:
        self._store.index.delete_ids([n.node_id for n in self.get_nodes(node_ids, filters)])

    def clear(self) -> None:
        self._store.index.delete_ids([h.id for h in self._store.index.get()])

    def get_nodes(self, node_ids: list[str] | None = None, filters: Any = None) -> list[BaseNode]:
        hits = self._store.index.get(node_ids, where=_where(filters)) if node_ids is not None or filters else \
            self._store.index.get()
        return [_node(h) for h in hits]

    def query(self, query: Any, **kwargs: Any) -> Any:
        from llama_index.core.vector_stores.types import VectorStoreQueryMode, VectorStoreQueryResult

        k = query.similarity_top_k
        where = _where(query.filters, query.doc_ids)
        if query.mode == VectorStoreQueryMode.HYBRID:
            if where:
                raise InvalidInputError("hybrid queries take no filters yet; use the default mode with filters")
            alpha = 0.8 if query.alpha is None else query.alpha
            hits = self._store.hybrid(weight=alpha).query(query.query_str, k)
        elif query.mode == VectorStoreQueryMode.DEFAULT:
            vector = query.query_embedding
            if vector is None or len(vector) != self._store.encoder.dim:
                if not query.query_str:
                    raise ModelMismatchError(
                        f"the query vector has {len(vector or [])} dimensions but the store's model "
                        f"{self._store.encoder.model_id} makes {self._store.encoder.dim}; query with the store's "
                        f"embed model (store.as_llama_index_index())")
                vector = self._store.encoder.encode_queries([query.query_str])[0]
            hits = self._store.index.dense(vector, k, where=where)
        else:
            raise InvalidInputError(f"query mode {query.mode!r} is not supported; use 'default' or 'hybrid'")
        return VectorStoreQueryResult(nodes=[_node(h) for h in hits], similarities=[h.score for h in hits],
                                      ids=[h.id for h in hits])


def _node(h: Any) -> TextNode:
    from llama_index.core.schema import RelatedNodeInfo

    meta = dict(h.metadata)
    shown = {k: v for k, v in meta.items() if k not in ("start", "end", "heading", "medembed_doc_hash")}
    if meta.get("heading"):
        shown[_HEADING_KEY] = meta["heading"]
    return TextNode(
        id_=h.id, text=h.text, metadata=shown,
        start_char_idx=meta.get("start"), end_char_idx=meta.get("end"),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=h.doc_id)} if h.doc_id else {},
    )
