"""The OpenVINO cross-encoder reranker: parity with transformers, edge cases, both framework faces."""

import warnings

import numpy as np
import pytest

from medembed_rag import InvalidInputError, InvalidInputTypeError, TruncationWarning
from medembed_rag.models.reranker import MedEmbedReranker, RankResult, list_supported_rerankers

from .sample_texts import PASSAGES, QUERIES


@pytest.fixture(scope="session")
def cross_encoder_path(tmp_path_factory):
    from medembed_rag.testing import build_cross_encoder

    return build_cross_encoder(tmp_path_factory.mktemp("cross-encoder"))


@pytest.fixture(scope="session")
def reranker(cross_encoder_path, cache_dir):
    return MedEmbedReranker(cross_encoder_path, precision="fp32", cache_dir=cache_dir, batch_size=4)


def _torch_scores(path, query, passages):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
    batch = tok([query] * len(passages), passages, padding=True, truncation="only_second", max_length=512,
                return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits[:, 0].numpy()


def test_registry_default_is_medical_and_pinned():
    specs = list_supported_rerankers()
    assert specs[0].model_id == "ncbi/MedCPT-Cross-Encoder" and len(specs[0].revision) == 40


def test_fp32_matches_transformers_and_ordering(reranker, cross_encoder_path, cache_dir):
    query = QUERIES[1][0]
    passages = PASSAGES + ["Pneumonia " * 30]
    ours = reranker.predict(query, passages)
    ref = _torch_scores(cross_encoder_path, query, passages)
    assert np.abs(ours - ref).max() < 1e-3
    assert [r.index for r in reranker.rank(query, passages)] == list(np.argsort(-ref, kind="stable"))
    # auto and int8 are reported; the seeded random head makes scores close together, so only sanity bounds here
    for precision, bound in (("auto", 0.99), ("int8", 0.9)):
        other = MedEmbedReranker(cross_encoder_path, precision=precision, cache_dir=cache_dir).predict(query, passages)
        corr = np.corrcoef(other, ref)[0, 1]
        print(f"{precision}: max |score - torch fp32| = {np.abs(other - ref).max():.4f}, correlation {corr:.4f}")
        assert corr > bound


def test_rank_shape_and_top_k(reranker):
    ranked = reranker.rank(QUERIES[0][0], PASSAGES, top_k=3)
    assert len(ranked) == 3 and all(isinstance(r, RankResult) for r in ranked)
    assert ranked[0].score >= ranked[1].score >= ranked[2].score
    assert len(reranker.rank(QUERIES[0][0], PASSAGES, top_k=100)) == len(PASSAGES)


def test_edge_cases(reranker):
    assert reranker.rank("query", []) == []
    assert [r.index for r in reranker.rank("query", ["only one"])] == [0]
    same = reranker.rank("asthma", ["identical passage"] * 4)
    assert [r.index for r in same] == [0, 1, 2, 3]  # stable order for ties
    with pytest.raises(InvalidInputTypeError):
        reranker.rank("query", ["ok", None])
    with pytest.raises(InvalidInputTypeError):
        reranker.rank(None, ["ok"])
    with pytest.raises(InvalidInputTypeError):
        reranker.rank("query", "not a list")
    with pytest.raises(InvalidInputError):
        reranker.rank("query", ["ok"], top_k=0)


def test_long_passage_is_cut_on_the_passage_side_and_reported_once(reranker):
    long_passage = "The anticoagulant dose was adjusted. " * 1500  # about 10,000 tokens
    query = "warfarin dose adjustment " * 20
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ranked = reranker.rank(query, [long_passage, PASSAGES[2], long_passage])
    messages = [str(w.message) for w in caught if issubclass(w.category, TruncationWarning)]
    assert len(messages) == 1 and messages[0].startswith("2 of 3 passages were cut")
    assert len(ranked) == 3
    # the query is kept whole: the score of a long pair equals that of the passage cut by hand
    _, tokenizer, _, _, limit = reranker.load()
    enc = tokenizer.encode(query, long_passage)
    assert enc.ids[: len(tokenizer.encode(query).ids)] == tokenizer.encode(query).ids[:]


def test_llama_index_postprocessor_in_a_query_engine(reranker, encoder):
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.llms.mock import MockLLM

    from medembed_rag.integrations.llama_index import MedEmbedEmbedding, MedEmbedRerank

    index = VectorStoreIndex.from_documents(
        [Document(text=t, metadata={"n": i}) for i, t in enumerate(PASSAGES)], embed_model=MedEmbedEmbedding(encoder=encoder)
    )
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler

    seen = []

    class Collect(BaseEventHandler):
        def handle(self, event, **kwargs):
            seen.append(type(event).__name__)

    handler = Collect()
    root = get_dispatcher()
    root.add_event_handler(handler)
    post = MedEmbedRerank(reranker, top_n=2)
    engine = index.as_query_engine(llm=MockLLM(max_tokens=4), similarity_top_k=6, node_postprocessors=[post])
    try:
        response = engine.query(QUERIES[3][0])
    finally:
        root.event_handlers.remove(handler)
    assert "ReRankStartEvent" in seen and "ReRankEndEvent" in seen
    assert len(response.source_nodes) == 2
    expected = reranker.rank(QUERIES[3][0], [n.node.get_content(metadata_mode="embed") for n in
                                             index.as_retriever(similarity_top_k=6).retrieve(QUERIES[3][0])], top_k=2)
    assert [round(n.score, 4) for n in response.source_nodes] == [round(r.score, 4) for r in expected]
    for node in response.source_nodes:
        assert "retrieval_score" in node.node.metadata and "n" in node.node.metadata


def test_langchain_compressor_in_contextual_compression_retriever(reranker, encoder):
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore

    from medembed_rag.integrations.langchain import MedEmbedEmbeddings, MedEmbedRerank

    try:
        from langchain_classic.retrievers import ContextualCompressionRetriever
    except ImportError:
        from langchain.retrievers import ContextualCompressionRetriever  # type: ignore[no-redef]

    docs = [Document(page_content=t, metadata={"n": i, "source": f"s{i}"}) for i, t in enumerate(PASSAGES)]
    store = InMemoryVectorStore.from_documents(docs, embedding=MedEmbedEmbeddings(encoder=encoder))
    retriever = ContextualCompressionRetriever(
        base_compressor=MedEmbedRerank(reranker, top_n=3), base_retriever=store.as_retriever(search_kwargs={"k": 6})
    )
    got = retriever.invoke(QUERIES[4][0])
    assert len(got) == 3
    for d in got:
        assert d.metadata["source"] == f"s{d.metadata['n']}" and "rerank_score" in d.metadata
    assert got[0].metadata["rerank_score"] >= got[1].metadata["rerank_score"]
    assert all("rerank_score" not in d.metadata for d in docs)  # inputs untouched


@pytest.mark.slow
def test_auto_is_decided_by_measurement_as_for_the_encoder(cross_encoder_path, cache_dir):
    from medembed_rag.models.precision import resolve_float_precision

    reranker = MedEmbedReranker(cross_encoder_path, precision="auto", cache_dir=cache_dir)
    compiled = reranker.load()[0]

    def never_called():
        raise AssertionError("measured again")

    decision = resolve_float_precision(reranker.cache_folder, measure=never_called)  # cached by load()
    assert compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == decision.precision.replace("fp32", "f32")
    assert len(list(reranker.cache_folder.parent.glob(reranker.cache_folder.name + ".auto-*.json"))) == 1
