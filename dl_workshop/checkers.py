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

The diagnosis follows the evidence in a fixed order: the dtype, then the shape,
then the values; among the values, mistakes of order (a shifted, swapped or
unsummed result) before mistakes of keys. Each checker lists its mistakes in
tables of ``(the answer looks like this, likely cause)``, tried in order.

With ``jax_threefry_partitionable`` on (JAX's default), ``random.split(key, n)[i]``
is ``random.fold_in(key, i)`` and ``random.split(key, n)[:m]`` is
``random.split(key, m)``. The course teaches not to rely on that, so one case
of each checker that draws keys runs with the flag flipped, its reference
computed under the same flag: a ``fold_in`` where ``split`` is asked (or the
reverse) fails there, and is named.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random
from jax.errors import KeyReuseError

from dl_workshop import jax_idioms
from dl_workshop._arguments import show

# Float answers are running sums or products: different but correct methods
# (scan, cumsum, a Python loop) round differently in the last bits.
RTOL = 1e-5
ATOL = 1e-5

# A mistake: a predicate on the learner's array ("the answer looks like this"),
# and the likely cause to print when it holds.
Mistake = tuple[Callable[[np.ndarray], bool], str]


# --- Running the learner's function ------------------------------------------------

TRACER_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerArrayConversionError,
)
TRACED_VALUE = (
    "a value traced by jax.jit (or vmap) was used where Python needs a concrete number: "
    "a size, an `if`, int(...). Under jax.jit, mark the sizes static, "
    "jax.jit(f, static_argnums=...) or static_argnames=...; for an `if` on an array use jnp.where"
)
VMAP_IN_AXES = (
    "vmap maps every argument along the axis given in in_axes (0 by default). An argument "
    "that is the same for every call, such as num_steps, must not be mapped: in_axes=(0, None), "
    "or wrap the function, lambda k: f(k, num_steps)"
)
BROADCASTING = (
    "arrays of incompatible shapes were combined: print the shapes of your intermediate "
    "arrays (jnp.cumsum without axis=0, for example, flattens a (n, 2) array into one of length 2n)"
)


def error_hint(call: Call, error: Exception) -> str | None:
    """The likely cause of an error the learner's function raised, where it is recognisable."""
    text = str(error)
    if isinstance(error, TRACER_ERRORS) or "Tracer" in text:
        return TRACED_VALUE
    if "vmap was requested to map its argument" in text:
        lists = [name for name, value, _ in call.args if isinstance(value, (list, tuple))]
        if lists:
            return (
                f"{lists[0]} is a Python list: vmap maps arrays, and sees a list as separate "
                f"numbers of shape (). Make it an array first: jnp.asarray({lists[0]})"
            )
        return VMAP_IN_AXES
    if "incompatible shapes for broadcasting" in text:
        return BROADCASTING
    return None


def first_paragraph(text: str, limit: int = 500) -> str:
    """The first paragraph of an error message, at most ``limit`` characters."""
    paragraph = text.strip().split("\n\n")[0]
    return paragraph if len(paragraph) <= limit else paragraph[:limit] + "…"


class Call:
    """One call of the learner's function, described the way the learner would write it.

    ``partitionable`` is the value of ``jax_threefry_partitionable`` the call runs
    under, when it is not the default.
    """

    def __init__(self, fn: Callable[..., Any], args: Sequence[tuple[str, Any, str]], partitionable: bool | None = None):
        self.fn = fn
        self.args = args
        self.partitionable = partitionable
        shown = ", ".join(f"{name}={text}" for name, _, text in args)
        self.text = f"{getattr(fn, '__name__', 'your function')}({shown})"
        if partitionable is not None:
            self.text = f"with jax.threefry_partitionable({partitionable}): {self.text}"

    def run(self) -> Any:
        try:
            return self.fn(*(value for _, value, _ in self.args))
        except Exception as error:
            failure = self.fail(
                f"raised {type(error).__name__}: {first_paragraph(str(error))}", error_hint(self, error)
            )
            raise failure from error

    def fail(self, message: str, cause: str | None = None) -> AssertionError:
        text = f"{self.text}: {message}"
        if cause:
            text += f"\nLikely cause: {cause}"
        return AssertionError(text)


@contextlib.contextmanager
def case_flag(flipped: bool) -> Iterator[bool | None]:
    """Run a case's block with ``jax_threefry_partitionable`` flipped if ``flipped``.

    Yields the value the flag is set to for the block, or ``None`` where it is
    left as it is (what :class:`Call` shows the learner).
    """
    if not flipped:
        yield None
    else:
        flag = not jax.config.jax_threefry_partitionable
        with jax.threefry_partitionable(flag):
            yield flag


def equal_only_when_partitionable() -> str:
    """The sentence that explains why a split/fold_in mix-up fails only in some cases.

    Call it where the case runs: it says how ``jax_threefry_partitionable`` is set there.
    """
    setting = "on" if jax.config.jax_threefry_partitionable else "off"
    return (
        "the two are equal only while jax_threefry_partitionable is on, and this call runs "
        f"with it {setting}: do not rely on it"
    )


# --- Unpacking and comparing results ---------------------------------------------------

NO_RETURN = "the function has no `return` statement (or still returns the stub's None)"


def require_result(call: Call, result: Any, expected: str) -> Any:
    """``result``, unless it is None: then a failure that says what was expected."""
    if result is None:
        raise call.fail(f"returned None, expected {expected}", NO_RETURN)
    return result


def as_numbers(call: Call, value: Any, name: str) -> np.ndarray:
    """``value`` as a NumPy array of numbers, or a failure that says what it is."""
    if jnp.issubdtype(getattr(value, "dtype", np.float32), jax.dtypes.prng_key):
        raise call.fail(
            f"{name} holds PRNG keys ({describe(value)}), expected numbers",
            "return the values drawn with the keys, not the keys",
        )
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise call.fail(f"{name} is {describe(value)}, expected an array of numbers")
    return array


