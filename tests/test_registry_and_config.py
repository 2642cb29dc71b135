"""Unit tests: the model registry and reading sentence-transformers files (no model is loaded)."""

import json

import pytest

import medembed_rag
from medembed_rag import MedEmbedEncoder, ModelNotFoundError, Pooling, list_supported_models
from medembed_rag.errors import ModelLoadError
from medembed_rag.models.settings import read_settings
from medembed_rag.models.registry import get_model_spec


def test_registry_lists_the_three_medembed_models():
    specs = {s.model_id: s for s in list_supported_models()}
    assert {"abhinand/MedEmbed-small-v0.1", "abhinand/MedEmbed-base-v0.1", "abhinand/MedEmbed-large-v0.1"} <= set(specs)
    assert [specs[f"abhinand/MedEmbed-{size}-v0.1"].dim for size in ("small", "base", "large")] == [384, 768, 1024]
    for spec in (s for model_id, s in specs.items() if model_id.startswith("abhinand/MedEmbed-")):
        assert spec.pooling is Pooling.CLS and spec.max_length == 512 and spec.normalize
        assert spec.query_prefix == "" and spec.document_prefix == ""
    assert len(specs["abhinand/MedEmbed-base-v0.1"].revision) == 40
    long = specs["Alibaba-NLP/gte-modernbert-base"]  # the long-context class (MedEIR's): 8,192 tokens
    assert long.max_length == 8192 and long.dim == 768 and long.pooling is Pooling.CLS and long.revision is None


def test_registered_model_is_described_without_loading():
    enc = MedEmbedEncoder("abhinand/MedEmbed-base-v0.1")
    assert enc.dim == 768 and enc.max_length == 512
    fp = enc.fingerprint
    assert fp["revision"] == get_model_spec("abhinand/MedEmbed-base-v0.1").revision
    assert fp["pooling"] == "cls" and fp["normalize"] is True and fp["precision"] == "auto"


def test_unpinned_hub_model_warns():
    with pytest.warns(UserWarning, match="pinned revision"):
        MedEmbedEncoder("someone/unregistered-bert")


def test_pooling_parse_names_valid_values():
    assert Pooling.parse("CLS") is Pooling.CLS
    with pytest.raises(ValueError, match="'cls', 'mean'"):
        Pooling.parse("max")


def _write(folder, name, payload):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def test_settings_are_read_from_sentence_transformers_files(tmp_path):
    _write(tmp_path, "config.json", {"hidden_size": 64, "max_position_embeddings": 512})
    _write(tmp_path, "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write(tmp_path, "1_Pooling/config.json", {"word_embedding_dimension": 64, "pooling_mode_cls_token": True})
    _write(tmp_path, "sentence_bert_config.json", {"max_seq_length": 300})
    _write(tmp_path, "config_sentence_transformers.json", {"prompts": {"query": "query: ", "document": "passage: "}})
    s = read_settings(tmp_path)
    assert (s.dim, s.pooling, s.normalize, s.max_length) == (64, Pooling.CLS, True, 300)
    assert (s.query_prefix, s.document_prefix) == ("query: ", "passage: ")


def test_mean_pooling_without_normalize(tmp_path):
    _write(tmp_path, "config.json", {"hidden_size": 32, "max_position_embeddings": 128})
    _write(tmp_path, "modules.json", [{"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    _write(tmp_path, "1_Pooling/config.json", {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    s = read_settings(tmp_path)
    assert (s.pooling, s.normalize, s.max_length) == (Pooling.MEAN, False, 128)


def test_unsupported_pooling_is_named(tmp_path):
    _write(tmp_path, "config.json", {"hidden_size": 32})
    _write(tmp_path, "modules.json", [{"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    _write(tmp_path, "1_Pooling/config.json", {"pooling_mode_max_tokens": True})
    with pytest.raises(ModelLoadError, match="pooling_mode_max_tokens"):
        read_settings(tmp_path)


def test_missing_model_folder_names_the_path_and_fix(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError, match="does not exist") as info:
        MedEmbedEncoder(str(missing))
    assert str(missing) in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        MedEmbedEncoder(tmp_path / "empty")


def test_import_does_not_pull_heavy_frameworks():
    import subprocess
    import sys

    code = (
        "import sys, medembed_rag; heavy = [m for m in ('torch', 'openvino', 'transformers', 'llama_index', "
        "'langchain_core', 'optimum', 'chromadb') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert medembed_rag.__version__
