"""The ``medembed-rag`` command: index, query, ask, eval, delete, export, info, demo.

Exit codes: 0 success (for ``ask``, whether it answered or abstained); 2 bad input (missing path, no readable files, binary file, bad option, a document id
to delete that the store does not hold);
3 the store refuses (another model, locked folder, unreachable server); 4 a model cannot be loaded or
exported (including a missing extra, named in the message).
Nothing is written when a command fails before its first write. Document text is never logged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import (
    DocumentNotFoundError,
    InvalidInputError,
    MedEmbedError,
    MissingDependencyError,
    ModelLoadError,
    ModelMismatchError,
    StoreError,
)
from ..models.options import PRECISIONS
from ..models.registry import DEFAULT_MODEL, DEFAULT_RERANKER

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
JSONL_SUFFIXES = {".jsonl"}


class CliError(Exception):
    """A user-facing failure with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------- reading input files
def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise CliError(f"{path} is not a text file (it contains NUL bytes); pass .txt, .md or .jsonl files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start}); convert it to UTF-8 first") from None


def collect_documents(paths: Sequence[str]) -> tuple[list[str], list[str], list[dict]]:
    """Reads every .txt/.md/.jsonl file under ``paths`` into (texts, ids, metadatas); raises before any write."""
    files: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise CliError(f"{path} does not exist")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES)
            files.extend((p, path) for p in found)
        elif path.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES:
            files.append((path, path.parent))
        else:
            raise CliError(f"{path}: unsupported file type {path.suffix or '(none)'}; use .txt, .md or .jsonl")
    if not files:
        raise CliError(f"no .txt, .md or .jsonl files found in {', '.join(paths)}")
    texts, ids, metas = [], [], []
    for path, root in files:
        rel = path.relative_to(root).as_posix() if path != root else path.name
        content = _read_text_file(path)
        if path.suffix.lower() in JSONL_SUFFIXES:
            for n, line in enumerate(content.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text = row.pop("text")
                except (ValueError, KeyError, AttributeError):
                    raise CliError(f"{path}:{n} is not a JSON object with a \"text\" field") from None
                doc_id = str(row.pop("id", row.pop("_id", f"{rel}:{n}")))
                title = row.pop("title", "")
                texts.append(f"{title}\n{text}" if title else text)
                ids.append(doc_id)
                metas.append({"source": rel, **({"title": title} if title else {}), **row})
        else:
            if not content.strip():
                continue
            texts.append(content)
            ids.append(rel)
            metas.append({"source": rel})
    if not texts:
        raise CliError("every file found is empty")
    if len(set(ids)) != len(ids):
        raise CliError("two documents share an id; give each JSONL row a unique \"id\"")
    return texts, ids, metas


# ---------------------------------------------------------------------- commands
def _encoder(args):
    from ..models.encoder import MedEmbedEncoder

    return MedEmbedEncoder(args.model, precision=args.precision, show_progress=not args.quiet)


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

        model = MedEmbedEncoder(args.model, revision=args.revision, precision=args.precision, cache_dir=args.cache_dir)
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
        resolve_float_precision,
        sample_inputs,
        time_precision,
    )

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
    runs = [("fp32", folder, "fp32"), *([("bf16", folder, "bf16")] if features.bf16 else [])]
    if args.int8:
        int8_folder = Model(args.model, precision="int8", cache_dir=args.cache_dir).cache_folder
        runs.append(("int8", int8_folder, float_precision(int8_folder, "int8")))
    print(f"measured now on {SAMPLE_TEXTS} texts of {SAMPLE_TOKENS} tokens (docs/s):")
    feed = sample_inputs(folder)
    for name, path, precision in runs:
        speed, _ = time_precision(path, precision, feed)
        print(f"  {name:5s} {speed:8.2f}")
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
        result = VerifiedAnswerer(store, llm=llm, reranker=reranker, hybrid=not args.dense).ask(args.text)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.format())
    return 0  # answered or not: abstaining is a result, not an error


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(question=args.question, store=args.store, use_llm=not args.no_llm, model=args.model)


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medembed-rag", description="MedEmbed medical embeddings for RAG.")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p):
        p.add_argument("--model", default=DEFAULT_MODEL, help="hub id or local model folder (default: %(default)s)")
        p.add_argument("--precision", default="auto", choices=PRECISIONS)
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    def store_options(p):
        p.add_argument("--store", default="medembed-store", help="embedded Chroma folder (default: %(default)s)")
        p.add_argument("--collection", default="medembed", help="collection name (default: %(default)s)")

    p = sub.add_parser("index", help="chunk, embed and store .txt/.md/.jsonl files")
    p.add_argument("paths", nargs="+", help="files or folders")
    store_options(p)
    model_options(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("query", help="print the passages that best answer a question")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=5, help="passages to print")
    p.add_argument("--hybrid", action="store_true", help="fuse BM25 with the dense results")
    p.add_argument("--rerank", action="store_true", help="rerank a pool of 50 with a cross-encoder")
    p.add_argument("--reranker", default=DEFAULT_RERANKER, help="cross-encoder for --rerank")
    p.add_argument("--json", action="store_true")
    store_options(p)
    model_options(p)
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("ask", help="answer a question from the store with verified citations, or say it cannot")
    p.add_argument("text", help="the question")
    p.add_argument("--json", action="store_true",
                   help='print {"answered", "answer", "citations", "removed", "mode", "why"}')
    p.add_argument("--no-llm", action="store_true", help="extractive answers only (no language model)")
    p.add_argument("--dense", action="store_true", help="dense retrieval only (default: dense + BM25)")
    p.add_argument("--rerank", action="store_true", help="rerank the retrieved pool with a cross-encoder")
    p.add_argument("--reranker", default=DEFAULT_RERANKER, help="cross-encoder for --rerank")
    store_options(p)
    model_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="retrieval metrics on a BEIR-format folder")
    p.add_argument("beir_dir")
    p.add_argument("--chunk", action="store_true", help="chunk documents and score each by its best chunk")
    p.add_argument("--hybrid", action="store_true", help="fuse BM25 with the dense results")
    p.add_argument("--fusion", default="weighted", choices=["weighted", "rrf"])
    p.add_argument("--weight", type=float, default=None, help="dense weight for weighted fusion")
    p.add_argument("--rerank", action="store_true", help="rerank the top 20 with a cross-encoder")
    p.add_argument("--reranker", default=DEFAULT_RERANKER, help="cross-encoder for --rerank")
    p.add_argument("--max-queries", type=int, default=None)
    p.add_argument("--json", action="store_true")
    model_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("delete", help="delete documents (and with --purge erase their text from disk)")
    p.add_argument("document_ids", nargs="+")
    p.add_argument("--purge", action="store_true", help="scrub the chunks from Chroma's log, vacuum, truncate logs")
    store_options(p)
    model_options(p)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("compact", help="erase the text of everything deleted earlier (e.g. through a server)")
    store_options(p)
    model_options(p)
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("export", help="pre-build the OpenVINO cache (e.g. in a Docker build)")
    p.add_argument("model")
    p.add_argument("--precision", default="auto", choices=PRECISIONS)
    p.add_argument("--revision", default=None, help="hub commit (default: the registry's pinned one)")
    p.add_argument("--kind", default="embedding", choices=["embedding", "reranker"])
    p.add_argument("--cache-dir", default=None)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("info", help="the CPU's features, what precision auto runs at and why, docs/s per precision")
    p.add_argument("--model", default=None, help="hub id or local folder to explain (exported if needed)")
    p.add_argument("--kind", default="embedding", choices=["embedding", "reranker"])
    p.add_argument("--int8", action="store_true", help="also measure int8 (exports it once if needed)")
    p.add_argument("--cache-dir", default=None)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("demo", help="index sample documents and answer a question with citations")
    p.add_argument("--question", default=None, help="ask one question and exit")
    p.add_argument("--store", default="medembed-demo-store")
    p.add_argument("--no-llm", action="store_true", help="retrieval-only answers (no language model)")
    p.add_argument("--model", default=None,
                   help="embedding model: a hub id or a local folder (default: MedEmbed-base from the hub, or the "
                        "packaged stand-in when the hub cannot be reached)")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"medembed-rag: error: {exc}", file=sys.stderr)
        return exc.code
    except (ModelMismatchError, StoreError) as exc:
        print(f"medembed-rag: error: {exc}", file=sys.stderr)
        return 3
    except (ModelLoadError, MissingDependencyError) as exc:
        print(f"medembed-rag: error: {exc}", file=sys.stderr)
        return 4
    except (InvalidInputError, MedEmbedError) as exc:
        print(f"medembed-rag: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
