"""Validation of the texts users pass in: one place, one wording, errors that name the index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .errors import InvalidInputError, InvalidInputTypeError


def validate_texts(texts: str | Sequence[str] | Iterable[str], *, what: str = "text") -> list[str]:
    """Returns ``texts`` as a list of non-empty strings.

    A single string counts as one text. Raises :class:`InvalidInputTypeError` for None, bytes, numbers
    or other non-strings and :class:`InvalidInputError` for empty or whitespace-only strings; the message
    names the offending index, never the content.
    """
    if isinstance(texts, str):
        texts = [texts]
    elif texts is None or isinstance(texts, (bytes, bytearray, dict)) or not isinstance(texts, Iterable):
        raise InvalidInputTypeError(
            f"expected a list of strings, got {type(texts).__name__}. Pass e.g. ['first {what}', 'second {what}']."
        )
    out = list(texts)
    for i, item in enumerate(out):
        if not isinstance(item, str):
            hint = " (decode bytes first, e.g. data.decode('utf-8'))" if isinstance(item, (bytes, bytearray)) else ""
            raise InvalidInputTypeError(f"{what} at index {i} is {type(item).__name__}, not str{hint}.")
        if not item.strip():
            raise InvalidInputError(
                f"{what} at index {i} is empty or whitespace only; remove it before encoding "
                f"(an empty {what} has no meaningful embedding)."
            )
    return out
