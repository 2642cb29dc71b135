"""Metadata Chroma can store: checked and converted before anything is written."""

from __future__ import annotations

import datetime as _dt
import enum
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from ..errors import InvalidInputError, InvalidInputTypeError
from .records import HEADING_FIELD, RECORD_KEYS, ChunkRecord

RESERVED_KEYS = frozenset(RECORD_KEYS)
_SCALARS = (str, bool, int, float)


def _scalar(value: Any, where: str) -> str | bool | int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"metadata {where} is {value}; Chroma cannot store NaN or infinity")
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (PurePath, enum.Enum)):
        return str(value.value if isinstance(value, enum.Enum) else value)
    raise InvalidInputTypeError(
        f"metadata {where} is {type(value).__name__}; Chroma stores str, int, float, bool and lists of one of them "
        f"(convert it, e.g. to a string, before adding)"
    )


def to_chroma_metadata(metadata: Mapping[str, Any] | None, *, index: int = 0) -> dict[str, Any]:
    """Converts one document's metadata to what Chroma stores, predictably:

    * ``None`` values are dropped (Chroma has no null);
    * nested mappings are flattened with dotted keys (``{"a": {"b": 1}}`` becomes ``{"a.b": 1}``);
    * dates and datetimes become ISO strings, paths and enums strings;
    * lists and tuples of one scalar type are kept (Chroma 1.x stores them); an empty list is dropped;
    * anything else (bytes, mixed or nested lists, objects, NaN) raises naming the document index and key.

    Raises:
        InvalidInputTypeError / InvalidInputError: before anything is written.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputTypeError(f"metadata of document {index} is {type(metadata).__name__}, not a mapping")
    out: dict[str, Any] = {}

    def visit(prefix: str, mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            if not isinstance(key, str) or not key:
                raise InvalidInputTypeError(f"metadata of document {index} has a non-string or empty key {key!r}")
            name = f"{prefix}{key}"
            where = f"key {name!r} of document {index}"
            if value is None:
                continue
            if isinstance(value, Mapping):
                visit(name + ".", value)
            elif isinstance(value, (list, tuple)):
                items = [_scalar(v, where) for v in value if v is not None]
                if not items:
                    continue
                kinds = {bool if isinstance(v, bool) else float if isinstance(v, float) else type(v) for v in items}
                if kinds == {int, float}:
                    items, kinds = [float(v) for v in items], {float}
                if len(kinds) != 1:
                    raise InvalidInputTypeError(f"metadata {where} mixes types in a list; Chroma needs one type per list")
                out[name] = items
            else:
                out[name] = _scalar(value, where)
            if name in out and name in RESERVED_KEYS and name != "doc_id":
                raise InvalidInputError(f"metadata {where} uses a name medembed-rag reserves ({sorted(RESERVED_KEYS)})")

    visit("", metadata)
    return out


def node_record(chunk_id_: str, doc_id: str, text: str, metadata: Mapping[str, Any], *, start: int | None = None,
                end: int | None = None, index: int = 0) -> ChunkRecord:
    """The record of a chunk split by someone else (a LlamaIndex node), stored as given under its own id.

    ``metadata`` is the node's: its location keys and :data:`HEADING_FIELD` become the record's, a ``doc_id``
    in it is dropped (the node's document says which), the rest is converted as
    :func:`to_chroma_metadata` describes (``index`` names the node in errors).
    """
    meta = dict(metadata)
    heading = meta.pop(HEADING_FIELD, None)
    place = {k: meta.pop(k) for k in ("chunk_index", "chunk_count", "section") if k in meta}
    meta.pop("doc_id", None)
    record = {**to_chroma_metadata(meta, index=index), **place, "doc_id": doc_id}
    record.update((k, v) for k, v in (("start", start), ("end", end), ("heading", heading)) if v is not None)
    return ChunkRecord(chunk_id_, text, record)
