"""Shared by the example scripts: the sample documents, an encoder (MedEmbed or the offline stand-in), a store."""

from __future__ import annotations

import argparse
import json

from medembed_rag.app.demo import SAMPLES, load_demo_encoder
from medembed_rag.index.store import MedEmbedChromaStore

CONVERSATION = [
    "What is warfarin used for?",
    "Which blood test do I need while taking it?",  # "it" refers to the first question
]


def sample_store(path: str, collection: str) -> MedEmbedChromaStore:
    """An embedded store holding the packaged sample documents (indexed once, reused afterwards)."""
    store = MedEmbedChromaStore(path, encoder=load_demo_encoder(), collection=collection)
    paths = sorted(SAMPLES.glob("*.md"))
    store.add_documents([p.read_text(encoding="utf-8") for p in paths], ids=[p.stem for p in paths],
                        metadatas=[{"source": p.name} for p in paths])
    return store


def chatbot_args(doc: str) -> argparse.Namespace:
    """The chatbot scripts' common options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="medembed-chatbot-store")
    parser.add_argument("--scripted", action="store_true", help="run the two-turn sample conversation")
    parser.add_argument("--rerank", default=None, help="cross-encoder to rerank a pool of 20 (hub id or folder)")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def converse(ask, scripted: bool, as_json: bool) -> None:
    """Runs the conversation: ``ask(question) -> (answer, sources)`` per turn; prints turns or JSON."""
    questions = CONVERSATION if scripted else iter(lambda: input("\nYou: ").strip(), "")
    turns = []
    for question in questions:
        answer, sources = ask(question)
        turns.append({"question": question, "answer": answer, "sources": sources})
        if not as_json:
            print(f"\nYou: {question}\nAssistant: {answer}\nSources: " + "; ".join(sources))
    if as_json:
        print(json.dumps(turns, indent=1))
