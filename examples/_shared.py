"""Shared by the example scripts: the sample documents, an encoder (MedEmbed or the offline stand-in), a store."""

from __future__ import annotations

from medembed_rag.demo import SAMPLES, load_demo_encoder
from medembed_rag.store import MedEmbedChromaStore

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
