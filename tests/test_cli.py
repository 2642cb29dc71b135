"""The medembed-rag command end to end, including bad input (exit codes, nothing written)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .sample_texts import PASSAGES, QUERIES

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MEDEMBED_RAG_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "medembed_rag.app.cli", *map(str, args)], capture_output=True, text=True, env=env,
        timeout=600, cwd=cwd,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, standin_path):
    folder = tmp_path_factory.mktemp("corpus")
    for i, text in enumerate(PASSAGES[:5]):
        (folder / f"note{i}.txt").write_text(text)
    (folder / "extra.jsonl").write_text(
        json.dumps({"id": "asthma-1", "title": "Asthma", "text": PASSAGES[5], "ward": "resp"}) + "\n"
    )
    (folder / "ignored.csv").write_text("not indexed")
    return folder


@pytest.fixture(scope="module")
def indexed(corpus, tmp_path_factory, standin_path):
    store = tmp_path_factory.mktemp("cli") / "store"
    out = cli("index", corpus, "--store", store, "--model", standin_path, "--precision", "fp32", "--quiet")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "indexed 6 documents" in out.stdout
    return store


def test_help_everywhere():
    for args in ([], ["index"], ["query"], ["eval"], ["export"], ["demo"]):
        out = cli(*args, "--help")
        assert out.returncode == 0 and "usage: medembed-rag" in out.stdout


def test_query_puts_the_right_passage_first(indexed, standin_path):
    for question, target in QUERIES:
        out = cli("query", question, "--store", indexed, "--model", standin_path, "--precision", "fp32", "-k", "2",
                  "--json", "--quiet")
        assert out.returncode == 0, out.stderr[-3000:]
        hits = json.loads(out.stdout)
        assert hits[0]["text"].endswith(PASSAGES[target])
    out = cli("query", QUERIES[5][0], "--store", indexed, "--model", standin_path, "--precision", "fp32",
              "--hybrid", "--quiet")
    assert out.returncode == 0 and out.stdout.startswith("[1]") and "extra.jsonl" in out.stdout.splitlines()[0]


def test_reindex_is_idempotent(indexed, corpus, standin_path):
    out = cli("index", corpus, "--store", indexed, "--model", standin_path, "--precision", "fp32", "--quiet")
    assert out.returncode == 0 and "0 chunks added, 6 unchanged" in out.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "does not exist"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "no .txt, .md or .jsonl files"),
        (lambda tmp: (tmp / "bin.txt").write_bytes(b"\x00\x01\x02binary") and tmp / "bin.txt", "not a text file"),
        (lambda tmp: (tmp / "bad.jsonl").write_text('{"no_text": 1}\n') and tmp / "bad.jsonl", "\"text\" field"),
        (lambda tmp: (tmp / "x.pdf").write_bytes(b"%PDF") and tmp / "x.pdf", "unsupported file type"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, standin_path, make, message):
    store = tmp_path / "store"
    out = cli("index", make(tmp_path), "--store", store, "--model", standin_path, "--quiet")
    assert out.returncode == 2 and message in out.stderr, out.stderr[-2000:]
    assert not store.exists()


def test_store_of_another_model_is_refused(indexed, corpus, medembed_shaped_path):
    before = sorted(p.stat().st_size for p in indexed.rglob("*") if p.is_file() and p.suffix == ".sqlite3")
    out = cli("index", corpus, "--store", indexed, "--model", medembed_shaped_path, "--quiet")
    assert out.returncode == 3 and "re-index into a new collection" in out.stderr
    after = sorted(p.stat().st_size for p in indexed.rglob("*") if p.is_file() and p.suffix == ".sqlite3")
    assert before == after
    out = cli("query", "asthma", "--store", indexed, "--model", medembed_shaped_path, "--quiet")
    assert out.returncode == 3


def test_query_without_a_store(tmp_path, standin_path):
    out = cli("query", "asthma", "--store", tmp_path / "nothing", "--model", standin_path)
    assert out.returncode == 2 and "no store at" in out.stderr


def test_eval_on_a_tiny_beir_folder(tmp_path, standin_path):
    (tmp_path / "qrels").mkdir()
    with (tmp_path / "corpus.jsonl").open("w") as fh:
        for i, text in enumerate(PASSAGES):
            fh.write(json.dumps({"_id": f"d{i}", "title": "", "text": text}) + "\n")
    with (tmp_path / "queries.jsonl").open("w") as fh:
        for i, (q, _) in enumerate(QUERIES):
            fh.write(json.dumps({"_id": f"q{i}", "text": q}) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{t}\t1\n" for i, (_, t) in enumerate(QUERIES))
    )
    for flags in ([], ["--chunk"], ["--hybrid"], ["--hybrid", "--fusion", "rrf"]):
        out = cli("eval", tmp_path, "--model", standin_path, "--precision", "fp32", "--json", "--quiet", *flags)
        assert out.returncode == 0, out.stderr[-3000:]
        result = json.loads(out.stdout)
        assert result["ndcg@10"] == pytest.approx(100.0) and result["documents"] == 6 and result["docs_per_s"] > 0
    missing = cli("eval", tmp_path / "nope", "--model", standin_path)
    assert missing.returncode == 2 and "not a BEIR folder" in missing.stderr


def test_export_prebuilds_the_cache(tmp_path, standin_path):
    first = cli("export", standin_path, "--precision", "fp32", "--cache-dir", tmp_path)
    assert first.returncode == 0 and "exported" in first.stdout
    second = cli("export", standin_path, "--precision", "fp32", "--cache-dir", tmp_path)
    assert second.returncode == 0 and "already cached" in second.stdout


def test_delete_purge(corpus, tmp_path, standin_path):
    store = tmp_path / "store"
    assert cli("index", corpus, "--store", store, "--model", standin_path, "--precision", "fp32", "--quiet").returncode == 0
    out = cli("delete", "note2.txt", "--purge", "--store", store, "--model", standin_path, "--precision", "fp32", "--quiet")
    assert out.returncode == 0 and "deleted 1 chunks" in out.stdout and "purged" in out.stdout
    assert not [p for p in store.rglob("*") if p.is_file() and b"INR checks" in p.read_bytes()]
    out = cli("compact", "--store", store, "--model", standin_path, "--precision", "fp32", "--quiet")
    assert out.returncode == 0 and "compacted" in out.stdout
    assert cli("compact", "--store", tmp_path / "nowhere", "--model", standin_path, "--quiet").returncode != 0


def test_delete_of_an_id_the_store_does_not_hold_fails_and_names_it(corpus, tmp_path, standin_path):
    store = tmp_path / "store"
    common = ["--store", store, "--model", standin_path, "--precision", "fp32", "--quiet"]
    assert cli("index", corpus, *common).returncode == 0
    absolute = str(corpus / "note1.txt")  # the user passes the file's full path; the store's ids are relative
    out = cli("delete", absolute, "--purge", *common)
    assert out.returncode == 2 and "deleted" not in out.stdout
    assert repr(absolute) in out.stderr and "Nothing was deleted" in out.stderr and "'note" in out.stderr
    assert "relative to the folder" in out.stderr
    query = cli("query", "note", "-k", "10", "--json", *common)
    assert "note1.txt" in {h["doc_id"] for h in json.loads(query.stdout)}  # still there


def test_info_explains_the_cpu_and_what_auto_resolved_to(tmp_path, standin_path):
    plain = cli("info")
    assert plain.returncode == 0 and plain.stdout.startswith("CPU: ") and "BF16" in plain.stdout and "AMX" in plain.stdout
    out = cli("info", "--model", standin_path, "--cache-dir", tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "precision auto -> " in out.stdout and "docs/s" in out.stdout
    rows = {line.split()[0]: float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("  ")}
    assert rows["fp32"] > 0 and ("bf16" in rows) == ("BF16 yes" in out.stdout)
    assert list(tmp_path.glob("openvino/*.auto-*.json"))  # the decision was cached with the export
