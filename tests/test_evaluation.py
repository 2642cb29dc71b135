"""Unit tests: metrics against values computed by hand (trec_eval definitions), and the BEIR reader."""

import math

import pytest

from medembed_rag.evaluation.metrics import evaluate, load_beir, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_graded_by_hand():
    rel = {"a": 2, "b": 1, "c": 0}
    ranked = ["c", "b", "x", "a"]
    dcg = 0 / math.log2(2) + 1 / math.log2(3) + 0 + 2 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(rel, ranked, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(rel, ranked, 2) == pytest.approx((1 / math.log2(3)) / idcg)
    assert ndcg_at_k(rel, ["a", "b"], 10) == pytest.approx(1.0)


def test_recall_and_mrr_by_hand():
    rel = {"a": 1, "b": 1, "c": 0}
    assert recall_at_k(rel, ["x", "a", "c"], 10) == pytest.approx(0.5)
    assert recall_at_k(rel, ["x", "a", "b"], 2) == pytest.approx(0.5)
    assert mrr_at_k(rel, ["c", "x", "b"], 10) == pytest.approx(1 / 3)
    assert mrr_at_k(rel, ["c", "x", "b"], 2) == 0.0


def test_evaluate_on_a_tiny_beir_folder(tmp_path):
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        '{"_id": "d1", "title": "Asthma", "text": "Inhaled steroids."}\n{"_id": "d2", "title": "", "text": "Iron."}\n'
    )
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "asthma?"}\n{"_id": "q2", "text": "iron?"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n")
    data = load_beir(tmp_path)
    assert data.corpus["d1"] == ("Asthma", "Inhaled steroids.") and set(data.queries) == {"q1", "q2"}
    scores = evaluate(data.qrels, {"q1": ["d1", "d2"], "q2": ["d1", "d2"]})
    assert scores["ndcg@10"] == pytest.approx(100 * (1 + 1 / math.log2(3)) / 2)
    assert scores["mrr@10"] == pytest.approx(100 * (1 + 0.5) / 2)
    assert scores["recall@10"] == pytest.approx(100.0)


def test_missing_beir_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus.jsonl"):
        load_beir(tmp_path)


def test_eval_index_subsets_rankers_and_rephrasings(encoder):
    """qids= scores a subset, lexical= swaps the lexical side, rephrased() shares the corpus and its index."""
    from medembed_rag.evaluation.metrics import BeirDataset
    from medembed_rag.evaluation.pipeline import EvalIndex

    data = BeirDataset(
        {"d1": ("Warfarin", "Warfarin needs regular INR blood tests."),
         "d2": ("Metformin", "Metformin is the first medicine for type 2 diabetes.")},
        {"q1": "How often is the INR checked on warfarin?", "q2": "Which tablet is first for diabetes?"},
        {"q1": {"d1": 1}, "q2": {"d2": 1}},
    )
    index = EvalIndex(data, encoder)
    assert index.run(hybrid=True)["ndcg@10"] == pytest.approx(100.0)
    assert index.run(qids=["q1"])["ndcg@10"] == pytest.approx(100.0)
    # a lexical side that always ranks the wrong unit far above the rest pulls q1 down at weight 0
    wrong = lambda text: [("1", 10.0)]  # noqa: E731
    assert index.run(hybrid=True, weight=0.0, lexical=wrong, qids=["q1"])["ndcg@10"] < 100.0
    twin = index.rephrased({"q1": "my nan takes warfarin, how often do they test her INR?"})
    assert twin._lexical_index is index._lexical_index
    assert twin.data.queries["q2"] == data.queries["q2"] and index.data.queries["q1"] == data.queries["q1"]
    assert twin.run(hybrid=True, qids=["q1"])["ndcg@10"] == pytest.approx(100.0)
