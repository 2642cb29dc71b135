"""Fits the answerer's two abstention thresholds (``min_relevance``, ``min_coverage``) and reports how they do.

Questions with and without a relevant passage, from three sources, each weighted equally:

- the packaged sample documents with ``tests/answer_set.py`` (answerable and unanswerable questions written
  for this project);
- PubMedQA and MedQuAD from ``../shared/datasets`` (skipped when absent): ``--queries`` questions each, over
  their relevant documents plus ``--distractors`` others. *Answerable*: retrieval over that corpus.
  *Unanswerable*: the same question with its relevant documents removed (the nearest other passages are what
  a user would be shown). MedQuAD repeats some answers across its sources, so a few "unanswerable" cases do
  have an answer: its abstention rate is a lower bound.

Retrieval is dense top-20 by numpy over the same encoder (no Chroma needed); features come from
``VerifiedAnswerer.features``, the code ``ask`` runs. The grid search maximises the mean over sources of
balanced accuracy (answer rate on answerable + abstention rate on unanswerable, halved), then prints the
figures at the package defaults beside the best grid point.

    python benchmarks/calibrate_abstention.py [--queries 150] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import SHARED, standin_encoder  # noqa: E402

from medembed_rag.answers.answerer import DEFAULT_MIN_COVERAGE, DEFAULT_MIN_RELEVANCE, Passage, VerifiedAnswerer  # noqa: E402


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


def shared_cases(answerer: VerifiedAnswerer, name: str, n_queries: int, n_distractors: int):
    questions, ids, docs = beir(name, n_queries, n_distractors)
    encoder = answerer.encoder
    vectors = np.asarray(encoder.encode_documents([f"{t}\n{x}" if t else x for t, x in docs]))
    cases = []
    for question, relevant in questions:
        sims = vectors @ np.asarray(encoder.encode_queries([question]))[0]
        order = np.argsort(-sims)
        for answerable in (True, False):
            keep = [i for i in order if answerable or ids[i] not in relevant][:20]
            passages = [Passage(ids[i], ids[i], docs[i][1], float(sims[i]), {"section": docs[i][0]}) for i in keep]
            cases.append((answerable, answerer.features(question, passages)))
    return cases


def packaged_cases(encoder):
    from answer_set import ANSWERABLE, UNANSWERABLE

    from medembed_rag.app.demo import SAMPLES
    from medembed_rag.index.store import MedEmbedChromaStore

    paths = sorted(SAMPLES.glob("*.md"))
    with tempfile.TemporaryDirectory() as folder, MedEmbedChromaStore(folder, encoder=encoder) as store:
        store.add_documents([p.read_text(encoding="utf-8") for p in paths], ids=[p.stem for p in paths],
                            metadatas=[{"source": p.name} for p in paths])
        answerer = VerifiedAnswerer(store)
        questions = [(q, True) for q, _, _ in ANSWERABLE] + [(q, False) for q in UNANSWERABLE]
        return [(ok, answerer.features(q, answerer.retrieve(q))) for q, ok in questions]


def rates(cases, z: float, c: float) -> tuple[float, float]:
    def answers(f):
        return bool(f["usable"]) and f["z"] >= z and f["coverage"] >= c

    pos = [answers(f) for ok, f in cases if ok]
    neg = [not answers(f) for ok, f in cases if not ok]
    return sum(pos) / max(len(pos), 1), sum(neg) / max(len(neg), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--distractors", type=int, default=1500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    encoder = standin_encoder("fp32")
    answerer = VerifiedAnswerer(encoder=encoder)
    sources = {"packaged": packaged_cases(encoder)}
    for name in ("pubmedqa", "medquad"):
        if (SHARED / name).is_dir():
            sources[name] = shared_cases(answerer, name, args.queries, args.distractors)
        else:
            print(f"{name}: skipped ({SHARED / name} is not present)", file=sys.stderr)
    grid = [(z / 4, c / 20) for z in range(0, 25) for c in range(0, 17)]

    def score(z, c):
        return sum(sum(rates(cases, z, c)) / 2 for cases in sources.values()) / len(sources)

    best = max(grid, key=lambda zc: (round(score(*zc), 4), -abs(zc[0] - DEFAULT_MIN_RELEVANCE)))
    report = {"model": "all-MiniLM-L6-v2 stand-in (fp32)", "best": {"min_relevance": best[0], "min_coverage": best[1]},
              "defaults": {"min_relevance": DEFAULT_MIN_RELEVANCE, "min_coverage": DEFAULT_MIN_COVERAGE}, "sources": {}}
    for name, cases in sources.items():
        report["sources"][name] = {
            "answerable": sum(ok for ok, _ in cases), "unanswerable": sum(not ok for ok, _ in cases),
            "at_best": dict(zip(("answer_rate", "abstain_rate"), map(lambda x: round(x, 3), rates(cases, *best)))),
            "at_defaults": dict(zip(("answer_rate", "abstain_rate"),
                                    map(lambda x: round(x, 3), rates(cases, DEFAULT_MIN_RELEVANCE, DEFAULT_MIN_COVERAGE)))),
        }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"best: min_relevance={best[0]} min_coverage={best[1]}  (defaults {DEFAULT_MIN_RELEVANCE}, {DEFAULT_MIN_COVERAGE})")
    for name, row in report["sources"].items():
        print(f"  {name:9s} {row['answerable']:4d} answerable / {row['unanswerable']:4d} not:  "
              f"best {row['at_best']}  defaults {row['at_defaults']}")


if __name__ == "__main__":
    main()
