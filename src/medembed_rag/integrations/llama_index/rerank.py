"""A LlamaIndex node postprocessor over the cross-encoder reranker."""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from ...models.options import Precision
from ...models.registry import DEFAULT_RERANKER
from .._options import reranker_values, shared_or_new_reranker


class MedEmbedRerank(BaseNodePostprocessor):
    """A LlamaIndex node postprocessor that reorders retrieved nodes with :class:`~medembed_rag.models.reranker.MedEmbedReranker`.

    Retrieve a larger pool than you keep (e.g. ``similarity_top_k=50``, ``top_n=5``): the cross-encoder can
    only promote passages the first stage found. Each kept node's score becomes the rerank score; the
    retrieval score is kept in ``metadata["retrieval_score"]``. Emits LlamaIndex's rerank events.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    top_n: int = Field(default=5, gt=0, description="Nodes kept after reranking.")
    model: str = Field(default=DEFAULT_RERANKER, description="Cross-encoder hub id or local folder.")
    precision: Precision = Field(default="auto", description="OpenVINO precision (as for the encoder).")
    keep_retrieval_score: bool = Field(default=True, description="Keep the first-stage score in metadata.")

    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any = None, **data: Any) -> None:
        super().__init__(**reranker_values(reranker, data))
        self._reranker = shared_or_new_reranker(self, reranker)

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
