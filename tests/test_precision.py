"""``precision="auto"``: measured once per (IR, CPU), cached, and right on AMX, bf16-without-AMX and no-bf16 CPUs."""

import json

import pytest

from medembed_rag import MedEmbedEncoder
from medembed_rag.models.precision import (
    CpuFeatures,
    Measurement,
    PrecisionDecision,
    decide,
    decision_path,
    resolve_float_precision,
)

# Flags as /proc/cpuinfo lists them (abridged to what matters).
SAPPHIRE_RAPIDS = CpuFeatures.from_flags("Intel Xeon Platinum 8480+", {"avx512f", "avx512_vnni", "avx512_bf16",
                                                                        "amx_tile", "amx_bf16", "amx_int8"})
ZEN4 = CpuFeatures.from_flags("AMD EPYC 9654", {"avx512f", "avx512_vnni", "avx512_bf16"})
COOPER_LAKE = CpuFeatures.from_flags("Intel Xeon Platinum 8380H", {"avx512f", "avx512_vnni", "avx512_bf16"})
SKYLAKE = CpuFeatures.from_flags("Intel Xeon Gold 6148", {"avx512f"})
LAPTOP = CpuFeatures.from_flags("Intel Core i7-1260P", {"avx2", "avx_vnni"})


def never_called():
    raise AssertionError("measured although the CPU has no bf16")


def test_features_are_read_from_the_flags():
    assert (SAPPHIRE_RAPIDS.amx, SAPPHIRE_RAPIDS.bf16, SAPPHIRE_RAPIDS.vnni) == (True, True, True)
    assert (ZEN4.amx, ZEN4.bf16, ZEN4.avx512) == (False, True, True)
    assert (SKYLAKE.bf16, SKYLAKE.vnni, SKYLAKE.avx512) == (False, False, True)
    assert (LAPTOP.bf16, LAPTOP.vnni, LAPTOP.avx512) == (False, True, False)
    assert CpuFeatures.from_flags("x", set(), openvino_bf16=True).bf16  # OpenVINO's word counts too
    assert "AMX yes" in SAPPHIRE_RAPIDS.describe() and "BF16 no" in SKYLAKE.describe()


@pytest.mark.parametrize(
    ("cpu", "measured", "expected"),
    [
        (SAPPHIRE_RAPIDS, Measurement(5.5, 10.8, 0.9999), "bf16"),  # AMX: bf16 about twice as fast
        (COOPER_LAKE, Measurement(3.7, 2.2, 0.9999), "fp32"),  # bf16 without AMX, slower: the host
        (ZEN4, Measurement(3.7, 7.9, 0.9999), "bf16"),  # bf16 without AMX, faster: this project's host
        (ZEN4, Measurement(3.7, 3.9, 0.9999), "fp32"),  # a tie keeps the exact precision
        (SAPPHIRE_RAPIDS, Measurement(5.5, 10.8, 0.995), "fp32"),  # fast but its vectors drift: refused
    ],
)
def test_decision_follows_the_measurement_on_cpus_with_bf16(cpu, measured, expected):
    decision = decide(cpu, lambda: measured)
    assert decision.precision == expected and decision.measurement == measured
    assert f"{measured.bf16_docs_per_s:.2f}" in decision.reason and decision.cpu == cpu.describe()


@pytest.mark.parametrize("cpu", [SKYLAKE, LAPTOP])
def test_cpus_without_bf16_run_fp32_without_measuring(cpu):
    decision = decide(cpu, never_called)
    assert decision.precision == "fp32" and decision.measurement is None and "no bf16" in decision.reason


def test_the_decision_is_cached_and_a_second_start_does_not_measure(tmp_path):
    folder = tmp_path / "model--fp32"
    folder.mkdir()
    calls = []

    def measure():
        calls.append(1)
        return Measurement(3.7, 7.9, 0.99998)

    first = resolve_float_precision(folder, features=ZEN4, measure=measure)
    second = resolve_float_precision(folder, features=ZEN4, measure=never_called)
    assert first == second and first.precision == "bf16" and calls == [1]
    # Another CPU kind (a copied cache, a different host) decides for itself.
    assert resolve_float_precision(folder, features=COOPER_LAKE, measure=lambda: Measurement(3.7, 2.2, 1.0)
                                   ).precision == "fp32"
    # A damaged decision file is decided again, not trusted.
    decision_path(folder, ZEN4).write_text("{not json")
    assert resolve_float_precision(folder, features=ZEN4, measure=measure).precision == "bf16" and len(calls) == 2
    assert PrecisionDecision.from_json(decision_path(folder, ZEN4).read_text()) == resolve_float_precision(
        folder, features=ZEN4, measure=never_called)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["auto", "int8"])
