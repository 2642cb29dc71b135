"""The main job: index sample medical documents into an embedded Chroma store and answer a question.

    python examples/demo.py                       # one sample question, then an interactive prompt
    python examples/demo.py --question "..."      # one question, no prompt

Answers are retrieval-only for now: the passages that answer the question, numbered as citations. The
embedding model is MedEmbed-base from the Hugging Face hub; where the hub cannot be reached and nothing is
cached, the demo says so in one banner and uses the packaged general-purpose stand-in model instead (this
fallback exists in the examples only; the library never swaps models silently).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medembed_rag import MedEmbedEncoder, OfflineModelError
from medembed_rag.store import MedEmbedChromaStore

SAMPLES = Path(__file__).resolve().parent / "sample_docs"
DEFAULT_QUESTION = "Why do patients on warfarin need regular blood tests?"


def load_encoder() -> MedEmbedEncoder:
    encoder = MedEmbedEncoder("abhinand/MedEmbed-base-v0.1", show_progress=True)
    try:
        encoder.load()
        return encoder
    except OfflineModelError:
        from medembed_rag.testing import standin_model_path

        print(
            "=" * 78 + "\nMedEmbed-base cannot be downloaded here (no hub access, nothing cached).\n"
            "Running with the packaged general-purpose stand-in (all-MiniLM-L6-v2) instead.\n" + "=" * 78,
            file=sys.stderr,
        )
        encoder = MedEmbedEncoder(standin_model_path(), show_progress=True)
        encoder.load()
        return encoder


def answer(store: MedEmbedChromaStore, question: str, k: int = 3) -> str:
    hits = store.query(question, k=k)
    lines = [f"Q: {question}", "Answer (retrieval only: no language model is configured yet):"]
    lines += [f"  [{i}] {h.text}" for i, h in enumerate(hits, start=1)]
    lines.append("Sources:")
    lines += [
        f"  [{i}] {h.metadata.get('source')} > {h.metadata.get('section', '(top)')} (similarity {h.score:.2f})"
        for i, h in enumerate(hits, start=1)
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--question", help="ask one question and exit")
    parser.add_argument("--store", default="medembed-demo-store", help="folder of the embedded Chroma store")
    args = parser.parse_args()
    encoder = load_encoder()
    paths = sorted(SAMPLES.glob("*.md"))
    with MedEmbedChromaStore(args.store, encoder=encoder, collection="demo") as store:
        report = store.add_documents(
            [p.read_text(encoding="utf-8") for p in paths],
            ids=[p.stem for p in paths],
            metadatas=[{"source": p.name} for p in paths],
        )
        state = "from the existing store, nothing re-embedded" if report.embedded == 0 else "newly indexed"
        print(f"{len(paths)} documents, {store.count()} chunks in {args.store} ({state})", file=sys.stderr)
        print(answer(store, args.question or DEFAULT_QUESTION))
        if args.question or not sys.stdin.isatty():
            return
        while True:
            try:
                question = input("\nAsk a question (empty line to quit): ").strip()
            except EOFError:
                return
            if not question:
                return
            print(answer(store, question))


if __name__ == "__main__":
    main()
