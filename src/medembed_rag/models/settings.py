"""Reads how a sentence-transformers folder wants to be used: pooling, normalisation, length, prompts.

The files read are the ones sentence-transformers writes: ``modules.json`` (which modules, in order),
``<pooling module>/config.json``, ``sentence_bert_config.json`` (``max_seq_length``) and
``config_sentence_transformers.json`` (``prompts``), falling back to ``config.json`` for the dimension and
the position-embedding limit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError
from .pooling import Pooling
from .registry import ModelSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderSettings:
    """How to turn a checkpoint's token vectors into text vectors.

    Attributes:
        dim: Embedding dimension.
        pooling: Token pooling.
        normalize: Whether vectors are L2-normalised.
        max_length: The most tokens, special tokens included, the model reads.
        query_prefix: Text put before each query.
        document_prefix: Text put before each document.
    """

    dim: int
    pooling: Pooling
    normalize: bool
    max_length: int
    query_prefix: str = ""
    document_prefix: str = ""


def _read_json(path: Path) -> dict | list | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}. The model folder looks damaged; re-download it.") from exc


def _pooling_from_config(cfg: dict, path: Path) -> Pooling:
    mode = cfg.get("pooling_mode")  # newer sentence-transformers write a single string
    if isinstance(mode, str):
        mode = {"cls": "cls", "mean": "mean", "mean_tokens": "mean", "cls_token": "cls"}.get(mode, mode)
        try:
            return Pooling.parse(mode)
        except ValueError as exc:
            raise ModelLoadError(f"{path}: pooling {mode!r} is not supported ({exc})") from None
    if cfg.get("pooling_mode_cls_token"):
        return Pooling.CLS
    if cfg.get("pooling_mode_mean_tokens"):
        return Pooling.MEAN
    unsupported = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v]
    raise ModelLoadError(
        f"{path}: pooling {unsupported or 'none'} is not supported; medembed-rag supports CLS and mean pooling."
    )


def settings_from_spec(spec: ModelSpec, position_limit: int | None = None) -> EncoderSettings:
    """The settings a registered model declares (capped at the checkpoint's position limit if given)."""
    return EncoderSettings(
        dim=spec.dim,
        pooling=spec.pooling,
        normalize=spec.normalize,
        max_length=min(spec.max_length, position_limit or spec.max_length),
        query_prefix=spec.query_prefix,
        document_prefix=spec.document_prefix,
    )


def read_settings(folder: Path, spec: ModelSpec | None = None) -> EncoderSettings:
    """Returns the settings for the checkpoint in ``folder``.

    A registered model's spec wins over the folder's files (MedEmbed's hub folders do not all carry
    sentence-transformers files). For any other folder, the files decide; a folder with no
    ``modules.json`` is used the way sentence-transformers uses a plain transformers checkpoint
    (mean pooling, no normalisation), with a warning.
    """
    config = _read_json(folder / "config.json")
    if not isinstance(config, dict):
        raise ModelLoadError(f"{folder} has no readable config.json; it is not a transformers model folder.")
    position_limit = int(config.get("max_position_embeddings", 512))
    if spec is not None:
        return settings_from_spec(spec, position_limit)

    dim = int(config.get("hidden_size", 0))
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list):
        logger.warning(
            "%s has no modules.json; using mean pooling without normalisation, as sentence-transformers "
            "does for a plain checkpoint",
            folder,
        )
        return EncoderSettings(dim=dim, pooling=Pooling.MEAN, normalize=False, max_length=position_limit)

    pooling: Pooling | None = None
    normalize = False
    for module in modules:
        kind = str(module.get("type", ""))
        if kind.endswith(".Pooling"):
            pool_path = folder / module.get("path", "") / "config.json"
            pool_cfg = _read_json(pool_path)
            if not isinstance(pool_cfg, dict):
                raise ModelLoadError(f"{pool_path} is missing; the sentence-transformers folder is incomplete.")
            pooling = _pooling_from_config(pool_cfg, pool_path)
            dim = int(pool_cfg.get("word_embedding_dimension", dim))
        elif kind.endswith(".Normalize"):
            normalize = True
        elif kind.endswith(".Dense"):
            raise ModelLoadError(f"{folder}: a Dense module after pooling is not supported by medembed-rag.")
    if pooling is None:
        raise ModelLoadError(f"{folder}/modules.json lists no Pooling module; cannot tell how to pool tokens.")

    st_cfg = _read_json(folder / "sentence_bert_config.json") or {}
    max_length = int(st_cfg.get("max_seq_length") or position_limit)
    prompts_cfg = _read_json(folder / "config_sentence_transformers.json") or {}
    prompts = prompts_cfg.get("prompts") or {}
    return EncoderSettings(
        dim=dim,
        pooling=pooling,
        normalize=normalize,
        max_length=min(max_length, position_limit),
        query_prefix=str(prompts.get("query", "")),
        document_prefix=str(prompts.get("document", prompts.get("passage", ""))),
    )
