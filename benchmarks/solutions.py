"""Benchmark of the exercise solutions: JAX (compiled) vs the seed's eager loop vs NumPy.

Each solution is timed at course size and at a large size. The eager Python
loop is timed at course size only (at large size it would take hours), and
NumPy's fastest implementation of the same computation at both sizes. Compile
time (first call minus a later call) is reported apart from run time. All
ratios come from one run on one machine, printed beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random

from dl_workshop import jax_idioms
from dl_workshop.performance import time_call, walks_numpy

KEY = random.key(0)
# Compile times here are compilations: JAX's on-disk compilation cache (which
# the Makefile turns on) would load programs compiled by an earlier run.
jax.config.update("jax_enable_compilation_cache", False)


def eager_grid_loop(keys: jax.Array) -> np.ndarray:
    """The seed's loop for exercise 1 (corrected to record positions after each step)."""
    position, history = np.array([0, 0]), []
    for k in keys:
        k1, k2 = random.split(k)
        axis = random.choice(k1, jnp.array([0, 1]))
        direction = random.choice(k2, jnp.array([-1, 1]))
        position = position.copy()
        position[int(axis)] += int(direction)
        history.append(position)
    return np.stack(history)


def eager_stick_loop(key: jax.Array, num_breaks: int, concentration: float) -> np.ndarray:
    """The seed's loop for exercise 2."""
    length, sticks = 1.0, []
    for k in random.split(key, num_breaks):
        piece = length * random.beta(k, a=1, b=concentration)
        sticks.append(piece)
        length = length - piece
    return jnp.array(sticks)


def eager_walks_loop(key: jax.Array, num_walks: int, num_steps: int) -> np.ndarray:
    """The seed's loop for exercise 3: one eager Python loop per walk."""
    walks = []
    for walk_key in random.split(key, num_walks):
        position, walk = 0.0, []
        for k in random.split(walk_key, num_steps):
            walk.append(position)
            position = position + random.normal(k)
        walks.append(walk)
    return np.array(walks)


def numpy_grid(seed: int, num_steps: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    axes = rng.integers(0, 2, num_steps)
    steps = np.zeros((num_steps, 2), dtype=np.int32)
    steps[np.arange(num_steps), axes] = rng.choice(np.array([-1, 1], dtype=np.int32), num_steps)
    return np.cumsum(steps, axis=0)


def numpy_sticks(seed: int, num_breaks: int, concentration: float) -> np.ndarray:
    fractions = np.random.default_rng(seed).beta(1.0, concentration, num_breaks)
    left = np.cumprod(1.0 - fractions)
    return fractions * np.concatenate([[1.0], left[:-1]])


ex1 = jax.jit(jax_idioms.randomness_ex_1)
ex2 = jax.jit(jax_idioms.randomness_ex_2, static_argnums=1)
ex3 = jax.jit(jax_idioms.randomness_ex_3, static_argnums=(1, 2, 3))

# name: (course size, large size, JAX call, eager loop call, NumPy call), sizes as (label, args)
CASES: dict[str, dict[str, Any]] = {
    "ex1 grid walk": {
        "sizes": {"course": 1_000, "large": 1_000_000},
        "jax": lambda n: (ex1, random.split(KEY, n), jnp.array([0, 0])),
        "loop": lambda n: (eager_grid_loop, random.split(KEY, n)),
        "numpy": lambda n: (numpy_grid, 0, n),
        "unit": "steps",
    },
    "ex2 stick-breaking": {
        "sizes": {"course": 30, "large": 100_000},
        "jax": lambda n: (ex2, KEY, n, 5.0),
        "loop": lambda n: (eager_stick_loop, KEY, n, 5.0),
        "numpy": lambda n: (numpy_sticks, 0, n, 5.0),
        "unit": "breaks",
    },
    "ex3 many walks": {
        "sizes": {"course": (20, 1_000), "large": (10_000, 1_000)},
        "jax": lambda n: (ex3, KEY, n[0], jax_idioms.grw_draw, n[1]),
        "loop": lambda n: (eager_walks_loop, KEY, n[0], n[1]),
        "numpy": lambda n: (walks_numpy, 0, n[0], n[1]),
        "unit": "walks x steps",
    },
}


def run_call(call: tuple[Callable[..., Any], ...], repeat: int):
    fn, *args = call
    return time_call(fn, *args, repeat=repeat)


def measure(loop_course: bool = True) -> list[dict[str, Any]]:
    rows = []
    for name, case in CASES.items():
        for label, size in case["sizes"].items():
            jax_timing = run_call(case["jax"](size), repeat=5)
            numpy_timing = run_call(case["numpy"](size), repeat=5)
            row = {
                "solution": name,
                "size": label,
                "n": f"{size} {case['unit']}",
                "jax_run_s": jax_timing.run,
                "jax_compile_s": jax_timing.compile,
                "numpy_run_s": numpy_timing.run,
                "jax_over_numpy": jax_timing.run / numpy_timing.run,
            }
            if label == "course" and loop_course:
                loop_timing = run_call(case["loop"](size), repeat=1)
                row["loop_run_s"] = loop_timing.run
                row["loop_over_jax"] = loop_timing.run / jax_timing.run
            rows.append(row)
            print(row, flush=True)
    return rows
