"""Token-exact, medically aware chunking of long documents, and aggregation of chunk hits to documents."""

from .aggregate import ChunkHit, DocumentHit, aggregate_to_documents
from .boundaries import SECTION_NAMES
from .chunker import Chunk, MedicalChunker

__all__ = ["SECTION_NAMES", "Chunk", "ChunkHit", "DocumentHit", "MedicalChunker", "aggregate_to_documents"]
