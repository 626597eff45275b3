"""Specification of dl_workshop.reproducibility's comparison across CPUs (chapter 12).

The facts that the chapter's section "Another CPU: where exactness ends" explains are tested
here, so that a JAX upgrade that changes one fails, naming it, before the page becomes wrong.
(The fingerprint and the fresh-process runs are specified in tests/test_key_hygiene.py.)
"""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop import reproducibility
from dl_workshop.reproducibility import cap_changes_nothing, cpu_environment, host_cpu_flags, ulp_distance

X86 = reproducibility.on_x86()


def test_isa_cap_reads_the_last_cap_in_the_flags():
    assert reproducibility.isa_cap(None) is None
    assert reproducibility.isa_cap("--xla_force_host_platform_device_count=2") is None
    assert reproducibility.isa_cap("--xla_cpu_max_isa=avx2") == "AVX2"
    assert reproducibility.isa_cap("--xla_cpu_max_isa=AVX2 --xla_cpu_max_isa=AVX") == "AVX"


def test_the_isa_without_fma_is_one_of_those_without_fma():
    assert reproducibility.ISA_WITHOUT_FMA in reproducibility.ISAS_WITHOUT_FMA
    assert "AVX2" not in reproducibility.ISAS_WITHOUT_FMA


def test_a_cap_changes_nothing_on_a_cpu_without_a_newer_instruction_set():
    zen2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
    skylake_x = zen2 | {"avx512f"}
    assert cap_changes_nothing("AVX2", zen2) and not cap_changes_nothing("AVX2", skylake_x)
    assert not cap_changes_nothing("AVX", zen2)
    assert cap_changes_nothing("AVX", frozenset({"sse4_2", "avx"}))  # Sandy Bridge: no AVX2, no FMA
    assert not cap_changes_nothing("AVX512", skylake_x)  # not a cap this project knows: never skipped


def test_a_child_environment_replaces_an_inherited_cap_and_keeps_other_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX2 --xla_cpu_multi_thread_eigen=false")
    assert cpu_environment("AVX")["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false --xla_cpu_max_isa=AVX"
    assert cpu_environment(None)["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false"
    assert cpu_environment(None)["JAX_PLATFORMS"] == "cpu"
    assert os.environ["XLA_FLAGS"].startswith("--xla_cpu_max_isa=AVX2")  # this process is left alone


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="no /proc/cpuinfo on this system")
def test_host_cpu_flags_are_read_from_proc_cpuinfo():
    flags = host_cpu_flags()
    assert flags, "no 'flags' or 'Features' line found in /proc/cpuinfo"
    if X86:
        assert "sse2" in flags  # every x86-64 CPU has it


def test_ulp_distance_counts_floats_between_two_values_across_zero():
    one = np.float32(1.0)
    up = np.nextafter(one, np.float32(2.0))
    tiny = np.nextafter(np.float32(0.0), np.float32(1.0))
    assert ulp_distance([one, up, -tiny, 0.0], [one, one, tiny, -0.0]).tolist() == [0, 1, 2, 0]
    assert ulp_distance(np.float32(2.0), np.float32(1.0)) == 2**23  # every float32 in [1, 2)


def test_ulp_distance_refuses_arrays_of_different_shapes():
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        ulp_distance(np.zeros(2), np.zeros(3))


def test_normal_is_sqrt2_erf_inv_of_the_uniform_on_minus_one_one_from_the_same_key():
    """The chapter's explanation of where normals differ: the transform, not the uniforms."""
    key = random.key(7)
    u = random.uniform(key, (1000,), minval=reproducibility.NORMAL_UNIFORM_LOW, maxval=1.0)
    assert jnp.array_equal(np.float32(np.sqrt(2)) * lax.erf_inv(u), random.normal(key, (1000,)))


def test_cpu_results_has_every_result_the_chapter_names_with_its_shape_and_type():
    found = reproducibility.cpu_results(0, size=16, num_steps=12)
    assert {name: (value.dtype.kind, value.shape) for name, value in found.items()} == {
        "keys": ("u", (16, 2)),
        "bits": ("u", (16,)),
        "uniform (-1, 1)": ("f", (16,)),
        "normal": ("f", (16,)),
        "uniform (0.1, 0.7)": ("f", (16,)),
        "grid walk": ("i", (12, 2)),
        "walk": ("f", (12,)),
        "loop walk": ("f", (100,)),
        "scan walk": ("f", (100,)),
    }
    again = reproducibility.cpu_results(0, size=16, num_steps=12)
    assert all(np.array_equal(found[name], again[name]) for name in found)  # a function of its seed


@pytest.mark.parametrize("argument", ["size", "num_steps"])
def test_cpu_results_refuses_a_size_below_one(argument):
    sizes = {"size": 4, "num_steps": 4, argument: 0}
    with pytest.raises(ValueError, match=f"{argument} must be at least 1, got 0"):
        reproducibility.cpu_results(0, **sizes)


@pytest.fixture(scope="module")
def two_cpus() -> dict[str, dict[str, np.ndarray]]:
    return reproducibility.on_two_cpus(2026, size=20_000, num_steps=300)


def test_on_two_cpus_the_process_for_this_cpu_computes_what_this_process_does(two_cpus):
    here = reproducibility.cpu_results(2026, size=20_000, num_steps=300)
    for name, value in two_cpus["this CPU"].items():
        assert np.array_equal(value, here[name]), name


@pytest.mark.skipif(not X86, reason="--xla_cpu_max_isa names x86 instruction sets")
def test_without_fma_keys_bits_the_normals_uniforms_and_integer_walks_stay_identical(two_cpus):
    here, older = two_cpus["this CPU"], two_cpus[reproducibility.ISA_WITHOUT_FMA]
    for name in ("keys", "bits", "uniform (-1, 1)", "grid walk"):
        assert np.array_equal(here[name], older[name]), f"{name} changed without FMA"


@pytest.mark.skipif(not X86 or "fma" not in host_cpu_flags(), reason="needs an x86 CPU with FMA to take it away")
def test_without_fma_normals_and_scaled_uniforms_differ_in_the_last_bits_and_loop_equals_scan(two_cpus):
    here, older = two_cpus["this CPU"], two_cpus[reproducibility.ISA_WITHOUT_FMA]
    ulps = ulp_distance(here["normal"], older["normal"])
    assert 0 < (ulps > 0).mean() < 0.1 and ulps.max() <= 4
    assert not np.array_equal(here["uniform (0.1, 0.7)"], older["uniform (0.1, 0.7)"])
    assert not np.array_equal(here["loop walk"], here["scan walk"])  # FMA in the compiled scan
    assert np.array_equal(older["loop walk"], older["scan walk"])  # nothing to fuse
    assert 0 < np.abs(here["walk"] - older["walk"]).max() < 1e-3
