"""A LlamaIndex node parser over the medical chunker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, MetadataMode, NodeRelationship, TextNode

from ...chunking import MedicalChunker
from ...index.records import HEADING_FIELD, face_location
from ...models.encoder import MedEmbedEncoder

_NAMES = {"heading": HEADING_FIELD}
_NOT_EMBEDDED = ("chunk_index", "chunk_count", "section")
_NOT_SHOWN = ("chunk_index", "chunk_count", HEADING_FIELD)


class MedicalNodeParser(NodeParser):
    """A LlamaIndex node parser over :class:`~medembed_rag.chunking.MedicalChunker`.

    Nodes keep their source relationship, exact ``start_char_idx`` / ``end_char_idx``, the parent's
    metadata, and gain ``section`` and ``chunk_index``; later chunks of a long section also gain
    ``section_heading`` (the section's heading lines), which LlamaIndex embeds with the node but does not show
    the LLM. The metadata LlamaIndex puts in front of each node when embedding is counted against the token
    budget, so no node is ever cut by the encoder.

    Example:
        >>> parser = MedicalNodeParser(encoder=encoder)
        >>> nodes = parser.get_nodes_from_documents(documents)
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    chunk_tokens: int | None = Field(default=None, description="Content tokens per chunk; default: the model's limit.")
    overlap_tokens: int = Field(default=0, ge=0, description="Tokens repeated from the previous chunk.")
    heading_context: bool = Field(
        default=True, description="Embed a long section's heading with each of its later chunks (section_heading)."
    )

    _chunker: Any = PrivateAttr()

    def __init__(self, encoder: MedEmbedEncoder | None = None, *, tokenizer: Any = None, **data: Any) -> None:
        super().__init__(**data)
        self._chunker = MedicalChunker(encoder, tokenizer=tokenizer, chunk_tokens=self.chunk_tokens,
                                       overlap_tokens=self.overlap_tokens, heading_context=self.heading_context)

    @classmethod
    def class_name(cls) -> str:
        return "MedicalNodeParser"

    @property
    def chunker(self):
        """The core chunker."""
        return self._chunker

    def _parse_nodes(self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any) -> list[BaseNode]:
        from llama_index.core.utils import get_tqdm_iterable

        out: list[BaseNode] = []
        for node in get_tqdm_iterable(nodes, show_progress, "Chunking documents"):
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            # What LlamaIndex prepends when embedding: the parent's metadata header ("key: value" lines + a blank line).
            header = node.get_metadata_str(mode=MetadataMode.EMBED) if self.include_metadata else ""
            reserved = len(self._chunker.tokenizer.encode(header + "\n\n", add_special_tokens=False).ids) if header else 0
            if self.heading_context:  # "section_heading: " in front of the heading the chunker already counts
                reserved += len(self._chunker.tokenizer.encode(f"{HEADING_FIELD}:", add_special_tokens=False).ids)
            doc_id = node.ref_doc_id or node.node_id
            chunks = self._chunker.split(text, doc_id=doc_id, reserved_tokens=reserved)
            for chunk in chunks:
                # The store's location keys; the offsets go to LlamaIndex's own fields, the heading is embedded.
                loc = face_location(chunk, len(chunks), _NAMES)
                child = TextNode(
                    text=chunk.text,
                    id_=self.id_func(len(out), node),
                    start_char_idx=loc.pop("start"),
                    end_char_idx=loc.pop("end"),
                    metadata=loc,
                    excluded_embed_metadata_keys=[*node.excluded_embed_metadata_keys, *_NOT_EMBEDDED],
                    excluded_llm_metadata_keys=[*node.excluded_llm_metadata_keys, *_NOT_SHOWN],
                    relationships={NodeRelationship.SOURCE: node.as_related_node_info()},
                )
                out.append(child)
        return out
