"""The model fingerprint a collection records: which encoder's vectors it holds, and whether another's match.

The keys compared are the encoder's own :data:`~medembed_rag.models.encoder.FINGERPRINT_MATCH_KEYS`; the
fingerprint is stored flat in the collection's metadata under the ``medembed:`` prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..models.encoder import FINGERPRINT_MATCH_KEYS

FINGERPRINT_PREFIX = "medembed:"


def flatten_fingerprint(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    return {FINGERPRINT_PREFIX + k: (v if isinstance(v, (str, int, float, bool)) else json.dumps(v))
            for k, v in fingerprint.items()}


def read_fingerprint(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k[len(FINGERPRINT_PREFIX):]: v for k, v in (metadata or {}).items() if k.startswith(FINGERPRINT_PREFIX)}


def fingerprint_differences(recorded: Mapping[str, Any], fingerprint: Mapping[str, Any]) -> list[str]:
    """The :data:`FINGERPRINT_MATCH_KEYS` on which two fingerprints disagree (empty: their vectors may share an index)."""
    return [k for k in FINGERPRINT_MATCH_KEYS if str(recorded.get(k)) != str(fingerprint.get(k))]


def describe_mismatch(recorded: Mapping[str, Any], fingerprint: Mapping[str, Any]) -> tuple[str, str] | None:
    """``None`` when the two fingerprints match, else how each reads on the keys that differ:
    ``("model_id='a', dim=384", "model_id='b', dim=768")``, for an error message."""
    differences = fingerprint_differences(recorded, fingerprint)
    if not differences:
        return None
    return (", ".join(f"{k}={recorded.get(k)!r}" for k in differences),
            ", ".join(f"{k}={fingerprint.get(k)!r}" for k in differences))
