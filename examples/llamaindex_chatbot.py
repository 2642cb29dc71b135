"""A stock LlamaIndex chat engine (condense_plus_context) over a stock VectorStoreIndex.

The only medembed-rag lines are the embedding (inside the store's index), the store, and (optionally) the
reranker; the LLM is the local SmolLM2 on OpenVINO (any LlamaIndex LLM works the same way).

    python examples/llamaindex_chatbot.py                 # interactive
    python examples/llamaindex_chatbot.py --scripted      # a two-turn conversation, then exit
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import CONVERSATION, sample_store  # noqa: E402

from medembed_rag.integrations.llama_index import MedEmbedLocalLLM, MedEmbedRerank  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="medembed-chatbot-store")
    parser.add_argument("--scripted", action="store_true", help="run the two-turn sample conversation")
    parser.add_argument("--rerank", default=None, help="cross-encoder to rerank a pool of 20 (hub id or folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with sample_store(args.store, collection="llamaindex-chatbot") as store:
        index = store.as_llama_index_index()  # medembed: the store and its embedding
        postprocessors = [MedEmbedRerank(model=args.rerank, top_n=3)] if args.rerank else []  # medembed: optional
        chat = index.as_chat_engine(
            chat_mode="condense_plus_context",
            llm=MedEmbedLocalLLM(),
            similarity_top_k=20 if args.rerank else 3,  # rerankers need a bigger pool than they keep
            node_postprocessors=postprocessors,
        )
        questions = CONVERSATION if args.scripted else iter(lambda: input("\nYou: ").strip(), "")
        turns = []
        for question in questions:
            response = chat.chat(question)
            sources = [f"{n.node.metadata.get('source')} > {n.node.metadata.get('section', '')}" for n in response.source_nodes]
            turns.append({"question": question, "answer": str(response), "sources": sources})
            if not args.json:
                print(f"\nYou: {question}\nAssistant: {response}\nSources: " + "; ".join(sources))
        if args.json:
            print(json.dumps(turns, indent=1))


if __name__ == "__main__":
    main()
