"""Answers a clinician can check: every generated sentence verified against the passage it cites, or the
documents said not to answer."""

from .answerer import Citation, Passage, RemovedSentence, VerifiedAnswer, VerifiedAnswerer
from .verify import check_sentence, extract_facts

__all__ = ["Citation", "Passage", "RemovedSentence", "VerifiedAnswer", "VerifiedAnswerer", "check_sentence",
           "extract_facts"]
