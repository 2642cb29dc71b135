"""The Spark ML stage: MedEmbed vectors for a text column, as a ``pyspark.ml`` pipeline stage.

Its encoder params are built from the one declaration of the encoder's options
(:class:`~medembed_rag.models.options.EncoderOptions`: each option's ``spark`` name), so the stage takes what
the encoder takes; the rest (columns, chunking, output type, invalid rows) are the stage's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, get_args, get_type_hints

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable

from ...chunking import MedicalChunker
from ...errors import InvalidInputError, InvalidInputTypeError
from ...index.records import RECORD_KEYS, RECORD_TYPES, chunk_id, document_records
from ...models.encoder import MedEmbedEncoder
from ...models.options import EncoderOptions, check_choice, option_fields

_ENCODERS: dict[tuple, Any] = {}  # one encoder per executor Python worker and configuration
#: The store's record keys (medembed_rag.index.records), one column each, in chunked output.
CHUNK_COLUMNS = tuple(k for k in RECORD_KEYS if k != "doc_id")
FINGERPRINT_KEY = "medembed_fingerprint"  # the embedding column's metadata: the encoder fingerprint
_SPARK_OPTIONS = tuple(o for o in option_fields() if o.metadata["spark"])
# Spark params hold no None: "", 0 and [] stand for "unset". The stage cuts over-long texts silently by default
# (chunk=True makes every text fit; truncation='warn' logs on the executors).
_STAGE_DEFAULTS = {"truncation": "silent"}


def _encoder(options: EncoderOptions) -> MedEmbedEncoder:
    key = tuple(sorted(options.to_dict().items(), key=lambda kv: kv[0]))
    key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in key)
    if key not in _ENCODERS:
        _ENCODERS[key] = MedEmbedEncoder(options=options)
    return _ENCODERS[key]


def _param(name: str, doc: str, converter) -> Param:
    return Param(Params._dummy(), name, doc, typeConverter=converter)


def _spark_param(option) -> tuple[Param, Any]:
    """A Spark param for one encoder option, and its default."""
    kinds = set(get_args(get_type_hints(EncoderOptions)[option.name])) or {get_type_hints(EncoderOptions)[option.name]}
    default = _STAGE_DEFAULTS.get(option.name, option.default)
    if int in kinds:
        converter, unset = TypeConverters.toInt, 0
    elif bool in kinds:
        converter, unset = TypeConverters.toBoolean, False
    elif any(getattr(k, "__origin__", None) is tuple for k in kinds):
        converter, unset = TypeConverters.toListString, []
    else:
        converter, unset = TypeConverters.toString, ""
    return _param(option.metadata["spark"], option.metadata["doc"], converter), unset if default is None else default


_OPTION_PARAMS = {o.metadata["spark"]: _spark_param(o) for o in _SPARK_OPTIONS}
_OWN_DEFAULTS = {"inputCol": "text", "outputCol": "embedding", "idCol": "id", "chunk": False, "chunkTokens": 0,
                 "outputType": "array", "handleInvalid": "error"}


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

    Params (each with a ``set<Name>`` setter): the stage's own - ``inputCol`` (default ``text``), ``outputCol``
    (``embedding``), ``idCol`` (``id``), ``chunk``, ``chunkTokens`` (0: the model's limit), ``outputType``
    (``array``: array<float>, or ``vector``: a ``pyspark.ml.linalg`` vector for ``pyspark.ml`` estimators),
    ``handleInvalid`` (``error``: a null, blank or non-string text is refused on the driver before the embedding
    job, naming the column and a document id; ``skip``: such rows are dropped) - and one per encoder option:
    ``model`` (a hub id or a folder every executor can read), ``revision``, ``precision``, ``maxLength``,
    ``batchSize``, ``cacheDir`` (put it on storage every executor reads), ``truncation`` (default ``silent``),
    ``threadsPerTask`` (0: ``spark.task.cpus``), ``queryPrefix``, ``documentPrefix``, ``calibrationTexts``;
    ``""``, ``0`` and ``[]`` mean the encoder's default.
    """

    idCol = _param("idCol", "document id column (required with chunk=True)", TypeConverters.toString)
    chunk = _param("chunk", "split documents with the medical chunker, one row per chunk", TypeConverters.toBoolean)
    chunkTokens = _param("chunkTokens", "chunk size in tokens (0: the model's limit)", TypeConverters.toInt)
    outputType = _param("outputType", "'array' (array<float>) or 'vector' (pyspark.ml.linalg)", TypeConverters.toString)
    handleInvalid = _param("handleInvalid", "'error' or 'skip' for null, blank or non-string texts",
                           TypeConverters.toString)

    @keyword_only
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._setDefault(**_OWN_DEFAULTS, **{name: default for name, (_, default) in _OPTION_PARAMS.items()})
        self._set(**{k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in self._input_kwargs.items()})

    @keyword_only
    def setParams(self, **kwargs) -> MedEmbedSentenceEmbeddings:
        """Sets any of the params by keyword."""
        return self._set(**self._input_kwargs)

    def setInputCols(self, value: list[str]) -> MedEmbedSentenceEmbeddings:
        """Spark NLP's spelling: one text column, given as a one-element list."""
        if isinstance(value, str) or len(value) != 1:
            raise InvalidInputError(f"setInputCols takes a list of exactly one text column; got {value!r}")
        return self._set(inputCol=value[0])

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
        for name, allowed in (("outputType", ("array", "vector")), ("handleInvalid", ("error", "skip"))):
            check_choice(name, get(getattr(self, name)), allowed)
        if get(self.chunkTokens) < 0 or get(self.threadsPerTask) < 0:
            raise InvalidInputError("chunkTokens and threadsPerTask must be >= 0")
        self.encoder_options(_task_cpus(dataset))  # every encoder option checked as the encoder checks it
        return {"text_col": text_col, "out_col": out_col, "id_col": id_col if has_id else None}

    def encoder_options(self, task_cpus: int = 1) -> EncoderOptions:
        """The encoder options the params describe ("", 0 and [] mean unset; threadsPerTask 0: ``task_cpus``,
        which the stage reads from ``spark.task.cpus``)."""
        values = {o.name: self.getOrDefault(getattr(self, o.metadata["spark"])) for o in _SPARK_OPTIONS}
        values = {k: (None if v in ("", 0, []) else v) for k, v in values.items()}
        if values["num_threads"] is None:
            values["num_threads"] = task_cpus
        if values["calibration_texts"] is not None:
            values["calibration_texts"] = tuple(values["calibration_texts"])
        return EncoderOptions(**values, show_progress=False)

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
        options = self.encoder_options(_task_cpus(dataset))
        fields = list(dataset.schema.fields)
        if id_col is not None:
            fields.append(StructField("chunk_id", StringType(), False))
        if chunk:
            fields += [StructField(name, IntegerType() if RECORD_TYPES[name] is int else StringType(),
                                   RECORD_TYPES[name] is not int) for name in CHUNK_COLUMNS]
        fields.append(StructField(out_col, ArrayType(FloatType()), False))

        def embed_partition(frames: Iterator) -> Iterator:
            yield from _embed_frames(frames, options, text_col, id_col, out_col, chunk, chunk_tokens)

        out = dataset.mapInPandas(embed_partition, schema=StructType(fields))
        if get(self.outputType) == "vector":
            from pyspark.ml.functions import array_to_vector

            out = out.withColumn(out_col, array_to_vector(out_col))
        fingerprint = _driver_fingerprint(options)
        return out.withColumn(out_col, out[out_col].alias(out_col, metadata={FINGERPRINT_KEY: fingerprint}))


def _setter(name: str):
    def setter(self, value):
        return self._set(**{name: os.fspath(value) if isinstance(value, os.PathLike) else value})

    setter.__name__ = f"set{name[0].upper()}{name[1:]}"
    setter.__doc__ = f"Sets ``{name}``."
    return setter


for _name, (_param_of_option, _) in _OPTION_PARAMS.items():  # the encoder options' params, from the declaration
    setattr(MedEmbedSentenceEmbeddings, _name, _param_of_option)
for _name in ["inputCol", "outputCol", *(n for n in _OWN_DEFAULTS if n not in ("inputCol", "outputCol")), *_OPTION_PARAMS]:
    setattr(MedEmbedSentenceEmbeddings, f"set{_name[0].upper()}{_name[1:]}", _setter(_name))


def _task_cpus(dataset) -> int:
    return int(dataset.sparkSession.conf.get("spark.task.cpus", "1"))


def _driver_fingerprint(options: EncoderOptions) -> dict:
    """The fingerprint of the executors' encoder, computed on the driver (reads the model's config only)."""
    return MedEmbedEncoder(options=options).fingerprint


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
