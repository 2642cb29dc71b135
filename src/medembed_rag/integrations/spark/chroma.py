"""From Spark to Chroma: the stage's chunk rows written to a Chroma server as the store's records, through the
collection's one owner (:class:`~medembed_rag.index.collection.ChunkIndex`), and embeddings read back from Parquet."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from ...errors import InvalidInputError, ModelMismatchError
from ...index.collection import ChunkIndex, upsert_prepared
from ...index.connection import default_lexical_folder, server_client
from ...index.fingerprint import fingerprint_differences
from ...index.records import ChunkRecord
from ...models.options import EncoderOptions, precision_family
from ...models.registry import DEFAULT_MODEL
from .stage import CHUNK_COLUMNS, FINGERPRINT_KEY, _driver_fingerprint


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
            stated = _driver_fingerprint(EncoderOptions(model=os.fspath(model), revision=revision,
                                                        precision=precision or fingerprint.get("precision", "auto")))
            if fingerprint_differences(fingerprint, stated):
                contradicted.append(f"model={stated.get('model_id')!r}")
        if contradicted:
            raise ModelMismatchError(
                f"the {output_col!r} column was embedded with {fingerprint.get('model_id')} (precision "
                f"{fingerprint.get('precision')}), which contradicts {', '.join(contradicted)} given to "
                f"write_to_chroma; drop model=/revision=/precision= (the column says which model made it)"
            )
    elif model is not None or precision is not None:
        fingerprint = _driver_fingerprint(EncoderOptions(model=os.fspath(model or DEFAULT_MODEL), revision=revision,
                                                         precision=precision or "auto"))
    if fingerprint is None:
        raise InvalidInputError(
            f"the {output_col!r} column carries no medembed fingerprint, so the model that made its vectors is "
            f"unknown; write the output of embed_dataframe (its column metadata survives select, filter and "
            f"Parquet), or pass model=, revision= and precision= as given to embed_dataframe"
        )
    client, address = server_client(host, port, ssl=ssl, headers=headers)
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
            target = server_client(host, port, ssl=ssl, headers=headers)[0].get_collection(collection)
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
