"""Length-sorted batching under a token budget (shared by the encoder and the reranker); no model loaded."""

from types import SimpleNamespace

import numpy as np

from medembed_rag.models.batching import TOKENS_PER_BATCH, run_sorted_batches


class RecordingModel:
    """Stands in for a compiled OpenVINO model: records each batch's shape, returns each row's first id."""

    def __init__(self):
        self.inputs = [SimpleNamespace(get_any_name=lambda name=n: name) for n in ("input_ids", "attention_mask")]
        self.shapes = []

    def output(self, index):
        return "out"

    def create_infer_request(self):
        return SimpleNamespace(infer=self._infer)

    def _infer(self, feed):
        ids = feed["input_ids"]
        self.shapes.append(ids.shape)
        return {"out": ids[:, :1].astype(np.float32)}


def encodings(lengths):
    # Each input's ids are its own index, so the output tells which input a row was.
    return [SimpleNamespace(ids=[i] * n, type_ids=[0] * n) for i, n in enumerate(lengths)]


def test_long_inputs_go_a_few_at_a_time_short_ones_fill_the_batch_and_order_is_kept():
    lengths = [500, 40, 300, *([20] * 70), 510, 290]
    model = RecordingModel()
    out = run_sorted_batches(model, encodings(lengths), batch_size=32, pad_id=0, max_length=512, out_dim=1,
                             reduce=lambda output, mask: output)
    assert out[:, 0].tolist() == list(range(len(lengths)))  # every input, back in its own place
    assert model.shapes[0] == (2, 512)  # 510 and 500 pad to 512; 300 and 290 would be 40% padding there:
    assert model.shapes[1] == (2, 304)  # they go together in a batch of their own width
    assert all(rows * width <= TOKENS_PER_BATCH or rows == 1 for rows, width in model.shapes)
    assert (32, 24) in model.shapes  # 20-token queries (padded to 24) are capped by batch_size, not the budget
    assert sum(rows for rows, _ in model.shapes) == len(lengths)


def test_the_token_budget_caps_a_batch_of_similar_long_inputs():
    model = RecordingModel()
    run_sorted_batches(model, encodings([510, 500, 505, 498, 502, 507]), batch_size=32, pad_id=0, max_length=512,
                       out_dim=1, reduce=lambda output, mask: output)
    assert model.shapes == [(4, 512), (2, 504)]  # 4 x 512 fit in 2,048 tokens; the rest pad to their own width


def test_an_input_wider_than_the_budget_still_runs_alone():
    model = RecordingModel()
    out = run_sorted_batches(model, encodings([512, 512]), batch_size=8, pad_id=0, max_length=512, out_dim=1,
                             reduce=lambda output, mask: output, token_budget=256)
    assert model.shapes == [(1, 512), (1, 512)] and out[:, 0].tolist() == [0, 1]
