"""The package's shape: what each package exports, arrows that only point down, a core that knows no framework,
one declaration of the encoder's options, and a quiet first run. None of these load a model, except the last."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import medembed_rag

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "medembed_rag"

# Every package's public names. A change here is a change of the public API: record it in CHANGELOG.md.
PUBLIC = {
    "medembed_rag": [
        "DEFAULT_MODEL", "DocumentNotFoundError", "EmbeddingIntegrityError", "EncoderOptions", "EncoderSettings",
        "HybridRetriever", "InputTooLongError", "InvalidInputError", "InvalidInputTypeError", "MedEmbedChromaStore",
        "MedEmbedEmbeddingFunction", "MedEmbedEncoder", "MedEmbedError", "MedEmbedReranker", "MedicalChunker", "MissingDependencyError",
        "ModelLoadError", "ModelMismatchError", "ModelNotFoundError", "ModelSpec", "OfflineModelError", "Pooling",
        "StoreError", "StoreLockedError", "StoreUnavailableError", "TruncationWarning", "VerifiedAnswerer",
        "__version__", "get_model_spec", "list_supported_models",
    ],
    "medembed_rag.models": [
        "DEFAULT_MODEL", "DEFAULT_RERANKER", "PRECISIONS", "EncoderOptions", "EncoderSettings", "LocalLLM",
        "MedEmbedEncoder", "MedEmbedReranker", "ModelSpec", "OpenAICompatibleLLM", "Pooling", "RankResult",
        "RerankerSpec", "get_model_spec", "list_supported_models", "list_supported_rerankers",
    ],
    "medembed_rag.text": ["MEDICAL_SENTENCES", "STOPWORDS", "calibration_samples", "sentence_spans",
                          "split_sentences"],
    "medembed_rag.chunking": ["SECTION_NAMES", "Chunk", "ChunkHit", "DocumentHit", "MedicalChunker",
                              "aggregate_to_documents"],
    "medembed_rag.index": ["ChunkRecord", "Hit", "HybridRetriever", "IngestReport", "MedEmbedChromaStore", "fuse"],
    "medembed_rag.answers": ["Citation", "Passage", "RemovedSentence", "VerifiedAnswer", "VerifiedAnswerer",
                             "check_sentence", "extract_facts"],
    "medembed_rag.evaluation": ["BeirDataset", "EvalIndex", "document_text", "evaluate", "load_beir", "mrr_at_k",
                                "ndcg_at_k", "recall_at_k", "run_eval"],
    "medembed_rag.app": ["main"],
    "medembed_rag.server": ["ServerConfig", "create_app", "serve"],
    "medembed_rag.integrations": ["require"],
    "medembed_rag.integrations.langchain": [
        "MedEmbedChatModel", "MedEmbedEmbeddings", "MedEmbedHybridRetriever", "MedEmbedLangChainVectorStore",
        "MedEmbedRerank", "MedEmbedVerifiedAnswer", "MedicalTextSplitter",
    ],
    "medembed_rag.integrations.llama_index": [
        "MedEmbedEmbedding", "MedEmbedHybridRetriever", "MedEmbedLlamaIndexVectorStore", "MedEmbedLocalLLM",
        "MedEmbedRerank", "MedEmbedVerifiedQueryEngine", "MedicalNodeParser", "vector_store_index",
    ],
    "medembed_rag.integrations.chroma": ["NAME", "MedEmbedEmbeddingFunction", "register"],
    "medembed_rag.integrations.haystack": ["MedEmbedDocumentEmbedder", "MedEmbedRanker", "MedEmbedTextEmbedder",
                                           "MedicalDocumentSplitter"],
    "medembed_rag.integrations.dspy": ["MedEmbedDSPyEmbedder", "embeddings_retriever"],
    "medembed_rag.integrations.spark": ["CHUNK_COLUMNS", "FINGERPRINT_KEY", "MedEmbedSentenceEmbeddings",
                                       "embed_dataframe", "read_embeddings", "write_to_chroma"],
}
# Layers, bottom first. A module may import its own layer and those below it, never one above.
LAYERS = [
    {"_version", "errors", "inputs", "telemetry", "text"},
    {"models"},
    {"chunking"},
    {"index"},
    {"answers"},
    {"integrations", "evaluation", "testing"},
    {"app", "server"},
]
TOP_LEVEL = {"__init__"}  # the package's own __init__ re-exports from every layer, lazily above the models


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_each_package_exports_exactly_its_public_names(package):
    import importlib

    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PUBLIC[package])
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def _imports() -> dict[str, set[str]]:
    """module -> the medembed_rag modules it imports anywhere (function-level imports too)."""
    modules = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = (path, is_package)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found.add(full if full in modules else target)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {t for t in found if t in modules and t != name}
    return graph


def _layer(module: str) -> int:
    first = module.split(".")[1] if "." in module else "__init__"
    for i, layer in enumerate(LAYERS):
        if first in layer:
            return i
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def test_arrows_only_point_down_and_no_import_circle():
    graph = _imports()
    upward = [(m, t) for m, targets in graph.items() if m != "medembed_rag" for t in targets
              if t != "medembed_rag" and _layer(t) > _layer(m)]
    assert not upward, upward
    # no circle, function-level imports included (a package __init__ importing its own modules is no circle)
    def edges(m):
        return {t for t in graph[m] if not (m == t.rsplit(".", 1)[0] and t.startswith(m + "."))}

    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for t in edges(m):
            if state.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def test_faces_use_only_the_stores_public_operations():
    faces = [p for p in (SRC / "integrations").rglob("*.py") if "spark" not in p.parts]
    assert len(faces) > 20
    for path in faces:
        text = path.read_text(encoding="utf-8")
        assert "store.index" not in text and "_store.index" not in text, path
    core = [p for p in SRC.rglob("*.py") if "integrations" not in p.parts and p.name != "testing.py"]
    for path in core:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n.startswith(("langchain", "llama_index", "pyspark", "haystack", "dspy"))}, path


def test_importing_the_package_and_using_the_store_imports_no_framework(tmp_path, standin_path, cache_dir):
    code = textwrap.dedent(f"""
        import sys
        import medembed_rag
        from medembed_rag import MedEmbedChromaStore, MedEmbedEncoder
        encoder = MedEmbedEncoder({str(standin_path)!r}, precision="fp32", cache_dir={str(cache_dir)!r})
        with MedEmbedChromaStore({str(tmp_path / "store")!r}, encoder=encoder) as store:
            store.add_documents(["Warfarin needs INR checks.", "Metformin is taken with meals."], ids=["a", "b"])
            assert store.query("INR", 1)[0].doc_id == "a"
            assert store.hybrid().query("metformin meals", 1)[0].doc_id == "b"
            assert [h.doc_id for h in store.get_documents(["b"])] == ["b"]
            store.delete("a")
        loaded = sorted({{m.split(".")[0] for m in sys.modules if m.startswith(("langchain", "llama_index"))}})
        print("FRAMEWORKS", loaded)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "FRAMEWORKS []" in out.stdout, out.stdout


