"""The LlamaIndex and LangChain adapters: stock pipelines, identical vectors, serialisation, extras."""

import asyncio
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests
from pydantic import ValidationError

from medembed_rag import InvalidInputError
from medembed_rag.integrations.langchain import MedEmbedEmbeddings
from medembed_rag.integrations.llama_index import MedEmbedEmbedding
from medembed_rag.testing import standin_model_path

from .sample_texts import PASSAGES, QUERIES

STANDIN_PARAMS = {"model": str(standin_model_path()), "precision": "fp32"}


class _OnTheStandin:
    """What LangChain's standard suites build: our class over the packaged stand-in model."""

    @property
    def embeddings_class(self):
        return MedEmbedEmbeddings

    @property
    def embedding_model_params(self):
        return STANDIN_PARAMS


class TestLangChainStandardUnit(_OnTheStandin, EmbeddingsUnitTests):
    pass


class TestLangChainStandardIntegration(_OnTheStandin, EmbeddingsIntegrationTests):
    pass


@pytest.fixture(scope="module")
def li_embed(encoder):
    return MedEmbedEmbedding(encoder=encoder)


@pytest.fixture(scope="module")
def lc_embed(encoder):
    return MedEmbedEmbeddings(encoder=encoder)


def test_both_adapters_return_the_encoders_vectors(encoder, li_embed, lc_embed):
    docs = encoder.encode_documents(PASSAGES)
    query = encoder.encode_queries([QUERIES[0][0]])[0]
    lc_docs = lc_embed.embed_documents(PASSAGES)
    assert all(type(x) is float for x in lc_docs[0])
    np.testing.assert_allclose(np.array(lc_docs), docs, atol=1e-6)
    np.testing.assert_allclose(np.array(li_embed.get_text_embedding_batch(PASSAGES)), docs, atol=1e-6)
    np.testing.assert_allclose(np.array(lc_embed.embed_query(QUERIES[0][0])), query, atol=1e-6)
    np.testing.assert_allclose(np.array(li_embed.get_query_embedding(QUERIES[0][0])), query, atol=1e-6)
    np.testing.assert_allclose(np.array(asyncio.run(lc_embed.aembed_query(QUERIES[0][0]))), query, atol=1e-6)
    np.testing.assert_allclose(np.array(asyncio.run(li_embed.aget_query_embedding(QUERIES[0][0]))), query, atol=1e-6)
    np.testing.assert_allclose(np.array(asyncio.run(li_embed.aget_text_embedding(PASSAGES[1]))), docs[1], atol=1e-6)


def test_adapters_built_from_options_agree(cache_dir):
    li = MedEmbedEmbedding(model=STANDIN_PARAMS["model"], precision="fp32")
    lc = MedEmbedEmbeddings(**STANDIN_PARAMS)
    assert li.encoder is not lc.encoder
    np.testing.assert_allclose(li.get_text_embedding(PASSAGES[0]), lc.embed_documents([PASSAGES[0]])[0], atol=1e-6)


def test_llama_index_stock_index_and_query_engine(li_embed):
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.llms.mock import MockLLM

    index = VectorStoreIndex.from_documents(
        [Document(text=t, metadata={"n": i}) for i, t in enumerate(PASSAGES)], embed_model=li_embed
    )
    retriever = index.as_retriever(similarity_top_k=2)
    for question, target in QUERIES:
        assert retriever.retrieve(question)[0].node.metadata["n"] == target
    engine = index.as_query_engine(llm=MockLLM(max_tokens=8), similarity_top_k=1)
    response = engine.query("Which inhaler prevents asthma attacks?")
    assert response.source_nodes[0].node.metadata["n"] == 5


def test_llama_index_settings_switch(li_embed):
    from llama_index.core import Document, Settings, VectorStoreIndex

    previous = Settings._embed_model
    try:
        Settings.embed_model = li_embed  # the one-line switch
        index = VectorStoreIndex.from_documents([Document(text=t) for t in PASSAGES])
        assert index.as_retriever(similarity_top_k=1).retrieve("low iron treatment")[0].node.text == PASSAGES[4]
    finally:
        Settings._embed_model = previous


