"""The one export-or-load helper: a checkpoint becomes an OpenVINO IR once, on disk, keyed by
(model, revision, variant); every later start loads that IR with no torch and no hub call.

Used by the encoder (task ``feature-extraction``) and the reranker (``text-classification``).

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
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .._version import __version__
from ..errors import MissingDependencyError, ModelLoadError, ModelNotFoundError, OfflineModelError

logger = logging.getLogger(__name__)

MANIFEST = "medembed-manifest.json"
_MANIFEST_FORMAT = 1
# sentence-transformers files copied beside the IR so settings are read without the source folder.
_ST_FILES = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)
_HUB_PATTERNS = [
    "*.json",
    "*.txt",
    "*.model",
    "*.safetensors",
    "pytorch_model.bin",  # some checkpoints (MedCPT) ship only this; transformers loads it weights-only
    "1_Pooling/*",
    "2_Normalize/*",
]
PRECISIONS = ("auto", "fp32", "bf16", "int8")


def precision_family(precision: str) -> str:
    """``int8`` or ``float``: precisions of one family give vectors that may share an index (auto, fp32, bf16)."""
    return "int8" if precision == "int8" else "float"


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


def export_with_optimum(task: str) -> ExportFn:
    """An :data:`ExportFn` that converts a transformers checkpoint with optimum-intel (needs torch)."""

    def _export(checkpoint: Path, out: Path) -> None:
        try:
            from optimum.exporters.openvino import main_export
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError(
                "exporting a model to OpenVINO needs optimum-intel and torch: pip install 'medembed-rag[export]' "
                "(with PyTorch's CPU build first). A warm cache needs neither."
            ) from exc
        try:
            main_export(
                str(checkpoint),
                output=out,
                task=task,
                framework="pt",
                library_name="transformers",
                trust_remote_code=False,
                local_files_only=True,
            )
        except Exception as exc:
            raise ModelLoadError(
                f"exporting {checkpoint} to OpenVINO failed ({type(exc).__name__}: {exc}). medembed-rag "
                f"supports BERT-family checkpoints; check that the folder holds a complete model."
            ) from exc

    return _export


def quantize_int8(out: Path, calibration_inputs: Sequence[dict]) -> None:
    """Replaces the IR in ``out`` by a statically quantised int8 one (weights and activations, NNCF)."""
    import nncf
    import openvino as ov

    xml = find_xml(out)
    core = ov.Core()
    model = core.read_model(xml)
    quantized = nncf.quantize(
        model,
        nncf.Dataset(list(calibration_inputs)),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(calibration_inputs),
    )
    tmp_xml = out / "int8_tmp.xml"
    ov.save_model(quantized, tmp_xml, compress_to_fp16=False)
    os.replace(tmp_xml, xml)
    os.replace(tmp_xml.with_suffix(".bin"), xml.with_suffix(".bin"))


def find_xml(folder: Path) -> Path:
    candidates = sorted(folder.glob("*.xml"))
    if not candidates:
        raise ModelLoadError(f"no OpenVINO IR (.xml) in {folder}")
    preferred = [p for p in candidates if p.stem in {"openvino_model", "model"}]
    return (preferred or candidates)[0]


def float_precision(folder: Path, precision: str) -> str:
    """The precision the IR's floating-point layers run at: ``fp32`` and ``bf16`` as asked; for ``auto`` and
    ``int8`` the one measured fastest on this CPU (:func:`medembed_rag.models.precision.resolve_float_precision`)."""
    if precision in ("fp32", "bf16"):
        return precision
    from .precision import resolve_float_precision

    return resolve_float_precision(folder).precision


def compile_model(folder: Path, precision: str, *, threads: int | None = None):
    """Compiles the entry's IR for the CPU, its float layers at :func:`float_precision`."""
    import openvino as ov
    import openvino.properties.hint as hints

    config: dict = {
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        hints.inference_precision: ov.Type.bf16 if float_precision(folder, precision) == "bf16" else ov.Type.f32,
    }
    if threads:
        import openvino.properties as props

        config[props.inference_num_threads] = int(threads)
        # A thread budget means other processes share the machine (Spark tasks, server workers). OpenVINO
        # pins its threads to the first cores by default, so such processes would all pile onto core 0
        # (measured: two 1-thread processes ran at half speed); let the OS spread them instead.
        config[hints.enable_cpu_pinning] = False
    core = ov.Core()
    return core.compile_model(core.read_model(find_xml(folder)), "CPU", config)


class PicklesWithoutModel:
    """Mixin for lazy model holders: pickling drops the loaded model (``_loaded``) and the lock (``_lock``)."""

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_loaded"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
