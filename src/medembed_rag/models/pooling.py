"""Pooling and normalisation, in numpy (the OpenVINO graph returns token vectors)."""

from __future__ import annotations

from enum import Enum

import numpy as np


class Pooling(str, Enum):
    """How token vectors become one text vector."""

    CLS = "cls"
    MEAN = "mean"

    @classmethod
    def parse(cls, value: str | Pooling) -> Pooling:
        """Returns the member for ``value``; an unknown value raises naming the valid ones."""
        try:
            return cls(value.lower() if isinstance(value, str) else value)
        except ValueError:
            valid = ", ".join(repr(p.value) for p in cls)
            raise ValueError(f"unknown pooling {value!r}; valid values: {valid}") from None


def pool(hidden: np.ndarray, attention_mask: np.ndarray, pooling: Pooling) -> np.ndarray:
    """Pools ``hidden`` (batch, tokens, dim) into (batch, dim) float32 vectors."""
    if pooling is Pooling.CLS:
        return np.asarray(hidden[:, 0, :], dtype=np.float32)
    mask = attention_mask[:, : hidden.shape[1], None].astype(np.float32)
    summed = np.einsum("btd,bt->bd", hidden.astype(np.float32, copy=False), mask[..., 0])
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    return (summed / counts).astype(np.float32, copy=False)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Divides each row by its L2 norm (rows of norm 0 are left at 0 for the caller to reject)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
