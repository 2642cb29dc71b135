"""MedEmbed in Haystack (``pip install 'medembed-rag[haystack]'``): components over the one encoder and reranker.

* :class:`MedEmbedTextEmbedder` (``embedders``) - a query in, ``{"embedding": [...]}`` out (the query path)
* :class:`MedEmbedDocumentEmbedder` (``embedders``) - ``Document``s in, with ``embedding`` set (the document path;
  ``meta_fields_to_embed`` as Haystack's own embedders)
* :class:`MedEmbedRanker` (``ranker``) - the cross-encoder, reordering ``Document``s with ``score`` set
* :class:`MedicalDocumentSplitter` (``splitter``) - the token-exact medical chunker as a document splitter

Each takes the encoder's options as keyword arguments (:class:`~medembed_rag.models.options.EncoderOptions`),
loads its model in ``warm_up()`` (or on first ``run``), and serialises with ``to_dict`` / ``from_dict``.

Haystack 3 deserialises pipelines only from allowlisted modules. Importing this package adds exactly this
package (``medembed_rag.integrations.haystack``) to that allowlist, so ``Pipeline.loads`` of a pipeline that
uses these components works once they are imported: constructing them runs no code but option checks (a model is
read only at ``warm_up`` / ``run``, never with remote code).
"""

from __future__ import annotations

from .. import require

require("haystack", "haystack", "medembed_rag.integrations.haystack")

from haystack.core.serialization import allow_deserialization_module  # noqa: E402

from .embedders import MedEmbedDocumentEmbedder, MedEmbedTextEmbedder  # noqa: E402
from .ranker import MedEmbedRanker  # noqa: E402
from .splitter import MedicalDocumentSplitter  # noqa: E402

allow_deserialization_module(__name__)

__all__ = ["MedEmbedDocumentEmbedder", "MedEmbedRanker", "MedEmbedTextEmbedder", "MedicalDocumentSplitter"]
