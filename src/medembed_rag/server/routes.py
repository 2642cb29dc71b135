"""The routes: OpenAI's embeddings API, text-embeddings-inference's (embed, rerank, tokenize, info) and Cohere's
rerank. Every refusal is a JSON error naming the problem and what to change; none echoes request text."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from typing import Any

import numpy as np
import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .._version import __version__
from ..errors import MedEmbedError
from .batcher import QueueFull

_INPUT_TYPES = ("query", "document")


class BadRequest(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.retry_after = status, kind, retry_after


def _vectors_json(payload: Any, headers: dict | None = None) -> Response:
    """JSON with numpy arrays written by orjson (a 768-float vector: 0.02 ms instead of json's 0.3 ms)."""
    return Response(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json",
                    headers=headers)


def error(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None):
    """An error in OpenAI's shape (``error.message``, ``error.type``) that TEI clients read too (``error_type``)."""
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}, "error_type": kind},
                        status_code=status, headers=headers)


async def _body(request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest(400, f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def _texts(body: dict, field: str, state) -> list[str]:
    value = body.get(field)
    if value is None:
        raise BadRequest(400, f"'{field}' is missing: send a string or a list of strings")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BadRequest(400, f"'{field}' must be a string or a non-empty list of strings")
    if any(isinstance(v, int) and not isinstance(v, bool) for v in value) or any(isinstance(v, list) for v in value):
        raise BadRequest(400, f"'{field}' holds token ids; this server takes text. With LangChain's "
                              f"OpenAIEmbeddings pass check_embedding_ctx_length=False")
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise BadRequest(400, f"'{field}' item {i} is {type(v).__name__}, not a string")
        if not v.strip():
            raise BadRequest(400, f"'{field}' item {i} is empty or whitespace only")
    if len(value) > state.config.max_client_batch:
        raise BadRequest(413, f"{len(value)} texts in one request; send at most {state.config.max_client_batch}",
                         "payload_too_large")
    return value


def _input_type(body: dict, state) -> str:
    kind = body.get("input_type", state.config.default_input_type)
    kind = {"search_query": "query", "search_document": "document", "passage": "document"}.get(kind, kind)
    if kind not in _INPUT_TYPES:
        raise BadRequest(400, f"input_type must be 'query' or 'document', got {kind!r}")
    return kind


async def _embed(state, texts: list[str], kind: str, truncate: bool) -> tuple[np.ndarray, int, list[int]]:
    """Vectors, token count and the indexes of texts cut at the limit (only when ``truncate``)."""
    if not state.ready.is_set():
        raise BadRequest(503, "the model is still loading; retry shortly (GET /health says when it is ready)",
                         "unavailable")
    encoder = state.encoder
    prefix = encoder.settings.query_prefix if kind == "query" else encoder.settings.document_prefix
    counts = encoder.count_tokens(texts, prefix=prefix)
    limit = encoder.max_length
    long = [i for i, n in enumerate(counts) if n > limit]
    if long and not truncate:
        raise BadRequest(413, f"input {long[0]} has {counts[long[0]]} tokens; the model reads {limit} "
                              f"({len(long)} input(s) over). Split long texts, or send truncate=true to cut them",
                         "input_too_long")
    tokens = sum(min(n, limit) for n in counts)
    try:
        vectors = await state.batcher.submit(texts, tokens, kind)
    except QueueFull as exc:
        raise BadRequest(429, f"{exc}", "rate_limit_exceeded", retry_after=exc.retry_after) from None
    return vectors, tokens, long


def register(app, state) -> None:
    def handle(route):
        async def endpoint(request: Request):
            try:
                return await route(request)
            except BadRequest as exc:
                retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
                return error(exc.status, str(exc), exc.kind, retry)
            except MedEmbedError as exc:  # the library's own refusals: messages carry indexes, never text
                return error(400, str(exc))
        return endpoint

    async def openai_embeddings(request):
        body = await _body(request)
        texts = _texts(body, "input", state)
        if body.get("dimensions") is not None:
            raise BadRequest(400, f"'dimensions' is not supported: this model's vectors have {state.encoder.dim} "
                                  f"dimensions; leave it out")
        fmt = body.get("encoding_format", "float")
        if fmt not in ("float", "base64"):
            raise BadRequest(400, f"encoding_format must be 'float' or 'base64', got {fmt!r}")
        vectors, tokens, cut = await _embed(state, texts, _input_type(body, state), state.config.truncate)
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if fmt == "base64" else v}
                for i, v in enumerate(vectors)]
        out: dict[str, Any] = {"object": "list", "data": data, "model": body.get("model") or state.encoder.model_id,
                               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
        if cut:
            out["truncated"] = cut
        return _vectors_json(out, {"X-Truncated-Inputs": ",".join(map(str, cut))} if cut else None)

    async def models(request):
        return {"object": "list", "data": [{"id": state.encoder.model_id, "object": "model", "created": 0,
                                            "owned_by": "medembed-rag"}]}

    async def tei_embed(request):
        body = await _body(request)
        texts = _texts(body, "inputs", state)
        truncate = bool(body.get("truncate", state.config.truncate))
        vectors, _, cut = await _embed(state, texts, _input_type(body, state), truncate)
        if body.get("normalize", True) is False and state.encoder.settings.normalize:
            raise BadRequest(400, "normalize=false is not supported: this model's vectors are L2-normalised")
        return _vectors_json(vectors, {"X-Truncated-Inputs": ",".join(map(str, cut))} if cut else None)

    async def _rank(query, documents, top_n=None):
        if state.reranker is None:
            raise BadRequest(404, "no reranker is loaded: start the server with --reranker MODEL", "not_found")
        if not state.ready.is_set():
            raise BadRequest(503, "the models are still loading; retry shortly", "unavailable")
        if not isinstance(query, str) or not query.strip():
            raise BadRequest(400, "'query' must be a non-empty string")
        if not isinstance(documents, list) or not documents:
            raise BadRequest(400, "the texts to rerank must be a non-empty list of strings")
        return await asyncio.get_running_loop().run_in_executor(
            state.model_thread, lambda: state.reranker.rank(query, documents, top_k=top_n))

    async def tei_rerank(request):
        body = await _body(request)
        texts = _texts(body, "texts", state)
        ranked = await _rank(body.get("query"), texts)
        raw = bool(body.get("raw_scores", False))
        return [{"index": i, "score": s if raw else 1 / (1 + math.exp(-s)),
                 **({"text": texts[i]} if body.get("return_text") else {})} for i, s in ranked]

    async def cohere_rerank(request):
        body = await _body(request)
        docs = body.get("documents")
        if isinstance(docs, list):
            docs = [d.get("text") if isinstance(d, dict) else d for d in docs]
        texts = _texts({"documents": docs}, "documents", state)
        top_n = body.get("top_n")
        if top_n is not None and (not isinstance(top_n, int) or top_n < 1):
            raise BadRequest(400, "top_n must be a positive integer")
        ranked = await _rank(body.get("query"), texts, top_n)
        return {"id": "rerank", "model": state.reranker.model_id, "results": [
            {"index": i, "relevance_score": 1 / (1 + math.exp(-s)),
             **({"document": {"text": texts[i]}} if body.get("return_documents") else {})} for i, s in ranked]}

    async def tokenize(request):
        body = await _body(request)
        texts = _texts(body, "inputs", state)
        if not state.ready.is_set():
            raise BadRequest(503, "the model is still loading; retry shortly", "unavailable")
        tokenizer = state.encoder.tokenizer
        out = []
        for enc in tokenizer.encode_batch(texts, add_special_tokens=bool(body.get("add_special_tokens", True))):
            out.append([{"id": i, "text": t, "special": i in _special_ids(tokenizer), "start": a, "stop": b}
                        for i, t, (a, b) in zip(enc.ids, enc.tokens, enc.offsets)])
        return out

    async def info(request):
        encoder = state.encoder
        return {"model_id": encoder.model_id, "model_sha": encoder.revision, "model_dtype": encoder.precision,
                "model_type": {"embedding": {"pooling": encoder.settings.pooling.value}},
                "max_input_length": encoder.max_length, "max_batch_tokens": state.config.max_batch_tokens,
                "max_client_batch_size": state.config.max_client_batch, "max_concurrent_requests":
                state.config.max_queue, "reranker": state.reranker.model_id if state.reranker else None,
                "version": __version__}

    for path, route, methods in (("/v1/embeddings", openai_embeddings, ["POST"]), ("/v1/models", models, ["GET"]),
                                 ("/embed", tei_embed, ["POST"]), ("/rerank", tei_rerank, ["POST"]),
                                 ("/v1/rerank", cohere_rerank, ["POST"]), ("/tokenize", tokenize, ["POST"]),
                                 ("/info", info, ["GET"])):
        app.add_api_route(path, handle(route), methods=methods)


def _special_ids(tokenizer) -> set[int]:
    return {tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>")
            if tokenizer.token_to_id(t) is not None}
