"""Corpus-scale embedding on Apache Spark with the same encoder (extra ``[spark]``).

:class:`MedEmbedSentenceEmbeddings` (``stage``) is a ``pyspark.ml`` stage, used the way Spark NLP's
``BertSentenceEmbeddings`` is: ``Pipeline(stages=[..., MedEmbedSentenceEmbeddings(inputCol="text")])``,
``fit``, ``transform``, and a fitted ``PipelineModel`` saved and loaded with the rest of a team's pipeline (the
stage stores only its params; each executor loads the OpenVINO model from the cache, or exports it once).
Inference runs in Spark's vectorised UDFs (``mapInPandas``) with ``spark.task.cpus`` OpenVINO threads per task,
so tasks running side by side do not oversubscribe the executor's cores.

``embed_dataframe`` is the same stage as a function; ``write_to_chroma`` (``chroma``) sends its rows to a Chroma
server with the store's deterministic chunk ids (upserts), so a retried Spark task writes no duplicates;
``read_embeddings`` reads embeddings saved as Parquet.
"""

from __future__ import annotations

from .. import require

require("pyspark", "spark", "medembed_rag.integrations.spark")

from .chroma import read_embeddings, write_to_chroma  # noqa: E402
from .stage import CHUNK_COLUMNS, FINGERPRINT_KEY, MedEmbedSentenceEmbeddings, embed_dataframe  # noqa: E402

__all__ = ["CHUNK_COLUMNS", "FINGERPRINT_KEY", "MedEmbedSentenceEmbeddings", "embed_dataframe", "read_embeddings",
           "write_to_chroma"]