def test_the_compiled_model_runs_at_the_decided_precision(standin_path, cache_dir, precision):
    encoder = MedEmbedEncoder(standin_path, precision=precision, cache_dir=cache_dir)
    folder = encoder.cache_folder  # the export, found or made, without compiling
    assert encoder._loaded is None and (folder / "medembed-manifest.json").is_file()
    encoder.load()
    assert encoder.cache_folder == folder
    decision = resolve_float_precision(encoder.cache_folder, measure=never_called if precision == "auto" else None)
    saved = json.loads(next(encoder.cache_folder.parent.glob(encoder.cache_folder.name + ".auto-*.json")).read_text())
    assert saved["precision"] == decision.precision
    compiled = encoder.load().compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
    assert compiled == decision.precision.replace("fp32", "f32")
    assert encoder.fingerprint["precision_family"] == ("int8" if precision == "int8" else "float")


@pytest.mark.slow
def test_forced_bf16_and_fp32(standin_path, cache_dir, encoder):
    from medembed_rag.models.precision import cpu_features

    bf16 = MedEmbedEncoder(standin_path, precision="bf16", cache_dir=cache_dir)
    expected = "bf16" if cpu_features().bf16 else "f32"  # OpenVINO falls back to f32 where the CPU has no bf16
    assert bf16.load().compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == expected
    assert encoder.load().compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    assert bf16.fingerprint["precision_family"] == encoder.fingerprint["precision_family"] == "float"
    texts = ["Warfarin needs regular INR blood tests.", "Metformin is taken with meals."]
    cosine = (bf16.encode_documents(texts) * encoder.encode_documents(texts)).sum(1)
    assert cosine.min() > 0.99


# ------------------------------------------------------------------ int8 schemes (issue 27)
from medembed_rag.models.precision import (  # noqa: E402
    Int8Decision,
    SchemeMeasurement,
    decide_int8,
    int8_candidates,
    int8_decision_path,
    resolve_int8_scheme,
)

ZEN3 = CpuFeatures.from_flags("AMD EPYC 7B13", {"avx2", "fma"})  # AVX2 only: no AVX-512, no VNNI
ALL = ["static", "weights", "fp32"]


def _m(fp32, static, weights, static_cos=0.995, weights_cos=0.9999):
    return {"fp32": SchemeMeasurement(fp32, 1.0), "static": SchemeMeasurement(static, static_cos),
            "weights": SchemeMeasurement(weights, weights_cos)}


def test_int8_picks_the_fastest_candidate_that_matches_fp32():
    assert decide_int8(ZEN4, ALL, lambda: _m(1.0, 3.5, 1.1)).scheme == "static"  # VNNI: static int8 wins
    avx2 = decide_int8(ZEN3, ALL, lambda: _m(1.56, 1.27, 1.70))  # the Zen 3 figures for static
    assert avx2.scheme == "weights" and avx2.int8_faster
    # a candidate whose vectors drift is never chosen, however fast
    drifting = decide_int8(ZEN4, ALL, lambda: _m(1.0, 9.0, 1.2, static_cos=0.6))
    assert drifting.scheme == "weights" and "drift" in drifting.reason and "static (cosine 0.6000)" in drifting.reason
    none_match = decide_int8(ZEN4, ALL, lambda: _m(1.0, 9.0, 9.0, static_cos=0.5, weights_cos=0.7))
    assert none_match.scheme == "fp32"
    # an entry exported before candidates existed keeps its static IR, unmeasured
    old = decide_int8(ZEN3, ["static"], never_called)
    assert old.scheme == "static" and old.int8_faster is None and "re-export" in old.reason


