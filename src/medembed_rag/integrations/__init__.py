"""Framework faces: thin type conversions around the core, one package per framework. Each imports its
framework when imported and names the extra if it is missing:

* ``medembed_rag.integrations.llama_index`` - ``pip install 'medembed-rag[llama-index]'``
* ``medembed_rag.integrations.langchain`` - ``pip install 'medembed-rag[langchain]'``
* ``medembed_rag.integrations.spark`` - ``pip install 'medembed-rag[spark]'``
"""

from __future__ import annotations

import importlib

from ..errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, what: str):
    """Imports ``module`` or raises :class:`MissingDependencyError` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} needs {module.split('.')[0].replace('_', '-')}, which is not installed: "
            f"pip install 'medembed-rag[{extra}]'"
        ) from exc
