"""The index: the record schema, the one owner of a collection (Chroma records, fingerprint, lexical index),
erasure, the store that chunks and embeds documents, and hybrid retrieval over it."""

from .hybrid import HybridRetriever, fuse
from .records import ChunkRecord, Hit
from .store import IngestReport, MedEmbedChromaStore

__all__ = ["ChunkRecord", "Hit", "HybridRetriever", "IngestReport", "MedEmbedChromaStore", "fuse"]
