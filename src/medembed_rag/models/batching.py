"""Length-sorted batched inference on a compiled OpenVINO model: shared by the encoder and the reranker."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

_PAD_MULTIPLE = 8
# At most this many padded tokens per forward pass. Long inputs then go a few at a time and short ones many
# at a time: on a 2-core CPU, 8 documents of ~300 tokens per pass ran 20-30% faster than 32, and reranking 16
# (question, abstract) pairs 4 at a time 40-50% faster than all 16 at once (padding to the longest pair),
# while short queries still fill whole batches (benchmarks/bench_encoder.py, bench_rerank.py).
TOKENS_PER_BATCH = 2048
# A batch takes no row more than this share shorter than its longest: inputs of mixed lengths (a server's batch of
# queries from different clients) then waste little compute on padding (16 random 10-40-token queries per call:
# 50 -> 57 texts/s on a 2-core CPU, benchmarks/bench_serve.py), while sorted inputs batch as before.
MAX_PADDING = 0.25
BAR_DELAY = 1.0  # seconds before a progress bar is drawn: none for work shorter than that (one query)


def model_inputs(encodings: Sequence, *, width: int | None = None, pad_id: int = 0,
                 token_types: bool = True) -> dict[str, np.ndarray]:
    """``input_ids``, ``attention_mask`` (and ``token_type_ids``) int64 arrays for ``tokenizers.Encoding``s, padded
    with ``pad_id`` to ``width`` (default: the longest)."""
    width = width if width is not None else max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    types = np.zeros((len(encodings), width), dtype=np.int64) if token_types else None
    for row, enc in enumerate(encodings):
        k = len(enc.ids)
        ids[row, :k] = enc.ids
        mask[row, :k] = 1
        if types is not None:
            types[row, :k] = enc.type_ids
    feed = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        feed["token_type_ids"] = types
    return feed


def run_sorted_batches(
    compiled,
    encodings: Sequence,
    *,
    batch_size: int,
    pad_id: int,
    max_length: int,
    out_dim: int,
    reduce: Callable[[np.ndarray, np.ndarray], np.ndarray],
    show_progress: bool | None = None,
    desc: str = "Encoding",
    token_budget: int = TOKENS_PER_BATCH,
) -> np.ndarray:
    """Runs ``encodings`` (``tokenizers.Encoding`` objects) through ``compiled`` and returns (n, out_dim) float32.

    Inputs are sorted by length, so each batch is padded only to its own longest input (rounded up to a
    multiple of 8 to limit the number of distinct shapes), and results come back in the original order.
    ``reduce(output, attention_mask)`` turns the model's first output for a batch into (batch, out_dim).
    A batch holds at most ``batch_size`` inputs, beyond its first input at most ``token_budget`` padded tokens,
    and no input more than :data:`MAX_PADDING` shorter than the batch's width.
    """
    from tqdm.auto import tqdm

    n = len(encodings)
    out = np.empty((n, out_dim), dtype=np.float32)
    if n == 0:
        return out
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    widths = np.minimum(max_length, -(-lengths // _PAD_MULTIPLE) * _PAD_MULTIPLE)
    batches, start = [], 0
    while start < n:  # longest first, so a batch's first input sets its width
        width = int(widths[order[start]])
        rows = max(1, min(batch_size, token_budget // width))
        # ...and a row much shorter than that width starts a new batch: padding is compute on a CPU
        shortest = width * (1 - MAX_PADDING)
        end = start + 1
        while end < min(n, start + rows) and widths[order[end]] >= shortest:
            end += 1
        batches.append(order[start:end])
        start = end
    show = show_progress if show_progress is not None else len(batches) > 8
    names = {port.get_any_name() for port in compiled.inputs}
    wants_types = "token_type_ids" in names
    output = compiled.output(0)
    request = compiled.create_infer_request()  # one per call: calls from several threads do not share state
    for idx in tqdm(batches, disable=not show, desc=desc, delay=BAR_DELAY):
        feed = model_inputs([encodings[i] for i in idx], width=int(widths[idx[0]]), pad_id=pad_id,
                            token_types=wants_types)
        out[idx] = reduce(request.infer(feed)[output], feed["attention_mask"])
    return out
