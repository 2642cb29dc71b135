"""Corpus-scale embedding on Apache Spark with the same encoder (extra ``[spark]``).

:class:`MedEmbedSentenceEmbeddings` is a ``pyspark.ml`` stage, used the way Spark NLP's
``BertSentenceEmbeddings`` is: ``Pipeline(stages=[..., MedEmbedSentenceEmbeddings(inputCol="text")])``,
``fit``, ``transform``, and a fitted ``PipelineModel`` saved and loaded with the rest of a team's pipeline (the
stage stores only its params; each executor loads the OpenVINO model from the cache, or exports it once).
Inference runs in Spark's vectorised UDFs (``mapInPandas``) with ``spark.task.cpus`` OpenVINO threads per task,
so tasks running side by side do not oversubscribe the executor's cores.

``embed_dataframe`` is the same stage as a function; ``write_to_chroma`` sends its rows to a Chroma server with
the store's deterministic chunk ids (upserts), so a retried Spark task writes no duplicates;
``read_embeddings`` reads embeddings saved as Parquet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...errors import InvalidInputError, InvalidInputTypeError, MissingDependencyError
from ...models.options import PRECISIONS, precision_family
from ...models.registry import DEFAULT_MODEL

try:
    from pyspark import keyword_only
    from pyspark.ml import Transformer
    from pyspark.ml.param import Param, Params, TypeConverters
    from pyspark.ml.param.shared import HasInputCol, HasOutputCol
    from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("Spark support needs pyspark: pip install 'medembed-rag[spark]'") from exc

_ENCODERS: dict[tuple, Any] = {}  # one encoder per executor Python worker and configuration
# The store's record keys (medembed_rag.index.records), one column each, in chunked output.
CHUNK_COLUMNS = ("chunk_index", "chunk_count", "start", "end", "section", "heading", "medembed_doc_hash")
FINGERPRINT_KEY = "medembed_fingerprint"  # the embedding column's metadata: the encoder fingerprint


def _encoder(options: dict):
    from ...models.encoder import MedEmbedEncoder

    key = tuple(sorted(options.items()))
    if key not in _ENCODERS:
        _ENCODERS[key] = MedEmbedEncoder(**options, truncation="silent", show_progress=False)
    return _ENCODERS[key]


def _param(name: str, doc: str, converter) -> Param:
    return Param(Params._dummy(), name, doc, typeConverter=converter)


class MedEmbedSentenceEmbeddings(Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable,
                                 DefaultParamsWritable):
    """MedEmbed vectors for a text column, as a ``pyspark.ml`` pipeline stage.

    Output: the input's columns plus ``chunk_id`` (when the id column exists: the store's ids) and
    ``outputCol``, whose column metadata carries the encoder's fingerprint (``medembed_fingerprint``; it
    survives ``select``, ``filter`` and Parquet, and :func:`write_to_chroma` checks it against the collection).
    With ``chunk=True`` each document becomes one row per chunk, in the store's record schema:
    ``chunk_index``, ``chunk_count``, ``start``, ``end``, ``section``, ``heading`` (the section heading embedded
    with a later chunk of a long section), ``medembed_doc_hash``, and ``inputCol`` holding the chunk's text
    (``start``/``end`` locate it in the document); the id column is then required.

    Params (each with a ``set<Name>`` setter): ``inputCol`` (default ``text``), ``outputCol`` (``embedding``),
    ``idCol`` (``id``), ``model`` (hub id or a folder every executor can read; default MedEmbed-base),
    ``revision`` (empty: the registry's pinned one), ``precision`` (``auto``, ``fp32``, ``bf16``, ``int8``),
    ``cacheDir`` (empty: the default cache; put it on storage every executor reads), ``chunk``,
    ``chunkTokens`` (0: the model's limit), ``batchSize``, ``outputType`` (``array``: array<float>, or
    ``vector``: a ``pyspark.ml.linalg`` vector for ``pyspark.ml`` estimators), ``threadsPerTask`` (0:
    ``spark.task.cpus``), ``handleInvalid`` (``error``: a null, blank or non-string text is refused on the
    driver before the embedding job, naming the column and a document id; ``skip``: such rows are dropped).
    """

    idCol = _param("idCol", "document id column (required with chunk=True)", TypeConverters.toString)
    model = _param("model", "hub id or a model folder every executor can read", TypeConverters.toString)
    revision = _param("revision", "hub revision (empty: the registry's pinned one)", TypeConverters.toString)
    precision = _param("precision", f"one of {', '.join(PRECISIONS)}", TypeConverters.toString)
    cacheDir = _param("cacheDir", "OpenVINO cache folder (empty: the default)", TypeConverters.toString)
    chunk = _param("chunk", "split documents with the medical chunker, one row per chunk", TypeConverters.toBoolean)
    chunkTokens = _param("chunkTokens", "chunk size in tokens (0: the model's limit)", TypeConverters.toInt)
    batchSize = _param("batchSize", "inputs per forward pass", TypeConverters.toInt)
    outputType = _param("outputType", "'array' (array<float>) or 'vector' (pyspark.ml.linalg)", TypeConverters.toString)
    threadsPerTask = _param("threadsPerTask", "OpenVINO threads per task (0: spark.task.cpus)", TypeConverters.toInt)
    handleInvalid = _param("handleInvalid", "'error' or 'skip' for null, blank or non-string texts",
                           TypeConverters.toString)

    @keyword_only
    def __init__(self, *, inputCol: str = "text", outputCol: str = "embedding", idCol: str = "id",
                 model: str = DEFAULT_MODEL, revision: str = "", precision: str = "auto", cacheDir: str = "",
                 chunk: bool = False, chunkTokens: int = 0, batchSize: int = 32, outputType: str = "array",
                 threadsPerTask: int = 0, handleInvalid: str = "error") -> None:
        super().__init__()
        self._setDefault(inputCol="text", outputCol="embedding", idCol="id", model=DEFAULT_MODEL, revision="",
                         precision="auto", cacheDir="", chunk=False, chunkTokens=0, batchSize=32,
                         outputType="array", threadsPerTask=0, handleInvalid="error")
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, **kwargs) -> MedEmbedSentenceEmbeddings:
        """Sets any of the params by keyword."""
        return self._set(**self._input_kwargs)

    def setInputCol(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(inputCol=value)

    def setInputCols(self, value: list[str]) -> MedEmbedSentenceEmbeddings:
        """Spark NLP's spelling: one text column, given as a one-element list."""
        if isinstance(value, str) or len(value) != 1:
            raise InvalidInputError(f"setInputCols takes a list of exactly one text column; got {value!r}")
        return self._set(inputCol=value[0])

    def setOutputCol(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(outputCol=value)

    def setIdCol(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(idCol=value)

    def setModel(self, value: str | os.PathLike) -> MedEmbedSentenceEmbeddings:
        return self._set(model=os.fspath(value))

    def setRevision(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(revision=value)

    def setPrecision(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(precision=value)

    def setCacheDir(self, value: str | os.PathLike) -> MedEmbedSentenceEmbeddings:
        return self._set(cacheDir=os.fspath(value))

    def setChunk(self, value: bool) -> MedEmbedSentenceEmbeddings:
        return self._set(chunk=value)

    def setChunkTokens(self, value: int) -> MedEmbedSentenceEmbeddings:
        return self._set(chunkTokens=value)

    def setBatchSize(self, value: int) -> MedEmbedSentenceEmbeddings:
        return self._set(batchSize=value)

    def setOutputType(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(outputType=value)

    def setThreadsPerTask(self, value: int) -> MedEmbedSentenceEmbeddings:
        return self._set(threadsPerTask=value)

    def setHandleInvalid(self, value: str) -> MedEmbedSentenceEmbeddings:
        return self._set(handleInvalid=value)

    # ------------------------------------------------------------------ checks on the driver
    def _check_params(self, dataset) -> dict:
        from pyspark.sql.types import StringType

        get = self.getOrDefault
        text_col, out_col, id_col = get(self.inputCol), get(self.outputCol), get(self.idCol)
        columns = dict(zip(dataset.columns, (f.dataType for f in dataset.schema.fields)))
        listed = ", ".join(dataset.columns)
        if text_col not in columns:
            raise InvalidInputError(f"the DataFrame has no text column {text_col!r} (inputCol); its columns: {listed}")
        if not isinstance(columns[text_col], StringType):
            raise InvalidInputTypeError(
                f"column {text_col!r} holds {columns[text_col].simpleString()}, not strings; cast it "
                f"(F.col({text_col!r}).cast('string')) or point inputCol at the text column"
            )
        has_id = id_col in columns
        if get(self.chunk) and not has_id:
            raise InvalidInputError(f"chunk=True needs document ids, and the DataFrame has no column {id_col!r} "
                                    f"(idCol); its columns: {listed}")
        added = [out_col, "chunk_id", *(CHUNK_COLUMNS if get(self.chunk) else ())]
        clashes = [c for c in added if c in columns and c != text_col]
        if clashes:
            raise InvalidInputError(f"the DataFrame already has column(s) {clashes} that this stage writes; rename "
                                    f"them or set outputCol")
        for name, allowed in (("precision", PRECISIONS), ("outputType", ("array", "vector")),
                              ("handleInvalid", ("error", "skip"))):
            if get(getattr(self, name)) not in allowed:
                raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {get(getattr(self, name))!r}")
        if get(self.batchSize) < 1 or get(self.chunkTokens) < 0 or get(self.threadsPerTask) < 0:
            raise InvalidInputError("batchSize must be >= 1, chunkTokens and threadsPerTask >= 0")
        return {"text_col": text_col, "out_col": out_col, "id_col": id_col if has_id else None}

    def _refuse_invalid_rows(self, dataset, text_col: str, id_col: str | None) -> None:
        from pyspark.sql import functions as F

        bad = dataset.where(F.col(text_col).isNull() | (F.trim(F.col(text_col)) == ""))
        first = bad.select(id_col).limit(1).collect() if id_col else bad.limit(1).count()
        if first:
            where = f" (first at {id_col}={first[0][0]!r})" if id_col else ""
            raise InvalidInputError(
                f"column {text_col!r} has null or blank texts{where}; nothing was embedded. Filter them out, or "
                f"set handleInvalid='skip' to drop such rows."
            )

    # ------------------------------------------------------------------ the work
    def _transform(self, dataset):
        from pyspark.sql.types import ArrayType, FloatType, IntegerType, StringType, StructField, StructType

        cols = self._check_params(dataset)
        text_col, out_col, id_col = cols["text_col"], cols["out_col"], cols["id_col"]
        get = self.getOrDefault
        if get(self.handleInvalid) == "error":
            self._refuse_invalid_rows(dataset, text_col, id_col)
        chunk, chunk_tokens = get(self.chunk), get(self.chunkTokens) or None
        options = {
            "model": get(self.model),
            "revision": get(self.revision) or None,
            "precision": get(self.precision),
            "cache_dir": get(self.cacheDir) or None,
            "batch_size": get(self.batchSize),
            "num_threads": get(self.threadsPerTask) or int(dataset.sparkSession.conf.get("spark.task.cpus", "1")),
        }
        fields = list(dataset.schema.fields)
        if id_col is not None:
            fields.append(StructField("chunk_id", StringType(), False))
        if chunk:
            fields += [StructField(name, IntegerType() if name in _INT_COLUMNS else StringType(), name not in _INT_COLUMNS)
                       for name in CHUNK_COLUMNS]
        fields.append(StructField(out_col, ArrayType(FloatType()), False))

        def embed_partition(frames: Iterator) -> Iterator:
            yield from _embed_frames(frames, options, text_col, id_col, out_col, chunk, chunk_tokens)

        out = dataset.mapInPandas(embed_partition, schema=StructType(fields))
        if get(self.outputType) == "vector":
            from pyspark.ml.functions import array_to_vector

            out = out.withColumn(out_col, array_to_vector(out_col))
        fingerprint = _driver_fingerprint(options)
        return out.withColumn(out_col, out[out_col].alias(out_col, metadata={FINGERPRINT_KEY: fingerprint}))


_INT_COLUMNS = ("chunk_index", "chunk_count", "start", "end")


def _driver_fingerprint(options: dict) -> dict:
    """The fingerprint of the executors' encoder, computed on the driver (reads the model's config only)."""
    from ...models.encoder import MedEmbedEncoder

    settings = {k: v for k, v in options.items() if k not in ("batch_size", "num_threads")}
    return MedEmbedEncoder(**settings, show_progress=False).fingerprint


def _embed_frames(frames, options, text_col, id_col, out_col, chunk, chunk_tokens):
    """Executor side: embeds each pandas frame, keeping its other columns (one row per chunk when chunking)."""
    import pandas as pd

    from ...index.records import chunk_id, document_records

    encoder = _encoder(options)
    chunker = None
    if chunk:
        from ...chunking import MedicalChunker

        chunker = MedicalChunker(encoder, chunk_tokens=chunk_tokens)
    for frame in frames:
        keep = [isinstance(t, str) and bool(t.strip()) for t in frame[text_col]]
        frame = frame[keep].reset_index(drop=True)  # null / blank rows: refused on the driver, or skipped
        if frame.empty:
            continue
        if chunker is None:
            texts = list(frame[text_col])
            if id_col is not None:
                frame["chunk_id"] = [chunk_id(str(d), t) for d, t in zip(frame[id_col], texts)]
            frame[out_col] = list(encoder.encode_documents(texts).astype(np.float32))
            yield frame
            continue
        rows, embed = [], []
        for position, (doc_id, text) in enumerate(zip(frame[id_col].astype(str), frame[text_col])):
            for record in document_records(doc_id, text, chunker.split(text), {}):  # the store's records
                rows.append({"_row": position, "chunk_id": record.id, text_col: record.text,
                             **{k: record.metadata.get(k) for k in CHUNK_COLUMNS}})
                embed.append(record.embed_text)
        chunks_frame = pd.DataFrame(rows)
        out = frame.drop(columns=[text_col]).iloc[chunks_frame.pop("_row")].reset_index(drop=True)
        out = pd.concat([out, chunks_frame], axis=1)
        out[out_col] = list(encoder.encode_documents(embed).astype(np.float32))
        yield out


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

    :class:`MedEmbedSentenceEmbeddings` on ``df.select(id_col, text_col)``; null or blank texts are skipped.

    Args:
        df: A DataFrame with a string id column and a text column.
        text_col: The text column.
        id_col: The document id column (ids must be unique).
        model: Hub id or a folder every executor can read (default: MedEmbed-base).
        revision: Hub revision (default: the registry's pinned one).
        precision: ``auto``, ``fp32``, ``bf16`` or ``int8``.
        cache_dir: The OpenVINO cache; put it on storage the executors share so the export runs once.
        chunk: Split each text with the medical chunker first, one output row per chunk with its offsets.
        chunk_tokens: Chunk size (default: the model's limit).
        output_col: Name of the embedding column (an array of floats).
        batch_size: Inputs per forward pass inside a partition.
        threads_per_task: OpenVINO threads per Spark task (default: ``spark.task.cpus``).
    """
    if id_col not in df.columns:
        raise InvalidInputError(f"the DataFrame has no column {id_col!r} (columns: {', '.join(df.columns)})")
    stage = MedEmbedSentenceEmbeddings(
        inputCol=text_col, outputCol=output_col, idCol=id_col, model=os.fspath(model or DEFAULT_MODEL),
        revision=revision or "", precision=precision, cacheDir=os.fspath(cache_dir or ""), chunk=chunk,
        chunkTokens=chunk_tokens or 0, batchSize=batch_size, threadsPerTask=threads_per_task or 0,
        handleInvalid="skip",
    )
    if text_col in df.columns:
        df = df.select(df[id_col].cast("string").alias("id"), df[text_col].alias("text"))
        stage.setIdCol("id").setInputCol("text")
    out = stage.transform(df)
    return out.select("id", "chunk_id", *(CHUNK_COLUMNS if chunk else ()), "text", output_col)


def write_to_chroma(
    df,
    *,
    host: str,
    port: int = 8000,
    collection: str = "medembed",
    model: str | os.PathLike | None = None,
    revision: str | None = None,
    precision: str | None = None,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    batch_size: int = 500,
    output_col: str = "embedding",
    lexical_path: str | os.PathLike | None = None,
) -> int:
    """Writes the chunk rows of ``embed_dataframe(..., chunk=True)`` to a Chroma server; returns the count.

    The rows are the store's records, so the collection ends up as ``MedEmbedChromaStore.add_documents`` of
    the same documents would leave it: chunk ids upserted (a retried task, or a re-run, writes no duplicates),
    each written document's other chunks (an older version's) removed, and the lexical index used by hybrid
    retrieval updated. The vectors' model is read from the embedding column's metadata, written there by
    :func:`embed_dataframe`, and checked against the collection's fingerprint on the driver before any task
    runs; ``model``/``revision``/``precision``, if given, must name the same model (they are needed only for
    a column that lost its metadata).
    """
    import chromadb

    from ...errors import ModelMismatchError
    from ...index.collection import ChunkIndex, fingerprint_differences
    from ...index.store import default_lexical_folder, telemetry_off_settings

    missing = [c for c in ("id", "chunk_id", "text", output_col, *CHUNK_COLUMNS) if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"write_to_chroma needs the rows of embed_dataframe(..., chunk=True) (the store's records); the "
            f"DataFrame lacks {', '.join(missing)}"
        )
    fingerprint = df.schema[output_col].metadata.get(FINGERPRINT_KEY)
    if fingerprint is not None:
        contradicted = []
        if precision is not None and precision_family(precision) != fingerprint.get("precision_family"):
            contradicted.append(f"precision={precision!r}")
        if model is not None:
            stated = _driver_fingerprint({"model": os.fspath(model), "revision": revision,
                                          "precision": precision or fingerprint.get("precision", "auto")})
            if fingerprint_differences(fingerprint, stated):
                contradicted.append(f"model={stated.get('model_id')!r}")
        if contradicted:
            raise ModelMismatchError(
                f"the {output_col!r} column was embedded with {fingerprint.get('model_id')} (precision "
                f"{fingerprint.get('precision')}), which contradicts {', '.join(contradicted)} given to "
                f"write_to_chroma; drop model=/revision=/precision= (the column says which model made it)"
            )
    elif model is not None or precision is not None:
        fingerprint = _driver_fingerprint({"model": os.fspath(model or DEFAULT_MODEL), "revision": revision,
                                           "precision": precision or "auto"})
    if fingerprint is None:
        raise InvalidInputError(
            f"the {output_col!r} column carries no medembed fingerprint, so the model that made its vectors is "
            f"unknown; write the output of embed_dataframe (its column metadata survives select, filter and "
            f"Parquet), or pass model=, revision= and precision= as given to embed_dataframe"
        )
    address = f"{'https' if ssl else 'http'}://{host}:{port}"
    client = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=dict(headers or {}),
                                 settings=telemetry_off_settings())
    index = ChunkIndex(client, collection, fingerprint, address=address, remote=True,
                       lexical_folder=lexical_path or default_lexical_folder(address),
                       batch_size=min(batch_size, client.get_max_batch_size()))
    df = df.persist()  # read twice below (ids on the driver, rows on the executors): embedded once
    try:
        wanted: dict[str, set[str]] = {}
        for row in df.select("id", "chunk_id").toLocalIterator():
            wanted.setdefault(row["id"], set()).add(row["chunk_id"])
        index.announce([c for ids in wanted.values() for c in ids])  # journaled before any executor writes
        batch = index.batch_size

        def write_partition(rows: Iterator) -> None:
            from ...index.collection import upsert_prepared
            from ...index.records import ChunkRecord

            target = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=dict(headers or {}),
                                         settings=telemetry_off_settings()).get_collection(collection)
            pending: list = []
            for row in rows:
                meta = {"doc_id": row["id"], **{k: row[k] for k in CHUNK_COLUMNS if row[k] is not None}}
                pending.append((ChunkRecord(row["chunk_id"], row["text"], meta), list(row[output_col])))
                if len(pending) >= batch:
                    upsert_prepared(target, pending)
                    pending.clear()
            upsert_prepared(target, pending)

        df.foreachPartition(write_partition)
        index.finish_external_write(wanted)
        return index.count()
    finally:
        index.close()
        df.unpersist()


def read_embeddings(path: str | os.PathLike, *, output_col: str = "embedding") -> tuple[list[str], np.ndarray, list[str]]:
    """Reads embeddings written with ``embed_dataframe(...).write.parquet(path)``: (chunk ids, vectors, texts)."""
    import pyarrow.parquet as pq

    table = pq.read_table(os.fspath(path), columns=["chunk_id", "text", output_col])
    vectors = np.asarray(table.column(output_col).to_pylist(), dtype=np.float32)
    return table.column("chunk_id").to_pylist(), vectors, table.column("text").to_pylist()
