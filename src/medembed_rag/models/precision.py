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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

        # an ISA cap on oneDNN (ONEDNN_MAX_CPU_ISA) changes which kernels run: it is another CPU kind
        cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
        text = f"{self.describe()}\0{ov.get_version()}\0{platform.machine()}" + (f"\0isa={cap}" if cap else "")
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

    def make() -> PrecisionDecision:
        if features.bf16:
            logger.info("measuring fp32 against bf16 once for %s on this CPU (a few seconds)", folder.name)
        decision = decide(features, measure or (lambda: measure_float_precisions(folder)))
        logger.info("precision auto for %s: %s (%s)", folder.name, decision.precision, decision.reason)
        return decision

    return _cached(decision_path(folder, features), PrecisionDecision.from_json, make)


def _cached(path: Path, parse: Callable[[str], Any], make: Callable[[], Any]) -> Any:
    """The decision stored at ``path``, or ``make()``'s, written there atomically (an unreadable file is
    decided again, not trusted)."""
    if path.is_file():
        try:
            return parse(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            logger.warning("unreadable decision %s; deciding again", path.name)
    decision = make()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(decision.to_json(), encoding="utf-8")
    os.replace(tmp, path)
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
    return time_ir(find_xml(folder), precision, feed, repeats)


def measure_float_precisions(folder: Path) -> Measurement:
    """Times the sample at fp32 and bf16 (best of two after a warm-up) and compares their outputs."""
    feed = sample_inputs(folder)
    fp32_speed, fp32_out = time_precision(folder, "fp32", feed)
    bf16_speed, bf16_out = time_precision(folder, "bf16", feed)
    return Measurement(fp32_speed, bf16_speed, _compare(fp32_out.astype(np.float32), bf16_out.astype(np.float32)))


# ---------------------------------------------------------------------------------------------- int8 schemes
# ``int8`` has more than one way to run, and which is fastest depends on the CPU's int8 instructions: static
# int8 (weights and activations, NNCF ``quantize``) wins where the CPU has int8 dot products (VNNI, AMX) and
# was measured 0.8x fp32 on an AVX2-only Zen 3; weight-only int8 (NNCF ``compress_weights``) computes in
# float from int8 weights (a smaller model, near-fp32 speed). The export builds both side by side in the cache
# entry (``candidates/``), with the fp32 IR they came from; the first load on a CPU kind measures them on the
# same sample as ``auto``, drops any whose vectors drift from fp32's, and keeps the fastest. The decision is
# cached per (IR, CPU kind, OpenVINO version) beside the entry.

INT8_SCHEMES = ("static", "weights")
MIN_INT8_COSINE = 0.98  # an int8 candidate's first-token and mean vectors vs fp32's on the sample
FP32_FALLBACK = 1.0 / MIN_SPEEDUP  # below this ratio to fp32 the fp32 IR runs instead (and the user is told)
CANDIDATES = "candidates"
_warned: set[str] = set()


def int8_candidates(folder: Path) -> dict[str, Path]:
    """The IRs of an int8 cache entry: ``static`` (the entry's own IR), and ``weights`` and ``fp32`` when the
    export built them (entries exported before candidates existed have ``static`` only)."""
    found = {"static": find_xml(folder)}
    for name in ("weights", "fp32"):
        xml = folder / CANDIDATES / name / "openvino_model.xml"
        if xml.is_file():
            found[name] = xml
    return found


@dataclass(frozen=True)
class SchemeMeasurement:
    docs_per_s: float
    min_cosine: float  # against fp32 (1.0 for fp32 itself)


@dataclass(frozen=True)
class Int8Decision:
    """Which int8 scheme runs on one CPU kind for one entry, and why."""

    scheme: str  # "static", "weights", or "fp32" (no int8 candidate both matched fp32 and kept pace with it)
    reason: str
    cpu: str
    measurements: dict[str, SchemeMeasurement] = field(default_factory=dict)
    decided: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    @property
    def int8_faster(self) -> bool | None:
        """Whether the scheme used beats fp32 (``None`` when nothing was measured)."""
        m = self.measurements
        if self.scheme not in m or "fp32" not in m:
            return None
        return self.scheme != "fp32" and m[self.scheme].docs_per_s > m["fp32"].docs_per_s

    def advice(self) -> str:
        """One line for the user: what int8 does on this CPU, and what to use instead when it does not pay."""
        m = self.measurements
        if "fp32" not in m:
            return f"int8 runs the {self.scheme} scheme ({self.reason})"
        ratios = ", ".join(f"{s} {v.docs_per_s / m['fp32'].docs_per_s:.2f}x" for s, v in m.items() if s != "fp32")
        if self.int8_faster:
            return f"int8 ({self.scheme}) is faster than fp32 on this CPU ({ratios} fp32)"
        return (f"int8 is not faster than fp32 on this CPU, {self.cpu} ({ratios} fp32); running {self.scheme}: "
                f"{self.reason}. precision='auto' is the faster choice here.")

    def to_json(self) -> str:
        return json.dumps({"format": _DECISION_FORMAT, **asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Int8Decision:
        data = json.loads(text)
        if data.pop("format", None) != _DECISION_FORMAT:
            raise ValueError("unknown decision format")
        data["measurements"] = {k: SchemeMeasurement(**v) for k, v in data.pop("measurements").items()}
        return cls(**data)


def decide_int8(features: CpuFeatures, candidates: Sequence[str],
                measure: Callable[[], dict[str, SchemeMeasurement]]) -> Int8Decision:
    """The rule: among the int8 candidates whose vectors match fp32's, the fastest; fp32 itself only when every
    matching candidate is clearly slower than it (or none matches)."""
    cpu = features.describe()
    if set(candidates) <= {"static"} or "fp32" not in candidates:
        return Int8Decision("static", "the cache entry has only the static int8 IR (exported before int8 "
                                      "candidates were built; re-export to let this CPU choose)", cpu)
    m = measure()
    fp32 = m["fp32"].docs_per_s
    matching = [s for s in INT8_SCHEMES if s in m and m[s].min_cosine >= MIN_INT8_COSINE]
    drifted = [f"{s} (cosine {m[s].min_cosine:.4f})" for s in INT8_SCHEMES
               if s in m and s not in matching and m[s].docs_per_s > 0]
    failed = [s for s in INT8_SCHEMES if s in m and m[s].docs_per_s <= 0]
    drift = f"; not used, vectors drift from fp32: {', '.join(drifted)}" if drifted else ""
    drift += f"; not used, does not run on this CPU: {', '.join(failed)}" if failed else ""
    if not matching:
        return Int8Decision("fp32", f"no int8 candidate matches fp32 (cosine >= {MIN_INT8_COSINE}){drift}", cpu, m)
    best = max(matching, key=lambda s: m[s].docs_per_s)
    ratio = m[best].docs_per_s / fp32
    if ratio < FP32_FALLBACK:
        return Int8Decision("fp32", f"the fastest int8 scheme ({best}) runs at {ratio:.2f}x fp32, so the fp32 IR "
                                    f"is used (its vectors are what int8 is checked against){drift}", cpu, m)
    return Int8Decision(best, f"{best} int8 at {ratio:.2f}x fp32, vectors match fp32 (cosine "
                              f"{m[best].min_cosine:.4f}){drift}", cpu, m)


def int8_decision_path(folder: Path, features: CpuFeatures) -> Path:
    return folder.parent / f"{folder.name}.int8-{features.key()}.json"


def resolve_int8_scheme(
    folder: Path,
    *,
    features: CpuFeatures | None = None,
    measure: Callable[[], dict[str, SchemeMeasurement]] | None = None,
) -> Int8Decision:
    """The cached int8 scheme for the entry in ``folder`` on this CPU kind, measuring it the first time; warns
    (once per process and entry) when int8 does not beat fp32 here."""
    features = features or cpu_features()
    path = int8_decision_path(folder, features)

    def make() -> Int8Decision:
        candidates = int8_candidates(folder)
        if len(candidates) > 1:
            logger.info("measuring the int8 schemes once for %s on this CPU (under a minute)", folder.name)
        decision = decide_int8(features, list(candidates), measure or (lambda: measure_int8_candidates(folder)))
        logger.info("int8 for %s: %s (%s)", folder.name, decision.scheme, decision.reason)
        return decision

    decision = _cached(path, Int8Decision.from_json, make)
    if decision.int8_faster is False and str(path) not in _warned:
        _warned.add(str(path))
        logger.warning("%s", decision.advice())
    return decision


def time_ir(xml: Path, precision: str, feed: dict[str, np.ndarray], repeats: int = 2):
    """(documents per second, first output) of one IR file, its float layers at ``precision``."""
    import openvino as ov
    import openvino.properties.hint as hints

    core = ov.Core()
    model = core.read_model(xml)
    names = {port.get_any_name() for port in model.inputs}
    feed = {k: v for k, v in feed.items() if k in names}
    compiled = core.compile_model(model, "CPU", {hints.performance_mode: hints.PerformanceMode.LATENCY,
                                                 hints.inference_precision: ov.Type.bf16 if precision == "bf16" else ov.Type.f32})
    request = compiled.create_infer_request()
    output = request.infer(feed)[compiled.output(0)].copy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        request.infer(feed)
        best = min(best, time.perf_counter() - started)
    return len(next(iter(feed.values()))) / best, output


def measure_int8_candidates(folder: Path) -> dict[str, SchemeMeasurement]:
    """Times every candidate of an int8 entry on the sample (fp32 at fp32; int8 schemes with their float
    layers as ``auto`` decides) and compares each one's vectors with fp32's."""
    feed = sample_inputs(folder)
    candidates = int8_candidates(folder)
    float_layers = resolve_float_precision(folder).precision
    speed, reference = time_ir(candidates["fp32"], "fp32", feed)
    reference = reference.astype(np.float32)
    out = {"fp32": SchemeMeasurement(speed, 1.0)}
    for scheme in INT8_SCHEMES:
        if scheme in candidates:
            try:
                speed, vectors = time_ir(candidates[scheme], float_layers, feed)
            except Exception as exc:  # a kernel this CPU (or an ISA cap) cannot build: the candidate is out
                logger.info("int8 candidate %s does not run here: %s", scheme, type(exc).__name__)
                out[scheme] = SchemeMeasurement(0.0, -1.0)
                continue
            out[scheme] = SchemeMeasurement(speed, _compare(reference, vectors.astype(np.float32)))
    return {k: out[k] for k in ("fp32", *INT8_SCHEMES) if k in out}
