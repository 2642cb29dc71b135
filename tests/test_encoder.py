"""Integration tests of the OpenVINO encoder on the packaged stand-in and a MedEmbed-shaped model."""

import asyncio
import threading
import time
import warnings

import numpy as np
import pytest

from medembed_rag import InputTooLongError, MedEmbedEncoder, TruncationWarning

from .sample_texts import PASSAGES, QUERIES

LONG_AND_SHORT = [
    *PASSAGES,
    "pH 7.4",
    "The patient received ceftriaxone 1 g i.v. q.d. for five days. " * 8,
    "Ünïcode: β-blockers, α-agonists, 5 µg/kg/min, 37 °C; 患者 🩺",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_fp32_matches_sentence_transformers(encoder, st_model):
    ours = encoder.encode_documents(LONG_AND_SHORT)
    ref = st_model.encode(LONG_AND_SHORT, convert_to_numpy=True)
    assert ours.shape == (len(LONG_AND_SHORT), 384) and ours.dtype == np.float32
    assert _cosines(ours, ref).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_auto_precision_matches_within_bf16_tolerance(standin_path, cache_dir, st_model):
    enc = MedEmbedEncoder(standin_path, precision="auto", cache_dir=cache_dir)
    ref = st_model.encode(LONG_AND_SHORT, convert_to_numpy=True)
    assert _cosines(enc.encode_documents(LONG_AND_SHORT), ref).min() >= 0.999


def test_int8_stays_close_to_fp32(standin_path, cache_dir, encoder):
    enc = MedEmbedEncoder(standin_path, precision="int8", cache_dir=cache_dir)
    cos = _cosines(enc.encode_documents(LONG_AND_SHORT), encoder.encode_documents(LONG_AND_SHORT))
    print(f"int8 vs fp32 cosine: min {cos.min():.4f} mean {cos.mean():.4f}")
    assert cos.min() >= 0.99
    assert enc.fingerprint["precision_family"] == "int8"


def test_medembed_shaped_cls_pooling_matches_sentence_transformers(medembed_shaped_path, cache_dir):
    from sentence_transformers import SentenceTransformer

    enc = MedEmbedEncoder(medembed_shaped_path, precision="fp32", cache_dir=cache_dir)
    assert (enc.dim, enc.max_length, enc.settings.pooling.value, enc.settings.normalize) == (768, 512, "cls", True)
    texts = [*PASSAGES, "word " * 700]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        ours = enc.encode_documents(texts)
    ref = SentenceTransformer(str(medembed_shaped_path), device="cpu").encode(texts, convert_to_numpy=True)
    assert _cosines(ours, ref).min() >= 0.9999
    auto = MedEmbedEncoder(medembed_shaped_path, precision="auto", cache_dir=cache_dir, truncation="silent")
    assert _cosines(auto.encode_documents(texts), ref).min() >= 0.999


def test_retrieval_finds_the_right_passage(encoder):
    docs = encoder.encode_documents(PASSAGES)
    queries = encoder.encode_queries([q for q, _ in QUERIES])
    best = (queries @ docs.T).argmax(axis=1)
    assert best.tolist() == [target for _, target in QUERIES]


def test_order_is_restored_after_length_sorting(encoder):
    texts = LONG_AND_SHORT[::-1]
    together = encoder.encode_documents(texts)
    one_by_one = np.vstack([encoder.encode_documents([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_batch_size_does_not_change_vectors(standin_path, cache_dir, encoder):
    small = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir, batch_size=2)
    np.testing.assert_allclose(small.encode_documents(LONG_AND_SHORT), encoder.encode_documents(LONG_AND_SHORT), atol=1e-5)


def test_a_thread_budget_unpins_threads_so_processes_can_share_the_cpu(standin_path, cache_dir, encoder):
    """With pinning, every 1-thread process (a Spark task, a server worker) sat on core 0: half speed on 2 cores."""
    import openvino.properties as props
    import openvino.properties.hint as hints

    budget = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir, num_threads=1)
    np.testing.assert_allclose(budget.encode_documents(LONG_AND_SHORT), encoder.encode_documents(LONG_AND_SHORT), atol=1e-5)
    compiled = budget._loaded.compiled
    assert compiled.get_property(props.inference_num_threads) == 1
    assert compiled.get_property(hints.enable_cpu_pinning) is False


def test_single_string_and_empty_list(encoder):
    assert encoder.encode_queries("What treats asthma?").shape == (1, 384)
    empty = encoder.encode_documents([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_truncation_warns_once_with_count(encoder):
    long_text = "hypertension " * 400
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder.encode_documents([long_text, "short", long_text])
    messages = [str(w.message) for w in caught if issubclass(w.category, TruncationWarning)]
    assert len(messages) == 1
    assert messages[0].startswith("2 of 3 documents exceed 256 tokens") and "MedicalChunker" in messages[0]
    assert "hypertension" not in messages[0]


def test_truncation_error_mode(standin_path, cache_dir):
    enc = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir, truncation="error")
    with pytest.raises(InputTooLongError, match="index 1"):
        enc.encode_documents(["short", "word " * 300])
    enc.encode_documents(["short"])  # within the limit: fine


def test_max_length_argument_cuts_earlier(standin_path, cache_dir):
    enc = MedEmbedEncoder(standin_path, precision="fp32", cache_dir=cache_dir, max_length=16, truncation="error")
    assert enc.max_length == 16 and enc.fingerprint["max_length"] == 16
    with pytest.raises(InputTooLongError):
        enc.encode_documents(["one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"])


def test_count_tokens_includes_special_tokens(encoder):
    assert encoder.count_tokens(["hello world"]) == [4]


def test_async_does_not_block_the_event_loop(encoder):
    texts = [PASSAGES[i % len(PASSAGES)] + f" note {i}" for i in range(256)]

    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        started = time.perf_counter()
        vectors = await encoder.aencode_documents(texts)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        return vectors, ticks, elapsed

    vectors, ticks, elapsed = asyncio.run(main())
    assert vectors.shape == (256, 384)
    # A blocked loop would tick about once; a free one ticks many times while the batch is encoded.
    assert ticks >= max(5, int(elapsed / 0.005 * 0.2)), (ticks, elapsed)


def test_concurrent_threads_get_correct_vectors(encoder):
    expected = encoder.encode_documents(PASSAGES)
    results = {}

    def work(i):
        results[i] = encoder.encode_documents(PASSAGES)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for vectors in results.values():
        np.testing.assert_allclose(vectors, expected, atol=1e-5)
