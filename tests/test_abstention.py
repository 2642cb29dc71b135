"""Abstention that generalises (issue 26): the held-out question set's targets, the named operating points,
the answer-type signal and the logistic score.

The held-out set (tests/heldout_answer_set.py over tests/heldout_docs/) was written and committed before the
method; nothing is fitted on it (benchmarks/calibrate_abstention.py fits on tests/answer_set.py and the shared
sets). These tests only check that its figures hold.
"""

from pathlib import Path

import pytest

from tests.heldout_answer_set import ANSWERABLE, UNANSWERABLE
from tests.test_answer import markdown_store, score_set
from medembed_rag.answers import decision
from medembed_rag.answers.answerer import Passage, VerifiedAnswerer
from medembed_rag.answers.signals import answer_type, matches_type, quantity_classes
from medembed_rag.errors import InvalidInputError

HELDOUT_DOCS = Path(__file__).parent / "heldout_docs"


@pytest.fixture(scope="module")
def heldout_store(encoder, tmp_path_factory):
    store = markdown_store(HELDOUT_DOCS, encoder, tmp_path_factory.mktemp("heldout"))
    yield store
    store.close()


# Measured on the held-out set at the shipped default (balanced), stand-in model: 55% answered correctly, 78%
# abstained (README). These floors catch a regression; the issue's targets are below, and not met yet.
HELDOUT_FLOOR = (0.50, 0.75)
# The development set (a training source, tests/dev_answer_set.py) at the default: 75% / 83% (fitted on it,
# cross-validated by document: the same).
DEV_FLOOR = (0.70, 0.78)


@pytest.fixture(scope="module")
def extractive(heldout_store):
    return score_set(VerifiedAnswerer(heldout_store), ANSWERABLE, UNANSWERABLE)


def test_heldout_set_invents_nothing_and_holds_its_measured_figures(extractive):
    answered, abstained, misses = extractive
    assert answered >= HELDOUT_FLOOR[0] and abstained >= HELDOUT_FLOOR[1], (answered, abstained, misses)


def test_heldout_set_with_the_local_llm_invents_nothing(heldout_store, local_llm):
    """Every number, unit, frequency and drug name of every generated answer is in the text it cites."""
    answered, abstained, _ = score_set(VerifiedAnswerer(heldout_store, llm=local_llm), ANSWERABLE, UNANSWERABLE)
    assert answered >= HELDOUT_FLOOR[0] - 0.05 and abstained >= HELDOUT_FLOOR[1]


def test_development_set_holds_its_fitted_figures(encoder, tmp_path):
    from tests.dev_answer_set import ANSWERABLE as DEV_ANSWERABLE, UNANSWERABLE as DEV_UNANSWERABLE

    with markdown_store(Path(__file__).parent / "dev_docs", encoder, tmp_path) as store:
        answered, abstained, misses = score_set(VerifiedAnswerer(store), DEV_ANSWERABLE, DEV_UNANSWERABLE)
    assert answered >= DEV_FLOOR[0] and abstained >= DEV_FLOOR[1], (answered, abstained, misses)


@pytest.mark.xfail(strict=True, reason="issue 26's held-out targets (>= 90% answered correctly, >= 80% abstained) "
                                       "are not reached: 55% / 78% at the default (see the README's curve)")
def test_heldout_targets_of_issue_26(extractive):
    answered, abstained, misses = extractive
    assert answered >= 0.9 and abstained >= 0.8, misses


def test_strictness_orders_the_decisions(heldout_store):
    """Every question "high" answers, "balanced" answers, and every one "balanced" answers, "lenient" does."""
    answerers = {s: VerifiedAnswerer(heldout_store, strictness=s) for s in decision.STRICTNESS}
    thresholds = [answerers[s].min_probability for s in ("high", "balanced", "lenient")]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[0] > thresholds[2]
    base = answerers["balanced"]
    for question in [q for q, _, _ in ANSWERABLE[:12]] + list(UNANSWERABLE[:8]):
        f = base.features(question, base.retrieve(question))
        decided = [answerers[s].decides_to_answer(f) for s in ("high", "balanced", "lenient")]
        assert decided == sorted(decided), (question, decided)  # False..True, never True then False
    with pytest.raises(InvalidInputError, match="strictness"):
        VerifiedAnswerer(heldout_store, strictness="strict")
    expert = VerifiedAnswerer(heldout_store, min_probability=0.99)
    assert expert.min_probability == 0.99