def unpack_array(call: Call, result: Any, expected: str) -> np.ndarray:
    """The learner's single-array result as a NumPy array, or a clear failure."""
    return as_numbers(call, require_result(call, result, expected), "the result")


def unpack_pair(call: Call, result: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The learner's ``(first, second)`` result as NumPy arrays, or a clear failure."""
    require_result(call, result, f"a pair ({names[0]}, {names[1]})")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise call.fail(
            f"returned {describe(result)}, expected a pair ({names[0]}, {names[1]})",
            f"return both values: `return {names[0]}, {names[1]}`",
        )
    return as_numbers(call, result[0], names[0]), as_numbers(call, result[1], names[1])


def describe(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {show(value)}"


def first_difference(got: np.ndarray, expected: np.ndarray, exact: bool) -> tuple[int, ...] | None:
    """Index of the first element that differs (exactly, or beyond round-off)."""
    if exact:
        differs = got != expected
    else:
        differs = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    where = np.argwhere(differs)
    return tuple(int(i) for i in where[0]) if len(where) else None


def matches(got: np.ndarray, candidate: Any) -> bool:
    """True if ``got`` has the shape of ``candidate`` and its values (to a loose round-off)."""
    candidate = np.asarray(candidate)
    return got.shape == candidate.shape and bool(np.allclose(got, candidate, rtol=1e-4, atol=1e-5))


def likely(mistakes: Sequence[Mistake], got: np.ndarray) -> str | None:
    """The cause of the first mistake that ``got`` looks like.

    A predicate that cannot be evaluated on an unexpected answer does not apply.
    """
    for looks_like, cause in mistakes:
        try:
            if looks_like(got):
                return cause
        except Exception:
            continue
    return None


INTEGERS = "positions on the grid are whole numbers: keep them integers (JAX's default integers are int32)"


def compare(
    call: Call,
    name: str,
    got: np.ndarray,
    expected: np.ndarray,
    *,
    exact: bool,
    dtype_cause: str | None = None,
    shape_mistakes: Sequence[Mistake] = (),
    shape_hint: str = "check which axis holds the steps and which the coordinates or realizations",
    value_mistakes: Sequence[Mistake] = (),
    value_hint: str | None = None,
) -> None:
    """Fail on the first of: the dtype, the shape, the first differing value of ``name``.

    Each failure's likely cause is the first matching mistake of its stage, or its hint.
    """
    if exact and not (np.issubdtype(got.dtype, np.integer) and got.dtype != bool):
        raise call.fail(f"{name} has dtype {got.dtype}, expected integers", dtype_cause or INTEGERS)
    if not exact and not np.issubdtype(got.dtype, np.floating):
        raise call.fail(f"{name} has dtype {got.dtype}, expected floats ({expected.dtype})", dtype_cause)
    if got.shape != expected.shape:
        raise call.fail(
            f"{name} has shape {got.shape}, expected {expected.shape}", likely(shape_mistakes, got) or shape_hint
        )
    index = first_difference(got, expected, exact)
    if index is not None:
        tolerance = "" if exact else f" (beyond round-off: rtol={RTOL}, atol={ATOL})"
        raise call.fail(
            f"{name} differs from the reference{tolerance} first at index {index}: "
            f"expected {expected[index].item()!r}, got {got[index].item()!r}",
            likely(value_mistakes, got) or value_hint,
        )


def passed(message: str) -> None:
    print(f"✓ {message}")


def keys_text(seed: int, n: int) -> str:
    return f"random.split(random.key({seed}), {n})"


def all_rows_equal(values: np.ndarray) -> bool:
    return len(values) > 1 and bool(np.all(values == values[0]))


def before_each_step(after: np.ndarray, start: Any) -> np.ndarray:
    """The positions before each step, from the positions ``after`` each step and the start."""
    return np.concatenate([np.asarray(start, after.dtype)[None], after[:-1]])


def fold_in_keys(key: Any, n: int) -> Any:
    """``[random.fold_in(key, i) for i in range(n)]`` as one array: the mistake of using
    ``fold_in`` where ``random.split(key, n)`` is asked."""
    return jax.vmap(lambda i: random.fold_in(key, i))(jnp.arange(n))


def flipped_note(cases: Sequence[tuple[Any, ...]]) -> str:
    """For the success message: ``"; one with jax_threefry_partitionable flipped"``, if one is."""
    return "; one with jax_threefry_partitionable flipped" if any(case[-1] for case in cases) else ""


# --- Exercise 1: Brownian motion on a grid ---------------------------------------


def step_key_halves(key: Any, halves: str) -> tuple[Any, Any]:
    """The two keys of a step: ``random.split(key)``, or one of two mistakes."""
    if halves == "fold_in":
        return random.fold_in(key, 0), random.fold_in(key, 1)
    first, second = random.split(key)
    return (second, first) if halves == "swapped" else (first, second)


@functools.partial(jax.jit, static_argnames="halves")
def grid_decision(key: Any, halves: str = "split") -> tuple[Any, Any]:
    """Axis and direction of one step, drawn as the loop reference draws them.

    Compiled once, so that the loop below costs one call per step rather than
    several; compiled and eager JAX give the same bits for the same key.
    """
    axis_key, direction_key = step_key_halves(key, halves)
    return random.choice(axis_key, np.array([0, 1])), random.choice(direction_key, np.array([-1, 1]))


def grid_walk_reference(keys: Any, starting_position: Any, halves: str = "split") -> np.ndarray:
    """The loop reference of exercise 1: the position after each step.

    ``halves`` gives two recognisable mistakes: the two keys of a step swapped
    (``"swapped"``), or made with ``fold_in(k, 0)`` and ``fold_in(k, 1)`` (``"fold_in"``).
    """
    position = np.array(starting_position)
    history = []
    for key in keys:
        axis, direction = (int(value) for value in grid_decision(key, halves))
        position = position.copy()
        position[axis] += direction
        history.append(position)
    return np.stack(history)


def wrong_order(names: tuple[str, str]) -> str:
    return f"the pair is in the wrong order: return ({names[0]}, {names[1]}), {names[0]} first"


# Each checker runs a case that can show a mistake's pattern first (several steps
# or walks), then the smallest sizes, then a different start or parameters; the
# last field of a case says whether it runs with jax_threefry_partitionable flipped.
EX1_CASES = [(44, 60, (0, 0), False), (0, 1, (0, 0), False), (7, 60, (3, -2), True)]


def check_randomness_ex_1(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 1, ``fn(keys, starting_position) -> (final, history)``."""
    for seed, n, start, flipped in EX1_CASES:
        with case_flag(flipped) as flag:
            keys = random.split(random.key(seed), n)
            call = Call(
                fn,
                [
                    ("keys", keys, keys_text(seed, n)),
                    ("starting_position", np.array(start), f"np.array({list(start)})"),
                ],
                flag,
            )
            final, history = unpack_pair(call, call.run(), ("final", "history"))
            expected = grid_walk_reference(keys, start)

            def steps(h: np.ndarray) -> np.ndarray:
                return np.diff(np.vstack([np.array(start), h]), axis=0)

            compare(
                call,
                "history",
                history,
                expected,
                exact=True,
                shape_mistakes=[
                    (lambda h: h.shape == (2,) and final.shape == (n, 2), wrong_order(("final", "history"))),
                    (
                        lambda h: h.shape == (n + 1, 2) and np.array_equal(h[1:], expected),
                        "the starting position is included in the history (off by one): "
                        "history[i] is the position after step i, so it has one row per key",
                    ),
                    (
                        lambda h: h.shape == (n + 1, 2),
                        "history has one row too many: one row per key, "
                        "the position after each step (the starting position is not included)",
                    ),
                    (
                        lambda h: h.shape == (n - 1, 2),
                        "history has one row too few: one row per key, the "
                        "last one included (were the keys shortened, as with keys[:-1]?)",
                    ),
                    (
                        lambda h: h.shape == (2, n),
                        "history is transposed: it should have one row per step and two columns (x, y)",
                    ),
                    (
                        lambda h: h.ndim == 1 and h.size in (2 * n, 2 * n + 2),
                        "history is flat: jnp.cumsum "
                        "without axis sums the flattened array; write jnp.cumsum(steps, axis=0)",
                    ),
                ],
                shape_hint="history has one row per key and two columns (x, y): shape (len(keys), 2)",
                value_mistakes=[
                    (
                        lambda h: matches(h, before_each_step(expected, start)),
                        "history[i] is the position before step i (as a scan that returns the old position "
                        "gives it); it must be the position after step i: return the new position",
                    ),
                    (
                        lambda h: any(start) and matches(h, expected - np.array(start)),
                        "the starting position is missing: history is starting_position plus the running "
                        "sum of the steps",
                    ),
                    (
                        lambda h: matches(h, np.array(start) + (expected - np.array(start))[:, ::-1]),
                        "x and y are swapped: axis 0 (the first column) is x",
                    ),
                    (
                        lambda h: matches(h, np.array(start) + np.cumsum(steps(expected).ravel()).reshape(n, 2)),
                        "the running sum ran over the flattened steps: write jnp.cumsum(steps, axis=0)",
                    ),
                    (
                        lambda h: not np.all(np.abs(steps(h)).sum(axis=1) == 1),
                        "each step must move by exactly 1 along exactly one axis",
                    ),
                    (
                        lambda h: n > 2 and all_rows_equal(steps(h)),
                        "every step is identical: the same key was used for every step. "
                        "Use each step's own key (one of `keys`), split in two for axis and direction",
                    ),
                    (
                        lambda h: matches(h, grid_walk_reference(keys, start, "swapped")),
                        "the two halves of each step's key are swapped: k1, k2 = random.split(k); k1 picks "
                        "the axis, k2 the direction",
                    ),
                    (
                        lambda h: matches(h, grid_walk_reference(keys, start, "fold_in")),
                        "a step's two keys must be k1, k2 = random.split(k), not fold_in(k, 0) and fold_in(k, 1): "
                        + equal_only_when_partitionable(),
                    ),
                ],
                value_hint=(
                    "split each step's key in two: the first picks the axis with "
                    "random.choice(k1, jnp.array([0, 1])), the second the direction with "
                    "random.choice(k2, jnp.array([-1, 1]))"
                ),
            )
            compare(
                call,
                "final",
                final,
                expected[-1],
                exact=True,
                shape_hint="final is one position (x, y), the last row of history: history[-1]",
                value_mistakes=[
                    (
                        lambda f: matches(f, np.array(start)),
                        "final is the starting position: it should be the position after the last step, history[-1]",
                    ),
                    (
                        lambda f: n > 1 and matches(f, expected[-2]),
                        "final is the position before the last step: it should be the position after it, history[-1]",
                    ),
                ],
                value_hint="final should be the last row of history",
            )
    passed(
        f"randomness_ex_1 matches the loop reference exactly on {len(EX1_CASES)} walks of "
        f"{', '.join(str(c[1]) for c in EX1_CASES)} steps (both starting positions"
        f"{flipped_note(EX1_CASES)})."
    )


# --- Exercise 2: stochastic stick-breaking ------------------------------------------


beta_draw = jax.jit(lambda key, a, b: random.beta(key, a=a, b=b))


def stick_breaking_reference(
    key: Any, num_breaks: int, a: float, b: float, split: Callable[[Any, int], Any] = random.split
) -> tuple[np.ndarray, np.ndarray]:
    """The loop reference of exercise 2 (with ``a=1, b=concentration``): pieces, and what is left.

    ``split(key, num_breaks)`` makes the keys of the breaks (``fold_in_keys`` for a mistake).
    """
    length = np.float32(1.0)
    sticks = []
    for k in split(key, num_breaks):
        piece = length * np.float32(beta_draw(k, a, b))
        sticks.append(piece)
        length = length - piece
    return np.array(sticks, dtype=np.float32), np.array(length)


def as_scalar(value: np.ndarray) -> np.ndarray:
    """A one-element array as a 0-d array; anything else unchanged (its shape then fails)."""
    return value.reshape(()) if value.size == 1 else value


EX2_CASES = [(44, 30, 5.0, False), (0, 1, 5.0, False), (3, 30, 0.5, True)]


def check_randomness_ex_2(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 2, ``fn(key, num_breaks, concentration) -> (final, sticks)``."""
    for seed, n, concentration, flipped in EX2_CASES:
        with case_flag(flipped) as flag:
            key = random.key(seed)
            call = Call(
                fn,
                [
                    ("key", key, f"random.key({seed})"),
                    ("num_breaks", n, str(n)),
                    ("concentration", concentration, str(concentration)),
                ],
                flag,
            )
            final, sticks = unpack_pair(call, call.run(), ("final", "sticks"))
            expected, left = stick_breaking_reference(key, n, 1.0, concentration)
            left_after = 1.0 - np.cumsum(expected)

            def break_fractions(pieces: np.ndarray) -> np.ndarray:
                """The fraction of the length left that each piece took."""
                before = before_each_step(1.0 - np.cumsum(pieces), 1.0)
                return pieces / np.where(before == 0, 1, before)

            compare(
                call,
                "sticks",
                sticks,
                expected,
                exact=False,
                shape_mistakes=[
                    (lambda s: n > 1 and s.size == 1 and final.shape == (n,), wrong_order(("final", "sticks"))),
                    (
                        lambda s: s.shape == (n + 1,),
                        "sticks has one value too many: one piece per break "
                        "(neither the whole stick nor the length left belongs in it)",
                    ),
                ],
                shape_hint="sticks should hold one piece per break, in order: shape (num_breaks,)",
                value_mistakes=[
                    (
                        lambda s: matches(s, left_after),
                        "sticks holds the length left after each break; it should hold the piece broken off",
                    ),
                    (
                        lambda s: matches(s, before_each_step(left_after, 1.0)),
                        "sticks holds the length before each break; it should hold the piece broken off",
                    ),
                    (
                        lambda s: matches(s, break_fractions(expected)),
                        "sticks holds the fractions; each piece is the fraction times the length left",
                    ),
                    (
                        lambda s: n > 1 and matches(s, expected[::-1]),
                        "the pieces are in reverse order: the first piece is the first broken off",
                    ),
                    (
                        lambda s: matches(s, stick_breaking_reference(key, n, concentration, 1.0)[0]),
                        "the Beta parameters are swapped: the fraction is random.beta(k, a=1, b=concentration)",
                    ),
                    (
                        lambda s: n > 2 and np.allclose(break_fractions(s), break_fractions(s)[0], rtol=1e-4),
                        "every break takes the same fraction: the same key was used for every break. "
                        "Split the key into one key per break",
                    ),
                    (
                        lambda s: matches(s, stick_breaking_reference(key, n, 1.0, concentration, fold_in_keys)[0]),
                        "the keys of the breaks must be random.split(key, num_breaks), not fold_in(key, i): "
                        + equal_only_when_partitionable(),
                    ),
                ],
                value_hint=(
                    "break off random.beta(k, a=1, b=concentration) of the length left, with k "
                    "the i-th of random.split(key, num_breaks)"
                ),
            )
            compare(
                call,
                "final",
                as_scalar(final),
                left,
                exact=False,
                shape_mistakes=[
                    (
                        lambda f: matches(f, left_after),
                        "final holds the length left after every break: "
                        "return only the last one (the final carry of lax.scan)",
                    ),
                ],
                shape_hint="final is one number: the length of stick left after the last break",
                value_mistakes=[
                    (
                        lambda f: matches(f, expected.sum()),
                        "final is the sum of the pieces; it should be the length of stick left, 1 - sticks.sum()",
                    ),
                ],
                value_hint="final should be the length of stick left after the last break",
            )
    passed(
        f"randomness_ex_2 matches the loop reference to round-off for {len(EX2_CASES)} keys "
        f"with {', '.join(str(c[1]) for c in EX2_CASES)} breaks (concentrations 5 and 0.5"
        f"{flipped_note(EX2_CASES)})."
    )


# --- Exercise 3: many Gaussian random walks -----------------------------------------


def uniform_grw_draw(key: Any, num_steps: int) -> tuple[Any, Any]:
    """A walk like ``grw_draw`` whose steps are uniform on [-1, 1), not normal.

    The checker of exercise 3 passes it as ``grw_draw``, to check that an answer
    uses the function it is given. Returns ``(final, positions before each step)``.

    >>> final, draws = uniform_grw_draw(random.key(0), num_steps=4)
    >>> draws.shape, float(draws[0])
    ((4,), 0.0)
    """
    steps = jax.vmap(lambda k: random.uniform(k, minval=-1.0, maxval=1.0))(random.split(key, num_steps))
    positions = jnp.cumsum(steps)
    return positions[-1], jnp.concatenate([jnp.zeros(1), positions[:-1]])


WALKS = {"grw_draw": jax_idioms.grw_draw, "uniform_grw_draw": uniform_grw_draw}


def walks_reference(keys: Any, num_steps: int, walk: Callable[..., Any]) -> tuple[np.ndarray, np.ndarray]:
    """``walk(k, num_steps=num_steps)`` for each key: ``(finals, trajectories)``."""
    walks = [walk(k, num_steps=num_steps) for k in keys]
    return np.array([final for final, _ in walks]), np.stack([np.asarray(draws) for _, draws in walks])


# The third case has more walks than steps, and passes a walk of the checker's own.
EX3_CASES = [
    (44, 20, 50, "grw_draw", False),
    (0, 1, 1, "grw_draw", False),
    (9, 6, 2, "uniform_grw_draw", False),
    (5, 3, 200, "grw_draw", True),
]


def check_randomness_ex_3(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 3,
    ``fn(key, num_realizations, grw_draw, num_steps) -> (finals, trajectories)``."""
    for seed, r, n, walk_name, flipped in EX3_CASES:
        with case_flag(flipped) as flag:
            key = random.key(seed)
            walk = WALKS[walk_name]
            call = Call(
                fn,
                [
                    ("key", key, f"random.key({seed})"),
                    ("num_realizations", r, str(r)),
                    ("grw_draw", walk, walk_name),
                    ("num_steps", n, str(n)),
                ],
                flag,
            )
            finals, trajectories = unpack_pair(call, call.run(), ("finals", "trajectories"))
            expected_finals, expected = walks_reference(random.split(key, r), n, walk)

            compare(
                call,
                "trajectories",
                trajectories,
                expected,
                exact=False,
                shape_mistakes=[
                    (
                        lambda t: n > 1 and t.shape == (r,) and finals.shape == (r, n),
                        wrong_order(("finals", "trajectories")),
                    ),
                    (
                        lambda t: r != n and t.shape == (n, r),
                        "trajectories is transposed: one row per realization, one column per step",
                    ),
                    (
                        lambda t: r != n and t.shape == (min(r, n), n),
                        "there is one walk per step: make one walk per key of random.split(key, num_realizations), "
                        "not of random.split(key, num_steps)",
                    ),
                    (
                        lambda t: t.ndim == 2 and t.shape[0] == r,
                        "pass num_steps on to grw_draw: each trajectory has num_steps positions",
                    ),
                ],
                shape_hint=(
                    "trajectories has one row per walk and one column per step: shape "
                    "(num_realizations, num_steps), one walk per key of random.split(key, num_realizations)"
                ),
                value_mistakes=[
                    (
                        lambda t: (
                            walk is not jax_idioms.grw_draw
                            and matches(t, walks_reference(random.split(key, r), n, jax_idioms.grw_draw)[1])
                        ),
                        f"the grw_draw argument is not used: this call passes {walk_name}, and the walks came "
                        "from the course's grw_draw. Call the function you are given, grw_draw(k, num_steps)",
                    ),
                    (
                        lambda t: matches(t, np.hstack([expected[:, 1:], expected_finals[:, None]])),
                        "these are the positions after each step; row i must be what grw_draw returns, the "
                        "positions before each step (starting at 0)",
                    ),
                    (
                        lambda t: all_rows_equal(t),
                        "all realizations are identical: every walk got the same "
                        "key. vmap over random.split(key, num_realizations), one key per walk",
                    ),
                    (
                        lambda t: n >= r and matches(t, walks_reference(random.split(key, n)[:r], n, walk)[1]),
                        "the walk keys are random.split(key, num_steps)[:num_realizations]: split the key into "
                        "num_realizations keys, random.split(key, num_realizations) (the first keys agree only "
                        "while jax_threefry_partitionable is on)",
                    ),
                    (
                        lambda t: matches(t, walks_reference(fold_in_keys(key, r), n, walk)[1]),
                        "the walk keys must be random.split(key, num_realizations), not fold_in(key, i): "
                        + equal_only_when_partitionable(),
                    ),
                ],
                value_hint="row i should be grw_draw(random.split(key, num_realizations)[i], num_steps)",
            )
            compare(
                call,
                "finals",
                finals,
                expected_finals,
                exact=False,
                value_mistakes=[
                    (
                        lambda f: n > 1 and matches(f, expected[:, -1]),
                        "finals holds the last entry of each "
                        "trajectory, the position before the last step: use the final position grw_draw returns",
                    ),
                ],
                value_hint="finals[i] should be the final position that grw_draw returns for walk i",
            )
    passed(
        f"randomness_ex_3 matches grw_draw over split keys for {len(EX3_CASES)} cases "
        f"({', '.join(f'{c[1]} walks x {c[2]} steps' for c in EX3_CASES)}; one with a walk "
        f"function other than grw_draw{flipped_note(EX3_CASES)})."
    )


# --- Exercise 4: a random walk with drift and volatility ------------------------------


def drifting_walk_reference(
    key: Any, num_steps: int, drift: float, volatility: float, split: Callable[[Any, int], Any] = random.split
) -> np.ndarray:
    """The loop reference of exercise 4: the position after each step, from 0."""
    position = np.float32(0.0)
    positions = []
    for k in split(key, num_steps):
        position = position + np.float32(drift) + np.float32(volatility) * np.float32(random.normal(k))
        positions.append(position)
    return np.array(positions, dtype=np.float32)


def increments(positions: np.ndarray) -> np.ndarray:
    """The steps of a walk on a line that starts at 0."""
    return np.diff(np.concatenate([[0.0], positions]))


def line_walk_shape_mistakes(n: int, expected: np.ndarray) -> list[Mistake]:
    """The shape mistakes of a walk on a line: the starting 0 included."""
    return [
        (
            lambda p: p.shape == (n + 1,) and matches(p[1:], expected),
            "the starting position 0 is included (off by one): return the position after each step, one per step",
        )
    ]


def line_walk_order_mistakes(expected: np.ndarray) -> list[Mistake]:
    """The order mistakes of a walk on a line: positions before the steps, or the steps unsummed."""
    return [
        (
            lambda p: matches(p, before_each_step(expected, 0.0)),
            "these are the positions before each step (starting at 0); return the position after "
            "each step: the new position, not the old one",
        ),
        (
            lambda p: matches(p, increments(expected)),
            "these are the steps, not the positions: add them up (a running sum)",
        ),
    ]


EX4_CASES = [(44, 100, 0.1, 0.5, False), (0, 1, 0.5, 2.0, False), (9, 30, -1.0, 3.0, True)]


def check_randomness_ex_4(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 4, ``fn(key, num_steps, drift, volatility) -> positions``."""
    for seed, n, drift, volatility, flipped in EX4_CASES:
        with case_flag(flipped) as flag:
            key = random.key(seed)
            call = Call(
                fn,
                [
                    ("key", key, f"random.key({seed})"),
                    ("num_steps", n, str(n)),
                    ("drift", drift, str(drift)),
                    ("volatility", volatility, str(volatility)),
                ],
                flag,
            )
            positions = unpack_array(call, call.run(), "the array of positions")
            expected = drifting_walk_reference(key, n, drift, volatility)
            compare(
                call,
                "positions",
                positions,
                expected,
                exact=False,
                shape_mistakes=line_walk_shape_mistakes(n, expected),
                shape_hint="return one position per step: an array of shape (num_steps,)",
                value_mistakes=[
                    *line_walk_order_mistakes(expected),
                    (
                        lambda p: matches(p, drifting_walk_reference(key, n, volatility, drift)),
                        "drift and volatility are swapped: each step is drift + volatility * z",
                    ),
                    (
                        lambda p: n > 2 and np.allclose(increments(p), increments(p)[0], rtol=1e-4, atol=1e-5),
                        "every step is identical: the same key was used for every step. "
                        "Draw step i from the i-th of random.split(key, num_steps)",
                    ),
                    (
                        lambda p: matches(p, drifting_walk_reference(key, n, drift, volatility, fold_in_keys)),
                        "the step keys must be random.split(key, num_steps), not fold_in(key, i): "
                        + equal_only_when_partitionable(),
                    ),
                ],
                value_hint=(
                    "step i adds drift + volatility * random.normal(k_i), k_i the i-th of random.split(key, num_steps)"
                ),
            )
    passed(
        f"randomness_ex_4 matches the loop reference to round-off for {len(EX4_CASES)} walks "
        f"of {', '.join(str(c[1]) for c in EX4_CASES)} steps (drift and volatility varied"
        f"{flipped_note(EX4_CASES)})."
    )


# --- Exercise 5: mean squared displacement of grid walks -----------------------------


def squared_displacements(
    key: Any, num_walks: int, num_steps: int, split: Callable[[Any, int], Any] = random.split
) -> np.ndarray:
    """``x**2 + y**2`` after each step of each walk, from the exercise-1 loop reference:
    shape ``(num_walks, num_steps)``. ``split`` makes the walk keys and the step keys."""
    return np.stack(
        [
            (grid_walk_reference(split(walk_key, num_steps), (0, 0)) ** 2).sum(axis=1)
            for walk_key in split(key, num_walks)
        ]
    )


def msd_reference(
    key: Any, num_walks: int, num_steps: int, split: Callable[[Any, int], Any] = random.split
) -> np.ndarray:
    """Exercise 5 from the exercise-1 loop reference, one walk at a time."""
    return np.mean(squared_displacements(key, num_walks, num_steps, split), axis=0, dtype=np.float32)


# No case has a single step: the mean squared displacement after one step is always 1.
EX5_CASES = [(44, 4, 25, False), (0, 1, 6, False), (2, 16, 10, True)]


def check_randomness_ex_5(fn: Callable[..., Any]) -> None:
    """Check an answer to exercise 5, ``fn(key, num_walks, num_steps) -> msd``."""
    for seed, w, n, flipped in EX5_CASES:
        with case_flag(flipped) as flag:
            key = random.key(seed)
            call = Call(
                fn, [("key", key, f"random.key({seed})"), ("num_walks", w, str(w)), ("num_steps", n, str(n))], flag
            )
            msd = unpack_array(call, call.run(), "the array of mean squared displacements")
            squared = squared_displacements(key, w, n)
            expected = squared.mean(axis=0, dtype=np.float32)

            def one_walk(m: np.ndarray) -> bool:
                single = (grid_walk_reference(random.split(key, n), (0, 0)) ** 2).sum(axis=1)
                return w > 1 and (matches(m, squared[0]) or matches(m, single))

            compare(
                call,
                "msd",
                msd,
                expected,
                exact=False,
                dtype_cause="the mean squared displacement is an average: .mean(axis=0) over the walks",
                shape_mistakes=[
                    (
                        lambda m: m.shape == (n + 1,),
                        "the starting position is included (off by one): one value per step, the first after step 1",
                    ),
                    (lambda m: m.shape == (w, n), "average over the walks (axis 0): one value per step"),
                    (
                        lambda m: w != n and m.shape == (w,),
                        "this averages over the steps: average over the walks (axis 0), one value per step",
                    ),
                    (
                        lambda m: m.shape[-1:] == (2,),
                        "add the squared coordinates, x**2 + y**2 "
                        "(sum over the last axis), then average over the walks",
                    ),
                ],
                shape_hint="return one value per step: an array of shape (num_steps,)",
                value_mistakes=[
                    (
                        lambda m: matches(m, before_each_step(expected, 0.0)),
                        "these are the values before each step (starting at 0); the first value is the "
                        "one after step 1",
                    ),
                    (
                        lambda m: matches(m, np.sqrt(squared).mean(axis=0)),
                        "square the displacement: x**2 + y**2, then average",
                    ),
                    (
                        lambda m: w > 1 and matches(m, squared.sum(axis=0)),
                        "this is the sum over the walks: divide by their number (average, .mean(axis=0))",
                    ),
                    (
                        one_walk,
                        "every walk is the same walk: give each walk its own key, "
                        "random.split(key, num_walks), and split that per step",
                    ),
                    (
                        lambda m: (
                            matches(m, msd_reference(key, w, n, fold_in_keys))
                            or matches(
                                m,
                                np.mean(
                                    [
                                        (grid_walk_reference(random.split(k, n), (0, 0)) ** 2).sum(axis=1)
                                        for k in fold_in_keys(key, w)
                                    ],
                                    axis=0,
                                ),
                            )
                        ),
                        "the keys must be random.split, not fold_in(key, i): " + equal_only_when_partitionable(),
                    ),
                ],
                value_hint=(
                    "walk w uses random.split(random.split(key, num_walks)[w], num_steps); "
                    "average x**2 + y**2 over the walks"
                ),
            )
    passed(
        f"randomness_ex_5 matches the loop reference for {len(EX5_CASES)} cases "
        f"({', '.join(f'{c[1]} walks x {c[2]} steps' for c in EX5_CASES)}{flipped_note(EX5_CASES)})."
    )


# --- Going further: key hygiene and reproducibility (chapters 10 to 13) ---------------


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


def fold_in_walk_reference(
    key: Any, num_steps: int, *, first: int = 0, swap: bool = False, split_up_front: bool = False
) -> np.ndarray:
    """The loop reference of the fold_in walk: the position after each step, from 0.

    ``first``, ``swap`` and ``split_up_front`` give three recognisable mistakes:
    step numbers that start at ``first``, direction and length drawn from each
    other's keys, and step keys from ``random.split(key, num_steps)``.
    """
    step_keys = random.split(key, num_steps) if split_up_front else None
    position = np.float32(0.0)
    positions = []
    for i in range(num_steps):
        step_key = step_keys[i] if split_up_front else random.fold_in(key, first + i)
        direction_key, length_key = random.split(step_key)
        if swap:
            direction_key, length_key = length_key, direction_key
        direction = np.float32(random.choice(direction_key, jnp.array([-1.0, 1.0])))
        length = np.float32(random.exponential(length_key))
        position = position + direction * length
        positions.append(position)
    return np.array(positions, dtype=np.float32)


FOLD_IN_WALK_CASES = [(44, 12, False), (0, 1, False), (7, 12, True)]


def check_fold_in_walk(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 10, ``fn(key, num_steps) -> positions``.

    The function runs under ``jax.debug_key_reuse(True)`` with typed keys, so an
    answer that uses a key twice fails even if its numbers look plausible.
    """
    for seed, n, flipped in FOLD_IN_WALK_CASES:
        with case_flag(flipped) as flag:
            key = random.key(seed)
            call = Call(fn, [("key", key, f"random.key({seed})"), ("num_steps", n, str(n))], flag)
            positions = unpack_array(call, run_without_key_reuse(call), "the array of positions")
            expected = fold_in_walk_reference(key, n)
            compare(
                call,
                "positions",
                positions,
                expected,
                exact=False,
                shape_mistakes=line_walk_shape_mistakes(n, expected),
                shape_hint="return one position per step: an array of shape (num_steps,)",
                value_mistakes=[
                    *line_walk_order_mistakes(expected),
                    (
                        lambda p: matches(p, fold_in_walk_reference(key, n, first=1)),
                        "step numbers start at 0: the first step uses random.fold_in(key, 0)",
                    ),
                    (
                        lambda p: n > 2 and np.allclose(np.abs(increments(p)), np.abs(increments(p)[0]), rtol=1e-4),
                        "every step has the same length: the same key was used for every step. "
                        "Fold the step number into the key: random.fold_in(key, i)",
                    ),
                    (
                        lambda p: matches(p, fold_in_walk_reference(key, n, swap=True)),
                        "the two keys are swapped: the direction comes from the first key of "
                        "random.split(random.fold_in(key, i)), the length from the second",
                    ),
                    (
                        lambda p: matches(p, fold_in_walk_reference(key, n, split_up_front=True)),
                        "the step keys come from random.split(key, num_steps); the exercise asks for "
                        "random.fold_in(key, i): " + equal_only_when_partitionable(),
                    ),
                ],
                value_hint=(
                    "step i uses random.fold_in(key, i), split in two: the direction is "
                    "random.choice(k1, jnp.array([-1.0, 1.0])), the length random.exponential(k2)"
                ),
            )
    passed(
        f"fold_in_walk matches the loop reference to round-off for {len(FOLD_IN_WALK_CASES)} walks of "
        f"{', '.join(str(c[1]) for c in FOLD_IN_WALK_CASES)} steps ({flipped_note(FOLD_IN_WALK_CASES)[2:]}), "
        "and reuses no key (checked with jax.debug_key_reuse(True))."
    )


def fingerprint_reference(array: np.ndarray) -> str:
    """The SHA-256 hex digest of ``f"{dtype}{shape}"`` then of the array's bytes (C order)."""
    digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


# Hashes a learner may reach for instead of SHA-256, by name, and their hex digests' lengths.
OTHER_HASHES = ("md5", "sha1", "sha224", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s")
HEX_LENGTHS = {32: "MD5", 40: "SHA-1", 56: "SHA-224", 96: "SHA-384", 128: "SHA-512 (or BLAKE2b)"}


def hash_used(got: str, contents: Sequence[bytes]) -> str | None:
    """The name of the hash (other than SHA-256) whose hex digest of one of ``contents`` is ``got``."""
    for name in OTHER_HASHES:
        if any(hashlib.new(name, data).hexdigest() == got for data in contents):
            return name
    return None


def check_fingerprint(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 12, ``fn(x) -> hex digest``.

    The arrays include two with the same bytes but other dtypes, two with the
    same bytes but other shapes, a transposed (non-contiguous) array, a JAX array
    too long to print in full, and two arrays one bit apart. No keys are drawn,
    so no case needs jax_threefry_partitionable flipped.
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
        # dtype: a string
        if isinstance(got, bytes):
            raise call.fail(
                f"returned {len(got)} bytes, expected a string of 64 hex digits",
                "return digest.hexdigest() (text), not digest.digest() (bytes)",
            )
        if not isinstance(got, str):
            raise call.fail(
                f"returned {describe(got)}, expected a string of 64 hex digits",
                "Python's hash() is not a fingerprint: it changes from one process to the next "
                "(PYTHONHASHSEED). Use hashlib.sha256(...).hexdigest()"
                if isinstance(got, int)
                else "return the hex digest: hashlib.sha256(...).hexdigest()",
            )
        if got == expected:
            continue
        header = f"{array.dtype}{array.shape}".encode()
        contents = [header + array.tobytes(), array.tobytes(), array.tobytes() + header]
        other_hash = hash_used(got, contents)
        # shape: 64 hex digits
        if other_hash is not None:
            cause = f"this is the {other_hash} digest, not SHA-256: use hashlib.sha256"
        elif len(got) < len(expected) and expected.startswith(got):
            cause = f"return all {len(expected)} hex digits of the SHA-256 digest, not a part of them"
        elif len(got) in HEX_LENGTHS:
            cause = (
                f"the digest has {len(got)} hex digits, as {HEX_LENGTHS[len(got)]} gives; the hash "
                f"must be SHA-256 ({len(expected)} hex digits): hashlib.sha256(...).hexdigest()"
            )
        elif len(got) != len(expected):
            cause = (
                f"a SHA-256 hex digest has {len(expected)} hex digits, this one has {len(got)}: "
                "return hashlib.sha256(...).hexdigest()"
            )
        # values: what was hashed, and in what order
        elif got.lower() == expected:
            cause = "return the hex digest as hexdigest() gives it, in lowercase"
        elif got == hashlib.sha256(array.tobytes()).hexdigest():
            cause = (
                "only the bytes were hashed: arrays with other dtypes or shapes can have the same "
                "bytes. Hash the text f'{a.dtype}{a.shape}' first, then the bytes"
            )
        elif got in (hashlib.sha256(str(x).encode()).hexdigest(), hashlib.sha256(repr(x).encode()).hexdigest()):
            cause = (
                "the printed text was hashed: printing rounds the values and shortens long "
                "arrays, so different arrays print the same. Hash the bytes: np.asarray(x).tobytes()"
            )
        elif got == hashlib.sha256(array.tobytes() + header).hexdigest():
            cause = "hash the text f'{a.dtype}{a.shape}' first, then the bytes (the order matters)"
        else:
            cause = (
                "with a = np.asarray(x), hash the text f'{a.dtype}{a.shape}' (encoded as UTF-8), "
                "then the bytes a.tobytes(), and return the hex digest"
            )
        raise call.fail(f"returned {show(got)}, expected {expected!r}", cause)
    passed(
        f"fingerprint matches the reference on {len(cases)} arrays (dtypes, shapes, a transposed "
        "array, a long JAX array and two arrays one bit apart)."
    )


def worker_draws_reference(
    seed: int, worker_ids: Sequence[int], num_draws: int, make_key: Callable[[int, int], Any] | None = None
) -> np.ndarray:
    """Row ``j``: ``random.normal(random.fold_in(random.key(seed), worker_ids[j]), (num_draws,))``.

    ``make_key(seed, worker_id)`` replaces the worker's key, to recognise mistakes.
    """
    if make_key is None:

        def make_key(s: int, w: int) -> Any:
            return random.fold_in(random.key(s), w)

    return np.stack([np.asarray(random.normal(make_key(seed, w), (num_draws,))) for w in worker_ids])


WORKER_DRAWS_CASES = [(2026, [0, 1, 2, 3], 5, False), (0, [0], 1, False), (7, [17, 3, 0], 8, True)]


def check_worker_draws(fn: Callable[..., Any]) -> None:
    """Check an answer to the exercise of chapter 13, ``fn(seed, worker_ids, num_draws) -> draws``."""
    for seed, worker_ids, num_draws, flipped in WORKER_DRAWS_CASES:
        with case_flag(flipped) as flag:
            call = Call(
                fn,
                [
                    ("seed", seed, str(seed)),
                    ("worker_ids", list(worker_ids), str(worker_ids)),
                    ("num_draws", num_draws, str(num_draws)),
                ],
                flag,
            )
            draws = unpack_array(call, call.run(), "the array of draws")
            expected = worker_draws_reference(seed, worker_ids, num_draws)
            n = len(worker_ids)

            def like(
                make_key: Callable[[int, int], Any], ids: Sequence[int] = worker_ids
            ) -> Callable[[np.ndarray], bool]:
                return lambda d: matches(d, worker_draws_reference(seed, ids, num_draws, make_key))

            def per_draw(d: np.ndarray) -> bool:
                return matches(
                    d,
                    np.stack(
                        [
                            np.asarray(
                                jax.vmap(random.normal)(random.split(random.fold_in(random.key(seed), w), num_draws))
                            )
                            for w in worker_ids
                        ]
                    ),
                )

            compare(
                call,
                "draws",
                draws,
                expected,
                exact=False,
                shape_mistakes=[
                    (
                        lambda d: d.shape == (num_draws, n),
                        "draws is transposed: one row per worker, one column per draw",
                    ),
                ],
                shape_hint="return one row of num_draws draws per worker: shape (len(worker_ids), num_draws)",
                value_mistakes=[
                    (
                        lambda d: n > 1 and list(worker_ids) != list(range(n)) and like(None, range(n))(d),
                        "use each worker's id, not its position in worker_ids: worker 17 gets "
                        "random.fold_in(key, 17) wherever it is listed",
                    ),
                    (
                        like(lambda s, w: random.fold_in(random.key(w), s)),
                        "seed and worker id are swapped: start from random.key(seed), then fold in the worker id",
                    ),
                    (
                        lambda d: n > 1 and all_rows_equal(d),
                        "every worker got the same draws: fold the worker "
                        "id into the key, random.fold_in(random.key(seed), worker_id)",
                    ),
                    (
                        like(lambda s, w: random.key(s + w)),
                        "random.key(seed + worker_id) gives neighbouring seeds the same streams "
                        "(worker 1 of seed 0 is worker 0 of seed 1): fold the worker id into the key",
                    ),
                    (
                        lambda d: matches(d, random.normal(random.key(seed), (n, num_draws))),
                        "all rows come from one key with shape=(n, num_draws): each worker needs "
                        "its own key, random.fold_in(random.key(seed), worker_id)",
                    ),
                    (
                        per_draw,
                        "draw each worker's row with one call, random.normal(worker_key, (num_draws,)), "
                        "not one split key per draw",
                    ),
                    (
                        like(lambda s, w: random.split(random.key(s), max(worker_ids) + 1)[w]),
                        "the worker keys come from random.split(random.key(seed), n)[worker_id]; the exercise "
                        "asks for random.fold_in(random.key(seed), worker_id): " + equal_only_when_partitionable(),
                    ),
                ],
                value_hint="row j is random.normal(random.fold_in(random.key(seed), worker_ids[j]), (num_draws,))",
            )
    passed(
        f"worker_draws matches the reference for {len(WORKER_DRAWS_CASES)} cases "
        f"({'; '.join(f'seed {c[0]} with workers {c[1]}' for c in WORKER_DRAWS_CASES)}"
        f"{flipped_note(WORKER_DRAWS_CASES)})."
    )
