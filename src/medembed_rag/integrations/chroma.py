"""MedEmbed as one of Chroma's own embedding functions, for teams that use Chroma without a framework:

    collection = client.get_or_create_collection("notes", embedding_function=MedEmbedEmbeddingFunction())

Chroma 1.x persists a collection's embedding function by name and config, and rebuilds it when the collection
is opened without one. :class:`MedEmbedEmbeddingFunction` is registered under the name ``medembed`` as soon as
Chroma's registry (``chromadb.utils.embedding_functions``) is imported in a process that has imported
``medembed_rag`` (see :mod:`medembed_rag.integrations.chroma_registration`), or as soon as this module is, so a
new process only needs ``import medembed_rag`` to reopen such a collection. Its config holds the model, revision,
precision and prefixes, and the encoder's fingerprint.

Chroma compares embedding functions by name only, so a collection reopened with a MedEmbed function of
*another* model would take its vectors silently. This function refuses that: the first time it embeds for a
collection it compares its fingerprint with the one the collection recorded and raises
:class:`~medembed_rag.ModelMismatchError` on a difference (a model of another dimension is also refused by
Chroma itself). :meth:`MedEmbedEmbeddingFunction.check_collection` makes the same check on demand.
"""

from __future__ import annotations

import sys
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space

from ..errors import ModelMismatchError
from ..index.fingerprint import describe_mismatch, fingerprint_differences
from ..models.encoder import MedEmbedEncoder
from ..models.options import PRECISIONS
from ._options import encoder_from

__all__ = ["NAME", "MedEmbedEmbeddingFunction", "register"]

NAME = "medembed"
# What the persisted config holds, besides the fingerprint: the options that rebuild the same encoder.
_CONFIG_OPTIONS = ("model", "revision", "precision", "max_length", "query_prefix", "document_prefix")


class MedEmbedEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's ``EmbeddingFunction`` protocol over :class:`~medembed_rag.MedEmbedEncoder` (see the module doc).

    Documents go through the encoder's document path (``__call__``), queries through its query path
    (``embed_query``). Vectors are L2-normalised, so the default space is ``cosine``.

    Args:
        encoder: An encoder to share (then pass no options).
        **options: Any of :class:`~medembed_rag.models.options.EncoderOptions` (``model=``, ``precision=``, ...).
    """

    def __init__(self, encoder: MedEmbedEncoder | None = None, **options: Any) -> None:
        self.encoder = encoder_from(encoder, options)
        self._checked: set[str] = set()

    def __call__(self, input: Documents) -> Embeddings:
        self._check_calling_collection()
        return list(self.encoder.encode_documents(input))

    def embed_query(self, input: Documents) -> Embeddings:
        self._check_calling_collection()
        return list(self.encoder.encode_queries(input))

    # ------------------------------------------------------------------ Chroma's registry protocol
    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        kwargs = self.encoder.init_kwargs()
        config = {k: kwargs[k] for k in _CONFIG_OPTIONS}
        config["fingerprint"] = self.encoder.fingerprint
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MedEmbedEmbeddingFunction:
        MedEmbedEmbeddingFunction.validate_config(config)
        return MedEmbedEmbeddingFunction(**{k: config.get(k) for k in _CONFIG_OPTIONS if config.get(k) is not None})

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model"), str) or not config["model"]:
            raise ValueError(f"a {NAME} embedding function config needs a 'model' (hub id or folder); got {config!r}")
        if config.get("precision", "auto") not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {config.get('precision')!r}")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        old, new = old_config.get("fingerprint") or {}, new_config.get("fingerprint") or {}
        if old and new and fingerprint_differences(old, new):
            raise ValueError("a collection's embedding model cannot be changed in place: its vectors would mix "
                             "two models; re-index into a new collection")

    # ------------------------------------------------------------------ the model check
    def check_collection(self, collection: Any) -> None:
        """Raises :class:`ModelMismatchError` when ``collection`` records a MedEmbed function of another model."""
        persisted = ((getattr(collection, "configuration_json", None) or {}).get("embedding_function") or {})
        if persisted.get("name") != NAME:
            return
        recorded = (persisted.get("config") or {}).get("fingerprint") or {}
        ours = self.encoder.fingerprint
        mismatch = describe_mismatch(recorded, ours) if recorded else None
        if mismatch:
            theirs, mine = mismatch
            raise ModelMismatchError(
                f"collection {getattr(collection, 'name', '?')!r} was embedded with {recorded.get('model_id')} "
                f"({theirs}), but this embedding function runs {ours.get('model_id')} ({mine}); vectors of "
                f"different models cannot be compared. Open it without an embedding function (Chroma rebuilds the "
                f"recorded one) or re-index into a new collection."
            )

    def _check_calling_collection(self) -> None:
        """The check above, for the Chroma collection that is calling us (found on the call stack, once each)."""
        frame = sys._getframe(2)
        for _ in range(6):
            if frame is None:
                return
            candidate = frame.f_locals.get("self")
            if candidate is not None and hasattr(candidate, "configuration_json") and hasattr(candidate, "id"):
                key = str(candidate.id)
                if key not in self._checked:
                    self.check_collection(candidate)
                    self._checked.add(key)
                return
            frame = frame.f_back

    def __repr__(self) -> str:
        return f"MedEmbedEmbeddingFunction(model={self.encoder.model_id!r}, precision={self.encoder.precision!r})"



def register() -> None:
    """Registers :class:`MedEmbedEmbeddingFunction` with Chroma's registry under :data:`NAME` (idempotent)."""
    from chromadb.utils.embedding_functions import known_embedding_functions, register_embedding_function

    if known_embedding_functions.get(NAME) is not MedEmbedEmbeddingFunction:
        register_embedding_function(MedEmbedEmbeddingFunction)


register()  # on import: whether this module or Chroma's registry was imported first, ours is in it now
