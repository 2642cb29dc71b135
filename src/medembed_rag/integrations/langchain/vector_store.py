"""A LangChain ``VectorStore`` over a :class:`~medembed_rag.MedEmbedChromaStore`: the store's writes, LangChain's types."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore

from ...errors import InvalidInputError, InvalidInputTypeError
from ...index.records import Hit, derive_doc_id, shown_metadata
from ...index.store import MedEmbedChromaStore
from .embeddings import MedEmbedEmbeddings


class MedEmbedLangChainVectorStore(VectorStore):
    """A LangChain ``VectorStore`` over a :class:`~medembed_rag.MedEmbedChromaStore`.

    Build it with :meth:`from_store` (an open store) or :meth:`from_texts`. Writes go through the store: each
    added ``Document`` is one document, its id the ``Document.id`` (or the ``ids`` given, or a hash of its
    text); a document longer than the model's limit is split token-exactly with its section headings embedded;
    re-adding an id replaces that document's chunks; the collection's model stamp and the lexical index used by
    hybrid retrieval are kept. Results carry the document's id as ``Document.id``, the metadata it was given,
    its ``section``, and, for a split document, where the chunk lies (``chunk_index``, ``chunk_count``,
    ``start``, ``end``). ``delete(ids)`` removes whole documents (ids not held are ignored, as LangChain
    expects); ``filter=`` takes a Chroma ``where`` mapping.
    """

    def __init__(self, store: MedEmbedChromaStore) -> None:
        if not isinstance(store, MedEmbedChromaStore):
            raise InvalidInputTypeError(f"store must be a MedEmbedChromaStore, got {type(store).__name__}")
        self.store = store
        self._embeddings = MedEmbedEmbeddings(encoder=store.encoder)

    @classmethod
    def from_store(cls, store: MedEmbedChromaStore) -> MedEmbedLangChainVectorStore:
        """This face over an open store (the store's encoder embeds; its writes keep every guarantee)."""
        return cls(store)

    @property
    def embeddings(self) -> MedEmbedEmbeddings:
        return self._embeddings

    @classmethod
    def from_texts(cls, texts, embedding=None, metadatas=None, *, ids=None, **store_options: Any):
        """Opens (or creates) a store with ``store_options`` (``path=``, ``host=``, ``collection=``...) and adds."""
        if embedding is not None and not isinstance(embedding, MedEmbedEmbeddings):
            raise InvalidInputTypeError(f"embedding must be MedEmbedEmbeddings, not {type(embedding).__name__}")
        store = MedEmbedChromaStore(encoder=embedding.encoder if embedding is not None else None, **store_options)
        face = cls(store)
        face.add_texts(list(texts), metadatas, ids=ids)
        return face

    def add_texts(self, texts, metadatas=None, *, ids=None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        if ids is None:
            ids = kwargs.pop("ids", None)
        ids = list(ids) if ids is not None else [None] * len(texts)
        if len(ids) != len(texts):
            raise InvalidInputError(f"{len(ids)} ids for {len(texts)} texts")
        doc_ids = [str(i) if i is not None else derive_doc_id(t) if isinstance(t, str) else None
                   for i, t in zip(ids, texts)]
        self.store.add_documents(texts, ids=doc_ids, metadatas=list(metadatas) if metadatas is not None else None)
        return doc_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        if ids is None:
            raise InvalidInputError("delete() needs the ids of the documents to delete")
        if ids:
            self.store.delete(list(ids), missing="ignore")
        return True

    def get_by_ids(self, ids) -> list[Document]:
        return [_document(h) for h in self.store.get_documents(list(ids))]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: dict | None = None, **kwargs: Any):
        return [(_document(h), h.score) for h in self.store.query(query, k, where=filter)]

    def similarity_search_by_vector_with_score(self, embedding, k: int = 4, filter: dict | None = None):
        return [(_document(h), h.score) for h in self.store.search_by_vector(embedding, k, where=filter)]

    def similarity_search(self, query: str, k: int = 4, filter: dict | None = None, **kwargs: Any) -> list:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def similarity_search_by_vector(self, embedding, k: int = 4, filter: dict | None = None, **kwargs: Any) -> list:
        return [doc for doc, _ in self.similarity_search_by_vector_with_score(embedding, k, filter=filter)]

    def _select_relevance_score_fn(self):
        return lambda score: score  # already a cosine similarity


def _document(h: Hit) -> Document:
    return Document(id=h.doc_id, page_content=h.text, metadata=shown_metadata(h.metadata))
