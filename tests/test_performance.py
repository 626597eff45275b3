"""Specification of dl_workshop.performance: five ways to compute the same walks."""

from __future__ import annotations

import numpy as np
import pytest
from jax import random

from dl_workshop.jax_idioms import grw_draw
from dl_workshop.performance import (
    Timing,
    machine,
    time_call,
    walks_numpy,
    walks_python_loop,
    walks_scan,
    walks_vmap_cumsum,
    walks_vmap_scan,
)

KEY = random.PRNGKey(3)


def test_the_loop_computes_grw_draw_per_split_key():
    loop = walks_python_loop(KEY, 2, 20)
    for row, k in zip(loop, random.split(KEY, 2)):
        np.testing.assert_allclose(row, grw_draw(k, 20)[1], rtol=0, atol=1e-5)


def test_vmap_of_scan_equals_scan_per_walk_exactly():
    assert np.array_equal(walks_vmap_scan(KEY, 4, 50), walks_scan(KEY, 4, 50))


@pytest.mark.parametrize("fn", [walks_scan, walks_vmap_scan, walks_vmap_cumsum])
def test_jax_versions_agree_with_the_loop_to_round_off(fn):
    result = np.asarray(fn(KEY, 3, 40))
    assert result.shape == (3, 40)
    np.testing.assert_allclose(result, walks_python_loop(KEY, 3, 40), rtol=0, atol=1e-5)


def test_numpy_walks_start_at_zero_and_are_reproducible_from_their_seed():
    walks = walks_numpy(0, 5, 30)
    assert walks.shape == (5, 30)
    assert np.all(walks[:, 0] == 0)
    assert np.array_equal(walks, walks_numpy(0, 5, 30))


def test_time_call_separates_compilation_from_running():
    timing = time_call(walks_vmap_scan, KEY, 2, 7, repeat=2)  # a new shape: compiles once
    assert isinstance(timing, Timing)
    assert 0 < timing.run <= timing.first_call
    assert timing.compile == pytest.approx(timing.first_call - timing.run)


def test_machine_names_the_hardware_and_versions():
    info = machine()
    assert int(info["cores"]) >= 1
    assert info["jax"] and info["numpy"] and info["cpu"]
