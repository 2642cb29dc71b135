"""Whether to answer: one logistic score over the abstention signals, and named operating points on it.

The signals (computed by :meth:`VerifiedAnswerer.features`) are

- ``z``: the best usable evidence sentence's similarity to the question, as a z-score against the encoder's
  similarities between unrelated medical sentences (comparable across models);
- ``coverage``: the rarity-weighted share of the question's distinctive words found in the evidence's passage,
  section and source name;
- ``sentence_coverage``: the same share found in the evidence sentence itself (with its section heading);
- ``type_mismatch``: 1 when the question wants a kind of quantity (a volume, a duration, a dose, a frequency, a
  temperature) and no usable evidence sentence states one of that kind, else 0;
- ``margin``: how far (in z-units, capped at 3) the best sentence stands above the best sentence of any *other*
  document: a question whose nearest sentences are equally close in several unrelated documents is usually
  one none of them answers.

A logistic model turns them into the probability that the documents answer the question; the answerer
answers when it reaches the operating point's threshold. The weights and the three named operating points
(``"high"`` strictness abstains more, ``"lenient"`` answers more) were fitted by
``benchmarks/calibrate_abstention.py`` on the project's own and development question sets and the shared
PubMedQA and MedQuAD sets, cross-validated by document; the README gives each point's figures on a held-out
question set that was never used to fit them. Experts can refit on their own questions with :func:`fit` and pass the result as
``VerifiedAnswerer(abstention=...)``, or move the threshold with ``min_probability=``.

Hard rules stay outside the score: no evidence sentence at all, a named drug that no passage names, or a
quantity question without any stated quantity, are always abstentions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputError

__all__ = ["FEATURES", "FITTED", "STRICTNESS", "AbstentionModel", "fit"]

FEATURES = ("z", "coverage", "sentence_coverage", "type_mismatch", "margin")
STRICTNESS = ("high", "balanced", "lenient")
MARGIN_CAP = 3.0
# The direction each signal may push the score: more relevance, coverage and margin mean "answer"; a missing
# kind of quantity means "abstain". A fit that gives a signal the other sign (collinear signals can) drops it.
SIGNS = {"z": 1, "coverage": 1, "sentence_coverage": 1, "type_mismatch": -1, "margin": 1}


@dataclass(frozen=True)
class AbstentionModel:
    """A logistic model over :data:`FEATURES` and its named operating points (probability thresholds).

    ``probability(f) = 1 / (1 + exp(-(bias + sum(weights[k] * (f[k] - mean[k]) / scale[k]))))``
    """

    weights: Mapping[str, float]
    bias: float
    mean: Mapping[str, float]
    scale: Mapping[str, float]
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def logit(self, features: Mapping[str, float]) -> float:
        return self.bias + sum(
            self.weights[k] * (float(features[k]) - self.mean[k]) / self.scale[k] for k in self.weights)

    def probability(self, features: Mapping[str, float]) -> float:
        """The probability that the documents answer the question, from its signals."""
        x = self.logit(features)
        return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0

    def threshold(self, strictness: str) -> float:
        if strictness not in self.thresholds:
            raise InvalidInputError(
                f"strictness must be one of {', '.join(map(repr, self.thresholds))}; got {strictness!r}")
        return self.thresholds[strictness]


def fit(rows: Sequence[Mapping[str, float]], labels: Sequence[bool], *, weights: Sequence[float] | None = None,
        l2: float = 1.0, thresholds: Mapping[str, float] | None = None) -> AbstentionModel:
    """Fits an :class:`AbstentionModel` by L2-regularised logistic regression (Newton's method).

    Each weight keeps the sign of :data:`SIGNS` (a signal fitted with the other sign is left out and the rest
    refitted), so the score never rewards less evidence.

    Args:
        rows: The signals of each question (dicts with the :data:`FEATURES` keys).
        labels: True where the documents answer the question.
        weights: Per-question sample weights (e.g. to weigh each source equally); default 1.
        l2: Ridge penalty on the standardised weights (not on the bias).
        thresholds: The operating points to store with the model.
    """
    if not rows or len(rows) != len(labels):
        raise InvalidInputError("fit needs one label per row, and at least one row")
    names = [k for k in FEATURES]
    while True:  # signs fixed by what each signal means: a feature fitted with the wrong sign is left out
        model = _fit(rows, labels, names, weights, l2, thresholds)
        wrong = [k for k in names if model.weights[k] * SIGNS[k] < 0]
        if not wrong:
            return model
        names.remove(max(wrong, key=lambda k: abs(model.weights[k])))


def _fit(rows, labels, names, weights, l2, thresholds) -> AbstentionModel:
    x = np.array([[float(r[k]) for k in names] for r in rows])
    y = np.asarray(labels, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.mean()
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    design = np.hstack([np.ones((len(y), 1)), (x - mean) / scale])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * len(names))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (w * (y - p)) - penalty @ beta
        hessian = design.T @ (design * (w * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return AbstentionModel(
        weights={k: round(float(b), 4) for k, b in zip(names, beta[1:])}, bias=round(float(beta[0]), 4),
        mean={k: round(float(m), 4) for k, m in zip(names, mean)},
        scale={k: max(round(float(s), 4), 1e-4) for k, s in zip(names, scale)},
        thresholds=dict(thresholds or {}))


# Written by `python benchmarks/calibrate_abstention.py --fit` (stand-in model, fp32); see the README.
FITTED = AbstentionModel(
    weights={"z": 0.8667, "coverage": 0.9622, "type_mismatch": -0.1654, "margin": 0.501},
    bias=0.3493,
    mean={"z": 5.1432, "coverage": 0.616, "type_mismatch": 0.0099, "margin": 1.2206},
    scale={"z": 1.4036, "coverage": 0.3395, "type_mismatch": 0.0991, "margin": 1.1752},
    thresholds={"high": 0.6, "balanced": 0.41, "lenient": 0.23},
)
