"""The one tokenizer loader: a private ``tokenizers.Tokenizer`` (Rust; no torch, no transformers at run time)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, InvalidInputTypeError, ModelLoadError


def load_tokenizer(source: Any, *, cache_entry: bool = False):
    """A private ``tokenizers.Tokenizer`` with padding and truncation off.

    Args:
        source: A model or cache folder (or its ``tokenizer.json``), a ``tokenizers.Tokenizer`` or a transformers
            fast tokenizer. Objects are copied, so the caller's stays untouched.
        cache_entry: ``source`` is an OpenVINO cache entry (a missing file then means a broken entry).

    Raises:
        ModelLoadError: a cache entry has no ``tokenizer.json``.
        InvalidInputError / InvalidInputTypeError: ``source`` is no tokenizer and names none.
    """
    from tokenizers import Tokenizer

    backend = getattr(source, "backend_tokenizer", None)  # transformers' fast tokenizers
    if isinstance(source, Tokenizer) or backend is not None:
        tokenizer = Tokenizer.from_str((backend or source).to_str())
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        path = path / "tokenizer.json" if path.is_dir() else path
        if not path.is_file():
            if cache_entry:
                raise ModelLoadError(f"{path.parent} has no tokenizer.json; delete this cache entry so it is re-exported.")
            raise InvalidInputError(f"no tokenizer.json at {path}; pass a model folder, a tokenizer or an encoder")
        tokenizer = Tokenizer.from_file(str(path))
    else:
        raise InvalidInputTypeError(
            f"cannot use {type(source).__name__} as a tokenizer; pass a MedEmbedEncoder, a tokenizers.Tokenizer, "
            f"a transformers fast tokenizer, or a model folder"
        )
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def pad_token_id(folder: Path, tokenizer) -> int:
    """The padding id named by the folder's ``tokenizer_config.json`` (``[PAD]`` by default; 0 if unknown)."""
    pad_token = "[PAD]"
    config_path = Path(folder) / "tokenizer_config.json"
    if config_path.is_file():
        pad = json.loads(config_path.read_text(encoding="utf-8")).get("pad_token") or pad_token
        pad_token = pad.get("content", pad_token) if isinstance(pad, dict) else str(pad)
    pad_id = tokenizer.token_to_id(pad_token)
    return 0 if pad_id is None else pad_id
