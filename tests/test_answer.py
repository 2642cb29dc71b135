"""Verified answers on the packaged sample documents: the issue's targets, with and without the local LLM.

The question set (tests/answer_set.py) was written for this project; 26 questions have a specific number or
interval in a document, 12 are near the documents' topics but unanswered by them.
"""

import json
import re
import subprocess
import sys

import pytest

from tests.answer_set import ANSWERABLE, UNANSWERABLE
from medembed_rag.answers.answerer import Passage, VerifiedAnswerer
from medembed_rag.app.demo import SAMPLES
from medembed_rag.errors import InvalidInputError
from medembed_rag.answers.verify import extract_facts
from medembed_rag.integrations.langchain import MedEmbedLangChainVectorStore
from medembed_rag.integrations.llama_index import vector_store_index


def markdown_store(folder, encoder, where):
    """A store of every markdown document in ``folder`` (ids: file stems; metadata: the file name)."""
    from medembed_rag.index.store import MedEmbedChromaStore

    paths = sorted(folder.glob("*.md"))
    store = MedEmbedChromaStore(where, encoder=encoder)
    store.add_documents([p.read_text(encoding="utf-8") for p in paths], ids=[p.stem for p in paths],
                        metadatas=[{"source": p.name} for p in paths])
    return store


@pytest.fixture(scope="module")
def sample_store(encoder, tmp_path_factory):
    store = markdown_store(SAMPLES, encoder, tmp_path_factory.mktemp("answers"))
    yield store
    store.close()


def _assert_every_fact_is_cited(result):
    """Every number (with unit), frequency and drug name of an answer appears in the text it cites."""
    if not result.answered:
        return
    cited = extract_facts(" ".join(c.text for c in result.citations))
    for sentence in re.split(r"(?<=\])\s+", result.answer):
        facts = extract_facts(sentence)
        assert facts.numbers <= cited.numbers, (sentence, cited.numbers)
        assert {q for q in facts.quantities if q[1]} <= cited.quantities, sentence
        assert facts.frequencies <= cited.frequencies, sentence
        assert facts.drugs <= cited.drugs, sentence


def score_set(answerer, answerable, unanswerable):
    """(share answered with a right document cited and a key fact in the answer, share abstained, misses);
    every fact of every answer is checked against what it cites, and every abstention lists the closest
    passages."""
    good, misses = 0, []
    for question, docs, keys in answerable:
        result = answerer.ask(question)
        _assert_every_fact_is_cited(result)
        ok = (result.answered and any(c.doc_id in docs for c in result.citations)
              and any(k.lower() in result.answer.lower() for k in keys))
        good += ok
        if not ok:
            misses.append((question, result.mode, result.why))
    abstained = 0
    for question in unanswerable:
        result = answerer.ask(question)
        _assert_every_fact_is_cited(result)
        abstained += not result.answered
        if result.answered:
            misses.append((question, "answered an unanswerable question", result.answer[:80]))
        else:
            assert result.answer.startswith("The documents do not answer this question")
            assert result.citations, "the closest passages are listed for the reader"
    return good / len(answerable), abstained / len(unanswerable), misses


def _run_set(answerer):
    return score_set(answerer, ANSWERABLE, UNANSWERABLE)


# The shipped score (answers/decision.py) answers 23 of 26 here and abstains on all 12 (it was fitted on these
# questions among others, cross-validated by document); the thresholds it replaced, fitted on these questions
# alone, answered 25. See the README for why the held-out set, not this one, is the figure to trust.
OWN_FLOOR = (0.88, 1.0)


def test_extractive_answers_meet_the_targets(sample_store):
    answered, abstained, wrong = _run_set(VerifiedAnswerer(sample_store))
    assert answered >= OWN_FLOOR[0], wrong
    assert abstained >= OWN_FLOOR[1]


def test_local_llm_answers_meet_the_targets_and_invent_nothing(sample_store, local_llm):
    answerer = VerifiedAnswerer(sample_store, llm=local_llm)
    answered, abstained, wrong = _run_set(answerer)
    assert answered >= OWN_FLOOR[0] - 0.05, wrong
    assert abstained >= OWN_FLOOR[1]


class _ScriptedLLM:
    """A language model that says what the test tells it to."""

    name = "scripted"

    def __init__(self, reply):
        self.reply = reply
        self.messages = None

    def chat(self, messages):
        self.messages = messages
        return self.reply


def test_invented_dose_is_removed_and_reported(sample_store):
    llm = _ScriptedLLM("Check the INR every 2 weeks for women and every 4 weeks for men [1]. "
                       "When warfarin is started, the INR is checked every 2 to 3 days [1].")
    result = VerifiedAnswerer(sample_store, llm=llm).ask("How often should INR be checked when starting warfarin?")
    assert "[1] " in llm.messages[1]["content"]  # the model saw numbered evidence
    assert result.answered and result.mode == "generated"
    assert result.answer == "When warfarin is started, the INR is checked every 2 to 3 days. [1]"
    assert [r.sentence for r in result.removed] == ["Check the INR every 2 weeks for women and every 4 weeks for men [1]."]
    assert any("2 week" in reason for reason in result.removed[0].reasons)
    assert result.citations[0].doc_id == "monitoring_warfarin_inr"


