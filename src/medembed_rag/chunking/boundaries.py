"""Where clinical and scientific text may be cut: section headers, paragraphs, sentences, words.

Every splitter returns contiguous spans ``(start, end)`` that partition the span it was given, so text
between boundaries (whitespace, characters a tokenizer drops) always stays inside some span.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..text.sentences import sentence_spans as sentences

__all__ = ["SECTION_NAMES", "Section", "find_sections", "paragraphs", "sentences", "split_sections", "words"]

# Section names of clinical notes, leaflets, guidelines and papers (matched case-insensitively when they
# stand alone on a line, or start a line followed by a colon).
SECTION_NAMES = (
    "chief complaint", "history of present illness", "history", "past medical history", "past surgical history",
    "medications", "current medications", "discharge medications", "medications on admission", "allergies",
    "social history", "family history", "review of systems", "physical examination", "physical exam",
    "vital signs", "laboratory results", "laboratory data", "labs", "imaging", "investigations",
    "hospital course", "assessment", "plan", "assessment and plan", "impression", "diagnosis",
    "discharge diagnosis", "discharge diagnoses", "discharge instructions", "follow-up", "follow up",
    "disposition", "procedures", "subjective", "objective", "abstract", "background", "introduction",
    "objectives", "objective", "aims", "methods", "materials and methods", "results", "discussion",
    "conclusion", "conclusions", "limitations", "references", "summary", "recommendations", "recommendation",
    "key points", "indications", "contraindications", "dosage", "dosage and administration", "how to take",
    "side effects", "possible side effects", "warnings", "warnings and precautions", "precautions",
    "interactions", "drug interactions", "overdose", "storage", "what is it used for", "symptoms", "causes",
    "treatment", "prevention", "prognosis", "outlook", "complications", "risk factors", "screening",
)
_NAMES = "|".join(sorted((re.escape(n).replace(r"\ ", r"[ \t]+") for n in set(SECTION_NAMES)), key=len, reverse=True))
HEADER_RE = re.compile(
    r"^[ \t]*(?:"
    r"(?P<md>\#{1,6}[ \t]+\S[^\n]*)"  # Markdown heading
    r"|(?P<caps>[A-Z][A-Z0-9 /&,()'\-]{3,60}):"  # ALL-CAPS HEADER: (text may follow)
    r"|(?P<alone>(?i:" + _NAMES + r"))[ \t]*:?[ \t]*$"  # a known name alone on its line
    r"|(?P<named>(?i:" + _NAMES + r")):"  # a known name with a colon, text following
    r"|(?P<question>[A-Z][^\n?]{5,120}\?(?:[ \t]*\?)*)[ \t]*$"  # a question heading alone on its line (leaflets, FAQs)
    r")",
    re.MULTILINE,
)

_PARAGRAPH_GAP = re.compile(r"\n[ \t]*\n\s*")
_SPACE = re.compile(r"\s+")


class Section(NamedTuple):
    """A section of a document: ``text[start:end]``; its heading lines are ``text[start:heading_end]``."""

    start: int
    end: int
    name: str | None
    heading_end: int


def split_sections(text: str, start: int = 0, end: int | None = None) -> list[Section]:
    """Splits ``text[start:end]`` at section headers into :class:`Section` spans that partition it.

    A heading with no text of its own (a document title above its first section) joins the next section, so no
    section is a bare heading; the joined section's heading then spans both lines ("What is X ?\nKey Points").
    """
    end = len(text) if end is None else end
    cuts: list[tuple[int, str, int]] = []
    for match in HEADER_RE.finditer(text, start, end):
        name = next(v for v in match.groupdict().values() if v)
        name = name.lstrip("#").strip().rstrip(":").strip()
        line_start = max(text.rfind("\n", 0, match.start() + 1) + 1, start)
        cuts.append((line_start, name, match.end()))
    spans: list[Section] = []
    if not cuts or cuts[0][0] > start:
        first = cuts[0][0] if cuts else end
        spans.append(Section(start, first, None, start))
    for i, (cut, name, head_end) in enumerate(cuts):
        spans.append(Section(cut, cuts[i + 1][0] if i + 1 < len(cuts) else end, name, head_end))
    spans = [s for s in spans if s.end > s.start]
    merged: list[Section] = []
    carry: int | None = None
    for i, sec in enumerate(spans):
        bare = sec.name is not None and not text[sec.heading_end : sec.end].strip()
        if bare and i + 1 < len(spans):
            carry = sec.start if carry is None else carry
            continue
        merged.append(sec._replace(start=carry) if carry is not None else sec)
        carry = None
    return merged


def find_sections(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str | None]]:
    """Splits ``text[start:end]`` at section headers: ``(start, end, section name or None)`` spans."""
    return [(s.start, s.end, s.name) for s in split_sections(text, start, end)]


def _split_after(pattern: re.Pattern, text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Partitions ``[start, end)`` after each match of ``pattern`` (the gap joins the span before it)."""
    spans, cur = [], start
    for match in pattern.finditer(text, start, end):
        if match.end() > cur and match.end() < end:
            spans.append((cur, match.end()))
            cur = match.end()
    spans.append((cur, end))
    return [s for s in spans if s[1] > s[0]]


def paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return _split_after(_PARAGRAPH_GAP, text, start, end)


def words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return _split_after(_SPACE, text, start, end)
