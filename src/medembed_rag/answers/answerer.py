"""Verified, cited answers: retrieve -> rerank -> evidence sentences -> answer -> verify, or say the documents
do not answer.

:class:`VerifiedAnswerer` is the one path used by ``medembed-rag ask``, the demo, and the LlamaIndex and
LangChain faces (which hand it passages their own retrievers found).

How a question is decided (the method; the score's weights are fitted as described in the README):

1. **Evidence.** The top passages are split into sentences; each is embedded (with its section heading) and
   scored by cosine similarity to the question. Cosines mean different things for different models (bge-style
   models rarely go below 0.5), so every score is expressed as a *z-score against a null distribution*: the
   same encoder's similarities between unrelated medical questions and sentences (built-in text, measured
   once per encoder), which carries over between models.
2. **Abstention.** Hard rules first: a question naming a drug is answered only from passages naming it, and one
   asking for a quantity ("how often", "what dose", "how long", ...) only from evidence stating one (of the
   kind asked for - a volume for "how much fluid", a duration for "how long" - when any evidence does). Then
   one score, :class:`~medembed_rag.answers.decision.AbstentionModel`: a logistic model over the signals of
   :data:`~medembed_rag.answers.decision.FEATURES` (the shipped fit keeps the best sentence's z-score, the
   rarity-weighted share of the question's words its passage covers, whether the kind of quantity asked for
   is missing from the evidence, and the margin over other documents' best sentences). Below the
   ``strictness``'s threshold, ``answered`` is false and the answer lists the closest passages for the reader
   to check.
3. **Answer.** A language model, if given, answers from the numbered evidence sentences. Every sentence it
   writes is checked by :func:`medembed_rag.answers.verify.check_sentence` against the evidence it cites; failures
   are removed and reported, never shown. If nothing survives (or there is no model), or a quantity question
   gets an answer without a quantity, the answer is extractive: the evidence sentences themselves, cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..index.records import Hit
from ..inputs import validate_texts
from .result import MARKER, Citation, RemovedSentence, VerifiedAnswer, renumbered, sentence_end
from .decision import FITTED, MARGIN_CAP, STRICTNESS, AbstentionModel
from .signals import answer_type, asks_for_quantity, coverage, drugs_in, has_quantity, matches_type, term_weights
from .verify import check_sentence, content_words, extract_facts, split_sentences

__all__ = [
    "Citation",
    "Passage",
    "RemovedSentence",
    "VerifiedAnswer",
    "VerifiedAnswerer",
    "asks_for_quantity",
    "coverage",
    "term_weights",
]

# Evidence sentences are ranked by z-score + LEXICAL_WEIGHT x their own coverage of the question's words:
# small embedding models often rank a sentence on the right topic above the one holding the asked-for fact.
LEXICAL_WEIGHT = 3.0
# Evidence sentences cited: the best, and the next ones within this many z-units of it (up to max_evidence).
EVIDENCE_WINDOW = 1.5

Passage = Hit
"""A retrieved chunk handed to the answerer: the store's own :class:`~medembed_rag.index.records.Hit`."""


@dataclass(frozen=True)
class _Evidence:
    text: str
    passage: Passage
    z: float


_NULL_QUERIES = 8  # the first calibration sentences are questions, the rest statements on other topics


