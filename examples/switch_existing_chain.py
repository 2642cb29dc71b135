"""An ordinary LangChain RAG chain, shown twice: with its usual embedding, and with MedEmbed.

The two builders differ in exactly one line (the `embeddings = ...` line); everything else - store,
retriever, prompt, chat model, parser - is untouched. `tests/test_examples.py` checks that.

    python examples/switch_existing_chain.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from langchain_core.documents import Document  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnablePassthrough  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402
from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402

from medembed_rag.app.demo import SAMPLES, load_demo_encoder  # noqa: E402
from medembed_rag.integrations.langchain import MedEmbedChatModel, MedEmbedEmbeddings  # noqa: E402
from medembed_rag.testing import standin_model_path  # noqa: E402

GENERAL_MODEL = str(standin_model_path())  # the chain's usual general-purpose model (all-MiniLM-L6-v2)
PROMPT = ChatPromptTemplate.from_template("Answer from this context only:\n{context}\n\nQuestion: {question}")


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(d.page_content for d in docs)


def build_chain_default(docs: list[Document], llm):
    embeddings = HuggingFaceEmbeddings(model_name=GENERAL_MODEL)
    retriever = InMemoryVectorStore.from_documents(docs, embedding=embeddings).as_retriever(search_kwargs={"k": 2})
    return {"context": retriever | format_docs, "question": RunnablePassthrough()} | PROMPT | llm | StrOutputParser()


def build_chain_medembed(docs: list[Document], llm):
    embeddings = MedEmbedEmbeddings(encoder=load_demo_encoder())  # MedEmbed (the stand-in when offline)
    retriever = InMemoryVectorStore.from_documents(docs, embedding=embeddings).as_retriever(search_kwargs={"k": 2})
    return {"context": retriever | format_docs, "question": RunnablePassthrough()} | PROMPT | llm | StrOutputParser()


def main() -> None:
    docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
            for p in sorted(SAMPLES.glob("*.md"))]
    llm = MedEmbedChatModel()
    question = "How should metformin be started?"
    for name, build in (("usual embedding", build_chain_default), ("MedEmbed", build_chain_medembed)):
        print(f"--- {name}\n{build(docs, llm).invoke(question)}\n")


if __name__ == "__main__":
    main()
