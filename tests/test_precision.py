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
