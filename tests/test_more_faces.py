"""Where else RAG teams plug embeddings in: Chroma's own embedding functions, Haystack components, DSPy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest

from medembed_rag import InvalidInputError, InvalidInputTypeError, ModelMismatchError

from .chroma_server import ChromaServer
from .sample_texts import PASSAGES, QUERIES

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# ---------------------------------------------------------------------- Chroma
@pytest.fixture(scope="module")
def chroma_ef(encoder):
    from medembed_rag.integrations.chroma import MedEmbedEmbeddingFunction

    return MedEmbedEmbeddingFunction(encoder=encoder)


def test_chroma_function_gives_the_encoders_vectors_on_both_paths(chroma_ef, encoder):
    np.testing.assert_allclose(np.array(chroma_ef(PASSAGES[:3])), encoder.encode_documents(PASSAGES[:3]), atol=1e-6)
    np.testing.assert_allclose(np.array(chroma_ef.embed_query([QUERIES[0][0]])),
                               encoder.encode_queries([QUERIES[0][0]]), atol=1e-6)
    assert chroma_ef.name() == "medembed" and not chroma_ef.is_legacy() and chroma_ef.default_space() == "cosine"
    with pytest.raises(InvalidInputError, match="index 1"):
        chroma_ef(["fine", "  "])
    with pytest.raises(InvalidInputTypeError):
        chroma_ef([None])
    from medembed_rag.integrations.chroma import MedEmbedEmbeddingFunction
    from medembed_rag.integrations.dspy import MedEmbedDSPyEmbedder

    for face in (MedEmbedEmbeddingFunction, MedEmbedDSPyEmbedder):  # a shared encoder keeps its own settings
        with pytest.raises(InvalidInputError, match="either encoder= or"):
            face(encoder=encoder, precision="int8")
        with pytest.raises(InvalidInputError, match="must be a MedEmbedEncoder"):
            face(encoder="not an encoder")


def test_importing_the_package_loads_no_chroma_haystack_or_dspy():
    code = ("import sys, medembed_rag\n"
            "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
            "('chromadb', 'haystack', 'dspy', 'litellm', 'sentence_transformers', 'onnxruntime', 'torch')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr[-2000:]


@pytest.mark.parametrize("first", ["import medembed_rag", "import chromadb; import medembed_rag",
                                   "import medembed_rag.integrations.chroma",
                                   "from medembed_rag import MedEmbedEmbeddingFunction"])
def test_the_function_is_registered_whatever_is_imported_first(first):
    code = (f"import warnings; warnings.simplefilter('error')\n{first}\n"
            "import chromadb.utils.embedding_functions as registry\n"
            "print(registry.known_embedding_functions['medembed'].__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.stdout.strip() == "MedEmbedEmbeddingFunction", out.stderr[-2000:]
    assert "could not register" not in out.stderr


_REOPEN = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter("error")  # "No embedding function configuration found" must not appear
    import medembed_rag  # registers MedEmbedEmbeddingFunction with Chroma: the one import a reopening needs
    import chromadb
    kind, where, name = sys.argv[1:4]
    if kind == "http":
        host, port = where.split(":")
        client = chromadb.HttpClient(host=host, port=int(port), settings=chromadb.Settings(anonymized_telemetry=False))
    else:
        client = chromadb.PersistentClient(path=where, settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.get_collection(name)  # no embedding function passed: Chroma rebuilds the recorded one
    collection.add(ids=["added"], documents=[sys.argv[4]])
    got = collection.get(ids=["added"], include=["embeddings"])
    hits = collection.query(query_texts=[sys.argv[5]], n_results=1)
    print(json.dumps({"function": type(collection.configuration["embedding_function"]).__name__,
                      "config": collection.configuration_json["embedding_function"],
                      "vector": [float(x) for x in got["embeddings"][0]], "top": hits["ids"][0][0]}))
""")


def _reopen_in_a_new_process(kind: str, where: str, name: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _REOPEN, kind, where, name, PASSAGES[5], QUERIES[0][0]],
                         capture_output=True, text=True, env=ENV, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _write_and_reopen(client, kind: str, where: str, chroma_ef, encoder, other_model: str):
    from medembed_rag.integrations.chroma import MedEmbedEmbeddingFunction

    name = f"notes-{uuid.uuid4().hex[:8]}"
    collection = client.get_or_create_collection(name, embedding_function=chroma_ef)
    collection.add(ids=[f"p{i}" for i in range(5)], documents=PASSAGES[:5])
    stored = collection.get(ids=["p0"], include=["embeddings"])["embeddings"]
    assert _cosines(stored, encoder.encode_documents(PASSAGES[:1])).min() >= 0.9999

    reopened = _reopen_in_a_new_process(kind, where, name)
    assert reopened["function"] == "MedEmbedEmbeddingFunction"
    assert reopened["config"]["name"] == "medembed"
    assert reopened["config"]["config"]["fingerprint"]["model_id"] == encoder.model_id
    assert _cosines([reopened["vector"]], encoder.encode_documents([PASSAGES[5]])).min() >= 0.9999
    assert reopened["top"] == f"p{QUERIES[0][1]}"  # the right passage first, through the query path

    # another model is refused loudly, before anything is written: by us for a MedEmbed function ...
    other = client.get_collection(name, embedding_function=MedEmbedEmbeddingFunction(model=other_model,
                                                                                       precision="fp32"))
    with pytest.raises(ModelMismatchError, match="different models"):
        other.add(ids=["mixed"], documents=["Take paracetamol for pain."])
    with pytest.raises(ModelMismatchError):
        other.query(query_texts=["pain"], n_results=1)
    assert collection.get(ids=["mixed"])["ids"] == []
    # ... and by Chroma's own conflict check for any other function
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    class Other(DefaultEmbeddingFunction):
        @staticmethod
        def name() -> str:
            return "someone-elses"

    with pytest.raises(ValueError, match="conflict"):
        client.get_collection(name, embedding_function=Other())


