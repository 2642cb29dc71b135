"""Unit tests: bad input gets a clear error naming the index, before any model is loaded."""

import numpy as np
import pytest

from medembed_rag import (
    EmbeddingIntegrityError,
    InvalidInputError,
    InvalidInputTypeError,
    MedEmbedEncoder,
)
from medembed_rag.models.encoder import _check_integrity


@pytest.fixture
def unloaded(standin_path, tmp_path):
    return MedEmbedEncoder(standin_path, cache_dir=tmp_path)


@pytest.mark.parametrize(
    ("texts", "error", "pattern"),
    [
        (["fine", ""], InvalidInputError, "index 1 is empty"),
        (["fine", "   \n\t"], InvalidInputError, "index 1 is empty or whitespace"),
        ([None], InvalidInputTypeError, "index 0 is NoneType"),
        (["ok", 3.5], InvalidInputTypeError, "index 1 is float"),
        (["ok", b"bytes"], InvalidInputTypeError, "decode bytes first"),
        (None, InvalidInputTypeError, "expected a list of strings, got NoneType"),
        (42, InvalidInputTypeError, "got int"),
        (b"raw", InvalidInputTypeError, "got bytes"),
    ],
)
def test_bad_inputs_raise_clear_errors_without_loading(unloaded, texts, error, pattern):
    for method in (unloaded.encode_documents, unloaded.encode_queries):
        with pytest.raises(error, match=pattern):
            method(texts)
    assert unloaded._loaded is None and unloaded.exports_run == 0


def test_error_messages_do_not_contain_the_text(unloaded):
    secret = "Patient Jane Roe has HIV"
    with pytest.raises(InvalidInputError) as info:
        unloaded.encode_documents([secret, " "])
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"precision": "fp16"}, {"truncation": "cut"}, {"batch_size": 0}, {"max_length": 2}, {"max_length": "512"}],
)
def test_bad_constructor_arguments(standin_path, kwargs):
    with pytest.raises(InvalidInputError):
        MedEmbedEncoder(standin_path, **kwargs)


def test_max_length_above_model_limit(standin_path):
    enc = MedEmbedEncoder(standin_path, max_length=1024)
    with pytest.raises(InvalidInputError, match="exceeds what"):
        enc.max_length  # noqa: B018 - the property computes and checks


def test_integrity_guard_names_the_index():
    good = np.ones((3, 4), dtype=np.float32)
    _check_integrity(good)
    nan = good.copy()
    nan[2, 1] = np.nan
    with pytest.raises(EmbeddingIntegrityError, match="NaN or infinite vector for input at index 2"):
        _check_integrity(nan)
    zero = good.copy()
    zero[1] = 0
    with pytest.raises(EmbeddingIntegrityError, match="all-zero vector for input at index 1"):
        _check_integrity(zero)