def test_one_options_declaration_builds_every_face(tmp_path):
    from medembed_rag.app.cli import build_parser
    from medembed_rag.integrations.langchain import MedEmbedEmbeddings
    from medembed_rag.integrations.llama_index import MedEmbedEmbedding
    from medembed_rag.integrations.spark import MedEmbedSentenceEmbeddings
    from medembed_rag.models.options import EncoderOptions, face_name, option_fields

    model = str(tmp_path)  # any string: construction loads nothing
    (tmp_path / "config.json").write_text("{}")
    chosen = dict(precision="bf16", max_length=128, batch_size=8, truncation="error", num_threads=1,
                  query_prefix="query: ", document_prefix="passage: ", revision=None, cache_dir=str(tmp_path),
                  calibration_texts=("a calibration text",))
    expected = EncoderOptions(model=model, show_progress=None, **chosen)

    face_args = {face_name(o): chosen[o.name] for o in option_fields() if o.name in chosen}
    lc = MedEmbedEmbeddings(model=model, **face_args)
    li_args = {("embed_batch_size" if k == "batch_size" else k): v for k, v in face_args.items()}
    li = MedEmbedEmbedding(model=model, **li_args)
    spark_args = {o.metadata["spark"]: (list(chosen[o.name]) if o.name == "calibration_texts" else chosen[o.name])
                  for o in option_fields() if o.metadata["spark"] and o.name in chosen and chosen[o.name] is not None}
    stage = MedEmbedSentenceEmbeddings(model=model, **spark_args)
    assert lc.encoder.options == expected
    assert li.encoder.options == expected
    assert stage.encoder_options(task_cpus=1) == expected.replace(show_progress=False)

    # every option reaches every face: a field, a Spark param (unless declared not one), a flag (likewise)
    parser_dests = {a.dest for action in build_parser()._subparsers._group_actions
                    for sub in action.choices.values() if sub.prog.endswith(" index") for a in sub._actions}
    for option in option_fields():
        assert face_name(option) in type(lc).model_fields, option.name
        assert (face_name(option) if option.name != "batch_size" else "embed_batch_size") in type(li).model_fields
        assert option.metadata["doc"] == type(lc).model_fields[face_name(option)].description
        if option.metadata["spark"]:
            assert stage.hasParam(option.metadata["spark"]), option.name
        if option.metadata["cli"]:
            assert option.name in parser_dests, option.name


