"""Long, chatty consumer questions over the demo's sample documents: hybrid retrieval must beat dense alone."""

from medembed_rag.app.demo import SAMPLES
from medembed_rag.index.store import MedEmbedChromaStore

from .consumer_questions import CONSUMER_QUESTIONS


def _reciprocal_rank(hits, doc, phrase) -> float:
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == doc and phrase in hit.text:
            return 1.0 / rank
    return 0.0


def test_hybrid_beats_dense_on_consumer_questions(tmp_path, encoder):
    paths = sorted(SAMPLES.glob("*.md"))
    with MedEmbedChromaStore(tmp_path / "s", encoder=encoder) as store:
        store.add_documents([p.read_text() for p in paths], ids=[p.stem for p in paths])
        hybrid = store.hybrid()
        dense = [_reciprocal_rank(store.query(q, 10), d, p) for q, d, p in CONSUMER_QUESTIONS]
        fused = [_reciprocal_rank(hybrid.query(q, 10), d, p) for q, d, p in CONSUMER_QUESTIONS]
    print(f"MRR@10 dense {sum(dense) / len(dense):.3f}, hybrid {sum(fused) / len(fused):.3f}")
    assert sum(fused) > sum(dense), (dense, fused)
    assert all(f > 0 for f in fused), fused  # every answering passage within the hybrid's top 10
