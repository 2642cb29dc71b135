"""Long-document retrieval and chunking speed (issue: the token-exact medical chunker).

Retrieval, on MedQuAD-long (one long page per document) with the stand-in model, all in one run:
  * truncate   - each document embedded whole, cut at the model's limit (what happens without chunking),
  * window     - plain fixed windows of the model's limit (no sentence or section awareness),
  * medical    - MedicalChunker (sections, paragraphs, sentences; a long section's later chunks embedded with
                 its heading),
  * medical-no-heading - the same cuts without the heading context (how much each part earns),
each chunked method aggregated to documents by the best chunk. Every unit embedded carries the document's
title in front (the title's tokens are reserved from the budget), so the three differ only in how text is cut.
Targets: medical >= truncate + 8 nDCG@10 points, and >= window + 1 point.

Speed: characters per second of MedicalChunker against LangChain's SentenceTransformersTokenTextSplitter and
LlamaIndex's SentenceSplitter (both counting the model's tokens) on the same documents; target: not slower.

Long-context model (``--long-model FOLDER_OR_HUB_ID``, e.g. a gte-modernbert-base twin or the real model): the
same MedQuAD-long documents embedded three ways by that one model - whole documents (up to its 8,192 tokens),
512-token medical chunks aggregated by the best chunk, and medical chunks of its own full budget - with docs/s,
peak memory and nDCG@10 for each. On a random-weight twin the nDCG is meaningless (only speed and memory count);
with real weights the same command gives the quality comparison.

Usage: python benchmarks/bench_chunking.py [--docs N] [--skip-retrieval] [--skip-speed]
       python benchmarks/bench_chunking.py --long-model FOLDER [--docs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from medembed_rag.chunking import MedicalChunker, aggregate_to_documents  # noqa: E402
from medembed_rag.evaluation.metrics import evaluate, load_beir  # noqa: E402
from medembed_rag.testing import standin_model_path  # noqa: E402


def fixed_windows(tokenizer, text: str, size: int) -> list[str]:
    """Plain fixed token windows (the baseline): cut every ``size`` tokens, wherever that falls."""
    offsets = tokenizer.encode(text, add_special_tokens=False).offsets
    out = []
    for i in range(0, len(offsets), size):
        window = offsets[i : i + size]
        out.append(text[window[0][0] : window[-1][1]])
    return [w for w in out if w.strip()]


def retrieval(n_docs: int | None, variants: list[str], only_variants: bool = False) -> dict:
    data = load_beir(_common.dataset("medquad-long"))
    ids = list(data.corpus)[:n_docs] if n_docs else list(data.corpus)
    keep = set(ids)
    qrels = {q: rel for q, rel in data.qrels.items() if any(d in keep for d in rel)}
    qids = [q for q in qrels if q in data.queries]
    enc = _common.standin_encoder(batch_size=64)
    chunker = MedicalChunker(enc)
    tok = enc.tokenizer
    medical = {"medical": chunker, "medical-no-heading": MedicalChunker(enc, heading_context=False)}
    for v in variants:  # "tokens:overlap", e.g. "128:16"
        size, overlap = (int(x) for x in v.split(":"))
        medical[f"medical-{size}-{overlap}"] = MedicalChunker(enc, chunk_tokens=size, overlap_tokens=overlap)
    queries = enc.encode_queries([data.queries[q] for q in qids])
    results = {}
    fixed = ("medical", "medical-no-heading")
    methods = [m for m in medical if m not in fixed] if only_variants else ["truncate", "window", *medical]
    for method in methods:
        started = time.perf_counter()
        units, owners = [], []
        for d in ids:
            title, text = data.corpus[d]
            head = f"{title}\n" if title else ""
            if method == "truncate":
                pieces = [text]
            else:
                reserved = len(tok.encode(head, add_special_tokens=False).ids)
                if method == "window":
                    pieces = fixed_windows(tok, text, chunker.chunk_tokens - reserved)
                else:
                    pieces = [c.embed_text for c in medical[method].split(text, reserved_tokens=reserved)]
            units.extend(head + p for p in pieces)
            owners.extend([d] * len(pieces))
        vectors = enc.encode_documents(units)
        scores = queries @ vectors.T
        run = {}
        for i, q in enumerate(qids):
            top = np.argpartition(-scores[i], min(1000, len(units) - 1))[:1000]
            hits = [(owners[j], float(scores[i, j])) for j in top]
            run[q] = [h.doc_id for h in aggregate_to_documents(hits, top_k=100)]
        metrics = evaluate(qrels, run)
        results[method] = {**metrics, "units": len(units), "seconds": time.perf_counter() - started}
        print(f"  {method:18s} nDCG@10 {metrics['ndcg@10']:6.2f}  Recall@100 {metrics['recall@100']:6.2f}  "
              f"({len(units)} units, {results[method]['seconds']:.0f} s)", flush=True)
    return results


def long_context(n_docs: int | None, model: str) -> dict:
    """Whole documents vs 512-token chunks vs the long model's own chunks, one long-context model (see the doc)."""
    from medembed_rag import MedEmbedEncoder

    data = load_beir(_common.dataset("medquad-long"))
    ids = list(data.corpus)[:n_docs] if n_docs else list(data.corpus)
    keep = set(ids)
    qrels = {q: rel for q, rel in data.qrels.items() if any(d in keep for d in rel)}
    qids = [q for q in qrels if q in data.queries]
    enc = MedEmbedEncoder(model, truncation="silent", show_progress=False)
    tok = enc.tokenizer
    queries = enc.encode_queries([data.queries[q] for q in qids])
    chunkers = {"whole": None, "chunks-512": MedicalChunker(enc, chunk_tokens=510), "chunks-long": MedicalChunker(enc)}
    results = {}
    for method, chunker in chunkers.items():
        units, owners = [], []
        for d in ids:
            title, text = data.corpus[d]
            head = f"{title}\n" if title else ""
            reserved = len(tok.encode(head, add_special_tokens=False).ids)
            pieces = [text] if chunker is None else [c.embed_text for c in chunker.split(text, reserved_tokens=reserved)]
            units.extend(head + p for p in pieces)
            owners.extend([d] * len(pieces))
        started = time.perf_counter()
        vectors = enc.encode_documents(units)
        seconds = time.perf_counter() - started
        scores = queries @ vectors.T
        run = {}
        for i, q in enumerate(qids):
            top = np.argsort(-scores[i])[:1000]
            run[q] = [h.doc_id for h in aggregate_to_documents([(owners[j], float(scores[i, j])) for j in top],
                                                               top_k=100)]
        metrics = evaluate(qrels, run)
        tokens = sum(enc.count_tokens(units))
        results[method] = {**metrics, "units": len(units), "tokens": tokens, "seconds": seconds,
                           "docs_per_s": len(ids) / seconds, "peak_rss_mb": _common.peak_rss_mb()}
        print(f"  {method:12s} {len(ids) / seconds:7.2f} docs/s  {len(units):6d} units  {tokens:8d} tokens  "
              f"peak RSS {_common.peak_rss_mb():6.0f} MiB  nDCG@10 {metrics['ndcg@10']:6.2f}", flush=True)
    return results


