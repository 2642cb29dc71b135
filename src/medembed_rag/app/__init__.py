"""The applications on top: the ``medembed-rag`` command and the demo."""

from .cli import main

__all__ = ["main"]
