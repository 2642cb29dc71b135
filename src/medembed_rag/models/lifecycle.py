"""The one lifecycle of every model medembed-rag runs (encoder, reranker, local LLM), after fastembed's
``OnnxModel``: cheap construction, a pinned source, a cache variant, an export run once under a lock (quietly,
with one progress bar of its own), a load on first use guarded by a lock, and pickling without the loaded model.

A subclass says what its task is, how to export a checkpoint (:meth:`LazyModel._export`) and how to build the
loaded model from a cache entry (:meth:`LazyModel._build`); everything else is here.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any, ClassVar

from .cache import ensure_ir
from .export import quiet_export
from .source import ModelSource, resolve_source

logger = logging.getLogger(__name__)

_GENERIC_FOLDERS = frozenset({"model", "models", "checkpoint", "weights", "snapshot", "hf", "export"})


def pinned_source(model: str | os.PathLike, revision: str | None, registered: str | None, *,
                  stacklevel: int = 3) -> ModelSource:
    """Resolves ``model`` (a folder or a hub id) at ``revision`` or the registry's pinned ``registered`` one.

    A hub model with neither loads ``main`` with a :class:`UserWarning`: the model could change under an index.
    """
    pinned = revision or registered
    source = resolve_source(model, pinned)
    if not source.is_local and pinned is None:
        warnings.warn(
            f"{model} is loaded without a pinned revision (from 'main'); pass revision='<commit>' so "
            f"the model cannot change under an existing index.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return source


class LazyModel:
    """Base of the lazily loaded OpenVINO models (see the module docstring).

    Subclasses set :attr:`task`, call :meth:`_init_lazy` from ``__init__``, and implement :meth:`_export` and
    :meth:`_build`; :attr:`variant` names the cache entry (default ``fp32``).
    """

    task: ClassVar[str]
    label: ClassVar[str] = "model"

    def _init_lazy(self, source: ModelSource | None, cache_dir: str | os.PathLike | None,
                   show_progress: bool | None = None) -> None:
        self._source = source
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.show_progress = show_progress
        self._loaded: Any = None
        self._folder: Path | None = None
        self._lock = threading.Lock()
        self.exports_run = 0
        """How many exports this model ran (0 when it loaded from the cache)."""

    # ------------------------------------------------------------------ what subclasses provide
    @property
    def variant(self) -> str:
        """What distinguishes this model's cache entry from other IRs of the same checkpoint."""
        return "fp32"

    def _model_source(self) -> ModelSource:
        """The checkpoint (a subclass whose source is found only at load time overrides this)."""
        return self._source

    def _export(self, checkpoint: Path, out: Path) -> None:
        raise NotImplementedError

    def _build(self, folder: Path) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ the lifecycle
    @property
    def model_id(self) -> str:
        """The hub id, or the resolved path of a local folder."""
        return self._model_source().model_id

    def _display_name(self) -> str:
        """The model's name in progress lines: the hub name, or a local folder's (with its parent when generic)."""
        if not self._model_source().is_local:
            return self.model_id.split("/")[-1]
        folder = Path(self.model_id)
        return f"{folder.parent.name}/{folder.name}" if folder.name.lower() in _GENERIC_FOLDERS else folder.name

    def _export_quietly(self, checkpoint: Path, out: Path) -> None:
        with quiet_export(f"exporting {self._display_name()} to OpenVINO (once)",
                          show=self.show_progress is not False):
            self._export(checkpoint, out)

    def _count_export(self) -> None:
        self.exports_run += 1
        logger.info("no cached OpenVINO %s for %s (%s): exporting it once", self.label, self.model_id, self.variant)

    def _ensure_export(self) -> Path:
        return ensure_ir(self._model_source(), task=self.task, variant=self.variant, cache_dir=self.cache_dir,
                         export=self._export_quietly, on_export=self._count_export)

    @property
    def cache_folder(self) -> Path:
        """The verified cache entry of this model and variant (exported first if absent; not compiled)."""
        return self._folder if self._folder is not None else self._ensure_export()

    def load(self) -> Any:
        """Loads the model now (exporting it first if the cache has no valid copy) and returns it."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    folder = self._ensure_export()
                    self._loaded = self._build(folder)
                    self._folder = folder
                    logger.debug("loaded %s from %s", self.model_id, folder)
        return self._loaded

    # ------------------------------------------------------------------ pickling (Spark, multiprocessing)
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_loaded"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