class VerifiedAnswerer:
    """Answers questions from a store (or from passages you retrieved) with verified citations.

    Args:
        store: A :class:`~medembed_rag.index.store.MedEmbedChromaStore` (needed by :meth:`ask` only).
        encoder: Scores evidence sentences (default: the store's encoder).
        llm: Anything with ``chat(messages) -> str`` (``LocalLLM``, ``OpenAICompatibleLLM``), or a callable
            ``(messages) -> str``; ``None`` for extractive answers.
        reranker: A :class:`~medembed_rag.models.reranker.MedEmbedReranker` to order the retrieved pool (optional).
        hybrid: Retrieve with dense + BM25 fusion (default) instead of dense only.
        passages: How many top passages evidence sentences are drawn from.
        pool: How many chunks to retrieve (the reranker's pool; also the coverage statistics' sample).
        max_evidence: At most this many evidence sentences are cited.
        strictness: The operating point: ``"high"`` abstains more, ``"lenient"`` answers more, ``"balanced"``
            is the default (each point's held-out figures are in the README).
        abstention: The :class:`~medembed_rag.answers.decision.AbstentionModel` scoring the signals (default:
            the fitted one, :data:`~medembed_rag.answers.decision.FITTED`).
        min_probability: Answer at or above this score instead of the strictness's threshold (experts).
        min_relevance: Also abstain below this z-score of the best evidence sentence (optional hard floor).
        min_coverage: Also abstain below this share of the question's weighted words in the evidence (optional).
    """

    def __init__(
        self,
        store: Any = None,
        *,
        encoder: Any = None,
        llm: Any = None,
        reranker: Any = None,
        hybrid: bool = True,
        passages: int = 6,
        pool: int = 20,
        max_evidence: int = 3,
        strictness: str = "balanced",
        abstention: AbstentionModel | None = None,
        min_probability: float | None = None,
        min_relevance: float | None = None,
        min_coverage: float | None = None,
    ) -> None:
        if store is None and encoder is None:
            raise InvalidInputError("VerifiedAnswerer needs a store or an encoder (to score evidence sentences)")
        for name, value in (("passages", passages), ("pool", pool), ("max_evidence", max_evidence)):
            if not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer; got {value!r}")
        self.store = store
        self.encoder = encoder if encoder is not None else store.encoder
        self.llm = llm
        self.reranker = reranker
        self.hybrid = hybrid
        self.passages = passages
        self.pool = pool
        self.max_evidence = max_evidence
        self.abstention = abstention if abstention is not None else FITTED
        if strictness not in STRICTNESS and strictness not in self.abstention.thresholds:
            raise InvalidInputError(f"strictness must be one of {', '.join(map(repr, STRICTNESS))}; got {strictness!r}")
        self.strictness = strictness
        self.min_probability = (float(min_probability) if min_probability is not None
                                else self.abstention.threshold(strictness))
        self.min_relevance = None if min_relevance is None else float(min_relevance)
        self.min_coverage = None if min_coverage is None else float(min_coverage)
        self._null: tuple[float, float] | None = None

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, question: str) -> list[Passage]:
        """The pool for ``question`` from the store, reranked when a reranker is set, best first."""
        if self.store is None:
            raise InvalidInputError("ask() needs a store; pass passages to answer() instead")
        hits = self.store.hybrid().query(question, self.pool) if self.hybrid else self.store.query(question, self.pool)
        passages = [_as_passage(h) for h in hits]
        if self.reranker is not None and passages:
            ranked = self.reranker.rank(question, [p.text for p in passages])
            passages = [replace(passages[i], score=score) for i, score in ranked]
        return passages

    def ask(self, question: str) -> VerifiedAnswer:
        """Retrieves from the store, then :meth:`answer`."""
        validate_texts([question], what="question")
        return self.answer(question, self.retrieve(question))

    # ------------------------------------------------------------------ scoring
    def _null_distribution(self) -> tuple[float, float]:
        """Mean and spread of this encoder's question/sentence similarity for unrelated pairs."""
        if self._null is None:
            from ..text.medical_texts import MEDICAL_SENTENCES

            queries = self.encoder.encode_queries(list(MEDICAL_SENTENCES[:_NULL_QUERIES]))
            docs = self.encoder.encode_documents(list(MEDICAL_SENTENCES[_NULL_QUERIES:]))
            sims = (np.asarray(queries) @ np.asarray(docs).T).ravel()
            self._null = (float(sims.mean()), max(float(sims.std()), 1e-3))
        return self._null

    def _evidence(self, question: str, passages: Sequence[Passage]) -> list[_Evidence]:
        seen, items = set(), []
        for passage in passages[: self.passages]:
            for sentence in split_sentences(passage.text):
                key = " ".join(sentence.lower().split())
                words = len(content_words(sentence))
                if key in seen or words < 1 or (words < 2 and not has_quantity(sentence)):
                    continue  # "TSH is 0.4 to 4.0 mU/L." has one word and the answer
                seen.add(key)
                items.append((sentence, passage, _with_section(sentence, passage)))
        if not items:
            return []
        q = np.asarray(self.encoder.encode_queries([question]))[0]
        vectors = np.asarray(self.encoder.encode_documents([embed for _, _, embed in items]))
        mean, spread = self._null_distribution()
        weights = term_weights(question, [p.text for p in passages])
        scored = []
        for (sentence, passage, embed), vector in zip(items, vectors):
            z = (float(vector @ q) - mean) / spread
            lexical = coverage(weights, [embed, str((passage.metadata or {}).get("source") or "")])
            scored.append((z + LEXICAL_WEIGHT * lexical, _Evidence(sentence, passage, z)))
        return [e for _, e in sorted(scored, key=lambda pair: -pair[0])]

    def features(self, question: str, passages: Sequence[Passage]) -> dict[str, Any]:
        """The abstention signals of ``question`` over ``passages`` (see :mod:`~medembed_rag.answers.decision`),
        the evidence they were computed from, and the probability the model gives (for calibration and
        diagnostics)."""
        evidence = self._evidence(question, passages)
        quantity = asks_for_quantity(question)
        kind = answer_type(question)
        drugs = extract_facts(question).drugs
        weights = term_weights(question, [p.text for p in passages])
        with_fact = [e for e in evidence if not quantity or has_quantity(e.text)]
        # a question naming a drug is answered only from passages that name it
        usable = [e for e in with_fact if drugs <= drugs_in(_context_of(e))]
        missing_drugs = sorted(drugs - drugs_in(_context_of(with_fact[0]))) if with_fact and not usable else []
        # a question wanting a kind of quantity is answered from sentences stating that kind, when there are any
        typed = [e for e in usable if matches_type(kind, e.text)] if kind else usable
        type_mismatch = bool(usable) and not typed
        usable = typed or usable
        signals: dict[str, float] = {"z": -10.0, "coverage": 0.0, "sentence_coverage": 0.0,
                                     "type_mismatch": float(type_mismatch), "margin": 0.0}
        if usable:
            best = max(usable, key=lambda e: e.z)
            other = max((e.z for e in evidence if e.passage.doc_id != best.passage.doc_id), default=None)
            signals.update(
                z=best.z,
                # the best-covered of the leading evidence sentences' passages
                coverage=max(coverage(weights, _context_of(e)) for e in usable[: self.max_evidence]),
                sentence_coverage=max(coverage(weights, [_with_section(e.text, e.passage)])
                                      for e in usable[: self.max_evidence]),
                margin=min(MARGIN_CAP, best.z - other) if other is not None else MARGIN_CAP)
        return {
            "missing_drugs": missing_drugs,
            "evidence": evidence,
            "usable": usable,
            "quantity": quantity,
            "answer_type": kind,
            **signals,
            "probability": self.abstention.probability(signals) if usable else 0.0,
        }

    def decides_to_answer(self, f: dict[str, Any]) -> bool:
        """The decision on :meth:`features`' output: the hard rules, then the score against the threshold."""
        if not f["usable"] or f["probability"] < self.min_probability:
            return False
        if self.min_relevance is not None and f["z"] < self.min_relevance:
            return False
        return self.min_coverage is None or f["coverage"] >= self.min_coverage

    # ------------------------------------------------------------------ answering
    def answer(self, question: str, passages: Sequence[Passage]) -> VerifiedAnswer:
        """Answers ``question`` from ``passages`` (best first), verified and cited, or abstains."""
        validate_texts([question], what="question")
        passages = [_as_passage(p) for p in passages]
        return self.answer_from(question, self.features(question, passages))

    def answer_from(self, question: str, f: dict[str, Any]) -> VerifiedAnswer:
        """:meth:`answer` on signals already computed by :meth:`features` (calibration uses both)."""
        usable: list[_Evidence] = f["usable"]
        if not self.decides_to_answer(f):
            if missing_drugs := f["missing_drugs"]:
                why = f"no passage found mentions {', '.join(missing_drugs)}, which the question asks about"
            elif not usable:
                why = ("no passage states a number or interval for this" if f["quantity"] and f["evidence"]
                       else "no passage was found")
            elif self.min_relevance is not None and f["z"] < self.min_relevance:
                why = f"the best evidence is not close enough to the question (relevance {f['z']:.1f} < {self.min_relevance})"
            elif self.min_coverage is not None and f["coverage"] < self.min_coverage:
                why = f"the passages found do not mention what the question is about (coverage {f['coverage']:.2f})"
            else:
                why = (f"the evidence does not look like an answer (score {f['probability']:.2f} < "
                       f"{self.min_probability:.2f}; {_weakest(self.abstention, f)})")
            return self._abstain(question, f["evidence"], why)
        chosen = [e for e in usable if e.z >= usable[0].z - EVIDENCE_WINDOW][: self.max_evidence]
        citations = [_citation(i, e) for i, e in enumerate(chosen, start=1)]
        removed: list[RemovedSentence] = []
        if self.llm is not None:
            reply = self._generate(question, chosen)
            kept, removed = _verify_reply(reply, chosen)
            # an answer that drops the number its evidence states (or the question asks for) is not used
            needs_number = f["quantity"] or has_quantity(chosen[0].text)
            if kept and (not needs_number or any(has_quantity(s) for s in kept)):
                return renumbered(question, " ".join(kept), citations, removed, "generated")
            why = "verification left no sentence" if not kept else "the model's answer gave no number; showing the evidence"
        else:
            why = "no language model: the evidence sentences are the answer"
        text = " ".join(f"{sentence_end(c.text)} [{c.n}]" for c in citations)
        return renumbered(question, text, citations, removed, "extractive", why)

    def _generate(self, question: str, evidence: Sequence[_Evidence]) -> str:
        numbered = "\n".join(f"[{i}] {e.text}" for i, e in enumerate(evidence, start=1))
        messages = [
            {"role": "system", "content": (
                "You answer medical questions in one or two short sentences, using only the numbered evidence. "
                "Copy numbers, units, doses and drug names exactly as written. End each sentence with the number "
                "of the evidence it comes from, like [1].")},
            {"role": "user", "content": f"Evidence:\n{numbered}\n\nQuestion: {question}"},
        ]
        chat: Callable[[list[dict]], str] = self.llm.chat if hasattr(self.llm, "chat") else self.llm
        return str(chat(messages))

    def _abstain(self, question: str, evidence: Sequence[_Evidence], why: str) -> VerifiedAnswer:
        closest, seen = [], set()
        for e in evidence:  # one sentence per passage, best first
            if e.passage.id not in seen:
                seen.add(e.passage.id)
                closest.append(_citation(len(closest) + 1, e))
            if len(closest) == 3:
                break
        text = "The documents do not answer this question."
        if closest:
            text += " The closest passages, for you to check: " + " ".join(
                f"[{c.n}] \"{sentence_end(c.text)}\"" for c in closest)
        return VerifiedAnswer(question, False, text, closest, [], "abstained", why)


