"""The token-exact medical chunker: long documents become chunks the model reads whole."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError, InvalidInputTypeError
from ..models.tokenizer import load_tokenizer
from . import boundaries

_LEVELS = (boundaries.paragraphs, boundaries.sentences, boundaries.words)


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, small enough for the model.

    Attributes:
        text: The chunk's text; always ``original[start:end]``.
        start: Offset of the first character in the original document.
        end: Offset after the last character.
        n_tokens: Tokens the model sees for it (``embed_text``), special tokens and document prefix included.
        section: The section header it falls under (``None`` before the first header).
        index: Position of the chunk within its document.
        doc_id: The parent document's id, when one was given.
        metadata: The document's metadata plus ``section``, ``chunk_index``, ``start``, ``end``, ``doc_id``.
        context: The heading lines of its section, copied from the document, when the chunk does not begin with
            them itself (a later chunk of a long section); ``""`` otherwise or when heading context is off.
    """

    text: str
    start: int
    end: int
    n_tokens: int
    section: str | None
    index: int
    doc_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    context: str = ""

    @property
    def embed_text(self) -> str:
        """What to embed: the section's heading (when the chunk lacks it) on a line above the chunk's text."""
        return with_heading(self.context, self.text)


class MedicalChunker:
    """Splits long clinical and scientific documents into chunks that fit the model exactly.

    Cuts are made at section headers first, then paragraphs, sentences (medical abbreviations and
    decimals do not end a sentence) and words; a single word-run longer than the budget is cut between
    tokens. Chunks never cross a section boundary. Each chunk is checked with the model's own tokenizer
    (special tokens and document prefix included), so none is ever truncated by the encoder; and the chunks
    together cover every non-whitespace character of the input.

    Args:
        encoder: A :class:`~medembed_rag.MedEmbedEncoder`: gives the tokenizer, the limit and the prefix.
        tokenizer: Instead of an encoder: a ``tokenizers.Tokenizer``, a transformers fast tokenizer, or a
            model folder; then ``max_length`` (default 512) and ``document_prefix`` describe the model.
        chunk_tokens: Content tokens per chunk; default and maximum: the model's limit minus its special
            tokens and document prefix.
        overlap_tokens: Tokens repeated from the end of the previous chunk of the same section (word-aligned).
        heading_context: Give every chunk of a long section after its first the section's heading lines as
            ``Chunk.context``, embedded with it (``Chunk.embed_text``; its tokens count against the budget):
            "What are the treatments for X ?" or "MEDICATIONS:" is often what makes a fragment findable.
            The chunk's ``text`` and offsets never include it. Headings longer than a quarter of the budget
            are left out.
        max_length: The model's limit, special tokens included (only with ``tokenizer``).
        document_prefix: Text the encoder puts before each document (only with ``tokenizer``).
    """

    def __init__(
        self,
        encoder: Any = None,
        *,
        tokenizer: Any = None,
        chunk_tokens: int | None = None,
        overlap_tokens: int = 0,
        heading_context: bool = True,
        max_length: int | None = None,
        document_prefix: str = "",
    ) -> None:
        if (encoder is None) == (tokenizer is None):
            raise InvalidInputError("pass exactly one of encoder= or tokenizer=")
        if encoder is not None:
            if not hasattr(encoder, "settings") or not hasattr(encoder, "tokenizer"):
                raise InvalidInputTypeError(f"encoder must be a MedEmbedEncoder, got {type(encoder).__name__}")
            self.tokenizer = encoder.tokenizer
            self.max_length = encoder.max_length
            self.document_prefix = encoder.settings.document_prefix
        else:
            self.tokenizer = load_tokenizer(tokenizer)
            self.max_length = int(max_length or 512)
            self.document_prefix = document_prefix
        self._special = len(self.tokenizer.encode(self.document_prefix, add_special_tokens=True).ids)
        pre = self.tokenizer.pre_tokenizer
        self._splits_on_whitespace = (
            type(pre).__name__ in {"BertPreTokenizer", "Whitespace", "WhitespaceSplit"}
            and (not self.document_prefix or self.document_prefix[-1].isspace())
        )
        limit = self.max_length - self._special
        if limit < 8:
            raise InvalidInputError(f"the model's limit ({self.max_length}) leaves no room for text after its prefix")
        if chunk_tokens is not None and not (isinstance(chunk_tokens, int) and 8 <= chunk_tokens):
            raise InvalidInputError(f"chunk_tokens must be an integer of at least 8; got {chunk_tokens!r}")
        if chunk_tokens is not None and chunk_tokens > limit:
            raise InvalidInputError(
                f"chunk_tokens={chunk_tokens} exceeds what the model reads after special tokens and prefix ({limit})"
            )
        self.chunk_tokens = chunk_tokens or limit
        if not isinstance(overlap_tokens, int) or not 0 <= overlap_tokens < self.chunk_tokens // 2:
            raise InvalidInputError(
                f"overlap_tokens must be an integer from 0 to {self.chunk_tokens // 2 - 1}; got {overlap_tokens!r}"
            )
        self.overlap_tokens = overlap_tokens
        if not isinstance(heading_context, bool):
            raise InvalidInputTypeError(f"heading_context must be True or False, got {heading_context!r}")
        self.heading_context = heading_context

    # -------------------------------------------------------------- public
    def split(
        self,
        text: str,
        metadata: Mapping[str, Any] | None = None,
        doc_id: str | None = None,
        *,
        reserved_tokens: int = 0,
    ) -> list[Chunk]:
        """Splits one document.

        Args:
            text: The document.
            metadata: Copied into every chunk's metadata.
            doc_id: The parent document's id (default: ``metadata["doc_id"]`` when present).
            reserved_tokens: Tokens the caller will add to every chunk before embedding (a framework's
                metadata header, say); chunks are made that much smaller.

        Returns:
            The chunks, in document order; an empty list for a whitespace-only text.
        """
        if not isinstance(text, str):
            raise InvalidInputTypeError(f"text must be str, got {type(text).__name__}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InvalidInputTypeError(f"metadata must be a mapping, got {type(metadata).__name__}")
        base = dict(metadata or {})
        doc_id = doc_id if doc_id is not None else base.get("doc_id")
        if not text.strip():
            return []
        if not isinstance(reserved_tokens, int) or not 0 <= reserved_tokens <= self.chunk_tokens - 8:
            raise InvalidInputError(
                f"reserved_tokens={reserved_tokens!r} leaves fewer than 8 of {self.chunk_tokens} tokens for text "
                f"(shorten the metadata that is embedded with each chunk)"
            )
        chunks = []
        for start, end, section, context, n_tokens in self._spans(text, reserved_tokens):
            meta = {**base, "chunk_index": len(chunks), "start": start, "end": end}
            if section is not None:
                meta["section"] = section
            if doc_id is not None:
                meta["doc_id"] = doc_id
            chunks.append(Chunk(text[start:end], start, end, n_tokens, section, len(chunks), doc_id, meta, context))
        return chunks

    def split_text(self, text: str) -> list[str]:
        """The chunks' texts only."""
        return [c.text for c in self.split(text)]

    # -------------------------------------------------------------- internals
    def _spans(self, text: str, reserved: int) -> list[tuple[int, int, str | None, str, int]]:
        """Chunk spans with their heading context and exact token counts (special tokens and prefix included)."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        starts = [a for a, b in encoding.offsets]
        clean = self._clean_boundaries(encoding, len(text))
        budget = self.chunk_tokens - reserved
        spans: list[tuple[int, int, str | None, str, int]] = []
        for sec in boundaries.split_sections(text):
            context, context_tokens = "", 0
            if self._count(starts, sec.start, sec.end) > budget and sec.name and self.heading_context:
                context = text[sec.start : sec.heading_end].strip()
                context_tokens = len(self.tokenizer.encode(context + "\n", add_special_tokens=False).ids)
                if context_tokens > budget // 4:
                    context, context_tokens = "", 0
            room = budget - context_tokens
            pieces = self._pack(text, starts, sec.start, sec.end, 0, room)
            pieces = [p for p in (self._trim(text, a, b) for a, b in pieces) if p]
            if self.overlap_tokens and pieces:
                pieces = self._add_overlap(text, starts, pieces, room)
            first = self._trim(text, sec.start, sec.end)
            head = first[0] if first else sec.start
            # The piece that begins with the heading needs no copy of it.
            spans.extend((a, b, sec.name, context if a > head else "", context_tokens) for a, b in pieces)
        return self._enforce_limit(text, starts, clean, spans, self.max_length - reserved, budget)

    @staticmethod
    def _count(starts: list[int], a: int, b: int) -> int:
        return bisect.bisect_left(starts, b) - bisect.bisect_left(starts, a)

    def _pack(self, text: str, starts: list[int], a: int, b: int, level: int, budget: int) -> list[tuple[int, int]]:
        """Greedily packs the units of one level into spans of at most ``budget`` tokens, descending as needed."""
        if self._count(starts, a, b) <= budget:
            return [(a, b)]
        if level >= len(_LEVELS):
            return self._token_windows(text, starts, a, b, budget)
        units = _LEVELS[level](text, a, b)
        if len(units) <= 1:
            return self._pack(text, starts, a, b, level + 1, budget)
        out: list[tuple[int, int]] = []
        cur: tuple[int, int] | None = None
        for s, e in units:
            if self._count(starts, s, e) > budget:
                if cur:
                    out.append(cur)
                    cur = None
                out.extend(self._pack(text, starts, s, e, level + 1, budget))
            elif cur is None:
                cur = (s, e)
            elif self._count(starts, cur[0], e) <= budget:
                cur = (cur[0], e)
            else:
                out.append(cur)
                cur = (s, e)
        if cur:
            out.append(cur)
        return out

    def _token_windows(self, text: str, starts: list[int], a: int, b: int, budget: int) -> list[tuple[int, int]]:
        """Cuts ``[a, b)`` between tokens, every ``budget`` tokens (at a word start when one is near)."""
        first, last = bisect.bisect_left(starts, a), bisect.bisect_left(starts, b)
        cuts, i = [a], first
        while last - i > budget:
            j = i + budget
            for k in range(j, max(i + budget * 3 // 4, i + 1), -1):  # prefer a token that starts a word
                if starts[k] > a and text[starts[k] - 1].isspace():
                    j = k
                    break
            cuts.append(starts[j])
            i = j
        cuts.append(b)
        return [(cuts[n], cuts[n + 1]) for n in range(len(cuts) - 1) if cuts[n + 1] > cuts[n]]

    @staticmethod
    def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        return (a, b) if b > a else None

    def _add_overlap(
        self, text: str, starts: list[int], pieces: list[tuple[int, int]], budget: int
    ) -> list[tuple[int, int]]:
        out = [pieces[0]]
        for a, b in pieces[1:]:
            first = bisect.bisect_left(starts, a)
            new_a = a
            for m in range(min(self.overlap_tokens, first), 0, -1):
                cand = starts[first - m]
                if (cand == 0 or text[cand - 1].isspace()) and self._count(starts, cand, b) <= budget:
                    new_a = cand
                    break
            out.append((new_a, b))
        return out

    def _clean_boundaries(self, encoding: Any, n_chars: int) -> Callable[[int], bool] | None:
        """A test for "a span may start or end here and keep the document's tokens", or None if never.

        Under a tokenizer that splits words apart before sub-word tokenisation (BERT's WordPiece), a span whose
        both ends fall between two of the document's words (no token straddles the cut, the next token starts a
        new word) tokenises in isolation to exactly the document's tokens inside it. Whitespace alone is not
        enough: BERT drops control characters such as form feed, which joins the words on either side.
        """
        if not self._splits_on_whitespace:
            return None
        starts = [a for a, _ in encoding.offsets]
        reach = list(itertools.accumulate((b for _, b in encoding.offsets), max, initial=0))  # furthest end so far
        words = encoding.word_ids

        def clean(x: int) -> bool:
            if x <= 0 or x >= n_chars:
                return True
            i = bisect.bisect_left(starts, x)
            if reach[i] > x:
                return False  # a token straddles the cut
            return i == 0 or i == len(starts) or words[i] != words[i - 1]

        return clean

    def _enforce_limit(
        self,
        text: str,
        starts: list[int],
        clean: Callable[[int], bool] | None,
        spans: list[tuple[int, int, str | None, str, int]],
        limit: int,
        budget: int,
    ) -> list[tuple[int, int, str | None, str, int]]:
        """Counts every span exactly and re-cuts the few that tokenise longer in isolation.

        Spans cut between words under a word-splitting tokenizer are counted from the document's own
        encoding (plus their heading's own count: the line break between keeps the two apart); every other
        span (cut inside a word, or any span under other tokenizers) is re-encoded as the encoder will see it.
        """
        done: list[tuple[int, int, str | None, str, int]] = []
        for _ in range(8):
            counts: list[int | None] = [
                self._special + (n_context if context else 0) + self._count(starts, a, b)
                if clean and clean(a) and clean(b)
                else None
                for a, b, _, context, n_context in spans
            ]
            unknown = [i for i, n in enumerate(counts) if n is None]
            if unknown:
                encoded = self.tokenizer.encode_batch(
                    [self.document_prefix + with_heading(spans[i][3], text[spans[i][0] : spans[i][1]]) for i in unknown]
                )
                for i, enc in zip(unknown, encoded):
                    counts[i] = len(enc.ids)
            retry: list[tuple[int, int, str | None, str, int]] = []
            for (a, b, name, context, n_context), n in zip(spans, counts):
                if n <= limit:
                    done.append((a, b, name, context, n))
                    continue
                local = [s for s, _ in self.tokenizer.encode(text[a:b], add_special_tokens=False).offsets]
                smaller = max(4, budget - (n - limit) - 2 - (n_context if context else 0))
                for s, e in self._token_windows(text, [a + s for s in local], a, b, smaller):
                    trimmed = self._trim(text, s, e)
                    if trimmed:
                        retry.append((*trimmed, name, context, n_context))
            if not retry:
                return sorted(done, key=lambda span: span[0])
            spans = retry
        raise RuntimeError("could not fit chunks to the model's limit; please report this with the tokenizer used")


def with_heading(heading: str, text: str) -> str:
    """What is embedded for a chunk: its section's heading lines (if any) on a line above its text."""
    return f"{heading}\n{text}" if heading else text
