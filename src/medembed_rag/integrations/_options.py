"""The framework faces' encoder options, built from the one declaration (:mod:`medembed_rag.models.options`).

:func:`encoder_fields_model` turns :class:`~medembed_rag.models.options.EncoderOptions` into a pydantic base
class with one documented field per option (under the faces' names: ``model_name`` with the alias ``model``,
``query_instruction``, ``text_instruction``); each embedding face subclasses it. :func:`shared_or_new_encoder`
gives a face its encoder: the one passed (refusing options that would contradict it), or a new one.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, Field, create_model

from ..errors import InvalidInputError
from ..models.encoder import MedEmbedEncoder
from ..models.options import EncoderOptions, face_name, option_fields

# Options a shared encoder may differ in without changing its vectors (they change only how work is batched).
_HARMLESS = frozenset({"batch_size", "show_progress"})


def encoder_fields_model(name: str, base: type[BaseModel] = BaseModel, *, skip: tuple[str, ...] = ()) -> type:
    """A pydantic model class deriving from ``base`` with a field per encoder option (except ``skip``)."""
    hints = typing.get_type_hints(EncoderOptions)
    fields: dict[str, Any] = {}
    for option in option_fields():
        if option.name in skip:
            continue
        field_name = face_name(option)
        alias = "model" if field_name == "model_name" else None
        fields[field_name] = (hints[option.name], Field(default=option.default, alias=alias,
                                                        description=option.metadata["doc"]))
    return create_model(name, __base__=base, **fields)


def _to_encoder_args(values: dict[str, Any]) -> dict[str, Any]:
    by_face = {face_name(o): o.name for o in option_fields()}
    return {by_face[k]: v for k, v in values.items() if k in by_face}


def face_values(encoder: MedEmbedEncoder, **renamed: str) -> dict[str, Any]:
    """A shared encoder's options as face field values (``renamed``: encoder option -> face field)."""
    names = {o.name: renamed.get(o.name, face_name(o)) for o in option_fields()}
    return {names[k]: v for k, v in encoder.init_kwargs().items() if k in names}


def prepare(encoder: MedEmbedEncoder | None, data: dict[str, Any], **renamed: str) -> tuple[dict[str, Any], set[str]]:
    """Before a face's pydantic init: the field values (filled from a shared encoder) and the names set explicitly.

    Raises:
        InvalidInputError: ``encoder`` is not a MedEmbedEncoder, or options that change vectors were also given.
    """
    explicit = set(data) | ({"model_name"} if "model" in data else set())
    if encoder is None:
        return data, explicit
    if not isinstance(encoder, MedEmbedEncoder):
        raise InvalidInputError(f"encoder must be a MedEmbedEncoder, got {type(encoder).__name__}")
    harmless = {face_name(o) for o in option_fields() if o.name in _HARMLESS} | set(renamed.values())
    options = {face_name(o) for o in option_fields()} | set(renamed.values())
    clashing = sorted(explicit & (options - harmless))
    if clashing:
        raise InvalidInputError(
            f"pass either encoder= or the encoder options {clashing}, not both: a shared encoder keeps its own settings."
        )
    return {**face_values(encoder, **renamed), **data}, explicit


def shared_or_new_encoder(face: BaseModel, encoder: MedEmbedEncoder | None, **renamed: str) -> MedEmbedEncoder:
    """After a face's pydantic init: the shared encoder, or a new one built from the face's fields."""
    if encoder is not None:
        return encoder
    values = {name: getattr(face, name) for name in type(face).model_fields}
    for option, field_name in renamed.items():
        values[face_name(next(o for o in option_fields() if o.name == option))] = values.pop(field_name)
    return MedEmbedEncoder(options=EncoderOptions(**_to_encoder_args(values)))


def encoder_from(encoder: MedEmbedEncoder | None, options: dict[str, Any]) -> MedEmbedEncoder:
    """For the faces that take ``encoder=`` or the encoder's options as keywords (Chroma, DSPy): the shared
    encoder, or a new one from the options; both at once is refused."""
    if encoder is None:
        return MedEmbedEncoder(options=EncoderOptions(**options))
    if options:
        raise InvalidInputError(f"pass either encoder= or the encoder options {sorted(options)}, not both")
    if not isinstance(encoder, MedEmbedEncoder):
        raise InvalidInputError(f"encoder must be a MedEmbedEncoder, got {type(encoder).__name__}")
    return encoder


def reranker_values(reranker: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Before a rerank face's pydantic init: ``model`` and ``precision`` filled from a shared reranker."""
    if reranker is not None:
        data.setdefault("model", reranker.model_id)
        data.setdefault("precision", reranker.precision)
    return data


def shared_or_new_reranker(face: Any, reranker: Any):
    """After a rerank face's pydantic init: the shared reranker, or a new one from the face's fields."""
    from ..models.reranker import MedEmbedReranker

    return reranker or MedEmbedReranker(face.model, precision=face.precision)
