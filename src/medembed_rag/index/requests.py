"""What callers hand the store, checked before anything is written: documents, ids and metadata to add, and
what to delete. Errors name the index or id at fault, never document text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DocumentNotFoundError, InvalidInputError, InvalidInputTypeError
from ..inputs import validate_texts
from .metadata import to_chroma_metadata
from .records import derive_doc_id


def checked_documents(texts: Sequence[str], ids: Sequence[str] | None,
                      metadatas: Sequence[Mapping[str, Any] | None] | None) -> tuple[list[str], list[str], list[dict]]:
    """``(texts, document ids, Chroma metadatas)`` for ``add_documents``; raises before any write.

    A document without an id gets a hash of its text; ids must be non-empty strings, unique within the call.
    """
    items = validate_texts(texts, what="document")
    for name, value in (("ids", ids), ("metadatas", metadatas)):
        if value is not None and not isinstance(value, (list, tuple)):
            raise InvalidInputTypeError(f"{name} must be a list, not {type(value).__name__}")
    if ids is None:
        doc_ids = [derive_doc_id(t) for t in items]
    else:
        doc_ids = list(ids)
        if len(doc_ids) != len(items):
            raise InvalidInputError(f"{len(doc_ids)} ids for {len(items)} documents")
        for i, doc_id in enumerate(doc_ids):
            if not isinstance(doc_id, str) or not doc_id.strip():
                raise InvalidInputError(f"id at index {i} must be a non-empty string; got {type(doc_id).__name__}")
    if len(set(doc_ids)) != len(doc_ids):
        raise InvalidInputError("document ids must be unique within one call (pass each document once)")
    if metadatas is not None and len(metadatas) != len(items):
        raise InvalidInputError(f"{len(metadatas)} metadatas for {len(items)} documents")
    metas = [to_chroma_metadata(m, index=i) for i, m in enumerate(metadatas or [None] * len(items))]
    for i, meta in enumerate(metas):
        if "doc_id" in meta and meta["doc_id"] != doc_ids[i]:
            raise InvalidInputError(f"metadata of document {i} has a doc_id different from its id")
    return items, doc_ids, metas


def delete_filter(document_id: str | Sequence[str] | None,
                  where: Mapping[str, Any] | None) -> tuple[list[str] | None, Mapping[str, Any]]:
    """``(document ids or None, Chroma where filter)`` for ``delete``: exactly one of the two must be given."""
    if (document_id is None) == (where is None):
        raise InvalidInputError("pass exactly one of document_id= or where=")
    if document_id is None:
        if not isinstance(where, Mapping) or not where:
            raise InvalidInputTypeError("where must be a non-empty mapping (a Chroma metadata filter)")
        return None, where
    if isinstance(document_id, str):
        ids = [document_id]
    elif isinstance(document_id, (list, tuple)):
        ids = list(document_id)
    else:
        raise InvalidInputTypeError(f"document_id must be a string or a list of strings, not {type(document_id).__name__}")
    if not ids or not all(isinstance(d, str) and d for d in ids):
        raise InvalidInputError("document_id must be a non-empty string or a list of them")
    return ids, {"doc_id": {"$in": ids}}


def not_found_error(missing: list[str], wanted: int, examples: list[str], collection: str,
                    address: str) -> DocumentNotFoundError:
    """The error for document ids a delete found nothing of (with a few ids the collection holds, to show their form)."""
    shown = ", ".join(repr(d) for d in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    hint = f"its document ids look like {', '.join(map(repr, examples))}" if examples else "it holds no documents"
    return DocumentNotFoundError(
        f"{len(missing)} of {wanted} document ids match nothing in collection {collection!r} at {address}: "
        f"{shown}. Nothing was deleted. Check the ids: {hint}.",
        missing=missing,
        examples=examples,
    )
