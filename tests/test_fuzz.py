"""Property-based fuzzing of the public API: every input either works or raises the package's documented
error type (MedEmbedError and subclasses); nothing crashes, no NaN is stored, and a failed call leaves the
store's count and content unchanged."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medembed_rag import MedEmbedError
from medembed_rag.chunking import MedicalChunker
from medembed_rag.index.store import MedEmbedChromaStore

CASES = {"encoder": 0, "chunker": 0, "store": 0, "cli": 0}

NASTY = st.sampled_from([
    "", " ", "\n\t", "\x00", "a\x00b", "[SEP]", "[CLS] [SEP] [PAD]", "مرحبا بالمريض", "שלום", "🩺💊" * 50,
    "x" * 20000, "word " * 3000, "\u200b\u200b", "HISTORY:\nPLAN:", "1. 2. 3.", "e.g. i.v. b.i.d.",
])
TEXTS = st.one_of(NASTY, st.text(max_size=300))
VALUES = st.one_of(TEXTS, st.none(), st.integers(), st.floats(allow_nan=True), st.binary(max_size=20), st.booleans())
METADATA = st.recursive(
    st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10), st.booleans(), st.binary(max_size=5)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)),
    max_leaves=6,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.one_of(VALUES, st.lists(VALUES, max_size=5)))
def test_encoder(encoder, value):
    CASES["encoder"] += 1
    for method in (encoder.encode_documents, encoder.encode_queries):
        try:
            out = method(value)
        except MedEmbedError:
            continue
        assert out.dtype == np.float32 and np.isfinite(out).all()
        assert out.shape[0] == (1 if isinstance(value, str) else len(value))


@FUZZ
@given(VALUES, st.one_of(st.none(), st.dictionaries(st.text(max_size=5), METADATA, max_size=3), VALUES))
def test_chunker(standin_path, value, metadata):
    CASES["chunker"] += 1
    chunker = MedicalChunker(tokenizer=standin_path, max_length=64)
    try:
        chunks = chunker.split(value, metadata=metadata)
    except MedEmbedError:
        return
    assert all(value[c.start : c.end] == c.text and c.n_tokens <= 64 for c in chunks)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory, encoder):
    with MedEmbedChromaStore(tmp_path_factory.mktemp("fuzz") / "store", encoder=encoder) as store:
        store.add_documents(["Warfarin needs INR tests.", "Metformin with meals."], ids=["w", "m"])
        yield store


def _snapshot(store):
    got = store.collection.get(include=["documents", "embeddings"])
    assert all(np.isfinite(np.asarray(e)).all() for e in got["embeddings"])
    return dict(zip(got["ids"], got["documents"]))


@FUZZ
@given(
    st.lists(VALUES, max_size=3),
    st.one_of(st.none(), st.lists(st.one_of(st.text(max_size=8), st.none(), st.integers()), max_size=3)),
    st.one_of(st.none(), st.lists(st.one_of(st.none(), METADATA), max_size=3)),
    VALUES,
    st.one_of(st.integers(min_value=-2, max_value=50), st.none(), st.text(max_size=3)),
)
def test_store(fuzz_store, texts, ids, metadatas, query, k):
    CASES["store"] += 1
    before = _snapshot(fuzz_store)
    try:
        fuzz_store.add_documents(texts, ids=ids, metadatas=metadatas)
    except MedEmbedError:
        assert _snapshot(fuzz_store) == before  # a refused call writes nothing
    for call in (lambda: fuzz_store.query(query, k), lambda: fuzz_store.hybrid().query(query, k if isinstance(k, int) and k > 0 else 2)):
        try:
            for hit in call():
                assert math.isfinite(hit.score)
        except MedEmbedError:
            pass
    state = _snapshot(fuzz_store)
    try:
        fuzz_store.delete(query)
    except MedEmbedError:
        assert _snapshot(fuzz_store) == state
    assert fuzz_store.count() == len(_snapshot(fuzz_store))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(["index", "query", "eval", "export", "delete", "--store", "-k", "--hybrid",
                                           "--precision", "int4", "--json", "0", "-1", "", "\x00", "/nonexistent"]),
                          st.text(max_size=8)), max_size=5))
def test_cli_arguments(tmp_path_factory, args):
    from medembed_rag.app.cli import main

    CASES["cli"] += 1
    folder = tmp_path_factory.mktemp("cli-fuzz")
    try:
        code = main([*args, *(["--store", str(folder / "s")] if args[:1] in (["index"], ["query"], ["delete"]) else [])])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code in (0, 2, 3, 4)


def test_report_case_counts():
    print(f"fuzz cases run: {CASES}")
    assert sum(CASES.values()) >= 100 or not any(CASES.values())
