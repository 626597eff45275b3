"""Benchmark of the exercise solutions against their bit-exact floor, the seed's eager loop and NumPy.

A solution's **floor** is the time JAX's own samplers take to make the same
draws from the same keys, with nothing around them. A solution that gives the
book's results bit for bit cannot skip these draws, so ``solution / floor`` is
what the rest of the solution costs. At every size, :func:`check_same_draws`
asserts that the floor makes the solution's very draws: the solution's outputs,
rebuilt from the floor's draws, must equal them bit for bit. A solution that
fuses the last multiplication of a normal draw with the arithmetic that follows
(FMA: see the book's section "Another CPU: where exactness ends") never rounds
its draws on their own on a CPU with FMA: its check then runs in a fresh process
whose XLA compiles for a CPU without FMA (``--xla_cpu_max_isa=AVX``).

The seed's eager loop is timed at course size only (at large size it would take
hours). NumPy draws other numbers, so no bit-exact solution can be held to it.

Usage: ``python -m benchmarks.solutions`` measures and prints the section of the
report; ``python -m benchmarks.solutions --check NAME SIZE`` runs one check of the draws.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax, random

from dl_workshop import jax_idioms
from dl_workshop.cpus import ISA_WITHOUT_FMA, cpu_environment, host_cpu_flags, on_x86
from dl_workshop.performance import compilation_cache_off, machine, time_call, time_calls, walks_numpy

ROOT = Path(__file__).resolve().parents[1]
KEY = random.key(0)
DRIFT, VOLATILITY, CONCENTRATION = 0.1, 0.5, 5.0
TARGET = 1.2  # solution / floor at large size
LOOP_TARGET = 100.0  # eager loop / solution at course size
REPEAT = 7


# --- The seed's eager loops ------------------------------------------------------


def eager_grid_loop(keys: jax.Array) -> np.ndarray:
    """The seed's loop for exercise 1 (corrected to record positions after each step)."""
    position, history = np.array([0, 0]), []
    for k in keys:
        axis, direction = grid_step_draws(k)  # the seed's split of k, then its two choices
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


# --- NumPy: other numbers, same distributions ----------------------------------


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


def numpy_drift(seed: int, num_steps: int, drift: float, volatility: float) -> np.ndarray:
    draws = np.random.default_rng(seed).standard_normal(num_steps, dtype=np.float32)
    return np.cumsum(np.float32(drift) + np.float32(volatility) * draws)


