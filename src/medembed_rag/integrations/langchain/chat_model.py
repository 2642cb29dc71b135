"""A LangChain chat model over the local answer model (or an OpenAI-compatible server)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr


class MedEmbedChatModel(BaseChatModel):
    """A LangChain chat model over :mod:`medembed_rag.models.llm` (local SmolLM2 on OpenVINO, or an
    OpenAI-compatible server)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_new_tokens: int = 200
    """Longest answer in tokens."""

    _llm: Any = PrivateAttr()

    def __init__(self, llm: Any = None, **data: Any) -> None:
        super().__init__(**data)
        if llm is None:
            from ...models.llm import LocalLLM

            llm = LocalLLM(max_new_tokens=self.max_new_tokens)
        self._llm = llm

    @property
    def _llm_type(self) -> str:
        return "medembed-local"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        roles = {"human": "user", "ai": "assistant", "system": "system"}
        payload = [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._llm.chat(payload)))])


def as_chat(llm: Any):
    """``chat(messages) -> str`` over a LangChain chat model, our LLM classes, or ``None``."""
    if llm is None or hasattr(llm, "chat") or not hasattr(llm, "invoke"):
        return llm
    roles = {"user": "human", "assistant": "ai", "system": "system"}

    def chat(messages: list[dict]) -> str:
        reply = llm.invoke([(roles[m["role"]], m["content"]) for m in messages])
        return str(getattr(reply, "content", reply))

    return chat