def _as_passage(hit: Any) -> Hit:
    """A :class:`Hit` from anything with its fields (a framework's own hit type)."""
    if isinstance(hit, Hit):
        return hit
    return Hit(hit.id, hit.doc_id, hit.text, hit.score, dict(hit.metadata or {}))


def _context_of(evidence: _Evidence) -> list[str]:
    meta = evidence.passage.metadata or {}
    return [evidence.passage.text, str(meta.get("section") or ""), str(meta.get("source") or "")]


def _with_section(sentence: str, passage: Passage) -> str:
    """The sentence as it is embedded and covered: after its section heading, when the passage has one."""
    section = (passage.metadata or {}).get("section")
    return f"{section}: {sentence}" if section else sentence


def _weakest(model: AbstentionModel, f: dict[str, Any]) -> str:
    """The signal that pulls the score down most, in words (for the abstention's reason)."""
    pulls = {k: model.weights[k] * (float(f[k]) - model.mean[k]) / model.scale[k] for k in model.weights}
    name = min(pulls, key=pulls.get)
    words = {"z": f"relevance {f['z']:.1f}", "coverage": f"coverage of the question's words {f['coverage']:.2f}",
             "sentence_coverage": f"the evidence sentence covers {f['sentence_coverage']:.2f} of the question's words",
             "type_mismatch": f"no evidence states a {f['answer_type']}",
             "margin": f"other documents are as close (margin {f['margin']:.1f})"}
    return "weakest: " + words[name]