def test_langchain_lcel_chain_with_in_memory_store(lc_embed):
    from langchain_core.documents import Document
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    store = InMemoryVectorStore.from_documents(
        [Document(page_content=t, metadata={"n": i}) for i, t in enumerate(PASSAGES)], embedding=lc_embed
    )
    retriever = store.as_retriever(search_kwargs={"k": 1})
    prompt = ChatPromptTemplate.from_template("Context: {context}\nQuestion: {question}")
    echo_llm = RunnableLambda(lambda value: value.to_string())  # stands in for a chat model
    chain = (
        {"context": retriever | (lambda docs: "\n".join(d.page_content for d in docs)), "question": RunnablePassthrough()}
        | prompt
        | echo_llm
    )
    for question, target in QUERIES:
        assert PASSAGES[target] in chain.invoke(question)


def test_async_adapters_do_not_block_the_loop(lc_embed, li_embed):
    texts = [PASSAGES[i % len(PASSAGES)] + f" case {i}" for i in range(192)]

    async def run(coro_factory):
        ticks = 0
        done = False

        async def ticker():
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        started = time.perf_counter()
        await coro_factory()
        elapsed = time.perf_counter() - started
        done = True
        await task
        return ticks, elapsed

    for factory in (lambda: lc_embed.aembed_documents(texts), lambda: li_embed.aget_text_embedding_batch(texts)):
        ticks, elapsed = asyncio.run(run(factory))
        assert ticks >= max(5, int(elapsed / 0.005 * 0.2)), (ticks, elapsed)


def test_misspelt_arguments_fail_loudly():
    with pytest.raises(ValidationError):
        MedEmbedEmbeddings(model=STANDIN_PARAMS["model"], precison="fp32")
    with pytest.raises(ValidationError):
        MedEmbedEmbedding(model=STANDIN_PARAMS["model"], batchsize=8)
    with pytest.raises(ValidationError):
        MedEmbedEmbeddings(model=STANDIN_PARAMS["model"], precision="fp16")


def test_shared_encoder_rejects_conflicting_options(encoder):
    with pytest.raises(InvalidInputError, match="either encoder= or"):
        MedEmbedEmbeddings(encoder=encoder, precision="int8")
    with pytest.raises(InvalidInputError, match="either encoder= or"):
        MedEmbedEmbedding(encoder=encoder, model="abhinand/MedEmbed-small-v0.1")


def test_construction_is_cheap_and_lazy(tmp_path):
    lc = MedEmbedEmbeddings(model=STANDIN_PARAMS["model"], cache_dir=str(tmp_path))
    li = MedEmbedEmbedding(model=STANDIN_PARAMS["model"], cache_dir=str(tmp_path))
    assert lc.encoder._loaded is None and li.encoder._loaded is None
    assert not any(tmp_path.iterdir())  # nothing exported yet


def test_llama_index_to_dict_round_trip(encoder, li_embed):
    data = li_embed.to_dict()
    assert data["class_name"] == "MedEmbedEmbedding" and data["model_name"] == encoder.model_id
    assert data["precision"] == "fp32"
    clone = MedEmbedEmbedding.from_dict(data)
    assert clone.encoder.fingerprint == encoder.fingerprint
    np.testing.assert_allclose(clone.get_text_embedding(PASSAGES[2]), li_embed.get_text_embedding(PASSAGES[2]), atol=1e-6)


def test_langchain_pickle_and_dump_leave_the_model_behind(lc_embed, encoder):
    lc_embed.embed_query("warm up")  # loaded
    blob = pickle.dumps(lc_embed)
    assert len(blob) < 20_000, len(blob)
    clone = pickle.loads(blob)
    assert clone.encoder._loaded is None
    np.testing.assert_allclose(clone.embed_query("asthma"), lc_embed.embed_query("asthma"), atol=1e-6)
    dumped = lc_embed.model_dump()
    assert dumped["model_name"] == encoder.model_id and "_encoder" not in dumped


def test_import_without_frameworks_and_missing_extra_errors():
    code = textwrap.dedent(
        """
        import sys
        for name in ("llama_index", "llama_index.core", "langchain_core", "langchain_core.embeddings"):
            sys.modules[name] = None  # as if not installed
        import medembed_rag
        assert not [m for m in sys.modules if m.startswith(("llama_index", "langchain")) and sys.modules[m]]
        from medembed_rag import MissingDependencyError
        for module, extra in (("llama_index", "llama-index"), ("langchain", "langchain")):
            try:
                __import__(f"medembed_rag.integrations.{module}")
            except MissingDependencyError as exc:
                assert f"pip install 'medembed-rag[{extra}]'" in str(exc), exc
                assert isinstance(exc, ImportError)
            else:
                raise AssertionError(module + " imported without its framework")
        print("OK")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "OK", out.stderr[-2000:]
