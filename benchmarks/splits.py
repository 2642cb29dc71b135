"""Held-out splits of the shared sets, fixed before any result was looked at (committed on their own).

MedQuAD's query ids name the page a question was written from (``3_GHR_QA/0000482-5``: page ``3_GHR_QA/0000482``,
question 5 of it); several questions share a page (a disease's symptoms, causes, treatments). The split is by
page, so no page has questions on both sides: a page is ``held-out`` when the first byte of the SHA-256 of its
name is odd, ``fit`` otherwise (about half each). Settings (fusion weight, lexical scoring) may be chosen on
``fit`` only; ``held-out`` is reported, never tuned on. The same split applies to MedQuAD-long (same query ids).
"""

from __future__ import annotations

import hashlib


def medquad_page(query_id: str) -> str:
    """The page a MedQuAD question was written from (its id without the question number)."""
    return query_id.rsplit("-", 1)[0]


def medquad_side(query_id: str) -> str:
    """``"fit"`` or ``"held-out"`` for a MedQuAD (or MedQuAD-long) query id."""
    return "held-out" if hashlib.sha256(medquad_page(query_id).encode()).digest()[0] % 2 else "fit"