def numpy_msd(seed: int, num_walks: int, num_steps: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    axes = rng.integers(0, 2, (num_walks, num_steps))
    directions = rng.choice(np.array([-1, 1], dtype=np.int32), (num_walks, num_steps))
    steps = np.zeros((num_walks, num_steps, 2), dtype=np.int32)
    steps[..., 0] = np.where(axes == 0, directions, 0)
    steps[..., 1] = np.where(axes == 1, directions, 0)
    history = np.cumsum(steps, axis=1)
    return (history**2).sum(axis=2).mean(axis=0, dtype=np.float32)


# --- The floors: JAX's samplers alone, the same keys, the same draws ------------


def grid_step_draws(key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The draws of one grid step: its key split in two, then the axis and the direction."""
    axis_key, direction_key = random.split(key)
    return random.choice(axis_key, jnp.array([0, 1])), random.choice(direction_key, jnp.array([-1, 1]))


def normal_draws(key: jax.Array, num_steps: int) -> jax.Array:
    """One ``random.normal`` per step, from the step's key: the draws of a Gaussian walk."""
    return jax.vmap(random.normal)(random.split(key, num_steps))


floor_grid = jax.jit(jax.vmap(grid_step_draws))
floor_drift = jax.jit(normal_draws, static_argnums=1)


@partial(jax.jit, static_argnums=1)
def floor_sticks(key: jax.Array, num_breaks: int, concentration: float) -> jax.Array:
    return jax.vmap(lambda k: random.beta(k, a=1.0, b=concentration))(random.split(key, num_breaks))


@partial(jax.jit, static_argnums=(1, 2))
def floor_walks(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    return jax.vmap(lambda k: normal_draws(k, num_steps))(random.split(key, num_walks))


@partial(jax.jit, static_argnums=(1, 2))
def floor_msd(key: jax.Array, num_walks: int, num_steps: int) -> tuple[jax.Array, jax.Array]:
    return jax.vmap(lambda k: jax.vmap(grid_step_draws)(random.split(k, num_steps)))(random.split(key, num_walks))


# --- Each solution's outputs, rebuilt from its floor's draws --------------------


def grid_history(axes: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Positions after each step of grid walks that start at (0, 0), from their draws (last axis: x, y)."""
    steps = np.stack([np.where(axes == 0, directions, 0), np.where(axes == 1, directions, 0)], axis=-1)
    return np.cumsum(steps, axis=-2, dtype=steps.dtype)  # integers: exact in any order


def rebuild_grid(draws: tuple[jax.Array, jax.Array]) -> tuple[np.ndarray, np.ndarray]:
    history = grid_history(*map(np.asarray, draws))
    return history[-1], history


def rebuild_walks(draws: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    sums = np.cumsum(np.asarray(draws), axis=1, dtype=np.float32)  # one addition after another, as the scan
    return sums[:, -1], np.concatenate([np.zeros_like(sums[:, :1]), sums[:, :-1]], axis=1)


rebuild_sticks = jax.jit(lambda fractions: lax.scan(jax_idioms.stick_break, 1.0, fractions))  # the solution's own
rebuild_drift = jax.jit(lambda draws: jnp.cumsum(DRIFT + VOLATILITY * draws))
_mean_square = jax.jit(lambda history: (history**2).sum(axis=-1).mean(axis=0))


def rebuild_msd(draws: tuple[jax.Array, jax.Array]) -> jax.Array:
    return _mean_square(grid_history(*map(np.asarray, draws)))  # integers up to the mean


# --- The cases -----------------------------------------------------------------

ex1 = jax.jit(jax_idioms.randomness_ex_1)
ex2 = jax.jit(jax_idioms.randomness_ex_2, static_argnums=1)
ex3 = jax.jit(jax_idioms.randomness_ex_3, static_argnums=(1, 2, 3))
ex4 = jax.jit(jax_idioms.randomness_ex_4, static_argnums=(1, 2, 3))
ex5 = jax.jit(jax_idioms.randomness_ex_5, static_argnums=(1, 2))


@dataclass(frozen=True)
class Case:
    """One exercise: its sizes, and for a size the calls ``(function, *arguments)`` to time."""

    unit: str
    sizes: dict[str, Any]
    solution: Callable[[Any], tuple]
    floor: Callable[[Any], tuple]
    rebuild: Callable[[Any], Any]  # the solution's outputs, from the floor's draws
    numpy: Callable[[Any], tuple]
    loop: Callable[[Any], tuple] | None = None
    # whether, compiled with FMA, the solution fuses a draw's last multiplication with
    # the arithmetic that follows, so that its draws are never rounded on their own
    fused: bool = False
    draws: str = ""


GRID_DRAWS = "two `random.choice` per step, after splitting the step's key"
CASES: dict[str, Case] = {
    "ex1 grid walk": Case(
        unit="steps",
        sizes={"course": 1_000, "large": 1_000_000},
        solution=lambda n: (ex1, random.split(KEY, n), jnp.array([0, 0])),
        floor=lambda n: (floor_grid, random.split(KEY, n)),
        rebuild=rebuild_grid,
        numpy=lambda n: (numpy_grid, 0, n),
        loop=lambda n: (eager_grid_loop, random.split(KEY, n)),
        draws=GRID_DRAWS,
    ),
    "ex2 stick-breaking": Case(
        unit="breaks",
        sizes={"course": 30, "large": 100_000},
        solution=lambda n: (ex2, KEY, n, CONCENTRATION),
        floor=lambda n: (floor_sticks, KEY, n, CONCENTRATION),
        rebuild=rebuild_sticks,
        numpy=lambda n: (numpy_sticks, 0, n, CONCENTRATION),
        loop=lambda n: (eager_stick_loop, KEY, n, CONCENTRATION),
        draws="one `random.beta` per break",
    ),
    "ex3 many walks": Case(
        unit="walks x steps",
        sizes={"course": (20, 1_000), "large": (10_000, 1_000)},
        solution=lambda n: (ex3, KEY, n[0], jax_idioms.grw_draw, n[1]),
        floor=lambda n: (floor_walks, KEY, *n),
        rebuild=rebuild_walks,
        numpy=lambda n: (walks_numpy, 0, *n),
        loop=lambda n: (eager_walks_loop, KEY, *n),
        fused=True,
        draws="one `random.normal` per step",
    ),
    "ex4 drift and volatility": Case(
        unit="steps",
        sizes={"course": 100, "large": 1_000_000},
        solution=lambda n: (ex4, KEY, n, DRIFT, VOLATILITY),
        floor=lambda n: (floor_drift, KEY, n),
        rebuild=rebuild_drift,
        numpy=lambda n: (numpy_drift, 0, n, DRIFT, VOLATILITY),
        fused=True,
        draws="one `random.normal` per step",
    ),
    "ex5 mean squared displacement": Case(
        unit="walks x steps",
        sizes={"course": (500, 100), "large": (1_000, 1_000)},
        solution=lambda n: (ex5, KEY, *n),
        floor=lambda n: (floor_msd, KEY, *n),
        rebuild=rebuild_msd,
        numpy=lambda n: (numpy_msd, 0, *n),
        draws=GRID_DRAWS,
    ),
}


def call(fn_and_args: tuple) -> Any:
    fn, *args = fn_and_args
    return fn(*args)


def same_draws_here(name: str, label: str) -> None:
    """Assert, in this process, that the floor's draws rebuild the solution's outputs bit for bit."""
    case = CASES[name]
    size = case.sizes[label]
    expected = jax.tree_util.tree_leaves(case.rebuild(call(case.floor(size))))
    found = jax.tree_util.tree_leaves(call(case.solution(size)))
    differences = [] if len(expected) == len(found) else [f"{len(expected)} outputs rebuilt for {len(found)}"]
    for rebuilt, output in zip(map(np.asarray, expected), map(np.asarray, found), strict=False):
        if (rebuilt.dtype, rebuilt.shape) != (output.dtype, output.shape):
            differences.append(f"{rebuilt.dtype}{rebuilt.shape} rebuilt for {output.dtype}{output.shape}")
        elif rebuilt.tobytes() != output.tobytes():
            differences.append(f"{int((rebuilt != output).sum())} of {output.size} values differ")
    if differences:
        raise AssertionError(
            f"{name} at {label} size: the floor's draws do not rebuild the solution's outputs bit for bit "
            f"({'; '.join(differences)}): the floor does not make the solution's draws, so it times something else"
        )


def check_same_draws(name: str, label: str) -> str:
    """Assert that the floor of ``name`` makes the solution's draws at size ``label``; say where it was checked."""
    if not CASES[name].fused or "fma" not in host_cpu_flags():
        same_draws_here(name, label)
        return "checked in this process"
    if not on_x86():
        return (
            "not checked: the solution fuses each draw with an addition (FMA), and XLA cannot be told to "
            "compile without FMA on this CPU"
        )
    command = [sys.executable, "-m", "benchmarks.solutions", "--check", name, label]
    result = subprocess.run(command, cwd=ROOT, env=cpu_environment(ISA_WITHOUT_FMA), capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"the check of {name} without FMA failed:\n{result.stderr}")
    return f"checked in a fresh process without FMA (--xla_cpu_max_isa={ISA_WITHOUT_FMA})"


def describe_size(size: Any, unit: str) -> str:
    parts = size if isinstance(size, tuple) else (size,)
    return f"{' x '.join(f'{part:,}' for part in parts)} {unit}"


def measure(loop_course: bool = True, repeat: int = REPEAT) -> list[dict[str, Any]]:
    """Time every case at every size (and check its floor's draws); one row per case and size."""
    rows = []
    for name, case in CASES.items():
        for label, size in case.sizes.items():
            # Solution, floor and NumPy take turns: a burst of load slows all three alike. Compile times must be
            # compilations, not loads from JAX's on-disk cache (which the Makefile turns on).
            calls = {"solution": case.solution(size), "floor": case.floor(size), "numpy": case.numpy(size)}
            with compilation_cache_off():
                solution, floor, numpy_timing = time_calls(calls, repeat).values()
            row = {
                "solution": name,
                "size": label,
                "n": describe_size(size, case.unit),
                "draws": case.draws,
                # after the timing, so that the first call timed is the one that compiles
                "same_draws": check_same_draws(name, label),
                "jax_run_s": solution.run,
                "jax_compile_s": solution.compile,
                "floor_run_s": floor.run,
                "solution_over_floor": solution.run / floor.run,
                "jax_cpu_s": solution.cpu,
                "floor_cpu_s": floor.cpu,
                "solution_over_floor_cpu": solution.cpu / floor.cpu,
                "numpy_run_s": numpy_timing.run,
                "jax_over_numpy": solution.run / numpy_timing.run,
            }
            if label == "course" and loop_course and case.loop is not None:
                loop = time_call(*case.loop(size), repeat=1).run
                row |= {"loop_run_s": loop, "loop_over_jax": loop / solution.run}
            rows.append(row)
            print(row, flush=True)
    return rows


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def section(rows: list[dict[str, Any]]) -> list[str]:
    """The report's section on the solutions, as Markdown blocks."""
    table = [
        "| solution | size | solution run | floor run | solution / floor | target | CPU time: solution / floor "
        "| NumPy run | solution / NumPy | compile | eager loop | loop / solution |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = verdict(row["solution_over_floor"] <= TARGET) if row["size"] == "large" else ""
        loop = "– | –"
        if "loop_run_s" in row:
            ratio = row["loop_over_jax"]
            loop = f"{row['loop_run_s'] * 1e3:.1f} ms | {ratio:.0f}x ({verdict(ratio >= LOOP_TARGET)})"
        table.append(
            f"| {row['solution']} | {row['n']} | {row['jax_run_s'] * 1e3:.2f} ms | {row['floor_run_s'] * 1e3:.2f} ms"
            f" | {row['solution_over_floor']:.2f} | {target} | {row['solution_over_floor_cpu']:.2f}"
            f" | {row['numpy_run_s'] * 1e3:.2f} ms | {row['jax_over_numpy']:.2f} | {row['jax_compile_s'] * 1e3:.0f} ms"
            f" | {loop} |"
        )
    return [
        "## Solutions",
        f"Target: solution / floor ≤ {TARGET} at large size. The floor is the time JAX's own samplers take to "
        "make the same draws from the same keys (listed under the table), with nothing around them. NumPy draws other "
        "numbers (PCG64 bits, a ziggurat for normals) and is shown as information. A ratio below 1 means that "
        "the solution makes its draws faster than one plain call of the samplers does: the floor is that call, "
        "not a proven lower bound. "
        f"Each time is the best of {REPEAT} wall-clock times after a first (compiling) call; solution, floor and "
        "NumPy take turns. On a shared machine wall-clock times include waiting for a core: the ratio of CPU times "
        "(every thread of the process), which leaves the waiting out, is shown beside it.",
        "\n".join(table),
        f"Eager loop target: loop / solution ≥ {LOOP_TARGET:.0f} at course size.",
        "The floors' draws, and the check that they are the solution's own (its outputs rebuilt from them, "
        "bit for bit):",
        "\n".join(f"- {row['solution']}, {row['size']}: {row['draws']}; {row['same_draws']}" for row in rows),
    ]


def main(argv: list[str]) -> None:
    if argv[:1] == ["--check"]:
        name, label = argv[1:3]
        same_draws_here(name, label)
        print(f"{name} at {label} size: same draws")
        return
    rows = measure()
    print("\n\n".join(["\n".join(f"- {name}: {value}" for name, value in machine().items()), *section(rows)]))


if __name__ == "__main__":
    main(sys.argv[1:])
