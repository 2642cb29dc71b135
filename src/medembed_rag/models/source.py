"""Where a checkpoint comes from: a local folder, or a hub id at a revision (downloaded once, never at run time
when the OpenVINO cache already holds the model)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFoundError, OfflineModelError

_HUB_PATTERNS = [
    "*.json",
    "*.txt",
    "*.model",
    "*.safetensors",
    "pytorch_model.bin",  # some checkpoints (MedCPT) ship only this; transformers loads it weights-only
    "1_Pooling/*",
    "2_Normalize/*",
]


def offline_mode() -> bool:
    """True when ``MEDEMBED_RAG_OFFLINE`` or ``HF_HUB_OFFLINE`` asks for no network."""
    return any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in ("MEDEMBED_RAG_OFFLINE", "HF_HUB_OFFLINE")
    )


def default_cache_dir() -> Path:
    """``$MEDEMBED_RAG_CACHE`` or ``~/.cache/medembed-rag``."""
    env = os.environ.get("MEDEMBED_RAG_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "medembed-rag"


@dataclass(frozen=True)
class ModelSource:
    """Where a checkpoint comes from.

    Attributes:
        model_id: The hub id, or the local folder's resolved path.
        revision: The hub commit (or branch when unpinned) or, for a local folder, ``local-<hash>`` of its
            file names, sizes and modification times.
        local_folder: The folder, for a local model; ``None`` for a hub model not yet downloaded.
    """

    model_id: str
    revision: str
    local_folder: Path | None

    @property
    def is_local(self) -> bool:
        return self.local_folder is not None


def _folder_signature(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        rel = path.relative_to(folder).as_posix()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def looks_like_local_path(model: str) -> bool:
    """A model string that names a folder (exists, or is written as a path) rather than a hub id."""
    return (
        Path(model).expanduser().exists()
        or model.startswith((".", "/", "~"))
        or os.sep in model.strip("/").replace("/", "", 1)
    )


def resolve_source(model: str | os.PathLike, revision: str | None) -> ModelSource:
    """Decides whether ``model`` is a local folder or a hub id, without any network call."""
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
        if not model.startswith((".", "/", "~")):
            model = "./" + model
    if not isinstance(model, str) or not model.strip():
        raise ModelNotFoundError(f"model must be a hub id or a folder path, got {model!r}")
    if looks_like_local_path(model):
        folder = Path(model).expanduser().resolve()
        if not folder.is_dir():
            raise ModelNotFoundError(
                f"model folder {folder} does not exist. Pass an existing folder holding config.json and the "
                f"weights, or a hub id such as 'abhinand/MedEmbed-base-v0.1'."
            )
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(
                f"{folder} has no config.json: it is not a transformers model folder. Point `model` at the "
                f"folder that holds config.json, the tokenizer files and model.safetensors."
            )
        return ModelSource(model_id=str(folder), revision=f"local-{_folder_signature(folder)}", local_folder=folder)
    return ModelSource(model_id=model, revision=revision or "main", local_folder=None)


def download_checkpoint(source: ModelSource) -> Path:
    """Returns a local folder for ``source``, downloading a hub model at its revision when needed.

    Raises:
        OfflineModelError: the model is not in the local hub cache and the hub cannot be reached or
            offline mode is on.
    """
    if source.local_folder is not None:
        return source.local_folder
    from huggingface_hub import snapshot_download

    offline = offline_mode()
    try:
        path = snapshot_download(
            source.model_id,
            revision=source.revision,
            allow_patterns=_HUB_PATTERNS,
            local_files_only=offline,
            etag_timeout=10,
        )
    except Exception as exc:  # the hub client raises many types for "cannot reach it"
        why = "offline mode is on (MEDEMBED_RAG_OFFLINE / HF_HUB_OFFLINE)" if offline else "the hub cannot be reached"
        raise OfflineModelError(
            f"cannot load {source.model_id}@{source.revision}: {why}, and no local copy is cached "
            f"({type(exc).__name__}). Download the model once where the hub is reachable "
            f"(e.g. `medembed-rag export {source.model_id}` or `huggingface-cli download {source.model_id}`), "
            f"or pass a local folder: MedEmbedEncoder(model='/path/to/MedEmbed-base-v0.1')."
        ) from exc
    return Path(path)

