"""Answer checkers for the exercises.

Each ``check_*`` function runs a learner's function on several keys and sizes
(the smallest included) and compares it with the course's reference:

- on success it prints one line that says what was checked, and returns ``None``;
- on failure it raises ``AssertionError`` with a message a learner can act on:
  the call, what was expected and what came back, and, where the pattern is
  recognisable, the likely cause.

A correct answer passes whatever its method (``lax.scan``, ``cumsum``,
``vmap`` or a plain Python loop): integer results are compared exactly, float
sums to round-off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from jax import random

from dl_workshop import jax_idioms

# Float answers are running sums or products: different but correct methods
# (scan, cumsum, a Python loop) round differently in the last bits.
RTOL = 1e-5
ATOL = 1e-5


class Call:
    """One call of the learner's function, described the way the learner would write it."""

    def __init__(self, fn: Callable[..., Any], args: Sequence[tuple[str, Any, str]]):
        self.fn = fn
        self.args = args
        shown = ", ".join(f"{name}={text}" for name, _, text in args)
        self.text = f"{getattr(fn, '__name__', 'your function')}({shown})"

    def run(self) -> Any:
        try:
            return self.fn(*(value for _, value, _ in self.args))
        except Exception as error:
            raise AssertionError(
                f"{self.text} raised {type(error).__name__}: {error}"
            ) from error

    def fail(self, message: str, cause: str | None = None) -> AssertionError:
        text = f"{self.text}: {message}"
        if cause:
            text += f"\nLikely cause: {cause}"
        return AssertionError(text)


