"""A stock LlamaIndex chat engine (condense_plus_context) over a stock VectorStoreIndex.

The only medembed-rag lines are the embedding (inside the store's index), the store, and (optionally) the
reranker; the LLM is the local SmolLM2 on OpenVINO (any LlamaIndex LLM works the same way).

    python examples/llamaindex_chatbot.py                 # interactive
    python examples/llamaindex_chatbot.py --scripted      # a two-turn conversation, then exit
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import chatbot_args, converse, sample_store  # noqa: E402

from medembed_rag.integrations.llama_index import MedEmbedLocalLLM, MedEmbedRerank  # noqa: E402


def main() -> None:
    args = chatbot_args(__doc__)

    with sample_store(args.store, collection="llamaindex-chatbot") as store:
        index = store.as_llama_index_index()  # medembed: the store and its embedding
        postprocessors = [MedEmbedRerank(model=args.rerank, top_n=3)] if args.rerank else []  # medembed: optional
        chat = index.as_chat_engine(
            chat_mode="condense_plus_context",
            llm=MedEmbedLocalLLM(),
            similarity_top_k=20 if args.rerank else 3,  # rerankers need a bigger pool than they keep
            node_postprocessors=postprocessors,
        )

        def ask(question: str):
            response = chat.chat(question)
            return str(response), [f"{n.node.metadata.get('source')} > {n.node.metadata.get('section', '')}"
                                   for n in response.source_nodes]

        converse(ask, args.scripted, args.json)


if __name__ == "__main__":
    main()
