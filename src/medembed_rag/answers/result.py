"""What one question gives back: the answer, its numbered citations, what verification removed, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

@dataclass(frozen=True)
class Citation:
    """What an ``[n]`` in the answer refers to: the cited sentence, its chunk and document, its relevance."""

    n: int
    doc_id: str | None
    chunk_id: str
    text: str
    score: float
    source: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class RemovedSentence:
    """A generated sentence verification removed, and why."""

    sentence: str
    reasons: tuple[str, ...]


@dataclass
class VerifiedAnswer:
    """The outcome of one question.

    ``answered`` is false when the documents do not answer it; ``answer`` then says so and lists the closest
    passages. ``citations`` are what the answer's ``[n]`` markers refer to. ``mode`` is ``generated`` (model
    sentences that passed verification), ``extractive`` (evidence sentences) or ``abstained``.
    """

    question: str
    answered: bool
    answer: str
    citations: list[Citation]
    removed: list[RemovedSentence]
    mode: str
    why: str = ""

    def __str__(self) -> str:
        return self.answer

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``medembed-rag ask --json``."""
        return {
            "answered": self.answered,
            "answer": self.answer,
            "citations": [
                {"doc_id": c.doc_id, "chunk_id": c.chunk_id, "text": c.text, "score": round(c.score, 4),
                 "source": c.source, "section": c.section}
                for c in self.citations
            ],
            "removed": [{"sentence": r.sentence, "reasons": list(r.reasons)} for r in self.removed],
            "mode": self.mode,
            "why": self.why,
        }

    def format(self) -> str:
        """The answer followed by its numbered sources, for a terminal."""
        lines = [self.answer, "", "Sources:" if self.answered else "Closest passages:"]
        for c in self.citations:
            where = " > ".join(x for x in (c.source or c.doc_id, c.section) if x)
            lines.append(f"  [{c.n}] {where} (relevance {c.score:.1f})")
        if self.removed:
            lines.append(f"Removed by verification ({len(self.removed)}):")
            lines += [f"  - {r.sentence}  <- {'; '.join(r.reasons)}" for r in self.removed]
        return "\n".join(lines)


def sentence_end(text: str) -> str:
    return text if text.rstrip().endswith((".", "!", "?")) else text.rstrip() + "."


MARKER = re.compile(r"\[(\d+)\]")


def renumbered(question: str, text: str, citations: list[Citation], removed: list[RemovedSentence], mode: str,
                why: str = "") -> VerifiedAnswer:
    """Keeps only the cited citations, numbered 1.. in order of first use."""
    order: list[int] = []
    for m in MARKER.findall(text):
        if int(m) not in order:
            order.append(int(m))
    mapping = {old: new for new, old in enumerate(order, start=1)}
    text = MARKER.sub(lambda m: f"[{mapping[int(m.group(1))]}]", text)
    by_n = {c.n: c for c in citations}
    kept = [replace(by_n[n], n=mapping[n]) for n in order]
    return VerifiedAnswer(question, True, text, kept, removed, mode, why)