def test_chroma_collection_reopens_in_a_new_process_with_the_same_function(tmp_path, chroma_ef, encoder,
                                                                           medembed_shaped_path):
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "db"), settings=chromadb.Settings(anonymized_telemetry=False))
    _write_and_reopen(client, "path", str(tmp_path / "db"), chroma_ef, encoder, str(medembed_shaped_path))


def test_chroma_http_server_reopens_with_the_same_function(tmp_path, chroma_ef, encoder, medembed_shaped_path):
    import chromadb

    server = ChromaServer(tmp_path / "server").start()
    try:
        client = chromadb.HttpClient(host="127.0.0.1", port=server.port,
                                     settings=chromadb.Settings(anonymized_telemetry=False))
        _write_and_reopen(client, "http", f"127.0.0.1:{server.port}", chroma_ef, encoder, str(medembed_shaped_path))
    finally:
        server.stop()


def test_chroma_config_round_trips_and_refuses_a_model_change(chroma_ef):
    from medembed_rag.integrations.chroma import MedEmbedEmbeddingFunction

    config = chroma_ef.get_config()
    rebuilt = MedEmbedEmbeddingFunction.build_from_config(config)
    assert rebuilt.encoder.fingerprint == chroma_ef.encoder.fingerprint
    with pytest.raises(ValueError, match="model"):
        MedEmbedEmbeddingFunction.validate_config({"precision": "fp32"})
    changed = {**config, "fingerprint": {**config["fingerprint"], "model_id": "another"}}
    with pytest.raises(ValueError, match="re-index"):
        chroma_ef.validate_config_update(config, changed)


# ---------------------------------------------------------------------- Haystack
@pytest.fixture(scope="module")
def cross_encoder_path(tmp_path_factory):
    from medembed_rag.testing import build_cross_encoder

    return build_cross_encoder(tmp_path_factory.mktemp("cross-encoder"))


def _haystack_pipeline(standin_path, cross_encoder_path, index: str):
    from haystack import Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from medembed_rag.integrations.haystack import MedEmbedRanker, MedEmbedTextEmbedder

    store = InMemoryDocumentStore(index=index, embedding_similarity_function="cosine")
    pipe = Pipeline()
    pipe.add_component("embedder", MedEmbedTextEmbedder(model=str(standin_path), precision="fp32"))
    pipe.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=4))
    pipe.add_component("ranker", MedEmbedRanker(model=str(cross_encoder_path), precision="fp32", top_k=3))
    pipe.connect("embedder.embedding", "retriever.query_embedding")
    pipe.connect("retriever.documents", "ranker.documents")
    return pipe, store


def test_haystack_pipeline_retrieves_reranks_and_survives_yaml(standin_path, cross_encoder_path, encoder):
    from haystack import Document, Pipeline

    from medembed_rag.integrations.haystack import MedEmbedDocumentEmbedder
    from medembed_rag.models.reranker import MedEmbedReranker

    index = f"medembed-{uuid.uuid4().hex[:8]}"
    pipe, store = _haystack_pipeline(standin_path, cross_encoder_path, index)
    docs = [Document(id=f"p{i}", content=text, meta={"source": f"leaflet-{i}"}) for i, text in enumerate(PASSAGES)]
    indexer = MedEmbedDocumentEmbedder(model=str(standin_path), precision="fp32")
    indexer.warm_up()
    embedded = indexer.run(docs)["documents"]
    np.testing.assert_allclose(np.array([d.embedding for d in embedded]), encoder.encode_documents(PASSAGES), atol=1e-6)
    assert docs[0].embedding is None  # inputs are not modified
    store.write_documents(embedded)

    def ask(pipeline, question):
        out = pipeline.run({"embedder": {"text": question}, "ranker": {"query": question}},
                           include_outputs_from={"retriever"})
        return out["retriever"]["documents"], out["ranker"]["documents"]

    for question, right in QUERIES:
        retrieved, reranked = ask(pipe, question)
        assert retrieved[0].id == f"p{right}", question  # the right document first on the stand-in model
        expected = MedEmbedReranker(str(cross_encoder_path), precision="fp32").rank(
            question, [d.content for d in retrieved], top_k=3)
        assert [d.id for d in reranked] == [retrieved[i].id for i, _ in expected]
        np.testing.assert_allclose([d.score for d in reranked], [s for _, s in expected], atol=1e-5)

    loaded = Pipeline.loads(pipe.dumps())  # YAML; the in-memory store is shared by its index name
    for question, _ in QUERIES:
        a, b = ask(pipe, question), ask(loaded, question)
        assert [d.id for d in a[1]] == [d.id for d in b[1]]
        np.testing.assert_allclose([d.score for d in a[1]], [d.score for d in b[1]], atol=1e-6)


