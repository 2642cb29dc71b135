"""A LlamaIndex query engine whose answers are verified and cited, or say that the documents do not answer."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import NodeWithScore

from ...errors import InvalidInputError
from ...index.records import Hit
from .llm import as_chat


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
    strictness: str = "balanced"
    """When to abstain: ``"high"`` abstains more, ``"lenient"`` answers more (the README gives each one's figures)."""
    answer_options: dict = {}
    """Passed to :class:`~medembed_rag.answers.answerer.VerifiedAnswerer` (``min_probability``, ``abstention``, ...)."""

    _answerer: Any = PrivateAttr(default=None)

    def _get_answerer(self):
        """Built once per engine (it measures the encoder's similarity scale on first use)."""
        if self._answerer is None:
            from ...answers.answerer import VerifiedAnswerer

            encoder = self.encoder or getattr(self.embed_model, "encoder", None)
            if encoder is None:
                raise InvalidInputError("MedEmbedVerifiedQueryEngine needs embed_model=MedEmbedEmbedding(...) or "
                                        "encoder=... (it scores evidence sentences)")
            self._answerer = VerifiedAnswerer(encoder=encoder, llm=as_chat(self.llm), hybrid=False,
                                              strictness=self.strictness, **self.answer_options)
        return self._answerer

    def custom_query(self, query_str: str) -> Response:
        from ...answers.answerer import Passage

        answerer = self._get_answerer()
        nodes = self.retriever.retrieve(query_str)
        for postprocessor in self.node_postprocessors:
            nodes = postprocessor.postprocess_nodes(nodes, query_str=query_str)
        passages = [Hit(n.node.node_id, n.node.metadata.get("doc_id") or n.node.ref_doc_id, n.node.get_content(),
                            float(n.score or 0.0), dict(n.node.metadata)) for n in nodes]
        result = answerer.answer(query_str, passages)
        by_id = {n.node.node_id: n for n in nodes}
        cited = [NodeWithScore(node=by_id[c.chunk_id].node, score=c.score) for c in result.citations
                 if c.chunk_id in by_id]
        return Response(response=result.answer, source_nodes=cited, metadata=result.to_dict())
