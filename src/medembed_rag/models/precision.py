"""Which float precision ``auto`` runs at on this CPU: measured once per (model IR, CPU) and cached beside it.

OpenVINO computes in bf16 on every CPU that reports bf16 support. Whether that is faster than fp32 depends on
the CPU, not on its flags alone: with AMX tiles (Intel Xeon since Sapphire Rapids) bf16 is about twice as fast;
on AMD Zen 4 (AVX-512 BF16, no AMX) it was 2.2x faster here; on other CPUs with AVX-512 BF16 and no AMX it was
measured 40% *slower* than fp32. So ``auto`` measures: at the first compile of an IR on a CPU with bf16 support
it runs a short sample (4 texts of 256 tokens) through the IR at fp32 and at bf16, and keeps bf16 only when its
vectors match fp32's (cosine >= 0.999) and it is at least 10% faster. A CPU without bf16 support runs fp32
with no measurement. The decision is written to ``<cache entry>.auto-<cpu key>.json`` and read on every later
start. ``int8`` IRs get the same decision for the layers left in floating point.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..text.medical_texts import MEDICAL_SENTENCES
from .batching import model_inputs
from .cache import find_xml
from .tokenizer import load_tokenizer, pad_token_id

logger = logging.getLogger(__name__)

MIN_COSINE = 0.999
MIN_SPEEDUP = 1.10  # bf16 must beat fp32 by this much: a tie keeps the exact precision
SAMPLE_TEXTS, SAMPLE_TOKENS = 4, 256
_DECISION_FORMAT = 1


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU features that decide how fast each precision runs.

    Attributes:
        name: The CPU's model name.
        avx512: AVX-512 Foundation.
        vnni: VNNI int8 dot products (AVX-512 VNNI or AVX-VNNI).
        bf16: bf16 arithmetic that OpenVINO uses (AVX-512 BF16, AMX-BF16, or OpenVINO reports ``BF16``).
        amx: AMX tiles (AMX-BF16 / AMX-INT8).
    """

    name: str
    avx512: bool
    vnni: bool
    bf16: bool
    amx: bool

    @classmethod
    def from_flags(cls, name: str, flags: set[str] | frozenset[str], openvino_bf16: bool = False) -> CpuFeatures:
        """Reads the features from ``/proc/cpuinfo``-style flags (and OpenVINO's own bf16 capability)."""
        return cls(
            name=name,
            avx512="avx512f" in flags,
            vnni=bool({"avx512_vnni", "avx_vnni"} & flags),
            bf16=openvino_bf16 or bool({"avx512_bf16", "amx_bf16"} & flags),
            amx=bool({"amx_tile", "amx_bf16", "amx_int8"} & flags),
        )

    def describe(self) -> str:
        yes = {True: "yes", False: "no"}
        return (f"{self.name} (AVX-512 {yes[self.avx512]}, VNNI {yes[self.vnni]}, BF16 {yes[self.bf16]}, "
                f"AMX {yes[self.amx]})")

    def key(self) -> str:
        """Names this CPU kind and OpenVINO version in cache file names."""
        import openvino as ov

        text = f"{self.describe()}\0{ov.get_version()}\0{platform.machine()}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _proc_cpuinfo() -> tuple[str, set[str]]:
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux: OpenVINO's own capability list still tells bf16
        pass
    return fields.get("model name") or platform.processor() or platform.machine(), set(fields.get("flags", "").split())


def cpu_features() -> CpuFeatures:
    """This machine's CPU features (``/proc/cpuinfo`` where there is one, plus OpenVINO's capabilities)."""
    import openvino as ov

    name, flags = _proc_cpuinfo()
    try:
        capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # pragma: no cover - an OpenVINO without the CPU plugin cannot run anyway
        capabilities = []
    return CpuFeatures.from_flags(name, flags, openvino_bf16="BF16" in capabilities)


@dataclass(frozen=True)
class Measurement:
    """Documents per second of the sample at each float precision, and how closely bf16 matches fp32."""

    fp32_docs_per_s: float
    bf16_docs_per_s: float
    min_cosine: float


