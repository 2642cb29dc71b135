"""Checks a generated sentence against the passages it cites: numbers, units, intervals, drug names, negation.

The rule is strict where a wrong word harms a patient: every number (with its unit), every frequency
("twice daily", "weekly", "every 4 weeks") and every drug name in the sentence must appear in a cited
passage. Beyond that a sentence must be mostly made of the cited passage's words (a paraphrase passes, an
invented claim does not), and a negation ("do not", "never") needs a negation in the passage.

Everything here is plain text processing: no model, no network, deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..text.sentences import split_sentences
from ..text.words import NOT_FACT_WORDS, STOPWORDS

__all__ = ["Facts", "check_sentence", "content_words", "extract_facts", "split_sentences", "word_keys"]

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "hundred": 100,
}

# (pattern, canonical frequency); longest first so "twice daily" never also counts as "daily".
_FREQUENCIES: tuple[tuple[str, str], ...] = (
    (r"\b(?:twice|2 times) (?:a|per|each) day\b|\btwice daily\b|\bb\.?i\.?d\.?(?!\w)|\bbd\b", "2/day"),
    (r"\b(?:three|3) times (?:a|per|each) day\b|\bthree times daily\b|\bt\.?i\.?d\.?(?!\w)|\btds\b", "3/day"),
    (r"\b(?:four|4) times (?:a|per|each) day\b|\bfour times daily\b|\bq\.?i\.?d\.?(?!\w)|\bqds\b", "4/day"),
    (r"\bonce (?:a|per|each) day\b|\bonce daily\b|\bevery day\b|\beach day\b|\bdaily\b|\bq\.?d\.?(?!\w)", "1/day"),
    (r"\bonce (?:a|per|each) week\b|\bevery week\b|\beach week\b|\bweekly\b", "1/week"),
    (r"\bfortnightly\b|\bevery other week\b", "1/2week"),
    (r"\bonce (?:a|per|each) month\b|\bevery month\b|\beach month\b|\bmonthly\b", "1/month"),
    (r"\bonce (?:a|per|each) year\b|\bevery year\b|\beach year\b|\byearly\b|\bannually\b|\bannual\b", "1/year"),
    (r"\bevery night\b|\bnightly\b|\bat bedtime\b", "1/night"),
    (r"\bhourly\b|\bevery hour\b", "1/hour"),
)
_FREQUENCY_RES = tuple((re.compile(p), f) for p, f in _FREQUENCIES)

_UNITS: tuple[tuple[str, str], ...] = (
    (r"ml/min(?:/1\.73 ?m2)?", "ml/min"), (r"mmol/mol", "mmol/mol"), (r"mmol/l", "mmol/l"), (r"mg/dl", "mg/dl"),
    (r"mg/kg", "mg/kg"), (r"mmhg", "mmhg"), (r"mg|milligrams?", "mg"), (r"mcg|micrograms?|µg|ug", "mcg"),
    (r"kg|kilograms?|kilos?", "kg"), (r"g|grams?|gm", "g"), (r"ml|millilitres?|milliliters?", "ml"),
    (r"l|litres?|liters?", "l"), (r"%|percent|per cent", "%"), (r"units?|iu", "unit"),
    (r"hours?|hrs?|h", "hour"), (r"minutes?|mins?", "minute"), (r"seconds?|secs?", "second"),
    (r"days?", "day"), (r"weeks?", "week"), (r"months?", "month"), (r"years?|yrs?", "year"),
    (r"puffs?", "puff"), (r"tablets?|tabs?", "tablet"), (r"capsules?", "capsule"), (r"degrees?", "degree"),
    (r"doses?", "dose"), (r"times", "times"), (r"c\b|°c", "c"),
)
_UNIT_ALTERNATION = "|".join(p for p, _ in _UNITS)
_UNIT_CANON = [(re.compile(rf"^(?:{p})$"), canon) for p, canon in _UNITS]
_NUM = r"\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)?"
_RANGE_RE = re.compile(rf"(?<![\w.])({_NUM})\s*(?:to|-|–|and|or)\s*({_NUM})\s*({_UNIT_ALTERNATION})(?![\w/])")
_QUANTITY_RE = re.compile(rf"(?<![\w.])({_NUM})(?:\s*({_UNIT_ALTERNATION})(?![\w/]))?")

# Generic names in everyday prescribing plus the stems that name drug classes (-pril, -olol, -statin, ...).
_DRUGS = frozenset("""
adrenaline alendronate allopurinol amiodarone amitriptyline amlodipine amoxicillin apixaban aspirin atenolol
atorvastatin azathioprine azithromycin baclofen beclometasone bendroflumethiazide bisoprolol budesonide
bumetanide buprenorphine candesartan captopril carbamazepine carbimazole cefalexin ceftriaxone cetirizine
ciprofloxacin citalopram clarithromycin clopidogrel co-amoxiclav codeine colchicine dabigatran dapagliflozin
dexamethasone diazepam diclofenac digoxin diltiazem docusate donepezil doxycycline edoxaban empagliflozin
enalapril enoxaparin erythromycin escitalopram esomeprazole ezetimibe felodipine fentanyl ferrous fluoxetine
folic formoterol furosemide gabapentin gliclazide glucagon haloperidol heparin hydrocortisone hydroxychloroquine
ibuprofen indapamide insulin ipratropium isosorbide lamotrigine lansoprazole levetiracetam levothyroxine
lisinopril lithium loperamide loratadine losartan macrogol metformin methadone methotrexate metoclopramide
metoprolol metronidazole mirtazapine montelukast morphine naloxone naproxen nifedipine nitrofurantoin
nitroglycerin olanzapine omeprazole ondansetron oxycodone pantoprazole paracetamol acetaminophen penicillin
perindopril phenytoin pioglitazone pravastatin prednisolone prednisone pregabalin propranolol quetiapine
ramipril ranitidine rifampicin risperidone rivaroxaban rosuvastatin salbutamol albuterol salmeterol senna
sertraline simvastatin sitagliptin sodium-valproate spironolactone sulfasalazine tamsulosin terbinafine
theophylline tiotropium tramadol trimethoprim valproate vancomycin venlafaxine verapamil warfarin zopiclone
glyceryl-trinitrate statin nicotine naltrexone tamoxifen letrozole semaglutide liraglutide dulaglutide tirzepatide
""".split())
_DRUG_STEMS = re.compile(
    r"[a-z]{3,}(?:pril|sartan|olol|statin|azole|cillin|mycin|micin|floxacin|cycline|prazole|tidine|gliptin|"
    r"gliflozin|parin|xaban|gatran|formin|semide|thiazide|dipine|oxetine|triptan|clovir|navir|umab|ximab|zumab|"
    r"tinib|profen|fenac|codone|morphone|azepam|azolam|setron|lukast|tropium|sonide|olone|dronate|glitazone|"
    r"glutide|platin|rubicin)$"
)
_NEGATIONS = re.compile(r"\b(?:not|no|never|don't|do not|doesn't|shouldn't|mustn't|cannot|can't|avoid|without|stop)\b")
# "no more than 1.5 litres" states a limit, like "at most" or "maximum"; it is not a negation.
_LIMITS = re.compile(r"\b(?:no|not) (?:more|later|longer|higher|fewer|less|lower) than\b|\bdo not exceed\b")
_STOPWORDS = STOPWORDS | NOT_FACT_WORDS


@dataclass(frozen=True)
class Facts:
    """What must be supported: (value, unit) quantities, bare numbers, canonical frequencies, drug names."""

    quantities: frozenset[tuple[str, str]]
    numbers: frozenset[str]
    frequencies: frozenset[str]
    drugs: frozenset[str]
    negated: bool




def _normalise(text: str) -> str:
    text = text.lower().replace("\u2013", "-").replace("\u2014", "-").replace("\u00a0", " ")
    text = re.sub(r"\[\d+\]", " ", text)  # citation markers are not facts
    text = re.sub(r"(?m)^\s*\d+[.)]\s+", " ", text)  # nor are list numbers ("2. Offer metformin")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    return re.sub(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: str(_NUMBER_WORDS[m.group(1)]), text)


def _canon_number(value: str) -> str:
    if "/" in value:
        return "/".join(_canon_number(v) for v in value.split("/"))
    number = float(value)
    return str(int(number)) if number == int(number) else repr(number)


def _canon_unit(unit: str | None) -> str:
    if not unit:
        return ""
    for pattern, canon in _UNIT_CANON:
        if pattern.match(unit):
            return canon
    return unit


def extract_facts(text: str) -> Facts:
    """The checkable facts of one sentence or passage."""
    norm = _normalise(text)
    frequencies = set()
    for pattern, canon in _FREQUENCY_RES:
        if pattern.search(norm):
            frequencies.add(canon)
            norm = pattern.sub(" ", norm)
    quantities: set[tuple[str, str]] = set()
    for m in _RANGE_RE.finditer(norm):  # "2 to 3 days": the unit belongs to both ends
        unit = _canon_unit(m.group(3))
        quantities.add((_canon_number(m.group(1)), unit))
    for m in _QUANTITY_RE.finditer(norm):
        quantities.add((_canon_number(m.group(1)), _canon_unit(m.group(2))))
    numbers = {value for value, _ in quantities}
    words = re.findall(r"[a-z][a-z-]+", norm)
    drugs = {w[:-1] if w.endswith("s") and w not in _DRUGS else w
             for w in words if w in _DRUGS or w.rstrip("s") in _DRUGS or _DRUG_STEMS.match(w.rstrip("s"))}
    return Facts(frozenset(quantities), frozenset(numbers), frozenset(frequencies), frozenset(drugs),
                 bool(_NEGATIONS.search(_LIMITS.sub(" ", norm))))


def content_words(text: str) -> list[str]:
    """Lower-cased words of three letters or more that carry meaning (no stop words, no numbers)."""
    return [w for w in re.findall(r"[a-z][a-z'-]{2,}", _normalise(text)) if w not in _STOPWORDS]


def word_keys(text: str) -> set[str]:
    """The first five letters of each meaningful word, so "checked"/"checks" and "weighs"/"weigh" match."""
    return {w[:5] for w in content_words(text)}


def check_sentence(sentence: str, passages: Sequence[str], *, min_overlap: float = 0.5) -> list[str]:
    """Why ``sentence`` is not supported by ``passages`` (the passages it cites); an empty list if it is.

    Args:
        sentence: One generated sentence (citation markers are ignored).
        passages: The texts it cites.
        min_overlap: Share of its meaningful words that must occur in the passages (first five letters
            compared, so "checked"/"checks" and "weighs"/"weigh" match).
    """
    if not passages:
        return ["cites no passage"]
    facts = extract_facts(sentence)
    joined = " ".join(passages)
    source = extract_facts(joined)
    reasons = []
    for value, unit in sorted(facts.quantities):
        if value not in source.numbers:
            reasons.append(f"number {value}{(' ' + unit) if unit else ''} is not in the cited passage")
        elif unit and (value, unit) not in source.quantities:
            held = sorted(u for v, u in source.quantities if v == value and u) or ["no unit"]
            reasons.append(f"{value} {unit} is not in the cited passage (it has {value} with {', '.join(held)})")
    reasons += [f"frequency '{f}' is not in the cited passage" for f in sorted(facts.frequencies - source.frequencies)]
    passage_words = set(re.findall(r"[a-z][a-z-]+", _normalise(joined)))
    for drug in sorted(facts.drugs):
        if drug not in passage_words and drug.rstrip("s") not in passage_words and drug + "s" not in passage_words:
            reasons.append(f"drug '{drug}' is not in the cited passage")
    if facts.negated and not source.negated:
        reasons.append("it negates something the cited passage states without negation")
    words = content_words(sentence)
    if words:  # supported numbers count as matching words: "between 2 and 3" paraphrases "2.0 to 3.0"
        keys = word_keys(joined)
        matched = sum(w[:5] in keys for w in words) + len(facts.numbers & source.numbers)
        share = matched / (len(words) + len(facts.numbers))
        if share < min_overlap:
            reasons.append(f"only {share:.0%} of its words are in the cited passage")
    return reasons