def unpack_pair(call: Call, result: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The learner's ``(first, second)`` result as NumPy arrays, or a clear failure."""
    if result is None:
        raise call.fail(
            f"returned None, expected a pair ({names[0]}, {names[1]})",
            "the function has no `return` statement (or still returns the stub's None)",
        )
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise call.fail(
            f"returned {describe(result)}, expected a pair ({names[0]}, {names[1]})",
            f"return both values: `return {names[0]}, {names[1]}`",
        )
    return np.asarray(result[0]), np.asarray(result[1])


def describe(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {value!r}"


def first_difference(got: np.ndarray, expected: np.ndarray, exact: bool) -> tuple[int, ...] | None:
    """Index of the first element that differs (exactly, or beyond round-off)."""
    if exact:
        differs = got != expected
    else:
        differs = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    where = np.argwhere(differs)
    return tuple(int(i) for i in where[0]) if len(where) else None


def compare(
    call: Call,
    name: str,
    got: np.ndarray,
    expected: np.ndarray,
    *,
    exact: bool,
    diagnose: Callable[[], str | None] = lambda: None,
) -> None:
    """Raise a failure that names the shape, dtype or first differing value of ``name``."""
    if got.shape != expected.shape:
        raise call.fail(
            f"{name} has shape {got.shape}, expected {expected.shape}",
            diagnose() or "check which axis holds the steps and which the coordinates or realizations",
        )
    if exact and not np.issubdtype(got.dtype, np.integer):
        raise call.fail(
            f"{name} has dtype {got.dtype}, expected integers ({expected.dtype})",
            diagnose() or "positions on a grid are whole numbers: keep them as integer arrays",
        )
    if not exact and not np.issubdtype(got.dtype, np.floating):
        raise call.fail(f"{name} has dtype {got.dtype}, expected floats ({expected.dtype})")
    index = first_difference(got, expected, exact)
    if index is not None:
        tolerance = "" if exact else f" (beyond round-off: rtol={RTOL}, atol={ATOL})"
        raise call.fail(
            f"{name} differs from the reference{tolerance} first at index {index}: "
            f"expected {expected[index]!r}, got {got[index]!r}",
            diagnose(),
        )


def passed(message: str) -> None:
    print(f"✓ {message}")


def keys_text(seed: int, n: int) -> str:
    return f"random.split(random.key({seed}), {n})"


def all_rows_equal(values: np.ndarray) -> bool:
    return len(values) > 1 and bool(np.all(values == values[0]))


# --- Exercise 1: Brownian motion on a grid ---------------------------------------


def grid_walk_reference(keys: Any, starting_position: Any) -> np.ndarray:
    """The loop reference of exercise 1: the position after each step."""
    position = np.array(starting_position)
    history = []
    for key in keys:
        axis_key, direction_key = random.split(key)
        axis = int(random.choice(axis_key, np.array([0, 1])))
        direction = int(random.choice(direction_key, np.array([-1, 1])))
        position = position.copy()
        position[axis] += direction
        history.append(position)
    return np.stack(history)


# Each checker runs a case that can show a mistake's pattern first (several steps
# or walks), then the smallest sizes, then a different start or parameters.


def check_randomness_ex_1(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 1, ``fn(keys, starting_position) -> (final, history)``."""
    cases = [(44, 5, (0, 0)), (0, 1, (0, 0)), (7, 60, (3, -2))]
    for seed, num_steps, start in cases:
        keys = random.split(random.key(seed), num_steps)
        call = Call(fn, [("keys", keys, keys_text(seed, num_steps)),
                         ("starting_position", np.array(start), f"np.array({list(start)})")])
        final, history = unpack_pair(call, call.run(), ("final", "history"))
        expected = grid_walk_reference(keys, start)

        def diagnose() -> str | None:
            if history.shape == (num_steps + 1, 2) and np.array_equal(history[1:], expected):
                return ("the starting position is included in the history (off by one): "
                        "history[i] is the position after step i, so it has one row per key")
            if history.shape == (2, num_steps):
                return "history is transposed: it should have one row per step and two columns (x, y)"
            steps = np.diff(np.vstack([np.array(start), history]), axis=0) if history.ndim == 2 else None
            if steps is not None and len(steps) > 2 and all_rows_equal(steps):
                return ("every step is identical: the same key was used for every step. "
                        "Use each step's own key (one of `keys`), split in two for axis and direction")
            if steps is not None and steps.shape[-1:] == (2,) and not np.all(np.abs(steps).sum(axis=1) == 1):
                return "each step must move by exactly 1 along exactly one axis"
            return ("split each step's key in two: the first picks the axis with "
                    "random.choice(k1, jnp.array([0, 1])), the second the direction with "
                    "random.choice(k2, jnp.array([-1, 1]))")

        compare(call, "history", history, expected, exact=True, diagnose=diagnose)
        compare(call, "final", final, expected[-1], exact=True,
                diagnose=lambda: "final should be the last row of history")
    passed(f"randomness_ex_1 matches the loop reference exactly on {len(cases)} walks of "
           f"{', '.join(str(n) for _, n, _ in cases)} steps (both starting positions).")


# --- Exercise 2: stochastic stick-breaking ------------------------------------------


def stick_breaking_reference(key: Any, num_breaks: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The loop reference of exercise 2 (with ``a=1, b=concentration``): pieces, and what is left."""
    length = np.float32(1.0)
    sticks = []
    for k in random.split(key, num_breaks):
        piece = length * np.float32(random.beta(k, a=a, b=b))
        sticks.append(piece)
        length = length - piece
    return np.array(sticks, dtype=np.float32), np.array(length)


def check_randomness_ex_2(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 2, ``fn(key, num_breaks, concentration) -> (final, sticks)``."""
    cases = [(44, 30, 5.0), (0, 1, 5.0), (3, 12, 0.5)]
    for seed, num_breaks, concentration in cases:
        key = random.key(seed)
        call = Call(fn, [("key", key, f"random.key({seed})"), ("num_breaks", num_breaks, str(num_breaks)),
                         ("concentration", concentration, str(concentration))])
        final, sticks = unpack_pair(call, call.run(), ("final", "sticks"))
        expected, left = stick_breaking_reference(key, num_breaks, 1.0, concentration)

        def diagnose() -> str | None:
            if sticks.shape != expected.shape:
                return "sticks should hold one piece per break, in order"
            if np.allclose(sticks, 1.0 - np.cumsum(expected), rtol=1e-4, atol=1e-6):
                return "sticks holds the length left after each break; it should hold the piece broken off"
            before = 1.0 - np.concatenate([[0.0], np.cumsum(sticks)[:-1]])
            fractions = sticks / np.where(before == 0, 1, before)
            if num_breaks > 2 and np.allclose(fractions, fractions[0], rtol=1e-4):
                return ("every break takes the same fraction: the same key was used for every break. "
                        "Split the key into one key per break")
            swapped, _ = stick_breaking_reference(key, num_breaks, concentration, 1.0)
            if np.allclose(sticks, swapped, rtol=1e-4, atol=1e-6):
                return "the Beta parameters are swapped: the fraction is random.beta(k, a=1, b=concentration)"
            return ("break off random.beta(k, a=1, b=concentration) of the length left, with k the "
                    "i-th of random.split(key, num_breaks)")

        compare(call, "sticks", sticks, expected, exact=False, diagnose=diagnose)
        compare(call, "final", final.reshape(()), left, exact=False,
                diagnose=lambda: "final should be the length of stick left after the last break")
    passed(f"randomness_ex_2 matches the loop reference to round-off for {len(cases)} keys "
           f"with {', '.join(str(n) for _, n, _ in cases)} breaks (concentrations 5 and 0.5).")


# --- Exercise 3: many Gaussian random walks -----------------------------------------


def check_randomness_ex_3(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 3,
    ``fn(key, num_realizations, grw_draw, num_steps) -> (finals, trajectories)``."""
    cases = [(44, 20, 50), (0, 1, 1), (5, 3, 200)]
    for seed, num_realizations, num_steps in cases:
        key = random.key(seed)
        call = Call(fn, [("key", key, f"random.key({seed})"),
                         ("num_realizations", num_realizations, str(num_realizations)),
                         ("grw_draw", jax_idioms.grw_draw, "grw_draw"),
                         ("num_steps", num_steps, str(num_steps))])
        finals, trajectories = unpack_pair(call, call.run(), ("finals", "trajectories"))
        walks = [jax_idioms.grw_draw(k, num_steps) for k in random.split(key, num_realizations)]
        expected = np.stack([np.asarray(walk) for _, walk in walks])
        expected_finals = np.array([final for final, _ in walks])

        def diagnose() -> str | None:
            if trajectories.shape == (num_steps, num_realizations) != expected.shape:
                return "trajectories is transposed: one row per realization, one column per step"
            if trajectories.shape[1:] != expected.shape[1:]:
                return "pass num_steps on to grw_draw: each trajectory has num_steps positions"
            if trajectories.shape != expected.shape:
                return "make one walk per key of random.split(key, num_realizations)"
            if all_rows_equal(trajectories):
                return ("all realizations are identical: every walk got the same key. "
                        "vmap over random.split(key, num_realizations), one key per walk")
            return "row i should be grw_draw(random.split(key, num_realizations)[i], num_steps)"

        compare(call, "trajectories", trajectories, expected, exact=False, diagnose=diagnose)
        compare(call, "finals", finals, expected_finals, exact=False,
                diagnose=lambda: "finals[i] should be the final position that grw_draw returns for walk i")
    passed(f"randomness_ex_3 matches grw_draw over split keys for {len(cases)} cases "
           f"({', '.join(f'{r} walks x {n} steps' for _, r, n in cases)}).")


# --- Exercise 4: a random walk with drift and volatility ------------------------------


def drifting_walk_reference(key: Any, num_steps: int, drift: float, volatility: float) -> np.ndarray:
    """The loop reference of exercise 4: the position after each step, from 0."""
    position = np.float32(0.0)
    positions = []
    for k in random.split(key, num_steps):
        position = position + np.float32(drift) + np.float32(volatility) * np.float32(random.normal(k))
        positions.append(position)
    return np.array(positions, dtype=np.float32)


def check_randomness_ex_4(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 4, ``fn(key, num_steps, drift, volatility) -> positions``."""
    cases = [(44, 100, 0.1, 0.5), (0, 1, 0.5, 2.0), (9, 30, -1.0, 3.0)]
    for seed, num_steps, drift, volatility in cases:
        key = random.key(seed)
        call = Call(fn, [("key", key, f"random.key({seed})"), ("num_steps", num_steps, str(num_steps)),
                         ("drift", drift, str(drift)), ("volatility", volatility, str(volatility))])
        result = call.run()
        if result is None:
            raise call.fail("returned None, expected the array of positions",
                            "the function has no `return` statement (or still returns the stub's None)")
        positions = np.asarray(result)
        expected = drifting_walk_reference(key, num_steps, drift, volatility)

        def diagnose() -> str | None:
            if positions.shape == (num_steps + 1,) and np.allclose(positions[1:], expected, rtol=RTOL, atol=ATOL):
                return ("the starting position 0 is included (off by one): return the position "
                        "after each step, one per key")
            increments = np.diff(np.concatenate([[0.0], positions])) if positions.ndim == 1 else None
            if increments is not None and positions.shape == expected.shape:
                draws = np.diff(np.concatenate([[0.0], expected]))
                if np.allclose(positions, draws, rtol=1e-4, atol=1e-5):
                    return "these are the steps, not the positions: add them up (a running sum)"
                if num_steps > 2 and np.allclose(increments, increments[0], rtol=1e-4, atol=1e-5):
                    return ("every step is identical: the same key was used for every step. "
                            "Draw step i from the i-th of random.split(key, num_steps)")
                swapped = drifting_walk_reference(key, num_steps, volatility, drift)
                if np.allclose(positions, swapped, rtol=1e-4, atol=1e-4):
                    return "drift and volatility are swapped: each step is drift + volatility * z"
            return "step i adds drift + volatility * random.normal(k_i), k_i the i-th of random.split(key, num_steps)"

        compare(call, "positions", positions, expected, exact=False, diagnose=diagnose)
    passed(f"randomness_ex_4 matches the loop reference to round-off for {len(cases)} walks "
           f"of {', '.join(str(n) for _, n, _, _ in cases)} steps (drift and volatility varied).")


# --- Exercise 5: mean squared displacement of grid walks -----------------------------


def msd_reference(key: Any, num_walks: int, num_steps: int) -> np.ndarray:
    """Exercise 5 from the exercise-1 loop reference, one walk at a time."""
    squared = [
        (grid_walk_reference(random.split(walk_key, num_steps), (0, 0)) ** 2).sum(axis=1)
        for walk_key in random.split(key, num_walks)
    ]
    return np.mean(squared, axis=0, dtype=np.float32)


def check_randomness_ex_5(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 5, ``fn(key, num_walks, num_steps) -> msd``."""
    cases = [(44, 4, 25), (0, 1, 1), (2, 16, 10)]
    for seed, num_walks, num_steps in cases:
        key = random.key(seed)
        call = Call(fn, [("key", key, f"random.key({seed})"), ("num_walks", num_walks, str(num_walks)),
                         ("num_steps", num_steps, str(num_steps))])
        result = call.run()
        if result is None:
            raise call.fail("returned None, expected the array of mean squared displacements",
                            "the function has no `return` statement (or still returns the stub's None)")
        msd = np.asarray(result)
        expected = msd_reference(key, num_walks, num_steps)

        def diagnose() -> str | None:
            if msd.shape == (num_steps + 1,):
                return ("the starting position is included (off by one): one value per step, "
                        "the first after step 1")
            if msd.shape == (num_walks, num_steps):
                return "average over the walks (axis 0): one value per step"
            if msd.shape != expected.shape:
                return None
            first_walk = msd_reference(key, 1, num_steps)
            single = (grid_walk_reference(random.split(key, num_steps), (0, 0)) ** 2).sum(axis=1)
            if num_walks > 1 and (np.allclose(msd, first_walk) or np.allclose(msd, single)):
                return ("every walk is the same walk: give each walk its own key, "
                        "random.split(key, num_walks), and split that per step")
            if np.all(np.abs(msd) < np.sqrt(expected) + 1e-6) and not np.allclose(msd, expected):
                return "square the displacement: x**2 + y**2, then average"
            return ("walk w uses random.split(random.split(key, num_walks)[w], num_steps); "
                    "average x**2 + y**2 over the walks")

        compare(call, "msd", msd, expected, exact=False, diagnose=diagnose)
    passed(f"randomness_ex_5 matches the loop reference for {len(cases)} cases "
           f"({', '.join(f'{w} walks x {n} steps' for _, w, n in cases)}).")
