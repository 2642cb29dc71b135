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


# Consumer-style rephrasings: each question wrapped in the chatter patients put around it (who is asking,
# worry, what a doctor said, thanks). Written before any ranker was run on them; the template is picked by
# the query id's hash, so the set is fixed. They test what long, chatty questions do to a lexical ranker whose
# settings were chosen on short ones: the medical words are the same, the filler around them is new.
CHATTY_TEMPLATES = (
    "Hi, my mother was just told by her doctor something about this and we are all really worried. {q} "
    "Any help would be appreciated, thank you so much.",
    "I'm a 34 year old woman and I've been reading online for hours and getting more confused. {q} "
    "Should I be asking my GP about it at my next appointment?",
    "Hello. Our son's paediatrician mentioned it briefly at his check-up last week but we didn't get much time. "
    "{q} We would like to understand what it means for him.",
    "Quick question from a nurse on a busy ward, a family keeps asking me and I want to give them a straight "
    "answer: {q}",
    "My husband has had some tests done recently and the results came back mentioning this. {q} "
    "Is this something serious that we should be worried about long term?",
)


def chatty(query_id: str, question: str) -> str:
    """The consumer-style rephrasing of one question (fixed by the query id)."""
    pick = hashlib.sha256(("chatty:" + query_id).encode()).digest()[0] % len(CHATTY_TEMPLATES)
    return CHATTY_TEMPLATES[pick].format(q=question.strip())
