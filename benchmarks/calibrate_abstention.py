"""Fits the answerer's abstention score (medembed_rag.answers.decision) and reports it on a held-out set.

**Training sources** (each weighted equally, answerable and unanswerable halves equally within each):

- ``own``: the demo's sample documents with ``tests/answer_set.py`` (the project's own questions);
- ``dev``: ``tests/dev_docs/`` with ``tests/dev_answer_set.py`` (leaflet-like documents, patient-phrased
  questions, written as a training source after the held-out set);
- ``pubmedqa`` and ``medquad`` from ``../shared/datasets`` (skipped when absent): ``--queries`` questions each,
  over their relevant documents plus ``--distractors`` others. *Answerable*: retrieval over that corpus.
  *Unanswerable*: the same question with its relevant documents removed (the nearest other passages are what
  a user would be shown). MedQuAD repeats some answers across its sources, so a few "unanswerable" cases do
  have an answer: its abstention rate is a lower bound.

**Cross-validation by document**: every question belongs to a group, the document that answers it (or, for an
unanswerable question of the own set, the document of its nearest passage; a shared-set question and its
twin without the relevant documents share one group), and groups are dealt into 5 folds by a hash, so no
document is on both sides of a fold. Out-of-fold probabilities give the cross-validated figures and pick the
three operating points:

- ``balanced``: maximises the mean over sources of (answered correctly + abstained correctly) / 2;
- ``high``: the same with abstaining weighted 2:1; ``lenient``: with answering weighted 2:1.

The final model is fitted on all training questions (``--fit`` prints it as the ``FITTED`` block of
decision.py). **Held-out**: ``tests/heldout_answer_set.py`` over ``tests/heldout_docs/`` (written and committed
before this method; never fitted on) is only scored: the curve of answered-correctly vs abstained-correctly
over thresholds, with the named points marked (``benchmarks/results/abstention-curve.png`` when matplotlib is
installed). "Answered correctly" means answered with the right document cited and a key fact in the answer;
for the shared sets, a relevant document cited.

    python benchmarks/calibrate_abstention.py [--queries 150] [--fit] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import RESULTS, SHARED, save, standin_encoder  # noqa: E402

from medembed_rag.answers import decision  # noqa: E402
from medembed_rag.answers.answerer import Passage, VerifiedAnswerer  # noqa: E402

TESTS = Path(__file__).resolve().parents[1] / "tests"
FOLDS = 5
GRID = [round(t / 100, 2) for t in range(1, 100)]
POINT_WEIGHTS = {"high": (1, 2), "balanced": (1, 1), "lenient": (2, 1)}  # (answering, abstaining)


class Case:
    """One question's signals, and whether answering it would be right."""

    def __init__(self, source: str, group: str, answerable: bool, features: dict, correct: bool):
        self.source, self.group, self.answerable, self.correct = source, group, answerable, correct
        self.signals = {k: float(features[k]) for k in decision.FEATURES}
        self.usable = bool(features["usable"])


def _forced(answerer: VerifiedAnswerer) -> VerifiedAnswerer:
    """The same answerer answering whenever the hard rules allow (to learn what its answer would be)."""
    return VerifiedAnswerer(answerer.store, encoder=answerer.encoder, min_probability=0.0)


