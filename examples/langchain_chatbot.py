"""A stock LangChain retrieval chain with chat history (history-aware retriever + create_retrieval_chain).

The medembed-rag lines are the store (its retriever embeds with MedEmbed), optionally the reranker, and
the answer step: MedEmbedVerifiedAnswer takes the place of create_stuff_documents_chain, so every number,
interval and drug name in the answer is checked against the sentence it cites, and a question the documents
do not answer gets "The documents do not answer this question" instead of a guess. The chat model is the
local SmolLM2 on OpenVINO (any LangChain chat model works the same way).

    python examples/langchain_chatbot.py                  # interactive
    python examples/langchain_chatbot.py --scripted       # a two-turn conversation, then exit
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import chatbot_args, converse, sample_store  # noqa: E402
from langchain_classic.chains import create_history_aware_retriever, create_retrieval_chain  # noqa: E402
from langchain_classic.retrievers import ContextualCompressionRetriever  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402

from medembed_rag.integrations.langchain import (  # noqa: E402
    MedEmbedChatModel,
    MedEmbedLangChainVectorStore,
    MedEmbedRerank,
    MedEmbedVerifiedAnswer,
)

# Small local models follow a plain-text history better than a list of chat messages.
CONDENSE = ChatPromptTemplate.from_messages([(
    "human",
    "Given the following conversation and a follow up question, rephrase the follow up question to be a "
    "standalone question.\n\nChat History:\n{chat_history}\nFollow Up Input: {input}\nStandalone question:",
)])


def main() -> None:
    args = chatbot_args(__doc__)

    with sample_store(args.store, collection="langchain-chatbot") as store:
        llm = MedEmbedChatModel()
        retriever = MedEmbedLangChainVectorStore.from_store(store).as_retriever(  # medembed
            search_kwargs={"k": 20 if args.rerank else 6})
        if args.rerank:  # medembed (optional): rerankers need a bigger pool than they keep
            retriever = ContextualCompressionRetriever(base_compressor=MedEmbedRerank(model=args.rerank, top_n=3),
                                                       base_retriever=retriever)
        chain = create_retrieval_chain(
            create_history_aware_retriever(llm, retriever, CONDENSE),
            MedEmbedVerifiedAnswer(llm=llm, encoder=store.encoder),  # medembed: verified, cited answers
        )
        history = []

        def ask(question: str):
            result = chain.invoke({"input": question, "chat_history": "".join(history)})
            answer = result["answer"]  # a VerifiedAnswer: str() is the text, .citations what [n] refers to
            history.append(f"human: {question}\nassistant: {answer}\n")
            return str(answer), [f"{c.source} > {c.section or ''}" for c in answer.citations]

        converse(ask, args.scripted, args.json)


if __name__ == "__main__":
    main()
