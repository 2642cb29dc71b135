"""Spark: the same vectors as the encoder, chunk rows with offsets, idempotent writes to a Chroma server."""

import os
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("pyspark")

from medembed_rag import MedEmbedEncoder  # noqa: E402
from medembed_rag.integrations.spark import (  # noqa: E402
    MedEmbedSentenceEmbeddings,
    embed_dataframe,
    read_embeddings,
    write_to_chroma,
)

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
    from medembed_rag.index.store import chunk_ids

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
        again = write_to_chroma(embedded, host="127.0.0.1", port=server.port)  # the column names its model
        assert first == again == embedded.count()
        from medembed_rag.index.store import MedEmbedChromaStore

        store = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
        hit = store.query(texts[42], k=1)[0]
        assert hit.doc_id == "d42"
        # The same records the store writes: add_documents of the same documents changes nothing.
        report = store.add_documents(texts[:20], ids=[f"d{i}" for i in range(20)])
        assert report.chunks_added == report.metadata_updated == report.chunks_removed == 0
        assert store.index.lexical.ids() == set(store.collection.get(include=[])["ids"])
        # the host's lexical index serves the Spark-written chunks, checked on the lexical side itself: one full
        # run put d98 first through hybrid() (not reproduced alone or with this file; the likely cause, not
        # proven, is the server's approximate HNSW search among d7's repeated sentences, with dense weighing 0.8)
        assert store.index.lexical.search(texts[7][:200], 1)[0][0].startswith("d7::")
        # A changed document written again through Spark loses its stale chunks.
        changed = spark.createDataFrame([("d7", "PLAN:\nReview in 6 weeks.")], ["id", "text"])
        write_to_chroma(embed_dataframe(changed, model=standin_path, precision="fp32", cache_dir=cache_dir, chunk=True),
                        host="127.0.0.1", port=server.port)
        assert store.collection.get(where={"doc_id": "d7"}, include=["documents"])["documents"] == ["PLAN:\nReview in 6 weeks."]
        assert store.index.lexical.ids() == set(store.collection.get(include=[])["ids"])
    finally:
        server.stop()


def test_write_to_chroma_refuses_vectors_of_another_model(spark, texts, standin_path, cache_dir, tmp_path, encoder):
    from pyspark.sql import functions as F

    from medembed_rag.errors import InvalidInputError, ModelMismatchError
    from medembed_rag.integrations.spark import FINGERPRINT_KEY
    from medembed_rag.index.store import MedEmbedChromaStore

    server = ChromaServer(tmp_path / "server").start()
    try:
        store = MedEmbedChromaStore(host="127.0.0.1", port=server.port, encoder=encoder)
        store.add_documents(["Stamped by the stand-in at fp32."], ids=["x"])
        df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts[:5])], ["id", "text"])
        embedded = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir, chunk=True)
        fingerprint = dict(embedded.schema["embedding"].metadata[FINGERPRINT_KEY])
        assert fingerprint == encoder.fingerprint
        other = {**fingerprint, "model_id": "abhinand/MedEmbed-base-v0.1", "dim": 768, "pooling": "cls"}
        relabelled = embedded.withColumn("embedding", F.col("embedding").alias("embedding", metadata={FINGERPRINT_KEY: other}))
        with pytest.raises(ModelMismatchError, match="MedEmbed-base"):  # e.g. embed_dataframe(model=A) into B's collection
            write_to_chroma(relabelled, host="127.0.0.1", port=server.port)
        with pytest.raises(ModelMismatchError, match="precision='int8'"):  # arguments that contradict the column
            write_to_chroma(embedded, host="127.0.0.1", port=server.port, precision="int8")
        bare = embedded.withColumn("embedding", F.col("embedding").alias("embedding", metadata={}))
        with pytest.raises(InvalidInputError, match="no medembed fingerprint"):
            write_to_chroma(bare, host="127.0.0.1", port=server.port)
        with pytest.raises(InvalidInputError, match="chunk=True"):
            write_to_chroma(embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir),
                            host="127.0.0.1", port=server.port)
        assert store.count() == 1  # nothing was written
    finally:
        server.stop()


# ---------------------------------------------------------------------- the pyspark.ml stage
def _cosines(got, want):
    return (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)


