"""Corpus-scale embedding on Apache Spark with the same encoder (extra ``[spark]``).

``embed_dataframe`` adds MedEmbed vectors to a DataFrame of texts with Spark's own vectorised UDFs
(``mapInPandas``): each executor's Python worker loads the OpenVINO model once (from the shared cache, or
exporting it once when absent) and encodes its partitions in batches. OpenVINO threads per task follow
``spark.task.cpus``, so tasks running side by side do not oversubscribe the executor's cores.

``write_to_chroma`` sends the result to a Chroma server in batches with the store's deterministic chunk
ids (upserts), so a retried Spark task writes no duplicates. ``read_embeddings`` reads embeddings saved as
Parquet (``df.write.parquet(...)``) for teams that keep their own vector database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import InvalidInputError, MissingDependencyError

_ENCODERS: dict[tuple, Any] = {}  # one encoder per executor Python worker and configuration


def _require_spark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("Spark support needs pyspark: pip install 'medembed-rag[spark]'") from exc


def _encoder(options: dict):
    from .encoder import MedEmbedEncoder

    key = tuple(sorted(options.items()))
    if key not in _ENCODERS:
        _ENCODERS[key] = MedEmbedEncoder(**options, truncation="silent", show_progress=False)
    return _ENCODERS[key]


def _schema(chunk: bool, output_col: str):
    from pyspark.sql.types import ArrayType, FloatType, IntegerType, StringType, StructField, StructType

    fields = [StructField("id", StringType(), False), StructField("chunk_id", StringType(), False)]
    if chunk:
        fields += [StructField("chunk_index", IntegerType(), False), StructField("start", IntegerType(), False),
                   StructField("end", IntegerType(), False), StructField("section", StringType(), True)]
    fields += [StructField("text", StringType(), False), StructField(output_col, ArrayType(FloatType()), False)]
    return StructType(fields)


def embed_dataframe(
    df,
    *,
    text_col: str = "text",
    id_col: str = "id",
    model: str | os.PathLike | None = None,
    revision: str | None = None,
    precision: str = "auto",
    cache_dir: str | os.PathLike | None = None,
    chunk: bool = False,
    chunk_tokens: int | None = None,
    output_col: str = "embedding",
    batch_size: int = 32,
    threads_per_task: int | None = None,
):
    """Returns a DataFrame of ``id, chunk_id, [chunk_index, start, end, section,] text, <output_col>``.

    Args:
        df: A DataFrame with a string id column and a text column.
        text_col: The text column.
        id_col: The document id column (ids must be unique).
        model: Hub id or a folder every executor can read (default: MedEmbed-base).
        revision: Hub revision (default: the registry's pinned one).
        precision: ``auto``, ``fp32`` or ``int8``.
        cache_dir: The OpenVINO cache; put it on storage the executors share so the export runs once.
        chunk: Split each text with the medical chunker first, one output row per chunk with its offsets.
        chunk_tokens: Chunk size (default: the model's limit).
        output_col: Name of the embedding column (an array of floats).
        batch_size: Inputs per forward pass inside a partition.
        threads_per_task: OpenVINO threads per Spark task (default: ``spark.task.cpus``).
    """
    _require_spark()
    from .registry import DEFAULT_MODEL
    from .store import _chunk_id, chunk_ids

    for col in (text_col, id_col):
        if col not in df.columns:
            raise InvalidInputError(f"the DataFrame has no column {col!r} (columns: {', '.join(df.columns)})")
    threads = threads_per_task or int(df.sparkSession.conf.get("spark.task.cpus", "1"))
    options = {
        "model": os.fspath(model) if model is not None else DEFAULT_MODEL,
        "revision": revision,
        "precision": precision,
        "cache_dir": os.fspath(cache_dir) if cache_dir is not None else None,
        "batch_size": batch_size,
        "num_threads": threads,
    }

    def embed_partition(frames: Iterator) -> Iterator:
        import pandas as pd

        encoder = _encoder(options)
        chunker = None
        if chunk:
            from .chunking import MedicalChunker

            chunker = MedicalChunker(encoder, chunk_tokens=chunk_tokens)
        for frame in frames:
            rows: list[dict] = []
            embed: list[str] = []
            for doc_id, text in zip(frame[id_col].astype(str), frame[text_col]):
                if not isinstance(text, str) or not text.strip():
                    continue  # nothing to embed; the store skips such documents too
                if chunker is None:
                    rows.append({"id": doc_id, "chunk_id": _chunk_id(doc_id, text, 0), "text": text})
                    embed.append(text)
                    continue
                chunks = chunker.split(text)
                for c, chunk_id in zip(chunks, chunk_ids(doc_id, chunks)):  # ids and vectors as the store makes them
                    rows.append({"id": doc_id, "chunk_id": chunk_id, "chunk_index": c.index, "start": c.start,
                                 "end": c.end, "section": c.section, "text": c.text})
                    embed.append(c.embed_text)
            if not rows:
                continue
            vectors = encoder.encode_documents(embed)
            out = pd.DataFrame(rows)
            out[output_col] = list(vectors.astype(np.float32))
            yield out

    return df.select(id_col, text_col).mapInPandas(embed_partition, schema=_schema(chunk, output_col))


def write_to_chroma(
    df,
    *,
    host: str,
    port: int = 8000,
    collection: str = "medembed",
    model: str | os.PathLike | None = None,
    revision: str | None = None,
    precision: str = "auto",
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    batch_size: int = 500,
    output_col: str = "embedding",
) -> int:
    """Upserts the rows of :func:`embed_dataframe` into a Chroma server; returns the collection's count.

    The collection is opened (or created) on the driver with the encoder's fingerprint, so a model mismatch
    fails before any task runs. Rows are written per partition in batches, keyed by ``chunk_id``: re-running
    a task, or the whole job, leaves the collection unchanged.
    """
    _require_spark()
    from .encoder import MedEmbedEncoder
    from .registry import DEFAULT_MODEL
    from .store import MedEmbedChromaStore

    encoder = MedEmbedEncoder(model if model is not None else DEFAULT_MODEL, revision=revision, precision=precision)
    store = MedEmbedChromaStore(host=host, port=port, ssl=ssl, headers=headers, collection=collection, encoder=encoder)
    batch = min(batch_size, store.batch_size)
    extra = [c for c in ("chunk_index", "start", "end", "section") if c in df.columns]

    def write_partition(rows: Iterator) -> None:
        import chromadb

        from .store import telemetry_off_settings

        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=dict(headers or {}),
                                     settings=telemetry_off_settings())
        target = client.get_collection(collection)
        pending: list = []

        def flush() -> None:
            if pending:
                target.upsert(
                    ids=[r["chunk_id"] for r in pending],
                    embeddings=[list(r[output_col]) for r in pending],
                    documents=[r["text"] for r in pending],
                    metadatas=[{"doc_id": r["id"], **{k: r[k] for k in extra if r[k] is not None}} for r in pending],
                )
                pending.clear()

        for row in rows:
            pending.append(row.asDict())
            if len(pending) >= batch:
                flush()
        flush()

    df.foreachPartition(write_partition)
    store._bump_revision()
    return store.count()


def read_embeddings(path: str | os.PathLike, *, output_col: str = "embedding") -> tuple[list[str], np.ndarray, list[str]]:
    """Reads embeddings written with ``embed_dataframe(...).write.parquet(path)``: (chunk ids, vectors, texts)."""
    import pyarrow.parquet as pq

    table = pq.read_table(os.fspath(path), columns=["chunk_id", "text", output_col])
    vectors = np.asarray(table.column(output_col).to_pylist(), dtype=np.float32)
    return table.column("chunk_id").to_pylist(), vectors, table.column("text").to_pylist()
