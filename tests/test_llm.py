"""The answer-model plumbing: OpenAI-compatible endpoint, fallback when no model loads, citations prompt."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from medembed_rag import ModelLoadError
from medembed_rag.models import llm as llm_module
from medembed_rag.models.llm import OpenAICompatibleLLM, answer_with_citations, default_llm


@pytest.fixture
def fake_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers.get("Authorization"), body))
            reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": " Warfarin needs INR tests [1]. "}}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    server.shutdown()


def test_openai_compatible_endpoint_from_the_environment(fake_server, monkeypatch):
    url, received = fake_server
    monkeypatch.setenv("MEDEMBED_RAG_LLM_URL", url)
    monkeypatch.setenv("MEDEMBED_RAG_LLM_MODEL", "llama3")
    monkeypatch.setenv("MEDEMBED_RAG_LLM_API_KEY", "secret")
    llm = default_llm()
    assert isinstance(llm, OpenAICompatibleLLM)
    reply = answer_with_citations(llm, "Why INR?", ["Warfarin needs INR tests.", "Metformin with meals."])
    assert reply == "Warfarin needs INR tests [1]."
    path, auth, body = received[0]
    assert path == "/v1/chat/completions" and auth == "Bearer secret" and body["model"] == "llama3"
    assert "[1] Warfarin needs INR tests." in body["messages"][0]["content"] and body["messages"][-1]["content"] == "Why INR?"


def test_dead_endpoint_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="127.0.0.1:9"):
        OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m", timeout=5).chat([{"role": "user", "content": "hi"}])


def test_no_local_model_means_retrieval_only(monkeypatch):
    monkeypatch.delenv("MEDEMBED_RAG_LLM_URL", raising=False)
    monkeypatch.setattr(llm_module.importlib.util, "find_spec", lambda name: None)
    assert default_llm() is None
