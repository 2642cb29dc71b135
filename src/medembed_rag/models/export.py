"""Turning a checkpoint into an OpenVINO IR (needs the ``[export]`` extra): the route chosen per architecture in
one place (:func:`export_checkpoint`: optimum-intel, or :mod:`.export_native` for what it cannot export), NNCF's
static int8 quantisation on the IR, and a quiet export."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import MissingDependencyError, ModelLoadError
from .cache import ExportFn, find_xml

logger = logging.getLogger(__name__)

# Libraries whose own log handlers print during an export (load reports, deprecation notices).
_NOISY_LOGGERS = ("transformers", "optimum", "nncf", "torch", "openvino")


class _ToDebug(logging.Handler):
    """Re-logs a third-party record at DEBUG on this module's logger (kept, not printed)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger.debug("%s: %s", record.name, record.getMessage())


@contextlib.contextmanager
def quiet_export(label: str, *, show: bool = True) -> Iterator[None]:
    """Runs an export with its third-party output kept at DEBUG in the log, and one progress line of its own.

    Python warnings (torch's ``TracerWarning``, deprecations), the log records of transformers, optimum, NNCF,
    torch and OpenVINO (a "LOAD REPORT", deprecation notices), and whatever they print to Python's stdout and
    stderr (their progress bars) are captured and logged at DEBUG on ``medembed_rag.models.export``. One line
    of its own goes to stderr once the export has taken a second: ``label (N s)`` redrawn in place on a
    terminal, then ``label: done in N s`` (``show=False``: none).
    """
    real_stderr = sys.stderr
    terminal = show and real_stderr.isatty()
    started = time.monotonic()
    done = threading.Event()

    def tick() -> None:  # one line, redrawn in place on a terminal once the export has taken a second
        while not done.wait(0.5):
            if terminal and time.monotonic() - started >= 1.0:
                real_stderr.write(f"\r{label} ({time.monotonic() - started:.0f} s)")
                real_stderr.flush()

    ticker = threading.Thread(target=tick, name="medembed-export-progress", daemon=True)
    ticker.start()
    saved = []
    for name in _NOISY_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, lg.handlers[:], lg.propagate))
        lg.handlers, lg.propagate = [_ToDebug()], False
    printed = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed), \
                contextlib.redirect_stderr(printed):
            warnings.simplefilter("always")
            yield
    finally:
        done.set()
        ticker.join()
        elapsed = time.monotonic() - started
        if show and elapsed >= 1.0:
            real_stderr.write(f"{chr(13) if terminal else ''}{label}: done in {elapsed:.0f} s\n")
            real_stderr.flush()
        for lg, handlers, propagate in saved:
            lg.handlers, lg.propagate = handlers, propagate
        for w in caught:
            logger.debug("%s: %s (%s:%s)", w.category.__name__, w.message, w.filename, w.lineno)
        if printed.getvalue().strip():
            logger.debug("printed during the export:\n%s", printed.getvalue())

def export_route(checkpoint: Path) -> str:
    """``native`` for a checkpoint whose ``model_type`` optimum-intel cannot export (ModernBERT), else ``optimum``."""
    from .export_native import NATIVE_MODEL_TYPES

    try:
        model_type = json.loads((checkpoint / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{checkpoint} has no readable config.json ({exc}); it is not a model folder") from exc
    return "native" if model_type in NATIVE_MODEL_TYPES else "optimum"


def export_checkpoint(task: str) -> ExportFn:
    """The :data:`ExportFn` for ``task`` (``feature-extraction`` or ``text-classification``), by architecture."""

    def _export(checkpoint: Path, out: Path) -> None:
        if export_route(checkpoint) == "optimum":
            export_with_optimum(task)(checkpoint, out)
            return
        if task != "feature-extraction":
            raise ModelLoadError(f"{checkpoint} is a ModernBERT checkpoint: medembed-rag exports those as embedding "
                                 f"models only, not as {task} (reranker) models")
        from .export_native import export_modernbert

        export_modernbert(checkpoint, out)

    return _export


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
                f"supports BERT-family and ModernBERT checkpoints; check that the folder holds a complete model."
            ) from exc

    return _export


def quantize_int8(out: Path, calibration_inputs: Sequence[dict]) -> None:
    """Replaces the IR in ``out`` by a statically quantised int8 one (weights and activations, NNCF), and keeps
    the other int8 candidates beside it (``candidates/weights``: weight-only int8; ``candidates/fp32``: the IR
    they came from), so the loading machine can measure which runs fastest on its CPU
    (:func:`medembed_rag.models.precision.resolve_int8_scheme`)."""
    import nncf
    import openvino as ov

    from .precision import CANDIDATES

    xml = find_xml(out)
    core = ov.Core()
    model = core.read_model(xml)
    names = {port.get_any_name() for port in model.inputs}  # BERT takes token_type_ids, ModernBERT does not
    samples = [{k: v for k, v in sample.items() if k in names} for sample in calibration_inputs]
    for name, candidate in (("fp32", model),
                            ("weights", nncf.compress_weights(model.clone(), mode=nncf.CompressWeightsMode.INT8_SYM))):
        folder = out / CANDIDATES / name
        folder.mkdir(parents=True, exist_ok=True)
        ov.save_model(candidate, folder / "openvino_model.xml", compress_to_fp16=False)
    quantized = nncf.quantize(
        model,
        nncf.Dataset(samples),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(samples),
    )
    tmp_xml = out / "int8_tmp.xml"
    ov.save_model(quantized, tmp_xml, compress_to_fp16=False)
    os.replace(tmp_xml, xml)
    os.replace(tmp_xml.with_suffix(".bin"), xml.with_suffix(".bin"))
