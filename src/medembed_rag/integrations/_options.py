"""The encoder options both framework adapters expose, and how they build or share one encoder."""

from __future__ import annotations

from typing import Any

from ..models.encoder import MedEmbedEncoder
from ..errors import InvalidInputError

# Adapter field name -> MedEmbedEncoder argument.
ENCODER_ARGS = {
    "model_name": "model",
    "revision": "revision",
    "precision": "precision",
    "max_length": "max_length",
    "batch_size": "batch_size",
    "cache_dir": "cache_dir",
    "truncation": "truncation",
    "show_progress": "show_progress",
    "num_threads": "num_threads",
    "query_instruction": "query_prefix",
    "text_instruction": "document_prefix",
}


def build_or_share(encoder: MedEmbedEncoder | None, options: dict[str, Any], explicit: set[str]) -> MedEmbedEncoder:
    """Returns ``encoder`` (after checking no conflicting option was also given) or a new one from ``options``.

    Args:
        encoder: An encoder to share, or None.
        options: The adapter's field values keyed by adapter field name.
        explicit: The option names the caller set explicitly.
    """
    if encoder is None:
        return MedEmbedEncoder(**{ENCODER_ARGS[k]: v for k, v in options.items() if k in ENCODER_ARGS})
    if not isinstance(encoder, MedEmbedEncoder):
        raise InvalidInputError(f"encoder must be a MedEmbedEncoder, got {type(encoder).__name__}")
    clashing = sorted(explicit & (set(ENCODER_ARGS) - {"batch_size", "show_progress"}))
    if clashing:
        raise InvalidInputError(
            f"pass either encoder= or the encoder options {clashing}, not both: a shared encoder keeps its own settings."
        )
    return encoder


def options_of(encoder: MedEmbedEncoder, batch_field: str = "batch_size") -> dict[str, Any]:
    """The adapter field values that describe a shared encoder (so serialisation rebuilds the same one)."""
    by_arg = {arg: field for field, arg in ENCODER_ARGS.items()} | {"batch_size": batch_field}
    return {by_arg[arg]: value for arg, value in encoder.init_kwargs().items() if arg in by_arg}


def adapter_init(
    encoder: MedEmbedEncoder | None, data: dict[str, Any], batch_field: str = "batch_size"
) -> tuple[dict[str, Any], set[str]]:
    """Before an adapter's pydantic init: fills the fields from a shared encoder (checking for clashes).

    Returns the field values to validate and the names the caller set explicitly.
    """
    explicit = set(data) | ({"model_name"} if "model" in data else set())
    if encoder is not None:
        data = {**options_of(build_or_share(encoder, {}, explicit), batch_field), **data}
    return data, explicit


def adapter_encoder(adapter: Any, encoder: MedEmbedEncoder | None, explicit: set[str], **extra: Any) -> MedEmbedEncoder:
    """After an adapter's pydantic init: the shared encoder, or a new one built from the adapter's fields."""
    if encoder is not None:
        return encoder
    fields = {name: getattr(adapter, name) for name in type(adapter).model_fields}
    return build_or_share(None, {**fields, **extra}, explicit)


def reranker_init(reranker: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Before a rerank adapter's pydantic init: fills ``model`` and ``precision`` from a shared reranker."""
    if reranker is not None:
        data.setdefault("model", reranker.model_id)
        data.setdefault("precision", reranker.precision)
    return data


def reranker_of(adapter: Any, reranker: Any):
    """After a rerank adapter's pydantic init: the shared reranker, or a new one from the adapter's fields."""
    from ..models.reranker import MedEmbedReranker

    return reranker or MedEmbedReranker(adapter.model, precision=adapter.precision)
