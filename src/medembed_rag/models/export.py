"""Turning a checkpoint into an OpenVINO IR: optimum-intel's exporter (needs the ``[export]`` extra) and
NNCF's static int8 quantisation."""

from __future__ import annotations

import contextlib
import io
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

