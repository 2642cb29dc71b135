"""Registers :class:`~medembed_rag.integrations.chroma.MedEmbedEmbeddingFunction` with Chroma's embedding-function
registry, without importing Chroma at ``import medembed_rag``.

Chroma looks a persisted embedding function up by name in ``chromadb.utils.embedding_functions`` when a
collection is opened without one. ``import medembed_rag`` calls :func:`register_when_chroma_loads`: if that module
is already imported, the function is registered now; otherwise a one-shot import hook registers it right after
the module runs, before Chroma can read any collection's config. Importing the registry costs about half a
second (Chroma's client and forty embedding-function modules, none of their heavy dependencies), which users who
never touch Chroma do not pay.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys

logger = logging.getLogger(__name__)

REGISTRY = "chromadb.utils.embedding_functions"


def register() -> None:
    """Imports :mod:`medembed_rag.integrations.chroma`, which registers its function as it loads. A failure is
    logged, never raised into Chroma. While that module is itself being imported (it imports Chroma, which can
    fire this hook), nothing is done here: it registers itself once its class exists."""
    try:
        from . import chroma  # noqa: F401  (registers on import)
    except Exception as exc:  # pragma: no cover - Chroma's API changed: say so, keep Chroma working
        logger.warning("could not register the medembed embedding function with Chroma (%s: %s)",
                       type(exc).__name__, exc)


class _AfterChromaRegistry(importlib.abc.MetaPathFinder):
    """Finds Chroma's registry module with the other finders, and registers ours once it has run."""

    def find_spec(self, fullname, path, target=None):
        if fullname != REGISTRY:
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]  # one shot
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            register()

        spec.loader.exec_module = exec_module
        return spec


def register_when_chroma_loads() -> None:
    """Registers now if Chroma's registry is loaded, else as soon as it is (see the module docstring)."""
    if REGISTRY in sys.modules:
        register()
    elif not any(isinstance(f, _AfterChromaRegistry) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterChromaRegistry())
