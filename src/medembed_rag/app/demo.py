"""``medembed-rag demo``: index the packaged sample documents into an embedded Chroma store and answer a question.

The samples are synthetic (discharge advice, drug leaflets, guideline excerpts, monitoring schedules; no
patient data). Answers go through :class:`~medembed_rag.answers.answerer.VerifiedAnswerer`: evidence sentences, an
answer from a local language model (SmolLM2-135M-Instruct on OpenVINO; or any OpenAI-compatible server via
MEDEMBED_RAG_LLM_URL) whose every number, interval and drug name is checked against the cited sentence, or
the evidence sentences themselves; and "the documents do not answer this" when they do not. By default the
demo asks one question the samples answer and one they do not.
The embedding model is MedEmbed-base from the Hugging Face hub; where the hub cannot be reached and
nothing is cached, the demo says so in one banner and uses the packaged general-purpose stand-in model
(this fallback exists in the demo only; the library never swaps models silently).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..models.encoder import MedEmbedEncoder
from ..errors import OfflineModelError
from ..models.registry import DEFAULT_MODEL
from ..answers.answerer import VerifiedAnswerer
from ..index.store import MedEmbedChromaStore

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample_docs"
# One the documents answer (with a number that must not be invented), one they do not.
DEFAULT_QUESTIONS = (
    "How often should INR be checked when starting warfarin?",
    "What dose of amoxicillin should a child with an ear infection take?",
)


def load_demo_encoder(model: str | None = None) -> MedEmbedEncoder:
    """``model`` if given (no fallback); else MedEmbed-base, or (with a banner) the packaged stand-in when the
    hub cannot be reached."""
    if model is not None:
        encoder = MedEmbedEncoder(model, show_progress=True)
        encoder.load()
        return encoder
    encoder = MedEmbedEncoder(DEFAULT_MODEL, show_progress=True)
    try:
        encoder.load()
        return encoder
    except OfflineModelError:
        from ..testing import standin_model_path

        print(
            "=" * 78 + "\nMedEmbed-base cannot be downloaded here (no hub access, nothing cached).\n"
            "Running with the packaged general-purpose stand-in (all-MiniLM-L6-v2) instead.\n" + "=" * 78,
            file=sys.stderr,
        )
        encoder = MedEmbedEncoder(standin_model_path(), show_progress=True)
        print("loading the embedding model (exported to OpenVINO on the first run, cached afterwards)...",
              file=sys.stderr)
        encoder.load()
        return encoder


def format_answer(question: str, answerer: VerifiedAnswerer) -> str:
    """One question through the verified-answer path, as the demo prints it."""
    result = answerer.ask(question)
    state = "answered" if result.answered else "not answered by the documents"
    how = {"generated": f"written by {getattr(answerer.llm, 'name', 'the language model')}, verified",
           "extractive": "the evidence sentences themselves", "abstained": "abstained"}[result.mode]
    return f"Q: {question}\n({state}; {how})\n{result.format()}"


def run_demo(question: str | None = None, store: str = "medembed-demo-store", use_llm: bool = True,
             model: str | None = None, strictness: str = "balanced") -> int:
    encoder = load_demo_encoder(model)
    print(f"embedding model ready ({'exported now' if encoder.exports_run else 'from the cache'})", file=sys.stderr)
    llm = None
    if use_llm:
        from ..models.llm import default_llm

        print("loading the answer model (converted to OpenVINO on the first run, cached afterwards)...", file=sys.stderr)
        llm = default_llm()
        if llm is None:
            print("no language model available: answers are the cited evidence sentences", file=sys.stderr)
        else:
            state = "converted now" if getattr(llm, "exports_run", 0) else "from the cache"
            print(f"answer model ready: {llm.name} ({state})", file=sys.stderr)
    paths = sorted(SAMPLES.glob("*.md"))
    with MedEmbedChromaStore(store, encoder=encoder, collection="demo") as db:
        report = db.add_documents(
            [p.read_text(encoding="utf-8") for p in paths],
            ids=[p.stem for p in paths],
            metadatas=[{"source": p.name} for p in paths],
        )
        state = "from the existing store, nothing re-embedded" if report.embedded == 0 else "newly indexed"
        print(f"{len(paths)} documents, {db.count()} chunks in {store} ({state})", file=sys.stderr)
        answerer = VerifiedAnswerer(db, llm=llm, strictness=strictness)
        for asked in [question] if question else DEFAULT_QUESTIONS:
            print(format_answer(asked, answerer) + "\n")
        if question or not sys.stdin.isatty():
            return 0
        while True:
            try:
                asked = input("\nAsk a question (empty line to quit): ").strip()
            except EOFError:
                return 0
            if not asked:
                return 0
            print(format_answer(asked, answerer))
