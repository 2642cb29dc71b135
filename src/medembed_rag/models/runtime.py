"""Compiling a cache entry's IR for the CPU, its float layers at the precision asked for (or measured)."""

from __future__ import annotations

from pathlib import Path

from .cache import find_xml
from .precision import int8_candidates, resolve_float_precision, resolve_int8_scheme

def float_precision(folder: Path, precision: str) -> str:
    """The precision the IR's floating-point layers run at: ``fp32`` and ``bf16`` as asked; for ``auto`` and
    ``int8`` the one measured fastest on this CPU (:func:`medembed_rag.models.precision.resolve_float_precision`)."""
    if precision in ("fp32", "bf16"):
        return precision
    return resolve_float_precision(folder).precision


def scheme(folder: Path, precision: str) -> str:
    """What runs for ``precision``: ``"float"`` for auto/fp32/bf16; for int8 the scheme measured fastest on this
    CPU kind among the entry's candidates (``static``, ``weights``, or ``fp32``; see
    :func:`medembed_rag.models.precision.resolve_int8_scheme`)."""
    return resolve_int8_scheme(folder).scheme if precision == "int8" else "float"


def compile_model(folder: Path, precision: str, *, threads: int | None = None):
    """Compiles the entry's IR for the CPU (for int8, the :func:`scheme` chosen on this CPU), its float layers
    at :func:`float_precision`."""
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
    chosen = scheme(folder, precision)
    xml = int8_candidates(folder)[chosen] if precision == "int8" else find_xml(folder)
    if chosen == "fp32":
        config[hints.inference_precision] = ov.Type.f32  # the fallback is fp32, exactly what int8 is checked against
    core = ov.Core()
    return core.compile_model(core.read_model(xml), "CPU", config)

