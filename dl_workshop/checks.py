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

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random
from jax.errors import KeyReuseError

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


NO_RETURN = "the function has no `return` statement (or still returns the stub's None)"


def require_result(call: Call, result: Any, expected: str) -> Any:
    """``result``, unless it is None: then a failure that says what was expected."""
    if result is None:
        raise call.fail(f"returned None, expected {expected}", NO_RETURN)
    return result


def unpack_array(call: Call, result: Any, expected: str) -> np.ndarray:
    """The learner's single-array result as a NumPy array, or a clear failure."""
    return np.asarray(require_result(call, result, expected))


def unpack_pair(call: Call, result: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The learner's ``(first, second)`` result as NumPy arrays, or a clear failure."""
    require_result(call, result, f"a pair ({names[0]}, {names[1]})")
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


@jax.jit
def grid_decision(key: Any) -> tuple[Any, Any]:
    """Axis and direction of one step, drawn as the loop reference draws them.

    Compiled once, so that the loop below costs one call per step rather than
    several; compiled and eager JAX give the same bits for the same key.
    """
    axis_key, direction_key = random.split(key)
    return random.choice(axis_key, np.array([0, 1])), random.choice(direction_key, np.array([-1, 1]))


def grid_walk_reference(keys: Any, starting_position: Any) -> np.ndarray:
    """The loop reference of exercise 1: the position after each step."""
    position = np.array(starting_position)
    history = []
    for key in keys:
        axis, direction = (int(value) for value in grid_decision(key))
        position = position.copy()
        position[axis] += direction
        history.append(position)
    return np.stack(history)


# Each checker runs a case that can show a mistake's pattern first (several steps
# or walks), then the smallest sizes, then a different start or parameters.


def check_randomness_ex_1(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 1, ``fn(keys, starting_position) -> (final, history)``."""
    cases = [(44, 60, (0, 0)), (0, 1, (0, 0)), (7, 60, (3, -2))]
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


beta_draw = jax.jit(lambda key, a, b: random.beta(key, a=a, b=b))


def stick_breaking_reference(key: Any, num_breaks: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The loop reference of exercise 2 (with ``a=1, b=concentration``): pieces, and what is left."""
    length = np.float32(1.0)
    sticks = []
    for k in random.split(key, num_breaks):
        piece = length * np.float32(beta_draw(k, a, b))
        sticks.append(piece)
        length = length - piece
    return np.array(sticks, dtype=np.float32), np.array(length)


def check_randomness_ex_2(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 2, ``fn(key, num_breaks, concentration) -> (final, sticks)``."""
    cases = [(44, 30, 5.0), (0, 1, 5.0), (3, 30, 0.5)]
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
        positions = unpack_array(call, call.run(), "the array of positions")
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
        msd = unpack_array(call, call.run(), "the array of mean squared displacements")
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


# --- Going further: key hygiene and reproducibility (chapters 10 to 12) ---------------




def run_without_key_reuse(call: Call) -> Any:
    """Run ``call`` under ``jax.debug_key_reuse(True)``; a reused key fails with a diagnosis."""
    try:
        with jax.debug_key_reuse(True):
            return call.run()
    except AssertionError as failure:
        error = failure.__cause__
        if not isinstance(error, KeyReuseError):
            raise
        first_line = str(error).splitlines()[0]
        raise call.fail(
            f"reuses a key: under jax.debug_key_reuse(True) it raised KeyReuseError ({first_line})",
            "a key was used for two draws (or used again after it was split). Split each "
            "step's key in two, one for the direction and one for the length, and use "
            "each key once",
        ) from error


def fold_in_walk_reference(key: Any, num_steps: int, *, first: int = 0, swap: bool = False) -> np.ndarray:
    """The loop reference of the fold_in walk: the position after each step, from 0.

    ``first`` and ``swap`` give two recognisable mistakes: step numbers that start
    at ``first``, and direction and length drawn from each other's keys.
    """
    position = np.float32(0.0)
    positions = []
    for i in range(num_steps):
        direction_key, length_key = random.split(random.fold_in(key, first + i))
        if swap:
            direction_key, length_key = length_key, direction_key
        direction = np.float32(random.choice(direction_key, jnp.array([-1.0, 1.0])))
        length = np.float32(random.exponential(length_key))
        position = position + direction * length
        positions.append(position)
    return np.array(positions, dtype=np.float32)


def check_fold_in_walk(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 10, ``fn(key, num_steps) -> positions``.

    The function runs under ``jax.debug_key_reuse(True)`` with typed keys, so an
    answer that uses a key twice fails even if its numbers look plausible.
    """
    cases = [(44, 12), (0, 1), (7, 12)]
    for seed, num_steps in cases:
        key = random.key(seed)
        call = Call(fn, [("key", key, f"random.key({seed})"), ("num_steps", num_steps, str(num_steps))])
        positions = unpack_array(call, run_without_key_reuse(call), "the array of positions")
        expected = fold_in_walk_reference(key, num_steps)

        def close(candidate: np.ndarray) -> bool:
            return positions.shape == candidate.shape and bool(
                np.allclose(positions, candidate, rtol=1e-4, atol=1e-4))

        def diagnose() -> str | None:
            if positions.shape == (num_steps + 1,) and np.allclose(positions[1:], expected, rtol=RTOL, atol=ATOL):
                return ("the starting position 0 is included (off by one): return the position "
                        "after each step, one per step")
            if positions.shape != expected.shape:
                return "return one position per step: an array of shape (num_steps,)"
            if close(np.diff(np.concatenate([[0.0], expected]))):
                return "these are the steps, not the positions: add them up (a running sum)"
            increments = np.diff(np.concatenate([[0.0], positions]))
            if num_steps > 2 and np.allclose(np.abs(increments), np.abs(increments[0]), rtol=1e-4):
                return ("every step has the same length: the same key was used for every step. "
                        "Fold the step number into the key: random.fold_in(key, i)")
            if close(fold_in_walk_reference(key, num_steps, first=1)):
                return "step numbers start at 0: the first step uses random.fold_in(key, 0)"
            if close(fold_in_walk_reference(key, num_steps, swap=True)):
                return ("the two keys are swapped: the direction comes from the first key of "
                        "random.split(random.fold_in(key, i)), the length from the second")
            return ("step i uses random.fold_in(key, i), split in two: the direction is "
                    "random.choice(k1, jnp.array([-1.0, 1.0])), the length random.exponential(k2)")

        compare(call, "positions", positions, expected, exact=False, diagnose=diagnose)
    passed(f"fold_in_walk matches the loop reference to round-off for {len(cases)} walks of "
           f"{', '.join(str(n) for _, n in cases)} steps, and reuses no key "
           "(checked with jax.debug_key_reuse(True)).")


def fingerprint_reference(array: np.ndarray) -> str:
    """The SHA-256 hex digest of ``f"{dtype}{shape}"`` then of the array's bytes (C order)."""
    digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def check_fingerprint(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 11, ``fn(x) -> hex digest``.

    The arrays include two with the same bytes but other dtypes, two with the
    same bytes but other shapes, a transposed (non-contiguous) array, a JAX array
    too long to print in full, and two arrays one bit apart.
    """
    cases = [
        ("np.arange(5, dtype=np.float32)", np.arange(5, dtype=np.float32)),
        ("np.zeros(4, np.int32)", np.zeros(4, np.int32)),
        ("np.zeros(4, np.float32)", np.zeros(4, np.float32)),
        ("np.zeros((2, 2), np.float32)", np.zeros((2, 2), np.float32)),
        ("np.arange(6, dtype=np.int32).reshape(2, 3).T", np.arange(6, dtype=np.int32).reshape(2, 3).T),
        ("random.normal(random.key(0), (2000,))", random.normal(random.key(0), (2000,))),
        ("np.array([1.0, 1.0], np.float32)", np.array([1.0, 1.0], np.float32)),
        ("np.array([1.0, 1.0000001], np.float32)", np.array([1.0, np.nextafter(1, 2)], np.float32)),
        ("np.float32(0.5)", np.float32(0.5)),
    ]
    for text, x in cases:
        call = Call(fn, [("x", x, text)])
        got = call.run()
        array = np.asarray(x)
        expected = fingerprint_reference(array)
        require_result(call, got, "the hex digest, a string of 64 hex digits")
        if isinstance(got, bytes):
            raise call.fail(f"returned {len(got)} bytes, expected a string of 64 hex digits",
                            "return digest.hexdigest() (text), not digest.digest() (bytes)")
        if not isinstance(got, str):
            raise call.fail(
                f"returned {describe(got)}, expected a string of 64 hex digits",
                "Python's hash() is not a fingerprint: it changes from one process to the next "
                "(PYTHONHASHSEED). Use hashlib.sha256(...).hexdigest()"
                if isinstance(got, int) else "return the hex digest: hashlib.sha256(...).hexdigest()")
        if got == expected:
            continue
        header = f"{array.dtype}{array.shape}".encode()
        if len(got) != len(expected):
            cause = f"return all {len(expected)} hex digits of the SHA-256 digest, not a part of them"
        elif got == hashlib.sha256(array.tobytes()).hexdigest():
            cause = ("only the bytes were hashed: arrays with other dtypes or shapes can have the same "
                     "bytes. Hash the text f'{a.dtype}{a.shape}' first, then the bytes")
        elif got in (hashlib.sha256(str(x).encode()).hexdigest(), hashlib.sha256(repr(x).encode()).hexdigest()):
            cause = ("the printed text was hashed: printing rounds the values and shortens long "
                     "arrays, so different arrays print the same. Hash the bytes: np.asarray(x).tobytes()")
        elif got == hashlib.sha256(array.tobytes() + header).hexdigest():
            cause = "hash the text f'{a.dtype}{a.shape}' first, then the bytes (the order matters)"
        else:
            cause = ("with a = np.asarray(x), hash the text f'{a.dtype}{a.shape}' (encoded as UTF-8), "
                     "then the bytes a.tobytes(), and return the hex digest")
        raise call.fail(f"returned {got!r}, expected {expected!r}", cause)
    passed(f"fingerprint matches the reference on {len(cases)} arrays (dtypes, shapes, a transposed "
           "array, a long JAX array and two arrays one bit apart).")


def worker_draws_reference(seed: int, worker_ids: Sequence[int], num_draws: int,
                           make_key: Callable[[int, int], Any] | None = None) -> np.ndarray:
    """Row ``j``: ``random.normal(random.fold_in(random.key(seed), worker_ids[j]), (num_draws,))``.

    ``make_key(seed, worker_id)`` replaces the worker's key, to recognise mistakes.
    """
    if make_key is None:
        def make_key(s: int, w: int) -> Any:
            return random.fold_in(random.key(s), w)
    return np.stack([np.asarray(random.normal(make_key(seed, w), (num_draws,))) for w in worker_ids])


def check_worker_draws(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 12, ``fn(seed, worker_ids, num_draws) -> draws``."""
    cases = [(2026, [0, 1, 2, 3], 5), (0, [0], 1), (7, [17, 3, 0], 8)]
    for seed, worker_ids, num_draws in cases:
        call = Call(fn, [("seed", seed, str(seed)), ("worker_ids", list(worker_ids), str(worker_ids)),
                         ("num_draws", num_draws, str(num_draws))])
        draws = unpack_array(call, call.run(), "the array of draws")
        expected = worker_draws_reference(seed, worker_ids, num_draws)

        def diagnose() -> str | None:
            n = len(worker_ids)
            if draws.shape == (num_draws, n) != expected.shape:
                return "draws is transposed: one row per worker, one column per draw"
            if draws.shape != expected.shape:
                return "return one row of num_draws draws per worker: shape (len(worker_ids), num_draws)"

            def like(make_key: Callable[[int, int], Any]) -> bool:
                return bool(np.allclose(draws, worker_draws_reference(seed, worker_ids, num_draws, make_key)))

            if n > 1 and all_rows_equal(draws):
                return ("every worker got the same draws: fold the worker id into the key, "
                        "random.fold_in(random.key(seed), worker_id)")
            if like(lambda s, w: random.key(s + w)):
                return ("random.key(seed + worker_id) gives neighbouring seeds the same streams "
                        "(worker 1 of seed 0 is worker 0 of seed 1): fold the worker id into the key")
            if like(lambda s, w: random.fold_in(random.key(w), s)):
                return ("seed and worker id are swapped: start from random.key(seed), then fold in "
                        "the worker id")
            if n > 1 and list(worker_ids) != list(range(n)) and np.allclose(
                    draws, worker_draws_reference(seed, range(n), num_draws)):
                return ("use each worker's id, not its position in worker_ids: worker 17 gets "
                        "random.fold_in(key, 17) wherever it is listed")
            one_key = np.asarray(random.normal(random.key(seed), (n, num_draws)))
            if np.allclose(draws, one_key):
                return ("all rows come from one key with shape=(n, num_draws): each worker needs "
                        "its own key, random.fold_in(random.key(seed), worker_id)")
            per_draw = np.stack([np.asarray(jax.vmap(random.normal)(random.split(
                random.fold_in(random.key(seed), w), num_draws))) for w in worker_ids])
            if np.allclose(draws, per_draw):
                return ("draw each worker's row with one call, random.normal(worker_key, (num_draws,)), "
                        "not one split key per draw")
            return ("row j is random.normal(random.fold_in(random.key(seed), worker_ids[j]), "
                    "(num_draws,))")

        compare(call, "draws", draws, expected, exact=False, diagnose=diagnose)
    passed(f"worker_draws matches the reference for {len(cases)} cases "
           f"({'; '.join(f'seed {s} with workers {w}' for s, w, _ in cases)}).")
