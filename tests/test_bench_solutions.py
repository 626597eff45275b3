"""Specification of benchmarks.solutions: the floors are checked, and the report gives the verdicts.

The bench divides each solution's time by its floor's, the time JAX's samplers
take to make the same draws from the same keys. Before it reports a ratio it
checks that the floor's draws rebuild the solution's outputs bit for bit
(``check_same_draws``; every case, every size, in ``make bench``). These tests
show that the check catches a floor with other draws, run it on one real case
(the others compile for minutes in all: the bench runs them), and check the
report's verdicts. No timing is tested.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from benchmarks import solutions


def fake_case(rebuild) -> solutions.Case:
    """A case whose solution returns 0, 1, 2, ... and whose floor returns the same."""
    return solutions.Case(
        unit="values",
        sizes={"course": 5},
        solution=lambda n: (np.arange, n),
        floor=lambda n: (np.arange, n),
        rebuild=rebuild,
        numpy=lambda n: (np.arange, n),
    )


def test_the_check_passes_when_the_floor_rebuilds_the_solution(monkeypatch):
    monkeypatch.setitem(solutions.CASES, "fake", fake_case(lambda draws: draws))
    assert solutions.check_same_draws("fake", "course") == "checked in this process"


@pytest.mark.parametrize(
    ("rebuild", "difference"),
    [
        (lambda d: d + 1, "5 of 5 values differ"),
        (lambda d: d.astype(np.float64), "float64(5,) rebuilt for int64(5,)"),
        (lambda d: d[:-1], "int64(4,) rebuilt for int64(5,)"),
        (lambda d: (d, d), "2 outputs rebuilt for 1"),
    ],
    ids=["other values", "other dtype", "other shape", "other number of outputs"],
)
def test_the_check_catches_a_floor_with_other_draws(monkeypatch, rebuild, difference):
    monkeypatch.setitem(solutions.CASES, "fake", fake_case(rebuild))
    with pytest.raises(AssertionError, match=re.escape(difference) + ".*does not make the solution.s draws"):
        solutions.check_same_draws("fake", "course")


def test_the_grid_walk_floor_makes_the_draws_of_the_solution(monkeypatch):
    small = dataclasses.replace(solutions.CASES["ex1 grid walk"], sizes={"course": 50})
    monkeypatch.setitem(solutions.CASES, "small grid walk", small)
    assert solutions.check_same_draws("small grid walk", "course") == "checked in this process"


def test_the_report_gives_solution_over_floor_and_the_verdict_at_large_size():
    row = {
        "solution": "ex1 grid walk",
        "size": "large",
        "n": "1,000,000 steps",
        "draws": "two choices",
        "same_draws": "checked in this process",
        "jax_run_s": 0.5,
        "jax_compile_s": 0.1,
        "floor_run_s": 0.4,
        "solution_over_floor": 1.25,
        "solution_over_floor_cpu": 1.0,
        "numpy_run_s": 0.1,
        "jax_over_numpy": 5.0,
    }
    assert "| 1.25 | MISSES target | 1.00 |" in "\n".join(solutions.section([row]))
    meets = {**row, "solution_over_floor": solutions.TARGET}
    assert f"| {solutions.TARGET:.2f} | meets target |" in "\n".join(solutions.section([meets]))
    course = {**row, "size": "course", "loop_run_s": 2.0, "loop_over_jax": 4.0}
    assert "| 1.25 |  | 1.00 |" in "\n".join(solutions.section([course]))  # no verdict at course size
    assert "4x (MISSES target)" in "\n".join(solutions.section([course]))