def _citation(n: int, e: _Evidence) -> Citation:
    meta = e.passage.metadata or {}
    return Citation(n, e.passage.doc_id, e.passage.id, e.text, e.z, meta.get("source"), meta.get("section"))




def _verify_reply(reply: str, evidence: Sequence[_Evidence]) -> tuple[list[str], list[RemovedSentence]]:
    """Generated sentences that pass :func:`check_sentence` against what they cite (with markers), and the rest."""
    kept, removed = [], []
    for sentence in split_sentences(reply.replace("\n", " ")):
        cited = sorted({int(m) for m in MARKER.findall(sentence)})
        bare = re.sub(r"\s+([.!?;,])", r"\1", MARKER.sub("", sentence)).strip()
        if not content_words(bare) and not extract_facts(bare).numbers:
            continue  # a lone marker or "Answer:" fragment
        invalid = [n for n in cited if not 1 <= n <= len(evidence)]
        if invalid:
            removed.append(RemovedSentence(sentence, (f"cites [{invalid[0]}], which does not exist",)))
            continue
        if cited:
            reasons = check_sentence(bare, [evidence[n - 1].text for n in cited])
        else:  # uncited: kept only if one evidence sentence supports it fully, and cited to that one
            cited = [next((i for i, e in enumerate(evidence, start=1) if not check_sentence(bare, [e.text])), 0)]
            reasons = [] if cited[0] else ["cites nothing, and no evidence sentence supports it"]
        if reasons:
            removed.append(RemovedSentence(sentence, tuple(reasons)))
        else:
            kept.append(f"{sentence_end(bare)} " + "".join(f"[{n}]" for n in cited))
    return kept, removed


