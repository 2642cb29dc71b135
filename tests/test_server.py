"""``medembed-rag serve``: the real server in a subprocess on a free loopback port, called by the stock clients.

Load tests stay on 127.0.0.1, are bounded in count and time, and stop by themselves.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from .chroma_server import free_port
from .sample_texts import PASSAGES, QUERIES

KEY = "test-key-4f9c"
MARKER = "zebrafinchmarker"  # sent in requests; must appear in nothing the server logs
LONG = " ".join(["warfarin"] * 600)  # over the stand-in's 512 tokens


class Server:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"server-{self.port}.log"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
        env.pop("MEDEMBED_RAG_API_KEY", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medembed_rag.app.cli", "serve", "--port", str(self.port), *args],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited:\n" + self.log.read_text()[-3000:])
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not become ready:\n" + self.log.read_text()[-3000:])

    def post(self, path: str, json=None, key: str | None = KEY, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.post(self.url + path, json=json, headers=headers, timeout=120, **kwargs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory):
    from medembed_rag.testing import build_cross_encoder

    return build_cross_encoder(tmp_path_factory.mktemp("server-cross-encoder"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin_path, cross_encoder):
    srv = Server(tmp_path_factory.mktemp("server"), "--model", str(standin_path), "--precision", "fp32",
                 "--reranker", str(cross_encoder), "--api-key", KEY)
    yield srv
    srv.stop()


def _cos(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_stock_clients_get_the_encoders_vectors(server, encoder):
    from chromadb.utils.embedding_functions import HuggingFaceEmbeddingServer
    from langchain_openai import OpenAIEmbeddings
    from llama_index.embeddings.text_embeddings_inference import TextEmbeddingsInference
    from openai import OpenAI

    docs = encoder.encode_documents(PASSAGES)
    sdk = OpenAI(base_url=server.url + "/v1", api_key=KEY)  # asks for base64 by default
    got = [d.embedding for d in sdk.embeddings.create(input=PASSAGES, model="medembed").data]
    assert _cos(got, docs).min() >= 0.9999
    lc = OpenAIEmbeddings(base_url=server.url + "/v1", api_key=KEY, model="medembed", check_embedding_ctx_length=False)
    assert _cos(lc.embed_documents(PASSAGES), docs).min() >= 0.9999
    li = TextEmbeddingsInference(base_url=server.url, model_name="medembed", auth_token=KEY)
    assert _cos(li.get_text_embedding_batch(PASSAGES), docs).min() >= 0.9999
    chroma = HuggingFaceEmbeddingServer(url=server.url + "/embed", api_key=KEY)
    assert _cos(np.array(chroma(PASSAGES)), docs).min() >= 0.9999
    # the query path, for a client that can say which it sends
    query = server.post("/embed", {"inputs": QUERIES[0][0], "input_type": "query"}).json()
    assert _cos(query, encoder.encode_queries([QUERIES[0][0]])).min() >= 0.9999
    usage = server.post("/v1/embeddings", {"input": PASSAGES[:2], "model": "m"}).json()["usage"]
    assert usage["prompt_tokens"] == sum(encoder.count_tokens(PASSAGES[:2])) == usage["total_tokens"]


def test_sixteen_concurrent_clients_each_get_their_own_row(server, encoder):
    texts = [f"{PASSAGES[i % len(PASSAGES)]} Case {i}." for i in range(48)]
    expected = encoder.encode_documents(texts)

    def one(i):
        return i, server.post("/embed", {"inputs": [texts[i]]}).json()[0]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(len(texts))))
    for i, vector in results:
        assert _cos([vector], expected[i : i + 1]).min() >= 0.9999, i  # no row mixed up by batching
    batches = [line for line in httpx.get(server.url + "/metrics").text.splitlines()
               if line.startswith("medembed_batch_texts_count")]
    assert batches and float(batches[0].split()[-1]) < 48 + 10  # requests were batched together


def test_keys_guard_everything_but_health_and_metrics(server):
    assert server.post("/embed", {"inputs": ["x"]}, key=None).status_code == 401
    wrong = server.post("/v1/embeddings", {"input": "x"}, key="wrong")
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]["message"]
    assert httpx.get(server.url + "/v1/models").status_code == 401
    assert httpx.get(server.url + "/health").status_code == 200
    metrics = httpx.get(server.url + "/metrics")
    assert metrics.status_code == 200 and "medembed_requests_total" in metrics.text


def test_over_long_input_is_refused_or_cut_and_said(server):
    refused = server.post("/embed", {"inputs": ["short", LONG]})
    assert refused.status_code == 413 and "input 1" in refused.json()["error"]["message"]
    assert server.post("/v1/embeddings", {"input": [LONG]}).status_code == 413
    cut = server.post("/embed", {"inputs": ["short", LONG], "truncate": True})
    assert cut.status_code == 200 and cut.headers["X-Truncated-Inputs"] == "1" and len(cut.json()) == 2


@pytest.mark.parametrize("body, status, says", [
    ({"input": ""}, 400, "empty"),
    ({"input": ["ok", "  "]}, 400, "item 1"),
    ({"input": [101, 2023, 102]}, 400, "check_embedding_ctx_length=False"),
    ({"input": [[101, 2023]]}, 400, "token ids"),
    ({"input": [None]}, 400, "NoneType"),
    ({"input": "x", "dimensions": 64}, 400, "dimensions"),
    ({"input": "x", "encoding_format": "int8"}, 400, "encoding_format"),
    ({"input": "x", "input_type": "passageway"}, 400, "input_type"),
    ({}, 400, "missing"),
])
def test_bad_requests_get_a_clear_4xx_and_the_server_stays_healthy(server, body, status, says):
    response = server.post("/v1/embeddings", body)
    assert response.status_code == status and says in response.json()["error"]["message"], response.text
    assert httpx.get(server.url + "/health").status_code == 200


def test_malformed_json_and_wrong_shapes(server):
    raw = httpx.post(server.url + "/embed", content=b"{not json", headers={"Authorization": f"Bearer {KEY}",
                                                                            "Content-Type": "application/json"})
    assert raw.status_code == 400 and "not valid JSON" in raw.json()["error"]["message"]
    assert server.post("/embed", ["a", "b"]).status_code == 400
    big = server.post("/embed", {"inputs": ["x"] * 600})
    assert big.status_code == 413
    assert httpx.get(server.url + "/health").status_code == 200


def test_rerank_in_both_shapes_matches_the_reranker(server, cross_encoder):
    from medembed_rag import MedEmbedReranker

    query, docs = QUERIES[2][0], PASSAGES[:5]
    expected = MedEmbedReranker(str(cross_encoder), precision="fp32").rank(query, docs)
    tei = server.post("/rerank", {"query": query, "texts": docs, "raw_scores": True, "return_text": True}).json()
    assert [r["index"] for r in tei] == [i for i, _ in expected]
    np.testing.assert_allclose([r["score"] for r in tei], [s for _, s in expected], atol=1e-4)
    assert tei[0]["text"] == docs[expected[0][0]]
    cohere = server.post("/v1/rerank", {"query": query, "documents": docs, "top_n": 2}).json()
    assert [r["index"] for r in cohere["results"]] == [i for i, _ in expected[:2]]
    assert all(0 < r["relevance_score"] < 1 for r in cohere["results"])


def test_tokenize_info_and_models(server, encoder):
    tokens = server.post("/tokenize", {"inputs": "warfarin dose"}).json()[0]
    assert [t["id"] for t in tokens] == encoder.tokenizer.encode("warfarin dose").ids and tokens[0]["special"]
    info = httpx.get(server.url + "/info", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert info["max_input_length"] == encoder.max_length and info["model_id"] == encoder.model_id
    models = httpx.get(server.url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert models["data"][0]["id"] == encoder.model_id


def test_nothing_a_request_said_is_logged(server):
    server.post("/embed", {"inputs": [f"{MARKER} takes warfarin"]})
    server.post("/v1/embeddings", {"input": [f"{MARKER} " + LONG]})  # refused: the error names no text
    server.post("/v1/embeddings", {"input": [f"{MARKER}", ""]})
    server.post("/rerank", {"query": MARKER, "texts": [MARKER]})
    time.sleep(0.5)
    assert MARKER not in server.log.read_text()
    assert MARKER not in httpx.get(server.url + "/metrics").text


def test_a_full_queue_answers_429_with_retry_after(tmp_path, standin_path):
    srv = Server(tmp_path, "--model", str(standin_path), "--precision", "fp32", "--max-queue", "64",
                 "--max-client-batch", "64", "--truncate")
    try:
        heavy = [LONG] * 64  # about a second of work on two cores: the next request must wait in the queue

        def post(texts):
            return srv.post("/embed", {"inputs": texts}, key=None)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(post, heavy)
            time.sleep(0.2)
            second = pool.submit(post, heavy)  # waits: 64 texts queued
            time.sleep(0.2)
            third = post(["one more"])
            assert first.result().status_code == 200 and second.result().status_code == 200
        assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
        assert post(["now there is room"]).status_code == 200
    finally:
        srv.stop()


def test_sigterm_finishes_the_request_in_flight(tmp_path, standin_path):
    srv = Server(tmp_path, "--model", str(standin_path), "--precision", "fp32", "--max-client-batch", "64",
                 "--truncate")
    result = {}

    def in_flight():
        result["response"] = srv.post("/embed", {"inputs": [LONG] * 64}, key=None)

    worker = threading.Thread(target=in_flight)
    worker.start()
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    try:  # a new request while the old one drains: refused (503, or the listener is already closed)
        late = srv.post("/embed", {"inputs": ["late"]}, key=None)
        assert late.status_code == 503, late.text
    except httpx.HTTPError:
        pass
    worker.join(timeout=120)
    assert result["response"].status_code == 200 and len(result["response"].json()) == 64
    # uvicorn re-raises SIGTERM once its graceful shutdown is done, so a supervisor sees what stopped it
    assert srv.proc.wait(timeout=60) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.HTTPError):
        httpx.get(srv.url + "/health", timeout=2)
