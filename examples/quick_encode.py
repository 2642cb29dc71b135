"""Encode a few medical sentences with MedEmbed on OpenVINO and rank passages for a question.

Loads MedEmbed-base from the Hugging Face hub (pinned revision). Where the hub cannot be reached and no
copy is cached, it says so and uses the packaged general-purpose stand-in model instead (this fallback
exists in the examples only; the library never swaps models silently).
"""

from __future__ import annotations

import sys

from medembed_rag import MedEmbedEncoder, OfflineModelError

PASSAGES = [
    "Metformin is the usual first medicine for type 2 diabetes; take it with meals to limit stomach upset.",
    "Amoxicillin treats most community-acquired pneumonia in adults who are not allergic to penicillin.",
    "Warfarin needs regular INR blood tests; several antibiotics raise the INR and the risk of bleeding.",
]
QUESTION = "Why do patients on warfarin need blood tests?"


def load_encoder() -> MedEmbedEncoder:
    encoder = MedEmbedEncoder("abhinand/MedEmbed-base-v0.1")
    try:
        encoder.load()
        return encoder
    except OfflineModelError:
        from medembed_rag.testing import standin_model_path

        print(
            "=" * 78
            + "\nMedEmbed-base cannot be downloaded here (no hub access, nothing cached).\n"
            "Running with the packaged general-purpose stand-in (all-MiniLM-L6-v2) instead.\n"
            + "=" * 78,
            file=sys.stderr,
        )
        return MedEmbedEncoder(standin_model_path())


def main() -> None:
    encoder = load_encoder()
    docs = encoder.encode_documents(PASSAGES)
    query = encoder.encode_queries([QUESTION])[0]
    scores = docs @ query
    print(f"model: {encoder.model_id} ({encoder.dim} dims, precision {encoder.precision})")
    print(f"question: {QUESTION}")
    for rank, i in enumerate(scores.argsort()[::-1], start=1):
        print(f"  {rank}. [{scores[i]:.3f}] {PASSAGES[i]}")


if __name__ == "__main__":
    main()
