"""Specification of dl_workshop.checkers: the answer checkers.

Each checker accepts correct answers written in different ways (the ``accepted`` tables, by method)
and rejects characteristic mistakes (the ``mistakes`` tables) with a message that names the call,
what was expected, what came back, and the likely cause. ``Wrong(mistake, answer).says(*fragments)``:
the message for that answer holds every fragment, and none of those given as ``absent``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop import checkers, jax_idioms, key_hygiene, reproducibility


def rejects(checker, answer, *present: str, absent: tuple[str, ...] = ()) -> AssertionError:
    """``checker(answer)`` fails with a message holding every fragment of present and none of absent."""
    with pytest.raises(AssertionError) as failure:
        checker(answer)
    message = str(failure.value)
    for fragment in present:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    for fragment in absent:
        assert fragment not in message, f"{fragment!r} in:\n{message}"
    return failure.value


class Wrong(NamedTuple):
    mistake: str
    answer: Callable[..., Any]
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    def says(self, *present: str, absent: tuple[str, ...] = ()) -> Wrong:
        return self._replace(present=present, absent=absent)


ACCEPTED: list = []  # the rows of test_accepts_correct_answers_whatever_the_method
MISTAKES: list = []  # the rows of test_rejects_characteristic_mistakes


def accepted(checker, printed: str, answers: dict[str, Callable[..., Any]], *also_printed: str) -> None:
    """Each answer (named by its method) passes ``checker``, which prints one line: ✓, printed, also_printed."""
    name = checker.__name__.removeprefix("check_")
    ACCEPTED.extend(pytest.param(checker, f, (printed, *also_printed), id=f"{name}-{m}") for m, f in answers.items())


def mistakes(checker, *rows: Wrong) -> None:
    name = checker.__name__.removeprefix("check_")
    MISTAKES.extend(pytest.param(checker, *row[1:], id=f"{name}-{row.mistake}") for row in rows)


def with_zero(values):
    return jnp.concatenate([jnp.zeros(1), values])


def then(answer, change):
    """The answer with its results passed on to ``change``: a mistake made after a right computation."""
    return lambda *args: change(*answer(*args))


# --- Exercise 1 -------------------------------------------------------------------
EX1 = jax_idioms.randomness_ex_1


def grid_choice(key):
    k1, k2 = random.split(key)
    return random.choice(k1, jnp.array([0, 1])), random.choice(k2, jnp.array([-1, 1]))


def ex1_scan_with(choice, before=False):
    """A scan answer stepping by ``choice(key)``; ``before``: history[i] is before step i (grw_draw's convention)."""

    def answer(keys, starting_position):
        def step(position, key):
            axis, direction = choice(key)
            moved = position.at[axis].add(direction)
            return moved, position if before else moved

        return lax.scan(step, jnp.asarray(starting_position), keys)

    return answer


ex1_scan = ex1_scan_with(grid_choice)


def ex1_loop(keys, starting_position):
    position = np.array(starting_position)
    history = []
    for key in keys:
        axis, direction = grid_choice(key)
        position = position.copy()
        position[int(axis)] += int(direction)
        history.append(position)
    return history[-1], np.stack(history)


def final_and(history):
    return history[-1], history


def ex1_one_hot(keys, starting_position):
    axes, directions = jax.vmap(grid_choice)(keys)
    steps = jax.nn.one_hot(axes, 2, dtype=jnp.int32) * directions[:, None]
    return final_and(jnp.asarray(starting_position) + jnp.cumsum(steps, axis=0))


def ex1_start_included(keys, starting_position):
    final, history = ex1_scan(keys, starting_position)
    return final, jnp.vstack([jnp.asarray(starting_position)[None], history])


def fold_in_halves(key):
    axis = random.choice(random.fold_in(key, 0), jnp.array([0, 1]))
    return axis, random.choice(random.fold_in(key, 1), jnp.array([-1, 1]))


def axis_from_permutation(key):
    k1, k2 = random.split(key)
    return random.permutation(k1, jnp.array([0, 1]))[0], random.choice(k2, jnp.array([-1, 1]))


grid_steps = jax.vmap(jax_idioms.grid_step)
accepted(
    checkers.check_randomness_ex_1,
    "randomness_ex_1 matches the loop reference",
    {"package": EX1, "scan": ex1_scan, "loop": ex1_loop, "one_hot": ex1_one_hot},
)
mistakes(
    checkers.check_randomness_ex_1,
    Wrong("same-key", lambda k, s: ex1_scan(jnp.stack([k[0]] * len(k)), s)).says(
        "the same key was used for every step"
    ),
    Wrong("start-included", ex1_start_included).says(
        "has shape (61, 2), expected (60, 2)", "starting position is included in the history (off by one)"
    ),
    Wrong("transposed", then(ex1_scan, lambda final, history: (final, history.T))).says("history is transposed"),
    Wrong("float-positions", lambda k, s: ex1_scan(k, jnp.asarray(s, jnp.float32))).says(
        "history has dtype float32, expected integers",
        "Likely cause: positions on the grid are whole numbers",
        absent=("int64", "split each step's key"),
    ),
    Wrong("dtype-before-shape", lambda k, s: ex1_start_included(k, jnp.asarray(s, jnp.float32))).says("dtype float32"),
    Wrong("a-key-dropped", lambda k, s: ex1_scan(k[:-1], s)).says(
        "history has shape (59, 2), expected (60, 2)", "one row too few", "keys[:-1]", absent=("split each step's key",)
    ),
    Wrong("cumsum-without-axis", lambda k, s: (lambda h: (h[-2:], h))(jnp.cumsum(grid_steps(k)))).says(
        "has shape (120,)", "jnp.cumsum(steps, axis=0)"
    ),
    Wrong(
        "cumsum-then-reshape", lambda k, s: final_and(jnp.asarray(s) + jnp.cumsum(grid_steps(k)).reshape(-1, 2))
    ).says("the running sum ran over the flattened steps"),
    Wrong("cumsum-broadcast", lambda k, s: final_and(jnp.asarray(s) + jnp.cumsum(grid_steps(k)))).says(
        "raised TypeError", "incompatible shapes", "jnp.cumsum without axis=0"
    ),
    Wrong("pair-reversed", lambda k, s: ex1_scan(k, s)[::-1]).says(
        "history has shape (2,), expected (60, 2)", "the pair is in the wrong order: return (final, history)"
    ),
    Wrong("before-each-step", ex1_scan_with(grid_choice, before=True)).says(
        "history[i] is the position before step i", absent=("exactly 1 along",)
    ),
    Wrong("start-not-added", lambda k, s: ex1_scan(k, jnp.zeros(2, jnp.int32))).says(
        "starting_position=np.array([3, -2])", "the starting position is missing", absent=("exactly 1 along",)
    ),
    Wrong("fold-in-within-a-step", ex1_scan_with(fold_in_halves)).says(
        "with jax.threefry_partitionable(False): ",
        "not fold_in(k, 0) and fold_in(k, 1)",
        "equal only while jax_threefry_partitionable is on",
    ),
    Wrong("axis-from-permutation", ex1_scan_with(axis_from_permutation)).says(
        "differs from the reference first at index", "random.choice(k1, jnp.array([0, 1]))"
    ),
    Wrong("returns-none", lambda keys, start: None).says("returned None", "`return`"),
    Wrong("traced-size-under-jit", lambda k, s: jax.jit(lambda keys, n: ex1_scan(keys[:n], s))(k, len(k))).says(
        "raised", "static_argnums"
    ),
)


def test_ex1_an_exception_is_named_and_chained():
    def broken(keys, starting_position):
        raise NotImplementedError("replace this with your answer")

    failure = rejects(
        checkers.check_randomness_ex_1,
        broken,
        "broken(keys=random.split(random.key(44), 60), starting_position=np.array([0, 0]))",
        "raised NotImplementedError: replace this with your answer",
    )
    assert isinstance(failure.__cause__, NotImplementedError)


# --- Exercise 2 -------------------------------------------------------------------
EX2 = jax_idioms.randomness_ex_2


def ex2_loop(key, num_breaks, concentration):
    length, sticks = 1.0, []
    for k in random.split(key, num_breaks):
        piece = length * random.beta(k, a=1, b=concentration)
        sticks.append(piece)
        length = length - piece
    return length, jnp.array(sticks)


def ex2_cumprod(key, num_breaks, concentration):
    fractions = jax.vmap(lambda k: random.beta(k, a=1, b=concentration))(random.split(key, num_breaks))
    left = jnp.cumprod(1 - fractions)
    sticks = fractions * jnp.concatenate([jnp.ones(1), left[:-1]])
    return left[-1], sticks


def ex2_scan_with(fraction, over=random.split, key_of=lambda key, x: x):
    """A scan over ``over(key, num_breaks)`` breaking off ``fraction(key_of(key, x), concentration)``."""

    def answer(key, num_breaks, concentration):
        def step(length, x):
            piece = length * fraction(key_of(key, x), concentration)
            return length - piece, piece

        return lax.scan(step, 1.0, over(key, num_breaks))

    return answer


def beta(k, concentration):
    return random.beta(k, a=1, b=concentration)


accepted(
    checkers.check_randomness_ex_2,
    "randomness_ex_2 matches the loop reference",
    {"package": EX2, "loop": ex2_loop, "cumprod": ex2_cumprod, "scan": ex2_scan_with(beta)},
)
mistakes(
    checkers.check_randomness_ex_2,
    Wrong("same-key", ex2_scan_with(beta, key_of=lambda key, x: key)).says("the same key was used for every break"),
    Wrong("beta-swapped", ex2_scan_with(lambda k, c: random.beta(k, a=c, b=1))).says("the Beta parameters are swapped"),
    Wrong("lengths-left-for-pieces", then(EX2, lambda final, sticks: (final, 1.0 - jnp.cumsum(sticks)))).says(
        "holds the length left after each break"
    ),
    Wrong("final-is-the-sum", then(EX2, lambda final, sticks: (sticks.sum(), sticks))).says(
        "final differs", "length of stick left"
    ),
    Wrong("only-one-array", lambda *a: EX2(*a)[1]).says("expected a pair (final, sticks)"),
    Wrong("final-holds-every-length-left", then(EX2, lambda final, sticks: (1.0 - jnp.cumsum(sticks), sticks))).says(
        "final has shape (30,), expected ()", "final holds the length left after every break: return only the last one"
    ),
    Wrong("pair-reversed", lambda *a: EX2(*a)[::-1]).says("the pair is in the wrong order: return (final, sticks)"),
    Wrong("fold-in-keys", ex2_scan_with(beta, over=lambda key, n: jnp.arange(n), key_of=random.fold_in)).says(
        "with jax.threefry_partitionable(False): ", "must be random.split(key, num_breaks), not fold_in(key, i)"
    ),
)


# --- Exercise 3 -------------------------------------------------------------------
EX3 = jax_idioms.randomness_ex_3


def ex3_loop(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    walks = [grw_draw(k, num_steps) for k in random.split(key, num_realizations)]
    return jnp.array([f for f, _ in walks]), jnp.stack([w for _, w in walks])


def ex3_jit(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    many = jax.jit(jax.vmap(grw_draw, in_axes=(0, None)), static_argnums=1)
    return many(random.split(key, num_realizations), num_steps)


def ex3_keyword(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    """Calls grw_draw by keyword, as the original notebook did."""
    return jax.vmap(lambda k: grw_draw(k, num_steps=num_steps))(random.split(key, num_realizations))


def ex3_cumsum(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    def one(k):
        draws = jax.vmap(random.normal)(random.split(k, num_steps))
        positions = jnp.cumsum(draws)
        return positions[-1], jnp.concatenate([jnp.zeros(1), positions[:-1]])

    return jax.vmap(one)(random.split(key, num_realizations))


def walks_of(keys, grw_draw, num_steps):
    return jax.vmap(lambda k: grw_draw(k, num_steps))(keys)


accepted(
    checkers.check_randomness_ex_3,
    "randomness_ex_3 matches",
    {"package": EX3, "loop": ex3_loop, "jit": ex3_jit, "keyword": ex3_keyword},
)
mistakes(
    checkers.check_randomness_ex_3,
    Wrong("one-key", lambda key, n, draw, steps: jax.vmap(lambda _: draw(key, steps))(jnp.arange(n))).says(
        "all realizations are identical"
    ),
    Wrong("transposed", then(EX3, lambda f, trajectories: (f, trajectories.T))).says("trajectories is transposed"),
    Wrong("num-steps-ignored", lambda key, n, draw, steps: EX3(key, n, draw)).says("pass num_steps on to grw_draw"),
    Wrong("new-seed-per-walk", lambda key, n, d, s: walks_of(jnp.stack([random.key(i) for i in range(n)]), d, s)).says(
        "random.split(key, num_realizations)[i]"
    ),
    Wrong("grw-draw-ignored", lambda key, n, draw, steps: EX3(key, n, jax_idioms.grw_draw, steps)).says(
        "grw_draw=uniform_grw_draw", "the grw_draw argument is not used"
    ),
    Wrong("a-walk-of-its-own", ex3_cumsum).says("the grw_draw argument is not used"),
    Wrong("keys-split-by-steps", lambda key, n, d, s: walks_of(random.split(key, s)[:n], d, s)).says(
        "num_realizations=6", "num_steps=2", "make one walk per key of random.split(key, num_realizations)"
    ),
    Wrong("keys-split-by-enough-steps", lambda key, n, d, s: walks_of(random.split(key, max(s, n))[:n], d, s)).says(
        "with jax.threefry_partitionable(False): ", "random.split(key, num_steps)[:num_realizations]"
    ),
    Wrong("fold-in-keys", lambda key, n, d, s: jax.vmap(lambda i: d(random.fold_in(key, i), s))(jnp.arange(n))).says(
        "with jax.threefry_partitionable(False): ", "must be random.split(key, num_realizations), not fold_in(key, i)"
    ),
    Wrong("in-axes-map-num-steps", lambda key, n, d, s: jax.vmap(d, in_axes=(0, 0))(random.split(key, n), s)).says(
        "raised ValueError: vmap was requested", "Likely cause: vmap maps every argument", "in_axes=(0, None)"
    ),
    Wrong(
        "traced-size-under-jit", lambda key, n, d, s: jax.jit(jax.vmap(d, in_axes=(0, None)))(random.split(key, n), s)
    ).says("raised", "static_argnums"),
    Wrong("after-each-step", then(EX3, lambda f, t: (f, jnp.concatenate([t[:, 1:], f[:, None]], axis=1)))).says(
        "these are the positions after each step"
    ),
)


# --- Exercise 4 -------------------------------------------------------------------
EX4 = jax_idioms.randomness_ex_4


def ex4_loop(key, num_steps, drift, volatility):
    position, positions = 0.0, []
    for k in random.split(key, num_steps):
        position = position + drift + volatility * random.normal(k)
        positions.append(position)
    return jnp.array(positions)


def ex4_scan_with(before=False):
    def answer(key, num_steps, drift, volatility):
        def step(position, k):
            moved = position + drift + volatility * random.normal(k)
            return moved, position if before else moved

        return lax.scan(step, 0.0, random.split(key, num_steps))[1]

    return answer


ex4_scan = ex4_scan_with()


def ex4_fold_in(key, num_steps, drift, volatility):
    draws = jax.vmap(lambda i: random.normal(random.fold_in(key, i)))(jnp.arange(num_steps))
    return jnp.cumsum(drift + volatility * draws)


accepted(
    checkers.check_randomness_ex_4, "randomness_ex_4 matches", {"package": EX4, "loop": ex4_loop, "scan": ex4_scan}
)
mistakes(
    checkers.check_randomness_ex_4,
    Wrong("same-key", lambda key, n, drift, vol: jnp.cumsum(jnp.full(n, drift + vol * random.normal(key)))).says(
        "the same key was used for every step"
    ),
    Wrong("start-included", lambda *a: with_zero(EX4(*a))).says("off by one"),
    Wrong("not-summed", lambda key, n, drift, vol: drift + vol * jax.vmap(random.normal)(random.split(key, n))).says(
        "these are the steps, not the positions"
    ),
    Wrong("drift-volatility-swapped", lambda key, n, drift, vol: EX4(key, n, vol, abs(drift))).says(
        "drift and volatility are swapped"
    ),
    Wrong("before-each-step", ex4_scan_with(before=True)).says("these are the positions before each step"),
    Wrong("fold-in-keys", ex4_fold_in).says(
        "with jax.threefry_partitionable(False): ", "must be random.split(key, num_steps), not fold_in(key, i)"
    ),
)


# --- Exercise 5 -------------------------------------------------------------------
EX5 = jax_idioms.randomness_ex_5


def squared_distances(walk_key, num_steps, walk=ex1_scan):
    _, history = walk(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
    return (history**2).sum(axis=1)


def ex5_loop(key, num_walks, num_steps):
    return jnp.stack([squared_distances(k, num_steps, EX1) for k in random.split(key, num_walks)]).mean(axis=0)


def ex5_scan(key, num_walks, num_steps):
    return jax.vmap(lambda k: squared_distances(k, num_steps))(random.split(key, num_walks)).mean(axis=0)


accepted(
    checkers.check_randomness_ex_5, "randomness_ex_5 matches", {"package": EX5, "loop": ex5_loop, "scan": ex5_scan}
)
mistakes(
    checkers.check_randomness_ex_5,
    Wrong("every-walk-the-same", lambda key, w, n: jnp.tile(squared_distances(key, n, EX1), (w, 1)).mean(0)).says(
        "every walk is the same walk"
    ),
    Wrong("not-averaged", lambda key, w, n: jax.vmap(lambda k: ex5_scan(k, 1, n))(random.split(key, w))).says(
        "average over the walks"
    ),
    Wrong(
        "not-squared",
        lambda key, w, n: jax.vmap(lambda k: jnp.sqrt(squared_distances(k, n)))(random.split(key, w)).mean(0),
    ).says("square the displacement"),
    Wrong("start-included", lambda *a: with_zero(EX5(*a))).says("off by one"),
    Wrong("before-each-step", lambda *a: with_zero(EX5(*a)[:-1])).says("these are the values before each step"),
    Wrong(
        "fold-in-keys",
        lambda key, w, n: jax.vmap(lambda i: squared_distances(random.fold_in(key, i), n))(jnp.arange(w)).mean(0),
    ).says("with jax.threefry_partitionable(False): ", "must be random.split, not fold_in(key, i)"),
)


@pytest.mark.parametrize("case", checkers.EX5_CASES)
def test_ex5_every_case_can_reject_a_wrong_answer(case):
    """An answer right everywhere but in one case (where it returns E|X_t|^2 = t) fails."""
    _, num_walks, num_steps, _ = case

    def theory_in_one_case(key, w, n):
        return jnp.arange(1.0, n + 1) if (w, n) == (num_walks, num_steps) else EX5(key, w, n)

    rejects(checkers.check_randomness_ex_5, theory_in_one_case, f"num_walks={num_walks}, num_steps={num_steps}")


# --- Going further: chapter 10, fold_in_walk ----------------------------------------
WALK, STEP = key_hygiene.fold_in_walk, key_hygiene.fold_in_step


def direction_times_length(direction_key, length_key):
    return random.choice(direction_key, jnp.array([-1.0, 1.0])) * random.exponential(length_key)


def split_step(key):
    return direction_times_length(*random.split(key))


def walk_step(key, i):
    return split_step(random.fold_in(key, i))


def walk_loop_with(make_step):
    def answer(key, num_steps):
        position, positions = 0.0, []
        for i in range(num_steps):
            position = position + make_step(key, i)
            positions.append(position)
        return jnp.array(positions)

    return answer


def walk_scan(key, num_steps):
    def step(position, i):
        position = position + walk_step(key, i)
        return position, position

    return lax.scan(step, 0.0, jnp.arange(num_steps))[1]


def walk_vmap_with(make_step):
    return lambda key, num_steps: jnp.cumsum(jax.vmap(lambda i: make_step(key, i))(jnp.arange(num_steps)))


def one_key_for_both(key, i):
    k = random.fold_in(key, i)
    return direction_times_length(k, k)


def swapped_keys(key, i):
    k1, k2 = random.split(random.fold_in(key, i))
    return direction_times_length(k2, k1)


def walk_chain(key, num_steps):
    position, positions = 0.0, []
    for _ in range(num_steps):
        key, sub = random.split(key)
        position = position + split_step(sub)
        positions.append(position)
    return jnp.array(positions)


accepted(
    checkers.check_fold_in_walk,
    "fold_in_walk matches",
    {"package": WALK, "loop": walk_loop_with(walk_step), "scan": walk_scan},
    "reuses no key",
)
mistakes(
    checkers.check_fold_in_walk,
    Wrong("one-key-for-direction-and-length", walk_vmap_with(one_key_for_both)).says(
        "reuses a key: under jax.debug_key_reuse(True) it raised KeyReuseError",
        "Split each step's key in two",
        absent=("jaxpr",),  # only the first line of JAX's message
    ),
    Wrong("one-key-for-both-in-a-python-loop", walk_loop_with(one_key_for_both)).says("reuses a key"),
    Wrong("same-key", walk_vmap_with(lambda key, i: split_step(key))).says(
        "the same key was used for every step", "random.fold_in(key, i)"
    ),
    Wrong("steps-from-one", walk_vmap_with(lambda key, i: STEP(key, i + 1))).says("step numbers start at 0"),
    Wrong("keys-swapped", walk_vmap_with(swapped_keys)).says("the two keys are swapped"),
    Wrong("start-included", lambda *a: with_zero(WALK(*a))).says("off by one"),
    Wrong("not-summed", lambda key, n: jax.vmap(lambda i: STEP(key, i))(jnp.arange(n))).says(
        "these are the steps, not the positions"
    ),
    Wrong("a-chain-of-splits", walk_chain).says("differs from the reference", "step i uses random.fold_in(key, i)"),
    Wrong("split-up-front", lambda key, n: jnp.cumsum(jax.vmap(split_step)(random.split(key, n)))).says(
        "with jax.threefry_partitionable(False): ",
        "the exercise asks for random.fold_in(key, i)",
        "equal only while jax_threefry_partitionable is on",
    ),
    Wrong("before-each-step", lambda *a: with_zero(WALK(*a)[:-1])).says("these are the positions before each step"),
)


# --- Going further: chapter 12, fingerprint -----------------------------------------
FINGERPRINT = reproducibility.fingerprint


def fingerprint_joined(x):
    a = np.asarray(x)
    return hashlib.sha256(f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes()).hexdigest()


def fingerprint_buffer(x):
    a = np.asarray(x)
    digest = hashlib.new("sha256")
    digest.update(str(a.dtype).encode())
    digest.update(str(a.shape).encode())
    digest.update(np.ascontiguousarray(a))  # the array itself is a buffer
    return digest.hexdigest()


def fingerprint_copy(x):
    a = np.array(x, copy=True, order="C")
    return hashlib.sha256(bytes(f"{a.dtype}{a.shape}", "utf-8") + bytes(a.data)).hexdigest()


def header(x):
    a = np.asarray(x)
    return f"{a.dtype}{a.shape}".encode()


def hexdigest(name, data):
    return lambda x: hashlib.new(name, data(x)).hexdigest()


def raw(x):
    return np.asarray(x).tobytes()


accepted(
    checkers.check_fingerprint,
    "fingerprint matches",
    {"package": FINGERPRINT, "joined": fingerprint_joined, "buffer": fingerprint_buffer, "copy": fingerprint_copy},
)
mistakes(
    checkers.check_fingerprint,
    Wrong("python-hash", lambda x: hash(raw(x))).says(
        "expected a string of 64 hex digits", "Python's hash() is not a fingerprint"
    ),
    Wrong("bytes-only", hexdigest("sha256", raw)).says("only the bytes were hashed"),
    Wrong("printed-text", hexdigest("sha256", lambda x: str(x).encode())).says("the printed text was hashed"),
    Wrong("header-and-printed-text", hexdigest("sha256", lambda x: header(x) + str(x).encode())).says(
        "hash the text f'{a.dtype}{a.shape}' (encoded as UTF-8)"
    ),
    Wrong("digest-bytes", lambda x: hashlib.sha256(raw(x)).digest()).says("returned 32 bytes", "hexdigest()"),
    Wrong("shortened", lambda x: FINGERPRINT(x)[:16]).says("return all 64 hex digits"),
    Wrong("header-after-the-bytes", hexdigest("sha256", lambda x: raw(x) + header(x))).says("(the order matters)"),
    Wrong("md5", hexdigest("md5", lambda x: header(x) + raw(x))).says(
        "this is the md5 digest, not SHA-256", absent=("not a part of them",)
    ),
    Wrong("sha3", hexdigest("sha3_256", lambda x: header(x) + raw(x))).says("this is the sha3_256 digest, not SHA-256"),
    Wrong("md5-of-the-printed-text", hexdigest("md5", lambda x: str(x).encode())).says(
        "the digest has 32 hex digits, as MD5 gives; the hash must be SHA-256"
    ),
)


def test_fingerprint_a_long_answer_is_not_echoed_in_full():
    assert len(str(rejects(checkers.check_fingerprint, lambda x: "0" * 10_000, "returned '0000"))) < 500


# --- Going further: chapter 13, worker_draws ----------------------------------------


def workers_loop(seed, worker_ids, num_draws):
    base = random.key(seed)
    return jnp.stack([random.normal(random.fold_in(base, w), (num_draws,)) for w in worker_ids])


def workers_vmap(seed, worker_ids, num_draws):
    keys = jax.vmap(random.fold_in, in_axes=(None, 0))(random.key(seed), worker_ids)
    return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)


def workers_jit(seed, worker_ids, num_draws):
    return jax.jit(workers_vmap, static_argnums=(0, 2))(seed, jnp.asarray(worker_ids), num_draws)


def workers_with(make_key):
    return lambda seed, ids, n: jnp.stack([random.normal(make_key(seed, w), (n,)) for w in ids])


def workers_split(seed, worker_ids, num_draws):
    """Wrong: split(key, n)[w] is fold_in(key, w) only while jax_threefry_partitionable is on."""
    keys = random.split(random.key(seed), max(worker_ids) + 1)[jnp.array(worker_ids)]
    return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)


def workers_per_draw(seed, worker_ids, num_draws):
    keys = [random.split(random.fold_in(random.key(seed), w), num_draws) for w in worker_ids]
    return jnp.stack([jax.vmap(random.normal)(k) for k in keys])


accepted(
    checkers.check_worker_draws,
    "worker_draws matches",
    {"package": key_hygiene.worker_draws, "loop": workers_loop, "jit": workers_jit},
)
mistakes(
    checkers.check_worker_draws,
    Wrong("seed-plus-worker-id", workers_with(lambda s, w: random.key(s + w))).says(
        "random.key(seed + worker_id) gives neighbouring seeds the same streams"
    ),
    Wrong("same-stream", workers_with(lambda s, w: random.key(s))).says("every worker got the same draws"),
    Wrong("seed-and-id-swapped", workers_with(lambda s, w: random.fold_in(random.key(w), s))).says(
        "seed and worker id are swapped"
    ),
    Wrong("position-for-id", lambda seed, ids, n: workers_loop(seed, range(len(ids)), n)).says(
        "not its position in worker_ids"
    ),
    Wrong("one-key-for-all-rows", lambda seed, ids, n: random.normal(random.key(seed), (len(ids), n))).says(
        "all rows come from one key"
    ),
    Wrong("one-split-key-per-draw", workers_per_draw).says("draw each worker's row with one call"),
    Wrong("transposed", lambda *args: key_hygiene.worker_draws(*args).T).says("draws is transposed"),
    Wrong("split-instead-of-fold-in", workers_split).says(
        "with jax.threefry_partitionable(False): ", "the exercise asks for random.fold_in(random.key(seed), worker_id)"
    ),
    Wrong("a-list-passed-to-vmap", workers_vmap).says(
        "raised ValueError: vmap was requested", "worker_ids is a Python list", "jnp.asarray(worker_ids)"
    ),
)


# --- Every checker ------------------------------------------------------------------


@pytest.mark.parametrize(("checker", "answer", "printed"), ACCEPTED)
def test_accepts_correct_answers_whatever_the_method(checker, answer, printed, capsys):
    assert checker(answer) is None
    out = capsys.readouterr().out
    assert out.startswith(f"✓ {printed[0]}") and out.count("\n") == 1, out
    assert all(fragment in out for fragment in printed[1:]), out


@pytest.mark.parametrize(("checker", "answer", "present", "absent"), MISTAKES)
def test_rejects_characteristic_mistakes(checker, answer, present, absent):
    rejects(checker, answer, *present, absent=absent)
