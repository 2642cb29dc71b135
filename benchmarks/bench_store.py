"""Ingest throughput of MedEmbedChromaStore (issue: the Chroma store), all in one run:

  * by hand  - the same chunks, embedded with the same encoder and written with raw chromadb in batches,
  * store    - MedEmbedChromaStore.add_documents (chunk, ids, fingerprint, existing-id check, write),
  * re-run   - add_documents again on the unchanged corpus (must embed nothing).

Targets: store overhead <= 10% over by-hand; re-run a small fraction of the first ingest.

Usage: python benchmarks/bench_store.py [--docs 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import chromadb  # noqa: E402

from medembed_rag.index.store import MedEmbedChromaStore, telemetry_off_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    args = parser.parse_args()
    ids, texts = _common.medquad_passages(args.docs)
    enc = _common.standin_encoder()
    work = Path(tempfile.mkdtemp(prefix="medembed-bench-store-"))

    with MedEmbedChromaStore(work / "warm", encoder=enc) as warm:  # warm caches (tokenizer, Chroma bindings)
        warm.add_documents(texts[:50], ids=ids[:50])

    started = time.perf_counter()
    client = chromadb.PersistentClient(path=str(work / "by-hand"), settings=telemetry_off_settings())
    col = client.get_or_create_collection("raw", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    from medembed_rag.chunking import MedicalChunker

    chunker = MedicalChunker(enc)
    chunk_texts, chunk_ids, metas = [], [], []
    for d, t in zip(ids, texts):
        for c in chunker.split(t):
            chunk_texts.append(c.text)
            chunk_ids.append(f"{d}:{c.index}")
            metas.append({"doc_id": d, "chunk_index": c.index})
    batch = 256
    for i in range(0, len(chunk_texts), batch):
        vectors = enc.encode_documents(chunk_texts[i : i + batch])
        col.add(ids=chunk_ids[i : i + batch], embeddings=vectors, documents=chunk_texts[i : i + batch],
                metadatas=metas[i : i + batch])
    by_hand = time.perf_counter() - started

    with MedEmbedChromaStore(work / "store", encoder=enc) as store:
        started = time.perf_counter()
        first = store.add_documents(texts, ids=ids)
        store_s = time.perf_counter() - started
        started = time.perf_counter()
        again = store.add_documents(texts, ids=ids)
        rerun_s = time.perf_counter() - started

    overhead = store_s / by_hand - 1
    report = {
        "docs": len(ids), "chunks": first.chunks_added, "by_hand_s": by_hand, "store_s": store_s, "rerun_s": rerun_s,
        "overhead": overhead, "rerun_ratio": rerun_s / store_s, "rerun_embedded": again.embedded,
    }
    print(f"{len(ids)} MedQuAD passages, {first.chunks_added} chunks")
    print(f"  by hand (chunk, embed, raw chromadb)  {by_hand:7.1f} s  {len(ids) / by_hand:6.1f} docs/s")
    print(f"  MedEmbedChromaStore.add_documents     {store_s:7.1f} s  overhead {overhead * 100:+.1f}%")
    print(f"  re-run on the unchanged corpus        {rerun_s:7.1f} s  ({rerun_s / store_s * 100:.1f}% of the first, "
          f"{again.embedded} embedded)")
    failures = []
    if overhead > 0.10:
        failures.append(f"store overhead {overhead * 100:.1f}% > 10%")
    if again.embedded:
        failures.append("re-run embedded chunks")
    _common.finish("store", report, failures)


if __name__ == "__main__":
    main()
