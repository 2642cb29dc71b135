"""Spark path throughput on one machine against the plain encoder (issue: Spark), one run.

Embeds the same MedQuAD passages with MedEmbedEncoder.encode_documents and with embed_dataframe on a
local[2] Spark session (2 tasks x 1 OpenVINO thread), stand-in model, auto precision, warm cache. Reports
both rates and Spark's overhead at local scale.

Usage: python benchmarks/bench_spark.py [--docs 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from medembed_rag.integrations.spark import embed_dataframe  # noqa: E402
from medembed_rag.testing import standin_model_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    args = parser.parse_args()
    ids, texts = _common.medquad_passages(args.docs)
    model = standin_model_path()

    enc = _common.standin_encoder()
    started = time.perf_counter()
    enc.encode_documents(texts)
    plain = len(texts) / (time.perf_counter() - started)

    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.createDataFrame(list(zip(ids, texts)), ["id", "text"]).repartition(8).cache()
    df.count()
    embed_dataframe(df, model=model).count()  # warm every Python worker (each loads the model once)
    started = time.perf_counter()
    n = embed_dataframe(df, model=model).count()
    spark_rate = n / (time.perf_counter() - started)
    spark.stop()

    report = {"docs": len(texts), "plain_docs_per_s": plain, "spark_docs_per_s": spark_rate,
              "spark_overhead": plain / spark_rate - 1}
    print(f"{len(texts)} MedQuAD passages, stand-in model, auto precision")
    print(f"  MedEmbedEncoder.encode_documents  {plain:7.1f} docs/s")
    print(f"  embed_dataframe on local[2]       {spark_rate:7.1f} docs/s  (overhead {report['spark_overhead'] * 100:+.0f}%)")
    _common.finish("spark", report, [])


if __name__ == "__main__":
    main()