def speed(n_docs: int) -> dict:
    from langchain_text_splitters import SentenceTransformersTokenTextSplitter
    from llama_index.core.node_parser import SentenceSplitter
    from tokenizers import Tokenizer

    data = load_beir(_common.dataset("medquad-long"))
    texts = [data.corpus[d][1] for d in list(data.corpus)[:n_docs]]
    chars = sum(map(len, texts))
    model = standin_model_path()
    ours = MedicalChunker(tokenizer=model, max_length=256)
    hf_tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    hf_tok.no_padding()
    hf_tok.no_truncation()
    lc = SentenceTransformersTokenTextSplitter(model_name=str(model), tokens_per_chunk=254, chunk_overlap=0)
    li = SentenceSplitter(
        chunk_size=254, chunk_overlap=0, tokenizer=lambda t: hf_tok.encode(t, add_special_tokens=False).ids
    )
    splitters = {"medembed MedicalChunker": ours.split_text, "langchain ST token splitter": lc.split_text,
                 "llama-index SentenceSplitter": li.split_text}
    out = {}
    for name, split in splitters.items():
        split(texts[0])
        started = time.perf_counter()
        n_chunks = sum(len(split(t)) for t in texts)
        seconds = time.perf_counter() - started
        out[name] = {"chars_per_s": chars / seconds, "chunks": n_chunks, "seconds": seconds}
        print(f"  {name:30s} {chars / seconds / 1e6:6.2f} M chars/s  ({n_chunks} chunks)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=None, help="use only the first N documents")
    parser.add_argument("--speed-docs", type=int, default=1000)
    parser.add_argument("--skip-retrieval", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--variant", action="append", default=[], help="extra medical setting tokens:overlap")
    parser.add_argument("--only-variants", action="store_true", help="run only the --variant settings")
    parser.add_argument("--long-model", default=None, help="compare whole documents and chunk sizes on this model")
    args = parser.parse_args()
    report, failures = {}, []
    if args.long_model:
        print(f"MedQuAD-long on the long-context model {args.long_model} (a random-weight twin: speed and memory "
              f"only; nDCG needs real weights)")
        report["long_context"] = long_context(args.docs, args.long_model)
        report["model"] = args.long_model
        _common.finish("chunking-long-context", report, [])
    if not args.skip_retrieval:
        print("Retrieval on MedQuAD-long, stand-in model, document level (best chunk)")
        r = report["retrieval"] = retrieval(args.docs, args.variant, args.only_variants)
        if args.only_variants:
            _common.finish("chunking-variants", report, [])
        if r["medical"]["ndcg@10"] < r["truncate"]["ndcg@10"] + 8:
            failures.append("medical chunking is less than 8 nDCG@10 points above truncation")
        if r["medical"]["ndcg@10"] < r["window"]["ndcg@10"] + 1:
            failures.append("medical chunking is less than 1 nDCG@10 point above fixed windows")
    if not args.skip_speed:
        print(f"Chunking speed on {args.speed_docs} MedQuAD-long documents")
        s = report["speed"] = speed(args.speed_docs)
        ours = s["medembed MedicalChunker"]["chars_per_s"]
        slower = [k for k, v in s.items() if v["chars_per_s"] > ours]
        if slower:
            failures.append(f"MedicalChunker is slower than {', '.join(slower)}")
    _common.finish("chunking", report, failures)


if __name__ == "__main__":
    main()
