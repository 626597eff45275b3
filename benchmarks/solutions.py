"""Benchmark of the exercise solutions against their bit-exact floor, the seed's eager loop and NumPy.

Each solution of ``dl_workshop.jax_idioms`` is timed, compiled, at course size
and at a large size, beside its **floor**: the time JAX's own samplers take to
make the same draws from the same keys, with nothing around them (for the grid
walk, the two ``random.choice`` calls of every step, after splitting the step's
key in two; for stick-breaking, the ``random.beta`` draws; for the Gaussian
walks, the ``random.normal`` draws). A solution that gives the book's results
bit for bit cannot skip these draws, so ``solution / floor`` is what the rest of
the solution costs. Target: at most ``TARGET`` at large size.

At every size, :func:`check_same_draws` asserts that the floor's draws are the
very draws the solution makes: the solution's outputs are rebuilt from the
floor's draws and must equal them bit for bit. Where the solution fuses the last
multiplication of a normal draw with the arithmetic that follows (a fused
multiply-add, FMA: see the book's section "Another CPU: where exactness
ends"), its draws are never rounded on their own on a CPU with FMA; the check
then runs in a fresh process whose XLA compiles for a CPU without FMA
(``--xla_cpu_max_isa=AVX``), where they are.

The eager loop of the seed is timed at course size only (at large size it would
take hours). NumPy's fastest implementation of the same computation is timed at
both sizes, as information: it draws other numbers (PCG64 bits, a ziggurat for
normals), so no bit-exact solution can be held to it.

The machine may be shared: a solution, its floor and NumPy take turns, and each
time is the best of ``REPEAT`` calls after a first (compiling) call. Wall-clock
times then include waiting for a core; the ratio of CPU times, which does not,
is reported beside the wall-clock ratio (the target is on wall-clock time).

Usage: ``python -m benchmarks.solutions`` measures and prints the section of the
report (``make bench`` writes it into ``_build/bench/report.md``);
``python -m benchmarks.solutions --check NAME SIZE`` runs one check of the draws.
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
from dl_workshop.performance import time_call, time_calls, walks_numpy
from dl_workshop.reproducibility import ISA_WITHOUT_FMA, cpu_environment, host_cpu_flags, on_x86

ROOT = Path(__file__).resolve().parents[1]
KEY = random.key(0)
TARGET = 1.2  # solution / floor at large size
LOOP_TARGET = 100.0  # eager loop / solution at course size
REPEAT = 7


# --- The seed's eager loops ------------------------------------------------------


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
    """The draws of one :func:`grid_step`: its key split in two, then the axis and the direction."""
    axis_key, direction_key = random.split(key)
    return random.choice(axis_key, jnp.array([0, 1])), random.choice(direction_key, jnp.array([-1, 1]))


@jax.jit
def floor_grid(keys: jax.Array) -> tuple[jax.Array, jax.Array]:
    return jax.vmap(grid_step_draws)(keys)


@partial(jax.jit, static_argnums=1)
def floor_sticks(key: jax.Array, num_breaks: int, concentration: float) -> jax.Array:
    return jax.vmap(lambda k: random.beta(k, a=1.0, b=concentration))(random.split(key, num_breaks))


@partial(jax.jit, static_argnums=(1, 2))
def floor_walks(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    def walk_draws(walk_key: jax.Array) -> jax.Array:
        return jax.vmap(random.normal)(random.split(walk_key, num_steps))

    return jax.vmap(walk_draws)(random.split(key, num_walks))


@partial(jax.jit, static_argnums=1)
def floor_drift(key: jax.Array, num_steps: int) -> jax.Array:
    return jax.vmap(random.normal)(random.split(key, num_steps))


@partial(jax.jit, static_argnums=(1, 2))
def floor_msd(key: jax.Array, num_walks: int, num_steps: int) -> tuple[jax.Array, jax.Array]:
    return jax.vmap(lambda k: jax.vmap(grid_step_draws)(random.split(k, num_steps)))(random.split(key, num_walks))


# --- Rebuilding each solution's outputs from the floor's draws -----------------


def grid_history(axes: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Positions after each step of grid walks that start at (0, 0), from their draws (last axis: x, y)."""
    steps = np.stack([np.where(axes == 0, directions, 0), np.where(axes == 1, directions, 0)], axis=-1)
    return np.cumsum(steps, axis=-2, dtype=steps.dtype)


