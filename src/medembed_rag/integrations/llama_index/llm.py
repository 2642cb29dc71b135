"""A LlamaIndex LLM over the local answer model (or an OpenAI-compatible server)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback


class MedEmbedLocalLLM(CustomLLM):
    """A LlamaIndex LLM over :mod:`medembed_rag.models.llm` (local SmolLM2 on OpenVINO, or an OpenAI-compatible server).

    Example:
        >>> chat = index.as_chat_engine(chat_mode="condense_plus_context", llm=MedEmbedLocalLLM())
    """

    context_window: int = Field(default=8192, description="Tokens the model reads.")
    num_output: int = Field(default=200, description="Longest answer in tokens.")

    _llm: Any = PrivateAttr()

    def __init__(self, llm: Any = None, **data: Any) -> None:
        super().__init__(**data)
        if llm is None:
            from ...models.llm import LocalLLM

            llm = LocalLLM(max_new_tokens=self.num_output)
        self._llm = llm

    @classmethod
    def class_name(cls) -> str:
        return "MedEmbedLocalLLM"

    @property
    def metadata(self):
        from llama_index.core.llms import LLMMetadata

        return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                           model_name=self._llm.name, is_chat_model=True)

    def _ask(self, messages: list[dict]) -> str:
        return self._llm.chat(messages)

    @llm_chat_callback()
    def chat(self, messages: Sequence[Any], **kwargs: Any):
        from llama_index.core.llms import ChatMessage, ChatResponse

        reply = self._ask([{"role": str(getattr(m.role, "value", m.role)), "content": m.content or ""} for m in messages])
        return ChatResponse(message=ChatMessage(role="assistant", content=reply))

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        from llama_index.core.llms import CompletionResponse

        return CompletionResponse(text=self._ask([{"role": "user", "content": prompt}]))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        response = self.complete(prompt, formatted=formatted, **kwargs)

        def gen():
            yield response

        return gen()


def as_chat(llm: Any):
    """``chat(messages) -> str`` over a LlamaIndex LLM, our LLM classes, or ``None``."""
    if llm is None or not isinstance(llm, CustomLLM):
        return llm

    def chat(messages: list[dict]) -> str:
        from llama_index.core.llms import ChatMessage

        return str(llm.chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]).message.content)

    return chat