@dataclass(frozen=True)
class PrecisionDecision:
    """What ``auto`` runs at on one CPU for one IR, and why."""

    precision: str  # "fp32" or "bf16"
    reason: str
    cpu: str
    measurement: Measurement | None = None
    decided: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> str:
        return json.dumps({"format": _DECISION_FORMAT, **asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> PrecisionDecision:
        data = json.loads(text)
        if data.pop("format", None) != _DECISION_FORMAT:
            raise ValueError("unknown decision format")
        measurement = data.pop("measurement")
        return cls(**data, measurement=Measurement(**measurement) if measurement else None)


def decide(features: CpuFeatures, measure: Callable[[], Measurement]) -> PrecisionDecision:
    """The rule: fp32 without bf16 support; else bf16 only if it matches fp32 and is clearly faster."""
    cpu = features.describe()
    if not features.bf16:
        return PrecisionDecision("fp32", "the CPU has no bf16 support, so fp32 is the only float precision", cpu)
    m = measure()
    ratio = m.bf16_docs_per_s / m.fp32_docs_per_s
    measured = f"bf16 {m.bf16_docs_per_s:.2f} vs fp32 {m.fp32_docs_per_s:.2f} docs/s ({ratio:.2f}x)"
    if m.min_cosine < MIN_COSINE:
        return PrecisionDecision("fp32", f"bf16 vectors differ from fp32 (cosine {m.min_cosine:.5f} < "
                                         f"{MIN_COSINE}); {measured}", cpu, m)
    if ratio < MIN_SPEEDUP:
        return PrecisionDecision("fp32", f"bf16 is not faster on this CPU: {measured}", cpu, m)
    return PrecisionDecision("bf16", f"bf16 is faster on this CPU and matches fp32 (cosine {m.min_cosine:.5f}): "
                                     f"{measured}", cpu, m)


def decision_path(folder: Path, features: CpuFeatures) -> Path:
    return folder.parent / f"{folder.name}.auto-{features.key()}.json"


def resolve_float_precision(
    folder: Path,
    *,
    features: CpuFeatures | None = None,
    measure: Callable[[], Measurement] | None = None,
) -> PrecisionDecision:
    """The cached decision for the IR in ``folder`` on this CPU, deciding (and measuring) it the first time."""
    features = features or cpu_features()
    path = decision_path(folder, features)
    if path.is_file():
        try:
            return PrecisionDecision.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            logger.warning("unreadable precision decision %s; deciding again", path.name)
    if features.bf16:
        logger.info("measuring fp32 against bf16 once for %s on this CPU (a few seconds)", folder.name)
    decision = decide(features, measure or (lambda: measure_float_precisions(folder)))
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(decision.to_json(), encoding="utf-8")
    os.replace(tmp, path)
    logger.info("precision auto for %s: %s (%s)", folder.name, decision.precision, decision.reason)
    return decision


def sample_inputs(folder: Path) -> dict[str, np.ndarray]:
    """A fixed batch of :data:`SAMPLE_TEXTS` built-in medical texts cut or padded to :data:`SAMPLE_TOKENS`."""
    import random

    tokenizer = load_tokenizer(folder, cache_entry=True)
    tokenizer.enable_truncation(SAMPLE_TOKENS)
    texts = [" ".join(random.Random(i).sample(MEDICAL_SENTENCES, len(MEDICAL_SENTENCES))) for i in range(SAMPLE_TEXTS)]
    return model_inputs(tokenizer.encode_batch(texts), width=SAMPLE_TOKENS, pad_id=pad_token_id(folder, tokenizer))


def _compare(reference: np.ndarray, other: np.ndarray) -> float:
    """Smallest cosine between the two runs' outputs: per text for token vectors (first token and mean), over
    the batch for scores."""

    def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)

    if reference.ndim == 3:
        return float(min(cosines(reference[:, 0], other[:, 0]).min(),
                         cosines(reference.mean(1), other.mean(1)).min()))
    return float(cosines(reference.reshape(1, -1), other.reshape(1, -1)).min())


def time_precision(folder: Path, precision: str, feed: dict[str, np.ndarray], repeats: int = 2):
    """(documents per second, first output) of the IR with its float layers at ``precision`` (``fp32``/``bf16``)."""
    import openvino as ov
    import openvino.properties.hint as hints

    core = ov.Core()
    model = core.read_model(find_xml(folder))
    names = {port.get_any_name() for port in model.inputs}
    feed = {k: v for k, v in feed.items() if k in names}
    compiled = core.compile_model(model, "CPU", {hints.performance_mode: hints.PerformanceMode.LATENCY,
                                                 hints.inference_precision: ov.Type.bf16 if precision == "bf16" else ov.Type.f32})
    request = compiled.create_infer_request()
    output = request.infer(feed)[compiled.output(0)].copy()  # warm-up, and the result compared
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        request.infer(feed)
        best = min(best, time.perf_counter() - started)
    return len(next(iter(feed.values()))) / best, output


def measure_float_precisions(folder: Path) -> Measurement:
    """Times the sample at fp32 and bf16 (best of two after a warm-up) and compares their outputs."""
    feed = sample_inputs(folder)
    fp32_speed, fp32_out = time_precision(folder, "fp32", feed)
    bf16_speed, bf16_out = time_precision(folder, "bf16", feed)
    return Measurement(fp32_speed, bf16_speed, _compare(fp32_out.astype(np.float32), bf16_out.astype(np.float32)))
