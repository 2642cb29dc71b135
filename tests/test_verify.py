"""The verifier on crafted answers: each unsupported fact caught, each supported paraphrase kept."""

import pytest

from medembed_rag.answers.verify import check_sentence, extract_facts, split_sentences

INR = ("When warfarin is started, the INR is checked every 2 to 3 days until two results in a row are in the "
       "target range. The usual target range is 2.0 to 3.0.")
FUROSEMIDE = "1. Furosemide 40 mg once daily in the morning."
METFORMIN = "The maximum dose is 2000 mg a day, taken in divided doses with meals."


@pytest.mark.parametrize("sentence, passage, expected", [
    # supported, including paraphrases
    ("The INR is checked every 2 to 3 days when warfarin is started [1].", INR, None),
    ("After starting warfarin, check the INR every two to three days [1].", INR, None),
    ("The INR is usually kept between 2 and 3 [1].", INR, None),
    ("Furosemide 40 mg is taken once a day [1].", FUROSEMIDE, None),
    ("No more than 2,000 mg of metformin a day [1].", "Metformin: " + METFORMIN, None),
    # a changed dose
    ("Furosemide 80 mg once daily in the morning [1].", FUROSEMIDE, "number 80 mg"),
    ("The maximum dose is 2000 g a day [1].", METFORMIN, "2000 g is not in the cited passage"),
    # a swapped interval / frequency
    ("The INR is checked every 2 to 3 weeks when warfarin is started [1].", INR, "week"),
    ("Furosemide 40 mg twice daily in the morning [1].", FUROSEMIDE, "frequency '2/day'"),
    ("The INR is checked weekly when warfarin is started [1].", INR, "frequency '1/week'"),
    # an added drug
    ("Furosemide 40 mg once daily with ramipril in the morning [1].", FUROSEMIDE, "drug 'ramipril'"),
    ("Take warfarin with aspirin and check the INR every 2 to 3 days [1].", INR, "drug 'aspirin'"),
    # an added negation, an invented claim
    ("Do not check the INR when warfarin is started [1].", INR, "negates"),
    ("Warfarin causes hair loss in most people who start it [1].", INR, "of its words are in the cited passage"),
])
def test_verifier_decides_crafted_answers(sentence, passage, expected):
    reasons = check_sentence(sentence, [passage])
    if expected is None:
        assert reasons == [], reasons
    else:
        assert any(expected in r for r in reasons), reasons


def test_nothing_cited_is_unsupported():
    assert check_sentence("Warfarin 5 mg daily.", []) == ["cites no passage"]


def test_facts_normalise_units_ranges_and_frequencies():
    facts = extract_facts("Drink no more than 1.5 litres a day; take 15 to 20 g; BP 140/90 mmHg; b.i.d.; 50% of best")
    assert {("1.5", "l"), ("15", "g"), ("20", "g"), ("140/90", "mmhg"), ("50", "%")} <= facts.quantities
    assert facts.frequencies == {"2/day"}
    assert extract_facts("2. Offer metformin").numbers == frozenset()  # a list number is not a fact
    assert extract_facts("statins and ramipril; cholesterol").drugs == {"statin", "ramipril"}


def test_sentences_split_on_ends_not_on_decimals_abbreviations_or_wrapped_lines():
    text = ("## Heading\nHe received ceftriaxone 1 g i.v. q.d. and azithromycin 500 mg p.o. daily. Oxygen was\n"
            "weaned over 4 days.\n1. Furosemide 40 mg.\n2. Ramipril 2.5 mg.\nLABEL: A range of 2.0 to 3.0. Done.")
    assert split_sentences(text) == [
        "He received ceftriaxone 1 g i.v. q.d. and azithromycin 500 mg p.o. daily.",
        "Oxygen was weaned over 4 days.",
        "1. Furosemide 40 mg.",
        "2. Ramipril 2.5 mg.",
        "LABEL: A range of 2.0 to 3.0.",
        "Done.",
    ]
