"""The OpenVINO IR cache: a checkpoint becomes an IR once, on disk, keyed by (model, revision, task, variant);
every later start loads that IR with no torch and no hub call.

A cache entry is a folder written under a temporary name and renamed into place only after its
manifest (a SHA-256 of every file) is written, so an export killed half-way never looks finished.
Before an entry is used, the manifest is checked; a missing, partial or tampered entry is deleted and
rebuilt. Exports of the same entry from several processes are serialised by a file lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from .._version import __version__
from ..errors import MissingDependencyError, ModelLoadError
from .source import ModelSource, default_cache_dir, download_checkpoint

logger = logging.getLogger(__name__)

MANIFEST = "medembed-manifest.json"
_MANIFEST_FORMAT = 1
# sentence-transformers files copied beside the IR so settings are read without the source folder.
_ST_FILES = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-80:]


def entry_dir(cache_dir: Path, source: ModelSource, task: str, variant: str) -> Path:
    """The cache folder for one (model, revision, task, variant)."""
    name = Path(source.model_id).name if source.is_local else source.model_id.replace("/", "--")
    key = hashlib.sha256(f"{source.model_id}\0{source.revision}\0{task}\0{variant}".encode()).hexdigest()[:10]
    return cache_dir / "openvino" / f"{_slug(name)}--{_slug(source.revision)[:20]}--{task}--{variant}--{key}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(folder: Path, meta: dict) -> None:
    files = {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    payload = {"format": _MANIFEST_FORMAT, "files": files, **meta}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def verify_entry(folder: Path) -> str | None:
    """Returns ``None`` when the entry is complete and untampered, else what is wrong with it."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (the export did not finish)"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError):
        return "unreadable manifest"
    if manifest.get("format") != _MANIFEST_FORMAT or not any(name.endswith(".xml") for name in files):
        return "manifest of an unknown format"
    for rel, info in files.items():
        path = folder / rel
        if not path.is_file():
            return f"file {rel} is missing"
        if path.stat().st_size != info["size"]:
            return f"file {rel} has the wrong size"
        if _sha256(path) != info["sha256"]:
            return f"file {rel} does not match its hash"
    return None


def read_manifest(folder: Path) -> dict:
    """The manifest of a verified entry."""
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


ExportFn = Callable[[Path, Path], None]
"""Writes an IR for the checkpoint folder (first argument) into the output folder (second)."""


def ensure_ir(
    source: ModelSource,
    *,
    task: str,
    variant: str,
    cache_dir: Path | None = None,
    export: ExportFn,
    on_export: Callable[[], None] | None = None,
) -> Path:
    """Returns a verified cache entry for ``source``, exporting it first if it is absent or broken.

    Args:
        source: The checkpoint.
        task: The optimum task (``feature-extraction`` or ``text-classification``).
        variant: What distinguishes IRs of one checkpoint (``fp32``, ``int8-...``).
        cache_dir: The cache root (default :func:`default_cache_dir`).
        export: Writes the IR into a folder, given the checkpoint folder.
        on_export: Called when an export is about to run (used for progress reporting and tests).
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    final = entry_dir(root, source, task, variant)
    problem = verify_entry(final) if final.exists() else "absent"
    if problem is None:
        return final
    require_export_tools(source, variant, root, problem)  # before anything is downloaded or deleted
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final) + ".lock", timeout=3600):
        problem = verify_entry(final) if final.exists() else "absent"
        if problem is None:  # another process finished it while we waited
            return final
        if problem != "absent":
            logger.warning("OpenVINO cache entry %s is broken (%s); rebuilding it", final, problem)
            shutil.rmtree(final, ignore_errors=True)
        for stale in final.parent.glob(final.name + ".partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        checkpoint = download_checkpoint(source)
        if on_export is not None:
            on_export()
        tmp = final.parent / f"{final.name}.partial-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        started = time.perf_counter()
        try:
            logger.info("exporting %s@%s to OpenVINO (%s, %s)", source.model_id, source.revision, task, variant)
            export(checkpoint, tmp)
            for name in _ST_FILES:
                if (checkpoint / name).is_file():
                    shutil.copy2(checkpoint / name, tmp / name)
            for pool_cfg in checkpoint.glob("*_Pooling/config.json"):
                (tmp / pool_cfg.parent.name).mkdir(exist_ok=True)
                shutil.copy2(pool_cfg, tmp / pool_cfg.parent.name / "config.json")
            _write_manifest(
                tmp,
                {
                    "model_id": source.model_id,
                    "revision": source.revision,
                    "task": task,
                    "variant": variant,
                    "medembed_rag": __version__,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
            )
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        logger.info("export finished in %.1f s: %s", time.perf_counter() - started, final)
    return final


EXPORT_MODULES = ("optimum", "transformers", "torch")


def require_export_tools(source: ModelSource, variant: str, root: Path, problem: str = "absent") -> None:
    """Raises at once when the cache has no usable entry and this install cannot export one.

    The core install runs exported models only; exporting needs the ``[export]`` extra (optimum-intel,
    transformers, torch, and NNCF for int8). Checked without importing any of them.
    """
    import importlib.util

    needed = (*EXPORT_MODULES, *(("nncf",) if variant.startswith("int8") else ()))
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        return
    state = "no OpenVINO export" if problem == "absent" else f"a broken OpenVINO export ({problem})"
    precision = " --precision int8" if variant.startswith("int8") else ""
    raise MissingDependencyError(
        f"the cache {root} holds {state} of {source.model_id} ({variant}), and this install cannot export one "
        f"({', '.join(missing)} not installed: the core install runs exported models only). Either install the "
        f"export tools once, pip install 'medembed-rag[export]' (with PyTorch's CPU build first); or run "
        f"`medembed-rag export {source.model_id}{precision}` where they are installed, copy its cache folder here "
        f"and point cache_dir= (or MEDEMBED_RAG_CACHE) at it."
    )


def find_xml(folder: Path) -> Path:
    candidates = sorted(folder.glob("*.xml"))
    if not candidates:
        raise ModelLoadError(f"no OpenVINO IR (.xml) in {folder}")
    preferred = [p for p in candidates if p.stem in {"openvino_model", "model"}]
    return (preferred or candidates)[0]

