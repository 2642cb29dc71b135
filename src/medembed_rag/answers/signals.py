"""The question-side signals of the abstention decision: does the question ask for a quantity, which of its
words are distinctive among the retrieved passages, and how much of them the evidence covers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from .verify import content_words, extract_facts, word_keys

_QUANTITY_QUESTION = re.compile(
    r"\bhow (?:often|many|much|long|soon|frequently|high|low|far apart)\b|\bat what\b|\bwhat (?:age|time)\b"
    r"|\b(?:below|above|under|over|up to) (?:what|which)\b|\bwhen should\b|\bwhen (?:is|are|do|does)\b.*\b(?:checked|removed|given|taken|repeated|stopped)\b"
    r"|\b(?:doses?|dosage|amount|level|reading|count|range|target|interval|threshold|limit|maximum|minimum"
    r"|frequency|schedule)\b",
    re.I,
)
# Words of a question that say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = frozenset("""
often long many much soon frequently patient patients person people someone somebody recommended recommend
usual usually normally should does happen happens take takes taking taken took need needs know tell explain mean means
give given use used best good right kind type get gets getting make happen advice advised
""".split())


def asks_for_quantity(question: str) -> bool:
    """Whether ``question`` asks for a number, dose, interval, level or time ("how often", "what dose", ...)."""
    return bool(_QUANTITY_QUESTION.search(question))


_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_CODE = re.compile(r"\b[a-z]+\d[a-z0-9]*\b", re.I)  # "T3", "B12", "HbA1c": letters and digits, one term


def _codes(text: str) -> set[str]:
    return {c.lower() for c in _CODE.findall(text)}


def _terms(text: str) -> set[str]:
    return word_keys(text) | set(_NUMBER.findall(text)) | _codes(text)


def term_weights(question: str, pool_texts: Sequence[str]) -> dict[str, float]:
    """The question's distinctive words (five-letter keys, its numbers: "aged 80 and over", and codes: "T3")
    weighted by their inverse document frequency among ``pool_texts`` (the retrieved passages): a word no
    passage contains weighs most."""
    terms = ({w[:5] for w in content_words(question) if w not in _QUESTION_WORDS} | set(_NUMBER.findall(question))
             | _codes(question))
    pool = [_terms(t) for t in pool_texts]
    n = len(pool)
    return {t: math.log((n + 1) / (sum(t in s for s in pool) + 0.5)) for t in terms}


def coverage(weights: Mapping[str, float], evidence_texts: Sequence[str]) -> float:
    """Share of the question's weighted words (:func:`term_weights`) found in ``evidence_texts``."""
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    found = set().union(*(_terms(t) for t in evidence_texts))
    return sum(w for t, w in weights.items() if t in found) / total


def has_quantity(text: str) -> bool:
    """Whether ``text`` states a number, a frequency, a clock time or a duration in words ("the first week")."""
    return bool(quantity_classes(text))


def drugs_in(texts: Sequence[str]) -> set[str]:
    return set(extract_facts(" ".join(texts)).drugs)


# ---------------------------------------------------------------------------------------------- answer types
# What kind of quantity a question wants, first match wins ("how soon after a dose change" wants a time, not
# a dose), and which classes of stated quantity answer each kind.
_ANSWER_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.I)) for kind, p in (
    ("frequency", r"\bhow (?:often|frequently)\b|\bhow many times\b"),
    ("clock", r"\b(?:what|which) time\b"),
    # "when" as the question's word (first, or after a dash or comma), not in a clause ("... when I'm ill")
    ("duration", r"\bhow (?:long|soon|quickly|fast)\b|\bhow many (?:hours|days|weeks|months|years|minutes)\b"
                 r"|\bafter how\b|\bhow far apart\b|(?:^|[-,;:\u2013]\s*|\band )when\b"
                 r"|\bwhat (?:age|stage|point)\b|\bby what\b|\bat what age\b"),
    ("volume", r"\b(?:fluids?|water|liquids?|drink(?:ing)?|bolus|volume)\b"),
    ("temperature", r"\b(?:fever|temperature)\b"),
    ("level", r"\b(?:level|reading|range|count|result|value)s?\b"),
    ("dose", r"\b(?:doses?|dosage|amount|how much|how many (?:tablets|puffs|capsules|doses))\b|\bthe most\b"),
))
_CLOCK = re.compile(r"\b\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)|\b(?:midnight|midday|noon)\b", re.I)
_WORD_DURATION = re.compile(
    # "for a week", "the first week"; not "1.5 litres a day" or "each day" (rates)
    r"\b(?:(?:for|within|after|over|in|about) (?:a|an)|one|two|three|four|five|six|seven|ten|the first|the next"
    r"|half an?)\s+(?:hours?|days?|nights?|weeks?|fortnights?|months?|years?)\b|\b(?:overnight|fortnight)\b", re.I)
_UNIT_CLASSES = {
    "ml": "volume", "l": "volume",
    "mg": "mass", "mcg": "mass", "g": "mass", "kg": "mass", "mg/kg": "mass", "unit": "count", "tablet": "count",
    "capsule": "count", "puff": "count", "dose": "count", "times": "count",
    "hour": "duration", "minute": "duration", "second": "duration", "day": "duration", "week": "duration",
    "month": "duration", "year": "duration",
    "mmol/l": "level", "mg/dl": "level", "mmol/mol": "level", "mmhg": "level", "%": "level", "ml/min": "level",
    "c": "temperature", "degree": "temperature",
}
_ACCEPTS = {
    "frequency": {"frequency", "duration", "count"},
    "clock": {"time"},
    "duration": {"duration", "time"},
    "level": {"level", "number", "mass"},
    "volume": {"volume"},
    "temperature": {"temperature", "number"},
    "dose": {"mass", "volume", "count"},
}


def answer_type(question: str) -> str | None:
    """The kind of quantity ``question`` asks for ("frequency", "clock", "duration", "volume", "temperature",
    "level", "dose"), or ``None`` when it asks for none of these (a target, a name, an explanation)."""
    if not asks_for_quantity(question):
        return None
    return next((kind for kind, pattern in _ANSWER_TYPES if pattern.search(question)), None)


def quantity_classes(text: str) -> set[str]:
    """The classes of quantity ``text`` states: volume, mass, count, duration (also in words: "the first
    week"), time (of day: "6 pm"), level, temperature, frequency, and "number" for a bare number."""
    facts = extract_facts(text)
    classes = {_UNIT_CLASSES.get(unit, "number") if unit else "number" for _, unit in facts.quantities}
    if _CLOCK.search(text):  # "6 pm": a time of day, not a bare number
        classes = (classes - {"number"}) | {"time"}
    if _WORD_DURATION.search(text):
        classes.add("duration")
    return classes | ({"frequency"} if facts.frequencies else set())


def matches_type(kind: str | None, text: str) -> bool:
    """Whether ``text`` states a quantity of the kind a question wants (any quantity when the kind is unknown)."""
    if kind is None:
        return has_quantity(text)
    return bool(quantity_classes(text) & _ACCEPTS[kind])
