"""Spark: the same vectors as the encoder, chunk rows with offsets, idempotent writes to a Chroma server."""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("pyspark")

from medembed_rag import MedEmbedEncoder  # noqa: E402
from medembed_rag.spark import embed_dataframe, read_embeddings, write_to_chroma  # noqa: E402

from .chroma_server import ChromaServer  # noqa: E402
from .test_store import generated_docs  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]").appName("medembed-tests")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def texts():
    docs = generated_docs(300, seed=3)
    docs[7] = "HISTORY:\n" + "Long note about asthma control and inhaler technique. " * 60 + "\n\nPLAN:\nReview in 4 weeks."
    return docs


def test_vectors_equal_the_encoder(spark, texts, encoder, standin_path, cache_dir):
    df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts)], ["id", "text"]).repartition(4)
    out = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir).toPandas()
    assert len(out) == len(texts) and out["chunk_id"].is_unique
    got = np.stack(out.sort_values("id", key=lambda s: s.str[1:].astype(int))["embedding"].to_list())
    want = encoder.encode_documents(texts)
    cos = (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.9999


def test_chunked_rows_carry_offsets(spark, texts, standin_path, cache_dir, tmp_path):
    df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts)], ["id", "text"])
    out = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir, chunk=True)
    out.write.parquet(str(tmp_path / "emb.parquet"))
    rows = out.toPandas()
    long_rows = rows[rows["id"] == "d7"].sort_values("chunk_index")
    assert len(long_rows) > 1 and set(long_rows["section"]) == {"HISTORY", "PLAN"}
    for _, r in long_rows.iterrows():
        assert texts[7][r["start"] : r["end"]] == r["text"]
    ids, vectors, chunk_texts = read_embeddings(tmp_path / "emb.parquet")
    assert len(ids) == len(rows) == len(chunk_texts) and vectors.shape == (len(rows), 384)
    # The same chunk ids and vectors as the store makes: later chunks of a long section carry its heading.
    from medembed_rag.chunking import MedicalChunker
    from medembed_rag.store import chunk_ids

    enc = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir)
    chunks = MedicalChunker(enc).split(texts[7])
    assert any(c.context for c in chunks)
    assert list(long_rows["chunk_id"]) == chunk_ids("d7", chunks)
    want = enc.encode_documents([c.embed_text for c in chunks])
    got = np.stack(long_rows["embedding"].to_list())
    assert ((got * want).sum(axis=1)).min() >= 0.9999


def test_write_to_chroma_server_is_idempotent(spark, texts, standin_path, cache_dir, tmp_path, encoder):
    server = ChromaServer(tmp_path / "server").start()
    try:
        df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts)], ["id", "text"]).repartition(3)
        embedded = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir, chunk=True).cache()
        first = write_to_chroma(embedded, host="127.0.0.1", port=server.port, model=standin_path, precision="fp32")
        again = write_to_chroma(embedded, host="127.0.0.1", port=server.port, model=standin_path, precision="fp32")
        assert first == again == embedded.count()
        from medembed_rag.store import MedEmbedChromaStore

        store = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
        hit = store.query(texts[42], k=1)[0]
        assert hit.doc_id == "d42"
    finally:
        server.stop()