def test_answer_types_class_units_not_just_numbers():
    assert answer_type("How much fluid can I drink each day?") == "volume"
    assert answer_type("How long should I wait between doses?") == "duration"
    assert answer_type("How often is the INR checked?") == "frequency"
    assert answer_type("What dose of furosemide is given?") == "dose"
    assert answer_type("How high does a fever have to be?") == "temperature"
    assert answer_type("What is warfarin for?") is None
    assert quantity_classes("Drink no more than 1.5 litres of fluid a day.") == {"volume"}
    assert quantity_classes("Take 500 mg twice daily for 5 days.") == {"mass", "frequency", "duration"}
    assert matches_type("volume", "Drink no more than 1.5 litres of fluid a day.")
    assert not matches_type("volume", "Weigh yourself every morning; call if you gain 2 kg.")
    assert not matches_type("duration", "The usual dose is 40 mg.")
    assert matches_type(None, "The usual dose is 40 mg.") and not matches_type(None, "Rest well.")


def test_a_quantity_of_the_asked_kind_is_preferred_as_evidence(encoder):
    passages = [
        Passage("a", "hf", "Weigh yourself every morning and call the nurse if you gain 2 kg in 3 days.", 0.6, {}),
        Passage("b", "hf", "Drink no more than 1.5 litres of fluid a day, including soup and tea.", 0.5, {}),
    ]
    answerer = VerifiedAnswerer(encoder=encoder, strictness="lenient")
    f = answerer.features("How much fluid may a heart failure patient drink each day?", passages)
    assert f["answer_type"] == "volume" and f["type_mismatch"] == 0.0
    assert all(matches_type("volume", e.text) for e in f["usable"]) and "1.5 litres" in f["usable"][0].text
    only_mass = answerer.features("How much fluid may a heart failure patient drink each day?", passages[:1])
    assert only_mass["type_mismatch"] == 1.0  # a weight is not a volume: the score is told so


def test_the_score_rises_with_each_signal_and_fit_recovers_a_rule():
    model = decision.FITTED
    base = {"z": 3.0, "coverage": 0.5, "sentence_coverage": 0.4, "type_mismatch": 0.0, "margin": 1.0}
    p = model.probability(base)
    assert model.probability({**base, "z": 5.0}) > p
    assert model.probability({**base, "coverage": 0.9}) > p
    assert model.probability({**base, "type_mismatch": 1.0}) <= p  # never rewards a missing kind of quantity
    for k, w in model.weights.items():  # every fitted weight has the sign the signal's meaning gives it
        assert w * decision.SIGNS[k] > 0, (k, w)
    # a refit where a signal comes out with the wrong sign leaves it out (collinear signals can)
    rows = [{**base, "z": z, "margin": m} for z, m in zip((0.5, 1.0, 1.5, 2.0, 4.0, 4.5, 5.0, 5.5),
                                                            (3, 2.9, 2.8, 2.7, 0.1, 0.2, 0.3, 0.4))]
    assert "margin" not in decision.fit(rows, [False] * 4 + [True] * 4).weights
    # a refit on data where z alone separates the classes learns that
    rows = [{**base, "z": z} for z in (0.5, 1.0, 1.5, 2.0, 4.0, 4.5, 5.0, 5.5)]
    fitted = decision.fit(rows, [False] * 4 + [True] * 4, l2=0.1, thresholds={"balanced": 0.5})
    assert fitted.probability({**base, "z": 5.2}) > 0.9 > 0.1 > fitted.probability({**base, "z": 0.7})
    assert VerifiedAnswerer(encoder=object(), abstention=fitted).min_probability == 0.5
    with pytest.raises(InvalidInputError):
        decision.fit([], [])


def test_clock_times_word_durations_and_codes_are_quantities_and_terms():
    from medembed_rag.answers.signals import has_quantity, term_weights

    assert answer_type("What time do I drink the first lot of the laxative?") == "clock"
    assert quantity_classes("Drink the first litre at 6 pm the evening before.") >= {"time"}
    assert answer_type("At what glucose level should I test for ketones when I'm ill?") == "level"  # not "when"
    assert answer_type("My boy has had a fever for days - when should a doctor see him?") == "duration"
    assert "duration" in quantity_classes("Wear the shield at night for the first week.")
    assert has_quantity("Wear the shield at night for the first week.")
    assert "duration" not in quantity_classes("Drink 1.5 litres a day, each day.")
    assert "t3" in term_weights("What is a normal free T3 level?", ["Free T4 is 12 to 22 pmol/L."])


def test_a_one_word_sentence_stating_a_quantity_is_evidence(encoder):
    passages = [Passage("a", "thyroid", "TSH is usually between 0.4 and 4.0 mU/L. Each laboratory prints its own "
                                        "range beside your result.", 0.6, {"section": "Usual ranges"})]
    f = VerifiedAnswerer(encoder=encoder).features("What is a normal TSH level?", passages)
    assert any("0.4 and 4.0" in e.text for e in f["usable"])
