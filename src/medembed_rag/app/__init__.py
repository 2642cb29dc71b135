"""The applications on top: the ``medembed-rag`` command (:mod:`.cli`, :mod:`.commands`) and the demo."""

__all__ = ["main"]


def __getattr__(name: str):
    # Not imported eagerly: ``python -m medembed_rag.app.cli`` must find the module not yet loaded.
    if name == "main":
        from .cli import main

        return main
    raise AttributeError(f"module 'medembed_rag.app' has no attribute {name!r}")
