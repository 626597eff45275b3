"""Specification of dl_workshop.reproducibility's comparison across CPUs (chapter 12).

The facts that the chapter's section "Another CPU: where exactness ends" explains are tested
here, so that a JAX upgrade that changes one fails, naming it, before the page becomes wrong.
(The fingerprint and the fresh-process runs are specified in tests/test_key_hygiene.py.)
"""

from __future__ import annotations

import filelock
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop import reproducibility
from dl_workshop.cpus import ISA_WITHOUT_FMA, host_cpu_flags, on_x86
from dl_workshop.reproducibility import ulp_distance

X86 = on_x86()


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


@pytest.fixture(scope="session")
def two_cpus(run_folder) -> dict[str, dict[str, np.ndarray]]:
    """on_two_cpus once per run: the first pytest-xdist worker that needs it saves it (.npz) for the other."""
    saved = run_folder / "two-cpus"
    with filelock.FileLock(run_folder / "two-cpus.lock"):
        if not saved.exists():
            found = reproducibility.on_two_cpus(2026, size=20_000, num_steps=300)
            saved.mkdir()
            for name, results in found.items():
                np.savez(saved / f"{name}.npz", **results)
    found = {}
    for path in saved.glob("*.npz"):
        with np.load(path) as arrays:
            found[path.stem] = dict(arrays)
    return found


def test_on_two_cpus_the_process_for_this_cpu_computes_what_this_process_does(two_cpus):
    here = reproducibility.cpu_results(2026, size=20_000, num_steps=300)
    assert sorted(two_cpus["this CPU"]) == sorted(here)
    for name, value in two_cpus["this CPU"].items():
        assert np.array_equal(value, here[name]), name


@pytest.mark.skipif(not X86, reason="--xla_cpu_max_isa names x86 instruction sets")
def test_without_fma_keys_bits_the_normals_uniforms_and_integer_walks_stay_identical(two_cpus):
    here, older = two_cpus["this CPU"], two_cpus[ISA_WITHOUT_FMA]
    for name in ("keys", "bits", "uniform (-1, 1)", "grid walk"):
        assert np.array_equal(here[name], older[name]), f"{name} changed without FMA"


@pytest.mark.skipif(not X86 or "fma" not in host_cpu_flags(), reason="needs an x86 CPU with FMA to take it away")
def test_without_fma_normals_and_scaled_uniforms_differ_in_the_last_bits_and_loop_equals_scan(two_cpus):
    here, older = two_cpus["this CPU"], two_cpus[ISA_WITHOUT_FMA]
    ulps = ulp_distance(here["normal"], older["normal"])
    assert 0 < (ulps > 0).mean() < 0.1 and ulps.max() <= 4
    assert not np.array_equal(here["uniform (0.1, 0.7)"], older["uniform (0.1, 0.7)"])
    assert not np.array_equal(here["loop walk"], here["scan walk"])  # FMA in the compiled scan
    assert np.array_equal(older["loop walk"], older["scan walk"])  # nothing to fuse
    assert 0 < np.abs(here["walk"] - older["walk"]).max() < 1e-3