def test_pipeline_stage_fits_transforms_saves_and_loads_in_a_new_session(spark, texts, encoder, standin_path,
                                                                         cache_dir, tmp_path):
    import json
    import subprocess

    from pyspark.ml import Pipeline, PipelineModel

    df = spark.createDataFrame([(f"d{i}", t, i % 3) for i, t in enumerate(texts[:40])], ["id", "text", "ward"])
    stage = (MedEmbedSentenceEmbeddings().setInputCols(["text"]).setOutputCol("vec").setModel(standin_path)
             .setPrecision("fp32").setCacheDir(cache_dir))
    fitted = Pipeline(stages=[stage]).fit(df)
    out = fitted.transform(df).orderBy("ward", "id").toPandas()
    assert list(out.columns) == ["id", "text", "ward", "chunk_id", "vec"]  # the input's columns are kept
    want = encoder.encode_documents(list(out["text"]))
    assert _cosines(np.stack(out["vec"].to_list()), want).min() >= 0.9999
    same = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir).toPandas()
    assert dict(zip(same["id"], same["chunk_id"])) == dict(zip(out["id"], out["chunk_id"]))

    fitted.save(str(tmp_path / "pipeline"))
    assert isinstance(PipelineModel.load(str(tmp_path / "pipeline")).stages[0], MedEmbedSentenceEmbeddings)
    job = textwrap.dedent(
        f"""
        import json
        from pyspark.sql import SparkSession
        from pyspark.ml import PipelineModel
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                 .getOrCreate())
        df = spark.createDataFrame({[(f"d{i}", t, i % 3) for i, t in enumerate(texts[:40])]!r}, ["id", "text", "ward"])
        rows = PipelineModel.load({str(tmp_path / "pipeline")!r}).transform(df).collect()
        print(json.dumps({{r["id"]: list(r["vec"]) for r in rows}}))
        spark.stop()
        """
    )
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    loaded = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True, env=env, timeout=600)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    again = json.loads(loaded.stdout.strip().splitlines()[-1])
    got = np.asarray([again[i] for i in out["id"]], dtype=np.float32)
    assert _cosines(got, want).min() >= 0.9999


def test_chunked_stage_gives_the_same_rows_as_embed_dataframe(spark, texts, standin_path, cache_dir):
    df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts[:12])], ["id", "text"])
    stage = MedEmbedSentenceEmbeddings(model=str(standin_path), precision="fp32", cacheDir=str(cache_dir), chunk=True,
                                       chunkTokens=64)
    rows = stage.transform(df).toPandas().sort_values("chunk_id").reset_index(drop=True)
    same = embed_dataframe(df, model=standin_path, precision="fp32", cache_dir=cache_dir, chunk=True,
                           chunk_tokens=64).toPandas().sort_values("chunk_id").reset_index(drop=True)
    assert len(rows) > 12 and list(rows["chunk_id"]) == list(same["chunk_id"])
    for column in ("id", "chunk_index", "start", "end", "section", "text"):
        assert list(rows[column]) == list(same[column]), column
    for _, r in rows.iterrows():
        assert texts[int(r["id"][1:])][r["start"] : r["end"]] == r["text"]
    assert _cosines(np.stack(rows["embedding"].to_list()), np.stack(same["embedding"].to_list())).min() >= 0.9999


def test_vector_output_feeds_pyspark_ml_estimators(spark, texts, standin_path, cache_dir):
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import BucketedRandomProjectionLSH
    from pyspark.ml.linalg import DenseVector

    df = spark.createDataFrame([(f"d{i}", t) for i, t in enumerate(texts[:30])], ["id", "text"])
    stage = MedEmbedSentenceEmbeddings(model=str(standin_path), precision="fp32", cacheDir=str(cache_dir),
                                       outputType="vector", outputCol="features")
    vectors = stage.transform(df).cache()
    assert isinstance(vectors.first()["features"], DenseVector) and len(vectors.first()["features"]) == 384
    clusters = KMeans(k=3, seed=1).fit(vectors).transform(vectors)
    assert clusters.select("prediction").distinct().count() > 1
    lsh = BucketedRandomProjectionLSH(inputCol="features", outputCol="hashes", bucketLength=0.5).fit(vectors)
    target = vectors.where("id = 'd5'").first()["features"]
    assert lsh.approxNearestNeighbors(vectors, target, 1).first()["id"] == "d5"


def test_bad_params_are_refused_on_the_driver_before_any_embedding(spark, standin_path, cache_dir):
    from medembed_rag import InvalidInputError, InvalidInputTypeError

    def stage(**params):
        return MedEmbedSentenceEmbeddings(**{"model": str(standin_path), "precision": "fp32",
                                             "cacheDir": str(cache_dir), **params})

    good = spark.createDataFrame([("a", "Warfarin needs INR tests."), ("b", "Metformin with meals.")], ["id", "text"])
    tracker = spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup("schema-checks", "bad params")
    with pytest.raises(InvalidInputError, match="no text column 'note'.*columns: id, text"):
        stage(inputCol="note").transform(good)
    numbers = spark.createDataFrame([("a", 1)], ["id", "text"])
    with pytest.raises(InvalidInputTypeError, match="'text' holds bigint, not strings"):
        stage().transform(numbers)
    with pytest.raises(InvalidInputError, match="chunk=True needs document ids.*'doc'"):
        stage(idCol="doc", chunk=True).transform(good)
    with pytest.raises(InvalidInputError, match="precision must be one of"):
        stage(precision="fp16").transform(good)
    with pytest.raises(InvalidInputError, match="exactly one"):
        stage().setInputCols(["text", "id"])
    assert list(tracker.getJobIdsForGroup("schema-checks")) == []  # refused from the schema: no Spark job ran
    spark.sparkContext.setJobGroup("rest", "rest")

    with_null = spark.createDataFrame([("a", "Warfarin needs INR tests."), ("b", None), ("c", "  ")], "id string, text string")
    with pytest.raises(InvalidInputError, match=r"null or blank texts \(first at id='b'\).*handleInvalid='skip'"):
        stage().transform(with_null)  # eager: raised by transform(), before the embedding job exists
    kept = stage(handleInvalid="skip").transform(with_null).toPandas()
    assert list(kept["id"]) == ["a"]