def beir(name: str, n_queries: int, n_distractors: int, seed: int = 13):
    folder = SHARED / name
    corpus = {}
    for line in (folder / "corpus.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        corpus[row["_id"]] = (row.get("title") or "", row["text"])
    queries = {json.loads(line)["_id"]: json.loads(line)["text"] for line in (folder / "queries.jsonl").open()}
    qrels: dict[str, set[str]] = {}
    for line in list((folder / "qrels" / "test.tsv").open())[1:]:
        qid, did, score = line.rstrip("\n").split("\t")
        if int(score) > 0 and did in corpus:
            qrels.setdefault(qid, set()).add(did)
    rng = random.Random(seed)
    qids = rng.sample(sorted(q for q in qrels if q in queries), min(n_queries, len(qrels)))
    relevant = set().union(*(qrels[q] for q in qids))
    others = rng.sample(sorted(set(corpus) - relevant), min(n_distractors, len(corpus) - len(relevant)))
    ids = sorted(relevant) + others
    return [(queries[q], qrels[q]) for q in qids], ids, [corpus[i] for i in ids]


def shared_cases(encoder, name: str, n_queries: int, n_distractors: int) -> list[Case]:
    questions, ids, docs = beir(name, n_queries, n_distractors)
    answerer = _forced(VerifiedAnswerer(encoder=encoder))
    vectors = np.asarray(encoder.encode_documents([f"{t}\n{x}" if t else x for t, x in docs]))
    cases = []
    for question, relevant in questions:
        sims = vectors @ np.asarray(encoder.encode_queries([question]))[0]
        order = np.argsort(-sims)
        for answerable in (True, False):
            keep = [i for i in order if answerable or ids[i] not in relevant][:20]
            passages = [Passage(ids[i], ids[i], docs[i][1], float(sims[i]), {"section": docs[i][0]}) for i in keep]
            features = answerer.features(question, passages)
            result = answerer.answer_from(question, features)
            correct = answerable and result.answered and any(c.doc_id in relevant for c in result.citations)
            cases.append(Case(name, min(relevant), answerable, features, correct))
    return cases


def store_cases(encoder, source: str, folder: Path, answerable, unanswerable) -> list[Case]:
    """Questions over a folder of markdown documents, through the store and ``ask``'s own retrieval."""
    from medembed_rag.index.store import MedEmbedChromaStore

    paths = sorted(folder.glob("*.md"))
    cases = []
    with tempfile.TemporaryDirectory() as tmp, MedEmbedChromaStore(tmp, encoder=encoder) as store:
        store.add_documents([p.read_text(encoding="utf-8") for p in paths], ids=[p.stem for p in paths],
                            metadatas=[{"source": p.name} for p in paths])
        answerer = _forced(VerifiedAnswerer(store))
        for question, docs, keys in [(q, d, k) for q, d, k in answerable] + [(q, None, None) for q in unanswerable]:
            passages = answerer.retrieve(question)
            features = answerer.features(question, passages)
            result = answerer.answer_from(question, features)
            ok = docs is not None and result.answered and any(c.doc_id in docs for c in result.citations) and any(
                k.lower() in result.answer.lower() for k in keys)
            group = docs[0] if isinstance(docs, list) else (docs or (passages[0].doc_id if passages else "none"))
            cases.append(Case(source, group, docs is not None, features, ok))
    return cases


def _fold(group: str) -> int:
    return hashlib.sha256(group.encode()).digest()[0] % FOLDS


def _weights(cases: list[Case]) -> list[float]:
    """Each source weighs the same, and within it the answerable and unanswerable questions."""
    counts: dict[tuple[str, bool], int] = {}
    for c in cases:
        counts[c.source, c.answerable] = counts.get((c.source, c.answerable), 0) + 1
    return [1.0 / counts[c.source, c.answerable] for c in cases]


def fit_model(cases: list[Case], thresholds=None) -> decision.AbstentionModel:
    usable = [c for c in cases if c.usable]  # the hard rules decide the rest
    return decision.fit([c.signals for c in usable], [c.answerable for c in usable],
                        weights=_weights(usable), thresholds=thresholds)


def rates(cases: list[Case], probabilities: list[float], threshold: float) -> tuple[float, float]:
    """(answered correctly / answerable, abstained / unanswerable) at ``threshold``."""
    answers = [c.usable and p >= threshold for c, p in zip(cases, probabilities)]
    pos = [a and c.correct for c, a in zip(cases, answers) if c.answerable]
    neg = [not a for c, a in zip(cases, answers) if not c.answerable]
    return sum(pos) / max(len(pos), 1), sum(neg) / max(len(neg), 1)


def by_source(cases: list[Case], probabilities: list[float], threshold: float) -> dict[str, tuple[float, float]]:
    out = {}
    for source in dict.fromkeys(c.source for c in cases):
        idx = [i for i, c in enumerate(cases) if c.source == source]
        out[source] = rates([cases[i] for i in idx], [probabilities[i] for i in idx], threshold)
    return out


def pick_points(cases: list[Case], oof: list[float]) -> dict[str, float]:
    points = {}
    for name, (wa, wb) in POINT_WEIGHTS.items():
        def score(t):
            return np.mean([(wa * a + wb * b) / (wa + wb) for a, b in by_source(cases, oof, t).values()])
        points[name] = max(GRID, key=lambda t: (round(score(t), 4), -abs(t - 0.5)))
    return points


def cross_validate(cases: list[Case]) -> list[float]:
    oof = [0.0] * len(cases)
    for k in range(FOLDS):
        train = [c for c in cases if _fold(c.group) != k]
        model = fit_model(train)
        for i, c in enumerate(cases):
            if _fold(c.group) == k:
                oof[i] = model.probability(c.signals) if c.usable else 0.0
    return oof


def _rounded(pair):
    return {"answered_correctly": round(pair[0], 3), "abstained": round(pair[1], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--distractors", type=int, default=1500)
    parser.add_argument("--fit", action="store_true",
                        help="print the fitted model as decision.py's FITTED block, and report on it")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-held-out", action="store_true", help="fit and cross-validate only (while tuning)")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from answer_set import ANSWERABLE, UNANSWERABLE
    from dev_answer_set import ANSWERABLE as DEV_ANSWERABLE, UNANSWERABLE as DEV_UNANSWERABLE
    from heldout_answer_set import ANSWERABLE as HELD_ANSWERABLE, UNANSWERABLE as HELD_UNANSWERABLE

    from medembed_rag.app.demo import SAMPLES

    encoder = standin_encoder("fp32")
    train = store_cases(encoder, "own", SAMPLES, ANSWERABLE, UNANSWERABLE)
    train += store_cases(encoder, "dev", TESTS / "dev_docs", DEV_ANSWERABLE, DEV_UNANSWERABLE)
    for name in ("pubmedqa", "medquad"):
        if (SHARED / name).is_dir():
            train += shared_cases(encoder, name, args.queries, args.distractors)
        else:
            print(f"{name}: skipped ({SHARED / name} is not present)", file=sys.stderr)
    held = [] if args.no_held_out else store_cases(
        encoder, "held-out", TESTS / "heldout_docs", HELD_ANSWERABLE, HELD_UNANSWERABLE)

    oof = cross_validate(train)
    points = pick_points(train, oof)
    model = fit_model(train, thresholds=points)
    # with --fit the report describes the model just fitted (the one printed to ship), else the shipped one
    shipped = model if args.fit else decision.FITTED
    held_p = [shipped.probability(c.signals) if c.usable else 0.0 for c in held]
    train_p = [shipped.probability(c.signals) if c.usable else 0.0 for c in train]
    report = {
        "model": "all-MiniLM-L6-v2 stand-in (fp32)",
        "fitted_now": {"weights": model.weights, "bias": model.bias, "thresholds": points},
        "shipped": {"weights": dict(shipped.weights), "bias": shipped.bias, "thresholds": dict(shipped.thresholds)},
        "cross_validated": {name: {s: _rounded(r) for s, r in by_source(train, oof, t).items()}
                            for name, t in points.items()},
        "fit_shipped": {name: {s: _rounded(r) for s, r in by_source(train, train_p, t).items()}
                        for name, t in shipped.thresholds.items()},
        "held_out": {name: _rounded(rates(held, held_p, t)) for name, t in shipped.thresholds.items()},
        "held_out_curve": [{"threshold": t, **_rounded(rates(held, held_p, t))} for t in GRID],
        "counts": {s: {"answerable": sum(c.answerable for c in train + held if c.source == s),
                       "unanswerable": sum(not c.answerable for c in train + held if c.source == s)}
                   for s in dict.fromkeys(c.source for c in train + held)},
    }
    if held:
        save("abstention-calibration", report)
        _plot(report, shipped)
    if args.fit:
        print(_fitted_block(model))
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"counts: {report['counts']}")
    for name in decision.STRICTNESS:
        print(f"{name:9s} cross-validated (threshold {points[name]}): {report['cross_validated'][name]}")
    for name in decision.STRICTNESS:
        print(f"{name:9s} shipped (threshold {shipped.thresholds[name]}): fit {report['fit_shipped'][name]}  "
              f"held-out {report['held_out'][name]}")


def _fitted_block(model: decision.AbstentionModel) -> str:
    def py(mapping):  # the project's quoting (json's double quotes), as decision.py spells the block
        return json.dumps(dict(mapping))

    return (f"FITTED = AbstentionModel(\n    weights={py(model.weights)},\n    bias={model.bias},\n"
            f"    mean={py(model.mean)},\n    scale={py(model.scale)},\n    thresholds={py(model.thresholds)},\n)")


def _plot(report: dict, shipped: decision.AbstentionModel) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return
    curve = report["held_out_curve"]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([p["abstained"] for p in curve], [p["answered_correctly"] for p in curve], "-", color="0.4")
    for name, t in shipped.thresholds.items():
        point = report["held_out"][name]
        ax.plot(point["abstained"], point["answered_correctly"], "o")
        ax.annotate(f"{name} ({t})", (point["abstained"], point["answered_correctly"]), textcoords="offset points",
                    xytext=(5, -12 if name == "balanced" else 5))
    ax.axvline(0.8, ls=":", color="0.7")
    ax.axhline(0.9, ls=":", color="0.7")
    ax.set_xlabel("unanswerable questions abstained")
    ax.set_ylabel("answerable questions answered correctly")
    ax.set_title("Held-out set (stand-in model): thresholds 0.01-0.99")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.tight_layout()
    fig.savefig(RESULTS / "abstention-curve.png", dpi=110)


if __name__ == "__main__":
    main()