def test_haystack_components_match_the_encoder_and_refuse_bad_input(standin_path, encoder):
    from haystack import Document

    from medembed_rag.integrations.haystack import MedEmbedDocumentEmbedder, MedEmbedTextEmbedder

    text = MedEmbedTextEmbedder(model=str(standin_path), precision="fp32")
    np.testing.assert_allclose(text.run(QUERIES[0][0])["embedding"], encoder.encode_queries([QUERIES[0][0]])[0],
                               atol=1e-6)
    with_meta = MedEmbedDocumentEmbedder(model=str(standin_path), precision="fp32", meta_fields_to_embed=["title"])
    vector = with_meta.run([Document(content="Take it with food.", meta={"title": "Metformin"})])["documents"][0]
    np.testing.assert_allclose(vector.embedding, encoder.encode_documents(["Metformin\nTake it with food."])[0],
                               atol=1e-6)
    clone = MedEmbedDocumentEmbedder.from_dict(with_meta.to_dict())
    assert clone.meta_fields_to_embed == ["title"] and clone.encoder.options == with_meta.encoder.options
    with pytest.raises(InvalidInputError):
        text.run("   ")
    with pytest.raises(InvalidInputTypeError):
        text.run(None)
    with pytest.raises(InvalidInputError):
        with_meta.run([Document(content="")])
    with pytest.raises(InvalidInputError, match="precision"):
        MedEmbedTextEmbedder(model=str(standin_path), precision="fp16")


def test_haystack_splitter_cuts_token_exactly_and_keeps_offsets(standin_path, encoder):
    from haystack import Document

    from medembed_rag.integrations.haystack import MedicalDocumentSplitter

    text = "MEDICATIONS:\n" + " ".join(PASSAGES * 12) + "\n\nFOLLOW-UP:\nSee your GP in two weeks."
    splitter = MedicalDocumentSplitter(model=str(standin_path), precision="fp32", chunk_tokens=96)
    chunks = splitter.run([Document(id="note-1", content=text, meta={"ward": "B"})])["documents"]
    assert len(chunks) > 3 and all(c.meta["source_id"] == "note-1" and c.meta["ward"] == "B" for c in chunks)
    assert [c.meta["split_id"] for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        start = c.meta["split_idx_start"]
        assert text[start : start + len(c.content)] == c.content  # exact original text at its offset
        assert encoder.count_tokens(c.content)[0] <= 98
    assert any(c.meta.get("section_heading") for c in chunks) and chunks[-1].meta["section"] == "FOLLOW-UP"
    clone = MedicalDocumentSplitter.from_dict(splitter.to_dict())
    assert [c.content for c in clone.run([Document(id="note-1", content=text)])["documents"]] == [
        c.content for c in chunks]


# ---------------------------------------------------------------------- DSPy
def test_dspy_retriever_finds_the_right_passage_with_query_and_document_paths_apart(standin_path, cache_dir):
    import dspy

    from medembed_rag import MedEmbedEncoder
    from medembed_rag.integrations.dspy import MedEmbedDSPyEmbedder, embeddings_retriever

    # prompts make the two paths differ, so the test sees which one each side went through
    encoder = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir, query_prefix="question: ",
                              document_prefix="passage: ")
    embedder = MedEmbedDSPyEmbedder(encoder)
    retriever = embeddings_retriever(PASSAGES, embedder, k=2)
    np.testing.assert_allclose(retriever.corpus_embeddings, encoder.encode_documents(PASSAGES), atol=1e-5)
    np.testing.assert_allclose(retriever.embedder([QUERIES[0][0]]), encoder.encode_queries([QUERIES[0][0]]),
                               atol=1e-6)
    for question, right in QUERIES:
        assert retriever(question).passages[0] == PASSAGES[right], question
    stock = dspy.Embedder(embedder, batch_size=2)
    np.testing.assert_allclose(stock(PASSAGES[:3]), encoder.encode_documents(PASSAGES[:3]), atol=1e-6)
    with pytest.raises(InvalidInputError):
        embedder(["fine", ""])
    with pytest.raises(InvalidInputTypeError):
        embedder([None])
