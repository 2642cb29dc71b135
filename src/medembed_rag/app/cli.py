"""The ``medembed-rag`` command: index, query, ask, eval, delete, export, info, demo.

Exit codes: 0 success (for ``ask``, whether it answered or abstained); 2 bad input (missing path, no readable files, binary file, bad option, a document id
to delete that the store does not hold);
3 the store refuses (another model, locked folder, unreachable server); 4 a model cannot be loaded or
exported (including a missing extra, named in the message).
Nothing is written when a command fails before its first write. Document text is never logged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import (
    InvalidInputError,
    MedEmbedError,
    MissingDependencyError,
    ModelLoadError,
    ModelMismatchError,
    StoreError,
)
from ..models.registry import DEFAULT_RERANKER
from .commands import (
    cmd_ask,
    cmd_compact,
    cmd_delete,
    cmd_demo,
    cmd_eval,
    cmd_export,
    cmd_index,
    cmd_info,
    cmd_query,
    cmd_serve,
)
from .documents import CliError
from .flags import add_encoder_flags

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medembed-rag", description="MedEmbed medical embeddings for RAG.")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p):
        add_encoder_flags(p)

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
    p.add_argument("--strictness", default="balanced", choices=["high", "balanced", "lenient"],
                   help="when to abstain: high abstains more, lenient answers more (default: %(default)s)")
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
    add_encoder_flags(p, skip=("model",))
    p.add_argument("--kind", default="embedding", choices=["embedding", "reranker"])
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("info", help="the CPU's features, what precision auto runs at and why, docs/s per precision")
    p.add_argument("--model", default=None, help="hub id or local folder to explain (exported if needed)")
    p.add_argument("--kind", default="embedding", choices=["embedding", "reranker"])
    p.add_argument("--int8", action="store_true", help="also measure int8 (exports it once if needed)")
    p.add_argument("--cache-dir", default=None)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("serve", help="serve the model over HTTP (OpenAI and text-embeddings-inference APIs)")
    add_encoder_flags(p)
    p.add_argument("--reranker", default=None, help="also serve this cross-encoder (/rerank, /v1/rerank)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--api-key", default=None, help="require 'Authorization: Bearer KEY' on every route but /health "
                   "and /metrics (default: $MEDEMBED_RAG_API_KEY; none: no key)")
    p.add_argument("--default-input-type", default="document", choices=["document", "query"],
                   help="the path for requests that say no input_type (OpenAI clients cannot)")
    p.add_argument("--truncate", action="store_true", help="cut over-long inputs (and say so) instead of 413")
    p.add_argument("--max-queue", type=int, default=1024, help="texts waiting before 429 (default: %(default)s)")
    p.add_argument("--max-batch-tokens", type=int, default=16384, help="tokens per model call")
    p.add_argument("--max-client-batch", type=int, default=512, help="texts per request")
    p.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="index sample documents and answer a question with citations")
    p.add_argument("--question", default=None, help="ask one question and exit")
    p.add_argument("--store", default="medembed-demo-store")
    p.add_argument("--no-llm", action="store_true", help="retrieval-only answers (no language model)")
    p.add_argument("--strictness", default="balanced", choices=["high", "balanced", "lenient"],
                   help="when to abstain: high abstains more, lenient answers more (default: %(default)s)")
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
