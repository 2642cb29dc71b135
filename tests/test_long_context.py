"""Long-context encoders (ModernBERT, 8,192 tokens) exported by openvino.convert_model: parity with
sentence-transformers on torch, the cache, no silent truncation, int8 and auto, fused attention."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from medembed_rag import InputTooLongError, MedEmbedEncoder, TruncationWarning

# Small enough to be fast, with a local window (16 tokens) far shorter than the inputs, and both layer kinds:
# layers 0 and 3 global, 1, 2 and 4 local.
SMALL = {"hidden_size": 64, "num_hidden_layers": 5, "num_attention_heads": 4, "intermediate_size": 128,
         "global_attn_every_n_layers": 3, "local_attention": 16, "max_position_embeddings": 8192}
WORDS = "patient dose blood heart kidney drug pain day week test level risk care insulin fever water diet".split()


def _text(tokens: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, size=tokens))  # one token a word in the stand-in's vocabulary


@pytest.fixture(scope="module")
def modernbert_path(tmp_path_factory):
    from medembed_rag.testing import build_modernbert_model

    return build_modernbert_model(tmp_path_factory.mktemp("modernbert"), overrides=SMALL)


@pytest.fixture(scope="module")
def long_encoder(modernbert_path, cache_dir):
    return MedEmbedEncoder(modernbert_path, precision="fp32", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def reference(modernbert_path):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    return sentence_transformers.SentenceTransformer(str(modernbert_path), device="cpu")


def _cosines(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_exported_once_cached_and_read_as_a_long_model(modernbert_path, cache_dir, long_encoder):
    long_encoder.encode_documents(["first use exports it"])
    assert long_encoder.max_length == 8192 and long_encoder.dim == 64
    again = MedEmbedEncoder(modernbert_path, precision="fp32", cache_dir=cache_dir)
    again.load()
    assert again.exports_run == 0 and again.cache_folder == long_encoder.cache_folder
    inputs = {p.get_any_name() for p in again.load().compiled.inputs}
    assert inputs == {"input_ids", "attention_mask"}


def test_vectors_equal_sentence_transformers_for_mixed_lengths_and_beyond_the_window(long_encoder, reference):
    texts = ["Take warfarin at the same time each day.", _text(40, 1), _text(300, 2), _text(2100, 3)]
    ours = long_encoder.encode_documents(texts)  # one padded batch of very different lengths
    theirs = reference.encode(texts, convert_to_numpy=True, normalize_embeddings=False)
    assert long_encoder.count_tokens(texts[3])[0] > 2048
    assert _cosines(ours, theirs).min() >= 0.9999
    alone = long_encoder.encode_documents(texts[1:2])  # padding never changes a text's vector
    assert _cosines(alone, ours[1:2]).min() >= 0.9999


@pytest.mark.slow
def test_a_full_8192_token_document(long_encoder, reference):
    text = _text(8190, 4)
    assert long_encoder.count_tokens(text)[0] == 8192
    ours = long_encoder.encode_documents([text])
    theirs = reference.encode([text], convert_to_numpy=True, normalize_embeddings=False)
    assert _cosines(ours, theirs).min() >= 0.9999


def test_nothing_is_cut_silently_past_8192_tokens(modernbert_path, cache_dir, long_encoder):
    text = _text(9000, 5)
    with pytest.warns(TruncationWarning, match="exceed 8192 tokens"):
        long_encoder.encode_documents([text])
    strict = MedEmbedEncoder(modernbert_path, precision="fp32", cache_dir=cache_dir, truncation="error")
    with pytest.raises(InputTooLongError, match="8192"):
        strict.encode_documents([text])


def test_int8_and_auto_go_through_the_same_rules(modernbert_path, cache_dir, long_encoder):
    texts = [_text(60, 6), _text(500, 7), "Check the INR every 2 to 3 days."]
    fp32 = long_encoder.encode_documents(texts)
    auto = MedEmbedEncoder(modernbert_path, precision="auto", cache_dir=cache_dir)
    assert _cosines(auto.encode_documents(texts), fp32).min() >= 0.999  # bf16 only where it matches fp32
    int8 = MedEmbedEncoder(modernbert_path, precision="int8", cache_dir=cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        vectors = int8.encode_documents(texts)
    assert int8.fingerprint["precision_family"] == "int8" and int8.cache_folder != long_encoder.cache_folder
    assert _cosines(vectors, fp32).min() >= 0.9  # a random-weight model: the real check is the benchmark's


def test_the_chunker_takes_the_long_budget(long_encoder):
    from medembed_rag import MedicalChunker

    document = "\n\n".join(_text(3000, 10 + i) for i in range(4))
    chunks = MedicalChunker(long_encoder).split(document)
    assert 2 <= len(chunks) <= 3 and max(c.n_tokens for c in chunks) <= 8192
    assert max(c.n_tokens for c in chunks) > 512


def test_attention_stays_one_fused_kernel_per_layer(long_encoder):
    """A decomposed MatMul-Softmax-MatMul would hold a heads x n x n score tensor (3.2 GB at 8k, 12 heads)."""
    from medembed_rag.models.precision import cpu_features

    if not cpu_features().avx512:
        pytest.skip("OpenVINO fuses attention into one MHA kernel on AVX-512 CPUs; this CPU has no AVX-512, "
                    "so see benchmarks/bench_long_context.py's peak memory for what it does here")
    runtime = long_encoder.load().compiled.get_runtime_model()
    kinds = [op.get_rt_info()["layerType"].astype(str) for op in runtime.get_ordered_ops()]
    fused = [op for op in runtime.get_ordered_ops() if op.get_rt_info()["layerType"].astype(str) == "Subgraph"
             and "scaled_dot_product_attention" in op.get_rt_info()["originalLayersNames"].astype(str)]
    assert len(fused) == SMALL["num_hidden_layers"], kinds
    assert "Softmax" not in kinds