def rebuild_grid(draws: tuple[jax.Array, jax.Array], size: int) -> tuple[np.ndarray, np.ndarray]:
    history = grid_history(*map(np.asarray, draws))  # integers: exact in any order
    return history[-1], history


_stick_scan = jax.jit(lambda fractions: lax.scan(jax_idioms.stick_break, 1.0, fractions))


def rebuild_sticks(fractions: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    return _stick_scan(fractions)  # the solution's own breaking, applied to the floor's fractions


def rebuild_walks(draws: jax.Array, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    sums = np.cumsum(np.asarray(draws), axis=1, dtype=np.float32)  # one addition after another, as the scan
    positions = np.concatenate([np.zeros_like(sums[:, :1]), sums[:, :-1]], axis=1)
    return sums[:, -1], positions


@partial(jax.jit, static_argnums=(1, 2))
def _drift_sum(draws: jax.Array, drift: float, volatility: float) -> jax.Array:
    return jnp.cumsum(drift + volatility * draws)


DRIFT, VOLATILITY, CONCENTRATION = 0.1, 0.5, 5.0


def rebuild_drift(draws: jax.Array, size: int) -> jax.Array:
    return _drift_sum(draws, DRIFT, VOLATILITY)


_mean_square = jax.jit(lambda history: (history**2).sum(axis=-1).mean(axis=0))


def rebuild_msd(draws: tuple[jax.Array, jax.Array], size: tuple[int, int]) -> jax.Array:
    return _mean_square(grid_history(*map(np.asarray, draws)))  # integers up to the mean


# --- The cases -----------------------------------------------------------------

ex1 = jax.jit(jax_idioms.randomness_ex_1)
ex2 = jax.jit(jax_idioms.randomness_ex_2, static_argnums=1)
ex3 = jax.jit(jax_idioms.randomness_ex_3, static_argnums=(1, 2, 3))
ex4 = jax.jit(jax_idioms.randomness_ex_4, static_argnums=(1, 2, 3))
ex5 = jax.jit(jax_idioms.randomness_ex_5, static_argnums=(1, 2))
START = jnp.array([0, 0])


@dataclass(frozen=True)
class Case:
    """One exercise: its sizes, and for a size the calls ``(function, *arguments)`` to time."""

    unit: str
    sizes: dict[str, Any]
    solution: Callable[[Any], tuple]
    floor: Callable[[Any], tuple]
    # the solution's outputs, rebuilt from the floor's draws at a size
    rebuild: Callable[[Any, Any], Any]
    numpy: Callable[[Any], tuple]
    loop: Callable[[Any], tuple] | None = None
    # whether, compiled with FMA, the solution fuses a draw's last multiplication with the
    # arithmetic that follows, so that its draws are never rounded on their own
    fused: bool = False
    draws: str = ""


CASES: dict[str, Case] = {
    "ex1 grid walk": Case(
        unit="steps",
        sizes={"course": 1_000, "large": 1_000_000},
        solution=lambda n: (ex1, random.split(KEY, n), START),
        floor=lambda n: (floor_grid, random.split(KEY, n)),
        rebuild=rebuild_grid,
        numpy=lambda n: (numpy_grid, 0, n),
        loop=lambda n: (eager_grid_loop, random.split(KEY, n)),
        draws="two `random.choice` per step, after splitting the step's key",
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
        draws="two `random.choice` per step, after splitting the step's key",
    ),
}


def call(fn_and_args: tuple) -> Any:
    fn, *args = fn_and_args
    return fn(*args)


def same_draws_here(name: str, label: str) -> None:
    """Assert, in this process, that the floor's draws rebuild the solution's outputs bit for bit."""
    case = CASES[name]
    size = case.sizes[label]
    expected = jax.tree_util.tree_leaves(case.rebuild(call(case.floor(size)), size))
    found = jax.tree_util.tree_leaves(call(case.solution(size)))
    differences = [] if len(expected) == len(found) else [f"{len(expected)} outputs rebuilt for {len(found)}"]
    for rebuilt, output in zip(expected, found, strict=True):
        rebuilt, output = np.asarray(rebuilt), np.asarray(output)
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
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.solutions", "--check", name, label],
        cwd=ROOT,
        env=cpu_environment(ISA_WITHOUT_FMA),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(f"the check of {name} without FMA failed:\n{result.stderr}")
    return f"checked in a fresh process without FMA (--xla_cpu_max_isa={ISA_WITHOUT_FMA})"


def describe_size(size: Any, unit: str) -> str:
    parts = size if isinstance(size, tuple) else (size,)
    return f"{' x '.join(f'{part:,}' for part in parts)} {unit}"


def measure(loop_course: bool = True, repeat: int = REPEAT) -> list[dict[str, Any]]:
    """Time every case at every size (and check its floor's draws); one row per case and size."""
    # Compile times here are compilations: JAX's on-disk compilation cache (which
    # the Makefile turns on) would load programs compiled by an earlier run.
    jax.config.update("jax_enable_compilation_cache", False)
    rows = []
    for name, case in CASES.items():
        for label, size in case.sizes.items():
            # Solution, floor and NumPy take turns: a burst of load slows all three alike.
            timings = time_calls(
                {"solution": case.solution(size), "floor": case.floor(size), "numpy": case.numpy(size)}, repeat
            )
            solution, floor, numpy_timing = timings["solution"], timings["floor"], timings["numpy"]
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
                loop_timing = time_call(*case.loop(size), repeat=1)
                row["loop_run_s"] = loop_timing.run
                row["loop_over_jax"] = loop_timing.run / solution.run
            rows.append(row)
            print(row, flush=True)
    return rows


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def section(rows: list[dict[str, Any]]) -> list[str]:
    """The report's section on the solutions, as Markdown lines."""
    lines = [
        "## Solutions",
        "",
        f"Target: solution / floor ≤ {TARGET} at large size. The floor is the time JAX's own samplers take to "
        "make the same draws from the same keys (listed under the table), with nothing around them. NumPy draws other "
        "numbers (PCG64 bits, a ziggurat for normals) and is shown as information. A ratio below 1 means that "
        "the solution makes its draws faster than one plain call of the samplers does: the floor is that call, "
        "not a proven lower bound. "
        f"Each time is the best of {REPEAT} wall-clock times after a first (compiling) call; solution, floor and "
        "NumPy take turns. On a shared machine wall-clock times include waiting for a core: the ratio of CPU times "
        "(every thread of the process), which leaves the waiting out, is shown beside it.",
        "",
        "| solution | size | solution run | floor run | solution / floor | target | CPU time: solution / floor "
        "| NumPy run | solution / NumPy | compile | eager loop | loop / solution |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = verdict(row["solution_over_floor"] <= TARGET) if row["size"] == "large" else ""
        if "loop_run_s" in row:
            loop = (
                f"{row['loop_run_s'] * 1e3:.1f} ms | {row['loop_over_jax']:.0f}x "
                f"({verdict(row['loop_over_jax'] >= LOOP_TARGET)})"
            )
        else:
            loop = "– | –"
        lines.append(
            f"| {row['solution']} | {row['n']} | {row['jax_run_s'] * 1e3:.2f} ms | {row['floor_run_s'] * 1e3:.2f} ms"
            f" | {row['solution_over_floor']:.2f} | {target} | {row['solution_over_floor_cpu']:.2f}"
            f" | {row['numpy_run_s'] * 1e3:.2f} ms"
            f" | {row['jax_over_numpy']:.2f} | {row['jax_compile_s'] * 1e3:.0f} ms | {loop} |"
        )
    lines += [
        "",
        f"Eager loop target: loop / solution ≥ {LOOP_TARGET:.0f} at course size.",
        "",
        "The floors' draws, and the check that they are the solution's own (its outputs rebuilt from them, "
        "bit for bit):",
        "",
    ]
    for row in rows:
        lines.append(f"- {row['solution']}, {row['size']}: {row['draws']}; {row['same_draws']}")
    return lines


def main(argv: list[str]) -> None:
    if argv[:1] == ["--check"]:
        name, label = argv[1:3]
        same_draws_here(name, label)
        print(f"{name} at {label} size: same draws")
        return
    from dl_workshop.performance import machine

    rows = measure()
    print("\n".join(["", *(f"- {name}: {value}" for name, value in machine().items()), "", *section(rows)]))


if __name__ == "__main__":
    main(sys.argv[1:])
