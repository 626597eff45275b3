"""Specification of dl_workshop.performance: seven ways to compute many walks, and their timing."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from jax import random

from dl_workshop import performance
from dl_workshop.jax_idioms import grw_draw

KEY = random.PRNGKey(3)


def test_the_loop_computes_grw_draw_per_split_key():
    loop = performance.walks_python_loop(KEY, 2, 20)
    for row, k in zip(loop, random.split(KEY, 2), strict=True):
        np.testing.assert_allclose(row, grw_draw(k, 20)[1], rtol=0, atol=1e-5)


def test_vmap_of_scan_equals_scan_per_walk_exactly():
    assert np.array_equal(performance.walks_vmap_scan(KEY, 4, 50), performance.walks_scan(KEY, 4, 50))


@pytest.mark.parametrize("name", ["walks_scan", "walks_vmap_scan", "walks_vmap_cumsum"])
def test_jax_versions_agree_with_the_loop_to_round_off(name):
    result = np.asarray(getattr(performance, name)(KEY, 3, 40))
    assert result.shape == (3, 40)
    np.testing.assert_allclose(result, performance.walks_python_loop(KEY, 3, 40), rtol=0, atol=1e-5)


def test_one_key_per_walk_sums_each_walk_keys_draws():
    walks = np.asarray(performance.walks_key_per_walk(KEY, 3, 40))
    assert walks.shape == (3, 40)
    for row, k in zip(walks, random.split(KEY, 3), strict=True):
        expected = np.concatenate([[0.0], np.cumsum(np.asarray(random.normal(k, (40,))))[:-1]])
        np.testing.assert_allclose(row, expected, rtol=0, atol=1e-5)


def test_one_key_for_all_sums_one_batch_of_draws():
    walks = np.asarray(performance.walks_one_key(KEY, 3, 40))
    expected = np.cumsum(np.asarray(random.normal(KEY, (3, 40))), axis=1)
    np.testing.assert_allclose(walks[:, 1:], expected[:, :-1], rtol=0, atol=1e-5)
    assert np.all(walks[:, 0] == 0)


def test_positions_start_at_zero_and_add_every_draw_but_the_last():
    draws = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    assert np.asarray(performance.positions_before_each_step(draws)).tolist() == [[0, 1, 3], [0, 4, 9]]


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (3.14159, "3.1 times as long as"),
        (1.0, "about as long as"),
        (0.96, "about as long as"),
        (0.5, "only 0.50 times as long as"),
    ],
)
def test_compare_times_words_follow_the_ratio(ratio, words):
    assert performance.compare_times(ratio) == words


def test_loglog_slope_of_a_power_law_is_its_exponent():
    sizes = np.array([10.0, 100.0, 1000.0])
    assert performance.loglog_slope(sizes, 3e-6 * sizes**0.8) == pytest.approx(0.8)


def test_numpy_walks_start_at_zero_and_are_reproducible_from_their_seed():
    walks = performance.walks_numpy(0, 5, 30)
    assert walks.shape == (5, 30)
    assert np.all(walks[:, 0] == 0)
    assert np.array_equal(walks, performance.walks_numpy(0, 5, 30))


def test_time_call_separates_compilation_from_running():
    timing = performance.time_call(performance.walks_vmap_scan, KEY, 2, 7, repeat=2)  # a new shape: compiles once
    assert isinstance(timing, performance.Timing)
    assert 0 < timing.run <= timing.first_call
    assert timing.compile == pytest.approx(timing.first_call - timing.run)


def test_time_calls_times_every_call_and_keeps_compilation_apart():
    # New shapes: each compiles on its first call.
    calls = {"scan": (performance.walks_vmap_scan, KEY, 2, 9), "cumsum": (performance.walks_vmap_cumsum, KEY, 2, 9)}
    timings = performance.time_calls(calls, repeat=2)
    assert sorted(timings) == ["cumsum", "scan"]
    for timing in timings.values():
        assert 0 < timing.run <= timing.first_call
        assert timing.cpu is not None and timing.cpu >= 0


def test_machine_names_the_hardware_and_versions():
    info = performance.machine()
    assert int(info["cores"]) >= 1
    assert info["jax"] and info["numpy"] and info["cpu"]


# A program compiled, then called again in the same process after its in-memory compiled code is dropped: a hit of
# JAX's persistent cache (counted by JAX's monitoring events) unless compilation_cache_off is on. In a fresh process,
# with a cache of its own: JAX decides once per process whether it uses the cache.
CACHE_HITS = """
import os, sys
import jax, jax.numpy as jnp
from dl_workshop.performance import compilation_cache_off

hits = []
jax.monitoring.register_event_listener(lambda event, **_: hits.append(event == "/jax/compilation_cache/cache_hits"))
square = jax.jit(lambda x: x * x)


def hit(size=5) -> bool:
    jax.clear_caches()
    start = len(hits)
    square(jnp.arange(float(size))).block_until_ready()
    return any(hits[start:])


square(jnp.arange(5.0)).block_until_ready()  # compiled, and written to the cache
before = hit()
entries = len(os.listdir(sys.argv[1]))
with compilation_cache_off():
    inside = hit()
    hit(size=7)  # a new program: compiled, not written
print(before, inside, len(os.listdir(sys.argv[1])) - entries, hit())
"""


def test_with_the_compilation_cache_off_a_first_call_compiles_and_the_cache_serves_again_after(tmp_path):
    env = {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(tmp_path),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_ENABLE_COMPILATION_CACHE": "true",
    }
    command = [sys.executable, "-c", CACHE_HITS, str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    hit_before, hit_inside, written_inside, hit_after = result.stdout.split()
    assert (hit_before, hit_inside, hit_after) == ("True", "False", "True"), (
        "hits before, inside, after: " + result.stdout
    )
    assert written_inside == "0", f"{written_inside} programs compiled inside the block were written to the cache"
