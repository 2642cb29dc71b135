"""The HTTP server's application: configuration, the model loaded once per process, security, metrics, draining.

Routes are in :mod:`.routes`. Rules every route keeps: with an API key set, everything but ``/health`` and
``/metrics`` needs ``Authorization: Bearer KEY`` (compared in constant time) or gets 401; a body over
``max_body_bytes`` gets 413; while the model loads, routes that need it get 503 (and ``/health`` says so); after
SIGTERM, requests already running finish and new ones get 503. Logs and metrics carry routes, counts and
timings, never request text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import logging
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ..models.options import EncoderOptions

logger = logging.getLogger("medembed_rag.server")

OPEN_ROUTES = ("/health", "/metrics")


@dataclass
class ServerConfig:
    """What ``medembed-rag serve`` runs (see ``medembed-rag serve --help`` for each)."""

    options: EncoderOptions
    reranker: str | None = None
    api_key: str | None = None
    default_input_type: str = "document"
    truncate: bool = False
    max_queue: int = 1024
    max_batch_tokens: int = 16384
    max_client_batch: int = 512
    max_body_bytes: int = 8 * 1024 * 1024


class _Metrics:
    """Prometheus metrics in a registry of this app's own (several apps may share a process in tests)."""

    def __init__(self, queue_depth) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("medembed_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("medembed_request_seconds", "Request latency by route", ["route"],
                                 registry=self.registry,
                                 buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.batch_texts = Histogram("medembed_batch_texts", "Texts per model call", registry=self.registry,
                                     buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
        self.tokens = Counter("medembed_tokens", "Tokens embedded", registry=self.registry)
        self.queue = Gauge("medembed_queue_depth", "Texts waiting for the model", registry=self.registry)
        self.queue.set_function(queue_depth)

    def batch(self, texts: int, tokens: int, seconds: float) -> None:
        self.batch_texts.observe(texts)
        self.tokens.inc(tokens)


class State:
    """What the routes share: the config, the models (once loaded), the batcher and the metrics."""

    def __init__(self, config: ServerConfig, encoder=None, reranker=None) -> None:
        from ..models.encoder import MedEmbedEncoder
        from ..models.reranker import MedEmbedReranker
        from .batcher import Batcher

        self.config = config
        self.encoder = encoder or MedEmbedEncoder(options=config.options.replace(truncation="silent",
                                                                                 show_progress=False))
        self.reranker = reranker if reranker is not None else (
            MedEmbedReranker(config.reranker, precision=config.options.precision, truncation="silent")
            if config.reranker else None)
        self.model_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="medembed-model")
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.draining = False
        self.batcher = Batcher(self._encode, self.model_thread, max_queue=config.max_queue,
                               max_batch_tokens=config.max_batch_tokens)
        self.metrics = _Metrics(lambda: self.batcher.depth)
        self.batcher.on_batch = self.metrics.batch

    def _encode(self, texts: list[str], kind: str):
        return self.encoder.encode_queries(texts) if kind == "query" else self.encoder.encode_documents(texts)

    def load(self) -> None:
        """Loads the models (exporting once if needed); ``/health`` is ready afterwards."""
        try:
            self.encoder.load()
            if self.reranker is not None:
                self.reranker.load()
            self.ready.set()
            logger.info("model %s loaded; ready", self.encoder.model_id)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            logger.error("the model could not be loaded: %s", self.load_error)


def create_app(config: ServerConfig, *, encoder=None, reranker=None):
    """The FastAPI application (the models load in the background once it starts)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from .routes import error, register

    state = State(config, encoder, reranker)

    @asynccontextmanager
    async def lifespan(_app):
        state.batcher.start()
        asyncio.get_running_loop().run_in_executor(state.model_thread, state.load)
        yield
        await state.batcher.stop()
        state.model_thread.shutdown(wait=False)

    app = FastAPI(title="medembed-rag", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.medembed = state

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path, started = request.url.path, time.perf_counter()
        if path not in OPEN_ROUTES:
            if state.draining:
                return _count(state, path, error(503, "the server is shutting down; retry on another instance",
                                                 "unavailable"), started)
            if config.api_key and not _authorised(request, config.api_key):
                return _count(state, path, error(401, "missing or wrong API key: send 'Authorization: Bearer KEY'",
                                                 "authentication_error"), started)
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > config.max_body_bytes:
                return _count(state, path, error(413, f"the request body is over {config.max_body_bytes} bytes; send "
                                                 f"fewer texts per request", "payload_too_large"), started)
        response = await call_next(request)
        return _count(state, path, response, started)

    @app.get("/health")
    async def health():
        if state.ready.is_set():
            return {"status": "ok", "model": state.encoder.model_id}
        status = "failed: " + state.load_error if state.load_error else "loading"
        return JSONResponse({"status": status}, status_code=503)

    @app.get("/metrics")
    async def metrics():
        return PlainTextResponse(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    register(app, state)
    return app


def _authorised(request: Any, key: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def _count(state: State, path: str, response, started: float):
    route = path if path in _KNOWN_ROUTES else "other"
    state.metrics.requests.labels(route, str(response.status_code)).inc()
    state.metrics.latency.labels(route).observe(time.perf_counter() - started)
    logger.info("%s %d %.1f ms", route, response.status_code, 1000 * (time.perf_counter() - started))
    return response


_KNOWN_ROUTES = frozenset({"/health", "/metrics", "/info", "/v1/models", "/v1/embeddings", "/embed", "/rerank",
                           "/v1/rerank", "/tokenize"})


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Runs the server until SIGTERM or SIGINT; requests running then finish, new ones get 503."""
    import uvicorn

    app = create_app(config)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            app.state.medembed.draining = True
            super().handle_exit(sig, frame)

    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                                    timeout_graceful_shutdown=60))
    server.run()
