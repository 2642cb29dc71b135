"""Exporting checkpoints optimum-intel cannot: transformers loads them (SDPA attention, no remote code), a small
wrapper returns the last hidden state, and ``openvino.convert_model`` converts it with dynamic batch and sequence
dimensions. Today: ModernBERT (8,192-token encoders such as gte-modernbert-base), the class of MedEIR.

ModernBERT alternates global attention with local (sliding-window) attention. transformers builds the two masks
with helpers that do not trace, so the wrapper builds them itself, with the same rule: a token attends to the
non-padding tokens (global layers) within ``local_attention // 2`` positions (local layers). Padding queries may
attend everywhere, so no softmax row is empty (an empty row is NaN, and 0 x NaN would reach real tokens).
The IR is saved with the checkpoint's tokenizer and config, as optimum-intel's exports are, so the rest of the
cache (manifest, int8 on the IR, measured ``auto``) is the same for both routes.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MissingDependencyError, ModelLoadError

#: ``config.json`` model types exported here instead of through optimum-intel.
NATIVE_MODEL_TYPES = frozenset({"modernbert"})
_SAMPLE_TOKENS = 64  # the example input's length: long enough to exceed a small test model's window


def export_modernbert(checkpoint: Path, out: Path) -> None:
    """Writes ``openvino_model.xml`` (inputs ``input_ids``, ``attention_mask``; output the last hidden state),
    the tokenizer files and ``config.json`` for the ModernBERT checkpoint in ``checkpoint``."""
    try:
        import openvino as ov
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "exporting a model to OpenVINO needs transformers and torch: pip install 'medembed-rag[export]' "
            "(with PyTorch's CPU build first). A warm cache needs neither."
        ) from exc
    try:
        config = AutoConfig.from_pretrained(str(checkpoint), local_files_only=True, trust_remote_code=False)
        model = AutoModel.from_pretrained(str(checkpoint), local_files_only=True, trust_remote_code=False,
                                          attn_implementation="sdpa").eval()
        tokenizer = AutoTokenizer.from_pretrained(str(checkpoint), local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise ModelLoadError(f"loading {checkpoint} with transformers failed ({type(exc).__name__}: {exc}); check "
                             f"that the folder holds a complete ModernBERT checkpoint") from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder
            self.window = int(encoder.config.local_attention) // 2

        def forward(self, input_ids, attention_mask):
            length = input_ids.shape[1]
            keys = attention_mask.bool()[:, None, None, :]
            padding_queries = ~attention_mask.bool()[:, None, :, None]
            position = torch.arange(length, device=input_ids.device)
            near = (position[:, None] - position[None, :]).abs() <= self.window
            full = keys.expand(-1, 1, length, -1) | padding_queries
            masks = {"full_attention": full, "sliding_attention": (full & near) | padding_queries}
            return self.encoder(input_ids=input_ids, attention_mask=masks).last_hidden_state

    ids = torch.full((2, _SAMPLE_TOKENS), int(tokenizer.unk_token_id or 100), dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, _SAMPLE_TOKENS // 2:] = 0  # a padded row: the trace must not specialise on "no padding"
    try:
        with torch.no_grad():
            converted = ov.convert_model(LastHiddenState(model).eval(), example_input=(ids, mask))
    except Exception as exc:
        raise ModelLoadError(f"converting {checkpoint} to OpenVINO failed ({type(exc).__name__}: {exc})") from exc
    for port, name in zip(converted.inputs, ("input_ids", "attention_mask")):
        port.get_tensor().set_names({name})
    converted.outputs[0].get_tensor().set_names({"last_hidden_state"})
    converted.reshape({port.get_any_name(): ov.PartialShape([-1, -1]) for port in converted.inputs})
    ov.save_model(converted, out / "openvino_model.xml", compress_to_fp16=False)
    tokenizer.save_pretrained(str(out))
    config.save_pretrained(str(out))
