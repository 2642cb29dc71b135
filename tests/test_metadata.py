"""Unit tests: metadata conversion and rejection, before anything reaches Chroma."""

import datetime as dt
from pathlib import Path

import pytest

from medembed_rag import InvalidInputError, InvalidInputTypeError
from medembed_rag.index.metadata import to_chroma_metadata


def test_predictable_conversions():
    got = to_chroma_metadata(
        {
            "source": "note.txt",
            "page": 3,
            "score": 0.5,
            "final": True,
            "missing": None,
            "ward": {"name": "cardiology", "floor": 2, "none": None},
            "tags": ["asthma", "copd"],
            "mixed_numbers": [1, 2.5],
            "empty": [],
            "when": dt.date(2024, 5, 1),
            "file": Path("/data/a.txt"),
        }
    )
    assert got == {
        "source": "note.txt", "page": 3, "score": 0.5, "final": True, "ward.name": "cardiology", "ward.floor": 2,
        "tags": ["asthma", "copd"], "mixed_numbers": [1.0, 2.5], "when": "2024-05-01", "file": "/data/a.txt",
    }
    assert to_chroma_metadata(None) == {}


@pytest.mark.parametrize(
    ("meta", "error", "pattern"),
    [
        ({"blob": b"\x00"}, InvalidInputTypeError, "'blob' of document 2 is bytes"),
        ({"obj": object()}, InvalidInputTypeError, "is object"),
        ({"mixed": ["a", 1]}, InvalidInputTypeError, "mixes types"),
        ({"nested_list": [[1]]}, InvalidInputTypeError, "is list"),
        ({"nan": float("nan")}, InvalidInputError, "NaN"),
        ({3: "x"}, InvalidInputTypeError, "non-string"),
        ({"chunk_index": 4}, InvalidInputError, "reserves"),
        ("not a mapping", InvalidInputTypeError, "not a mapping"),
    ],
)
def test_rejections_name_document_and_key(meta, error, pattern):
    with pytest.raises(error, match=pattern):
        to_chroma_metadata(meta, index=2)