def test_int8_slower_than_fp32_warns_once_naming_the_cpu_and_the_ratio(tmp_path, caplog):
    folder = tmp_path / "model--int8"
    folder.mkdir()
    (folder / "openvino_model.xml").write_text("<net/>")
    for name in ("weights", "fp32"):
        (folder / "candidates" / name).mkdir(parents=True)
        (folder / "candidates" / name / "openvino_model.xml").write_text("<net/>")
    assert set(int8_candidates(folder)) == set(ALL)
    with caplog.at_level("WARNING", logger="medembed_rag.models.precision"):
        decision = resolve_int8_scheme(folder, features=ZEN3, measure=lambda: _m(1.56, 1.27, 1.50))
        resolve_int8_scheme(folder, features=ZEN3, measure=never_called)  # cached; and warned only once
    warnings_ = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert decision.scheme == "weights" and decision.int8_faster is False
    assert len(warnings_) == 1 and "AMD EPYC 7B13" in warnings_[0] and "VNNI no" in warnings_[0]
    assert "static 0.81x" in warnings_[0] and "weights 0.96x" in warnings_[0] and "precision='auto'" in warnings_[0]
    # clearly slower than fp32: the fp32 IR runs, and the decision says so
    slow = decide_int8(ZEN3, ALL, lambda: _m(1.56, 1.0, 1.2))
    assert slow.scheme == "fp32" and "0.77x fp32" in slow.reason and not slow.int8_faster


def test_the_int8_decision_is_cached_and_reused_by_another_process(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "model--int8"
    (folder / "candidates" / "fp32").mkdir(parents=True)
    (folder / "openvino_model.xml").write_text("<net/>")
    (folder / "candidates" / "fp32" / "openvino_model.xml").write_text("<net/>")
    first = resolve_int8_scheme(folder, features=ZEN3, measure=lambda: {
        "fp32": SchemeMeasurement(1.0, 1.0), "static": SchemeMeasurement(1.3, 0.995)})
    code = ("import sys; from medembed_rag.models.precision import CpuFeatures, resolve_int8_scheme\n"
            "def boom(): raise SystemExit('measured again')\n"
            "cpu = CpuFeatures.from_flags('AMD EPYC 7B13', {'avx2', 'fma'})\n"
            f"print(resolve_int8_scheme(__import__('pathlib').Path({str(folder)!r}), features=cpu, measure=boom).to_json())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    assert Int8Decision.from_json(out.stdout) == first and first.scheme == "static"
    assert int8_decision_path(folder, ZEN3).is_file() and int8_decision_path(folder, ZEN4) != int8_decision_path(folder, ZEN3)


@pytest.mark.slow
def test_int8_export_builds_candidates_and_the_fingerprint_records_the_scheme(standin_path, cache_dir, encoder):
    enc = MedEmbedEncoder(standin_path, precision="int8", cache_dir=cache_dir)
    folder = enc.cache_folder
    assert set(int8_candidates(folder)) == set(ALL)  # built side by side at export
    decision = resolve_int8_scheme(folder)  # measured on this host (or read back)
    assert set(decision.measurements) == set(ALL)
    assert all(m.min_cosine >= 0.98 for s, m in decision.measurements.items()), decision.measurements
    fingerprint = enc.fingerprint
    assert fingerprint["scheme"] == decision.scheme and fingerprint["precision_family"] == "int8"
    assert encoder.fingerprint["scheme"] == "float"
    # a deliberately broken candidate (its weights replaced by the fp32 IR of another shape: random) is measured
    # as drifting and never chosen
    import shutil

    broken = folder.parent / (folder.name + "-broken")
    shutil.copytree(folder, broken)
    import numpy as np

    bin_path = broken / "candidates" / "weights" / "openvino_model.bin"
    data = np.fromfile(bin_path, dtype=np.uint8)
    rng = np.random.default_rng(0)
    data[len(data) // 4:] = rng.integers(0, 255, len(data) - len(data) // 4, dtype=np.uint8)
    data.tofile(bin_path)
    redecided = resolve_int8_scheme(broken)
    assert redecided.scheme != "weights" and redecided.measurements["weights"].min_cosine < 0.98
    shutil.rmtree(broken)


@pytest.mark.slow
def test_info_prints_the_int8_advice(standin_path, cache_dir):
    import subprocess
    import sys

    MedEmbedEncoder(standin_path, precision="int8", cache_dir=cache_dir).load()
    out = subprocess.run([sys.executable, "-m", "medembed_rag.app.cli", "info", "--model", str(standin_path),
                          "--int8", "--cache-dir", str(cache_dir)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if "precision int8 -> " in x)
    assert "fp32" in line and ("faster than fp32" in line or "not faster than fp32" in line)
    rows = {x.split()[0]: float(x.split()[1]) for x in out.stdout.splitlines() if x.startswith("  ")}
    assert any(k.startswith("int8[") for k in rows) and rows["fp32"] > 0


def test_an_isa_cap_is_another_cpu_kind(monkeypatch):
    plain = ZEN4.key()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert ZEN4.key() != plain  # decisions measured under a cap are not reused without it, nor the reverse
