"""``medembed-rag serve``: the encoder (and a reranker) behind the HTTP APIs existing RAG chains already call:
OpenAI's ``/v1/embeddings``, text-embeddings-inference's ``/embed``, ``/rerank``, ``/tokenize`` and ``/info``, and
Cohere's ``/v1/rerank``; with batching across concurrent requests (:mod:`.batcher`). Needs the ``[serve]`` extra.
"""

from __future__ import annotations

from ..integrations import require

require("fastapi", "serve", "medembed-rag serve")
require("uvicorn", "serve", "medembed-rag serve")
require("prometheus_client", "serve", "medembed-rag serve")

from .app import ServerConfig, create_app, serve  # noqa: E402

__all__ = ["ServerConfig", "create_app", "serve"]