def test_uncited_supported_sentence_is_cited_and_unsupported_answer_falls_back_to_evidence(sample_store):
    question = "How long is enoxaparin given after a hip replacement?"
    cited = VerifiedAnswerer(sample_store, llm=_ScriptedLLM("Enoxaparin is injected once daily for 28 days.")).ask(question)
    assert cited.mode == "generated" and cited.answer.endswith("[1]") and "28 days" in cited.citations[0].text
    # "6 weeks" is in the same leaflet, but not in the sentence the answer cites
    invented = VerifiedAnswerer(sample_store, llm=_ScriptedLLM("Enoxaparin is given for 6 weeks [1].")).ask(question)
    assert invented.mode == "extractive" and "28 days" in invented.answer and "6 weeks" not in invented.answer
    assert invented.removed and invented.why == "verification left no sentence"


def test_bad_input_is_refused(sample_store, encoder):
    answerer = VerifiedAnswerer(sample_store)
    for bad in ("", "   ", None, 42):
        with pytest.raises(InvalidInputError):
            answerer.ask(bad)
    with pytest.raises(InvalidInputError, match="store or an encoder"):
        VerifiedAnswerer()
    with pytest.raises(InvalidInputError, match="needs a store"):
        VerifiedAnswerer(encoder=encoder).ask("What is warfarin for?")
    empty = VerifiedAnswerer(encoder=encoder).answer("What is warfarin for?", [])
    assert not empty.answered and empty.why == "no passage was found"


def test_cli_ask_answers_abstains_and_prints_json(sample_store, standin_path, tmp_path, cache_dir):
    store = tmp_path / "store"
    env_cmd = [sys.executable, "-m", "medembed_rag.app.cli"]
    index = subprocess.run(env_cmd + ["index", str(SAMPLES), "--store", str(store), "--model", str(standin_path),
                                      "--quiet"], capture_output=True, text=True, timeout=600)
    assert index.returncode == 0, index.stderr[-2000:]
    results = {}
    for question in ("How long is enoxaparin given after a hip replacement?", UNANSWERABLE[0]):
        out = subprocess.run(env_cmd + ["ask", question, "--store", str(store), "--model", str(standin_path),
                                        "--quiet", "--no-llm", "--json"], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]  # exit 0 whether or not it answered
        results[question] = json.loads(out.stdout)
    answered, abstained = results.values()
    assert set(answered) >= {"answered", "answer", "citations", "removed"}
    assert answered["answered"] and "28 days" in answered["answer"] and "[1]" in answered["answer"]
    assert set(answered["citations"][0]) >= {"doc_id", "chunk_id", "text", "score"}
    assert answered["citations"][0]["doc_id"] == "discharge_hip_replacement.md"  # CLI ids are relative paths
    assert not abstained["answered"] and abstained["answer"].startswith("The documents do not answer")
    text = subprocess.run(env_cmd + ["ask", "How long is enoxaparin given after a hip replacement?", "--store",
                                     str(store), "--model", str(standin_path), "--quiet", "--no-llm"],
                          capture_output=True, text=True, timeout=600)
    assert "Sources:\n  [1] discharge_hip_replacement.md" in text.stdout
    missing = subprocess.run(env_cmd + ["ask", "Q?", "--store", str(tmp_path / "none")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no store at" in missing.stderr


def test_langchain_runnable_verifies_answers_over_any_retriever(sample_store):
    pytest.importorskip("langchain_core")
    from langchain_core.runnables import RunnablePassthrough

    from medembed_rag.integrations.langchain import MedEmbedVerifiedAnswer

    retriever = MedEmbedLangChainVectorStore.from_store(sample_store).as_retriever(search_kwargs={"k": 6})
    llm = _ScriptedLLM("Enoxaparin 40 mg is injected once daily for 6 weeks [1].")
    chain = RunnablePassthrough.assign(context=lambda x: retriever.invoke(x["input"])) | RunnablePassthrough.assign(
        answer=MedEmbedVerifiedAnswer(llm=llm, encoder=sample_store.encoder))
    result = chain.invoke({"input": "How long is enoxaparin given after a hip replacement?"})["answer"]
    assert result.answered and "28 days" in str(result) and "6 weeks" not in str(result)  # 6 weeks: removed
    assert result.removed and result.citations[0].doc_id == "discharge_hip_replacement"
    no = MedEmbedVerifiedAnswer(encoder=sample_store.encoder).invoke(
        {"input": UNANSWERABLE[3], "context": retriever.invoke(UNANSWERABLE[3])})
    assert not no.answered
    with pytest.raises(InvalidInputError):
        MedEmbedVerifiedAnswer(encoder=sample_store.encoder).invoke("just a string")


def test_llama_index_query_engine_verifies_answers(sample_store):
    pytest.importorskip("llama_index.core")
    from medembed_rag.integrations.llama_index import MedEmbedVerifiedQueryEngine

    index = vector_store_index(sample_store)
    engine = MedEmbedVerifiedQueryEngine(retriever=index.as_retriever(similarity_top_k=6),
                                         encoder=sample_store.encoder)
    response = engine.query("How long after the last lithium dose should the blood sample be taken?")
    assert response.metadata["answered"] and "12 hours" in response.response
    assert response.source_nodes and response.source_nodes[0].node.metadata["doc_id"] == "monitoring_lithium"
    no = engine.query(UNANSWERABLE[1])
    assert not no.metadata["answered"] and no.response.startswith("The documents do not answer")
    assert engine._get_answerer() is engine._get_answerer()  # one answerer (and similarity scale) per engine


def test_passages_from_elsewhere_are_accepted(encoder):
    passages = [Passage("c1", "d1", "Take 2 puffs of the preventer inhaler twice daily.", 0.5, {"source": "plan"})]
    result = VerifiedAnswerer(encoder=encoder).answer("How often is the preventer inhaler taken?", passages)
    assert result.answered and "twice daily" in result.answer and result.citations[0].chunk_id == "c1"
