"""What each ``medembed-rag`` command does (the parser and exit codes are in :mod:`medembed_rag.app.cli`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import DocumentNotFoundError
from .documents import CliError, collect_documents
from .flags import encoder_options


def _encoder(args):
    from ..models.encoder import MedEmbedEncoder

    return MedEmbedEncoder(options=encoder_options(args))


def cmd_index(args) -> int:
    from ..index.store import MedEmbedChromaStore

    texts, ids, metas = collect_documents(args.paths)
    started = time.perf_counter()
    with MedEmbedChromaStore(args.store, collection=args.collection, encoder=_encoder(args)) as store:
        report = store.add_documents(texts, ids=ids, metadatas=metas)
        total = store.count()
    print(
        f"indexed {report.documents} documents in {time.perf_counter() - started:.1f} s: {report.chunks_added} chunks "
        f"added, {report.chunks_unchanged} unchanged, {report.chunks_removed} removed; {total} chunks in "
        f"{args.store} ({args.collection})"
    )
    return 0


def cmd_query(args) -> int:
    from ..index.store import MedEmbedChromaStore

    if not Path(args.store).expanduser().is_dir():
        raise CliError(f"no store at {args.store}; create it with `medembed-rag index PATH --store {args.store}`")
    with MedEmbedChromaStore(args.store, collection=args.collection, encoder=_encoder(args)) as store:
        pool = max(args.k, 50) if args.rerank else args.k
        hits = store.hybrid().query(args.text, pool) if args.hybrid else store.query(args.text, pool)
        if args.rerank:
            from ..models.reranker import MedEmbedReranker

            ranked = MedEmbedReranker(args.reranker, precision=args.precision).rank(args.text, [h.text for h in hits], top_k=args.k)
            hits = [type(hits[i])(hits[i].id, hits[i].doc_id, hits[i].text, score, hits[i].metadata) for i, score in ranked]
    if args.json:
        print(json.dumps([{"id": h.id, "doc_id": h.doc_id, "score": h.score, "text": h.text, "metadata": h.metadata}
                          for h in hits], indent=1))
        return 0
    for rank, h in enumerate(hits, start=1):
        where = h.metadata.get("source", h.doc_id)
        section = f" > {h.metadata['section']}" if h.metadata.get("section") else ""
        print(f"[{rank}] {h.score:.3f}  {where}{section}\n    {' '.join(h.text.split())[:400]}")
    if not hits:
        print("no results (the store is empty)")
    return 0


def cmd_eval(args) -> int:
    from ..evaluation.pipeline import run_eval

    try:
        result = run_eval(args)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['dataset']}: {result['documents']} documents, {result['queries']} queries, "
              f"{result['setting']}")
        for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10"):
            print(f"  {key:10s} {result[key]:6.2f}")
        print(f"  docs/s     {result['docs_per_s']:6.1f}")
    return 0


def cmd_delete(args) -> int:
    from ..index.store import MedEmbedChromaStore

    if not Path(args.store).expanduser().is_dir():
        raise CliError(f"no store at {args.store}")
    with MedEmbedChromaStore(args.store, collection=args.collection, encoder=_encoder(args)) as store:
        try:
            n = store.delete(args.document_ids, purge=args.purge)
        except DocumentNotFoundError as exc:
            raise CliError(
                f"{exc} The ids of `medembed-rag index` are file paths relative to the folder it was given "
                f"(or a JSONL row's \"id\")."
            ) from None
    print(f"deleted {n} chunks of {len(args.document_ids)} document(s){' and purged them from disk' if args.purge else ''}")
    return 0


def cmd_compact(args) -> int:
    from ..index.store import MedEmbedChromaStore

    if not Path(args.store).expanduser().is_dir():
        raise CliError(f"no store at {args.store}")
    with MedEmbedChromaStore(args.store, collection=args.collection, encoder=_encoder(args)) as store:
        store.compact()
    print(f"compacted {args.store}: no text of a deleted chunk is left in its files")
    return 0


def cmd_export(args) -> int:
    if args.kind == "reranker":
        from ..models.reranker import MedEmbedReranker

        model = MedEmbedReranker(args.model, revision=args.revision, precision=args.precision, cache_dir=args.cache_dir)
        model.load()
    else:
        from ..models.encoder import MedEmbedEncoder

        model = MedEmbedEncoder(options=encoder_options(args))
        model.load()
    state = "exported" if model.exports_run else "already cached"
    print(f"{args.model} ({args.precision}): {state}")
    return 0


def cmd_info(args) -> int:
    import openvino as ov

    from ..models.runtime import float_precision
    from ..models.precision import (
        SAMPLE_TEXTS,
        SAMPLE_TOKENS,
        cpu_features,
        int8_candidates,
        resolve_float_precision,
        resolve_int8_scheme,
        sample_inputs,
        time_ir,
    )
    from ..models.cache import find_xml

    features = cpu_features()
    default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").to_string()
    print(f"CPU: {features.describe()}")
    print(f"OpenVINO {ov.get_version()} (its own CPU default: {default})")
    if args.model is None:
        return 0

    if args.kind == "reranker":
        from ..models.reranker import MedEmbedReranker as Model
    else:
        from ..models.encoder import MedEmbedEncoder as Model
    folder = Model(args.model, precision="auto", cache_dir=args.cache_dir).cache_folder
    decision = resolve_float_precision(folder, features=features)
    print(f"{args.model}: precision auto -> {decision.precision}: {decision.reason} (decided {decision.decided})")
    runs = [("fp32", find_xml(folder), "fp32"), *([("bf16", find_xml(folder), "bf16")] if features.bf16 else [])]
    if args.int8:
        int8_folder = Model(args.model, precision="int8", cache_dir=args.cache_dir).cache_folder
        int8 = resolve_int8_scheme(int8_folder, features=features)
        print(f"{args.model}: precision int8 -> {int8.scheme}: {int8.advice()} (decided {int8.decided})")
        runs.append((f"int8[{int8.scheme}]", int8_candidates(int8_folder)[int8.scheme],
                     "fp32" if int8.scheme == "fp32" else float_precision(int8_folder, "int8")))
    print(f"measured now on {SAMPLE_TEXTS} texts of {SAMPLE_TOKENS} tokens (docs/s):")
    feed = sample_inputs(folder)
    for name, xml, precision in runs:
        speed, _ = time_ir(xml, precision, feed)
        print(f"  {name:14s} {speed:8.2f}")
    return 0


def cmd_ask(args) -> int:
    from ..answers.answerer import VerifiedAnswerer
    from ..index.store import MedEmbedChromaStore

    if not Path(args.store).expanduser().is_dir():
        raise CliError(f"no store at {args.store}; create it with `medembed-rag index PATH --store {args.store}`")
    llm = None
    if not args.no_llm:
        from ..models.llm import default_llm

        llm = default_llm()  # None (extractive answers) when no model is installed; says so on stderr
    reranker = None
    if args.rerank:
        from ..models.reranker import MedEmbedReranker

        reranker = MedEmbedReranker(args.reranker, precision=args.precision)
    with MedEmbedChromaStore(args.store, collection=args.collection, encoder=_encoder(args)) as store:
        result = VerifiedAnswerer(store, llm=llm, reranker=reranker, hybrid=not args.dense,
                                  strictness=args.strictness).ask(args.text)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.format())
    return 0  # answered or not: abstaining is a result, not an error


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(question=args.question, store=args.store, use_llm=not args.no_llm, model=args.model,
                    strictness=args.strictness)


def cmd_serve(args) -> int:
    import os

    from ..server import ServerConfig, serve

    config = ServerConfig(
        options=encoder_options(args), reranker=args.reranker,
        api_key=args.api_key or os.environ.get("MEDEMBED_RAG_API_KEY") or None,
        default_input_type=args.default_input_type, truncate=args.truncate, max_queue=args.max_queue,
        max_batch_tokens=args.max_batch_tokens, max_client_batch=args.max_client_batch,
        max_body_bytes=args.max_body_bytes,
    )
    serve(config, host=args.host, port=args.port)
    return 0