def test_bf16_through_both_faces_gives_the_encoders_bf16_vectors(standin_path, cache_dir):
    from medembed_rag import MedEmbedEncoder
    from medembed_rag.integrations.langchain import MedEmbedEmbeddings
    from medembed_rag.integrations.llama_index import MedEmbedEmbedding

    texts = ["Check the INR every 2 to 3 days when starting warfarin.", "Take metformin with meals."]
    reference = MedEmbedEncoder(standin_path, precision="bf16", cache_dir=cache_dir).encode_documents(texts)
    lc = MedEmbedEmbeddings(model=str(standin_path), precision="bf16", cache_dir=str(cache_dir))
    li = MedEmbedEmbedding(model=str(standin_path), precision="bf16", cache_dir=str(cache_dir))
    assert lc.encoder.precision == li.encoder.precision == "bf16"
    np.testing.assert_allclose(np.array(lc.embed_documents(texts)), reference, atol=1e-6)
    np.testing.assert_allclose(np.array(li.get_text_embedding_batch(texts)), reference, atol=1e-6)


def test_an_export_keeps_third_party_noise_in_the_debug_log(capfd, caplog):
    from medembed_rag.models.export import quiet_export

    class TracerWarning(UserWarning):
        pass

    caplog.set_level(logging.DEBUG, logger="medembed_rag.models.export")
    with quiet_export("exporting X to OpenVINO (once)"):
        warnings.warn("Converting a tensor to a Python boolean", TracerWarning)
        logging.getLogger("transformers.modeling_utils").warning("BertModel LOAD REPORT from: somewhere")
        print("Loading weights: 100%")
        print("`torch_dtype` is deprecated!", file=sys.stderr)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # under a second: not even the progress line
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    for kept in ("TracerWarning", "LOAD REPORT", "Loading weights", "torch_dtype"):
        assert kept in logged, kept
    assert not any(type(h).__name__ == "_ToDebug" for h in logging.getLogger("transformers").handlers)


@pytest.mark.slow
def test_the_demos_first_run_prints_no_third_party_noise(tmp_path):
    """As a user runs it: a fresh home and cache, CI unset, the local answer model converted too."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(HOME=str(tmp_path / "home"), MEDEMBED_RAG_CACHE=str(tmp_path / "cache"), HF_HUB_OFFLINE="1",
               MEDEMBED_RAG_OFFLINE="1")
    (tmp_path / "home").mkdir()
    out = subprocess.run([sys.executable, "-m", "medembed_rag.app.cli", "demo", "--store", str(tmp_path / "store"),
                          "--question", "How often should INR be checked when starting warfarin?"],
                         capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "2 to 3 days" in out.stdout
    for noise in ("TracerWarning", "LOAD REPORT", "deprecated", "Warning:", "Loading weights", "it/s]"):
        assert noise not in out.stderr, (noise, out.stderr[-3000:])
    assert "to OpenVINO (once): done in" in out.stderr  # each long stage: one line of its own
