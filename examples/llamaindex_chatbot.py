"""A stock LlamaIndex chat engine (CondenseQuestionChatEngine) over a stock VectorStoreIndex.

The medembed-rag lines are the embedding (inside the store's index), the store, optionally the reranker,
and the query engine: MedEmbedVerifiedQueryEngine checks every number, interval and drug name of the answer
against the sentence it cites, and says "The documents do not answer this question" rather than guess. The
LLM is the local SmolLM2 on OpenVINO (any LlamaIndex LLM works the same way).

    python examples/llamaindex_chatbot.py                 # interactive
    python examples/llamaindex_chatbot.py --scripted      # a two-turn conversation, then exit
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import chatbot_args, converse, sample_store  # noqa: E402

from llama_index.core.chat_engine import CondenseQuestionChatEngine  # noqa: E402

from medembed_rag.integrations.llama_index import (  # noqa: E402
    MedEmbedLocalLLM,
    MedEmbedRerank,
    MedEmbedVerifiedQueryEngine,
    vector_store_index,
)


def main() -> None:
    args = chatbot_args(__doc__)

    with sample_store(args.store, collection="llamaindex-chatbot") as store:
        index = vector_store_index(store)  # medembed: the store and its embedding
        llm = MedEmbedLocalLLM()
        postprocessors = [MedEmbedRerank(model=args.rerank, top_n=6)] if args.rerank else []  # medembed: optional
        retriever = index.as_retriever(similarity_top_k=20 if args.rerank else 6)  # rerankers need a bigger pool
        engine = MedEmbedVerifiedQueryEngine(  # medembed: verified, cited answers
            retriever=retriever, encoder=store.encoder, llm=llm, node_postprocessors=postprocessors,
        )
        chat = CondenseQuestionChatEngine.from_defaults(query_engine=engine, llm=llm)

        def ask(question: str):
            response = chat.chat(question)
            # source_nodes are the cited nodes, in [n] order
            return str(response), [f"{n.node.metadata.get('source')} > {n.node.metadata.get('section', '')}"
                                   for n in response.source_nodes]

        converse(ask, args.scripted, args.json)


if __name__ == "__main__":
    main()
