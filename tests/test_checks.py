"""Specification of dl_workshop.checks: the answer checkers.

Each checker accepts correct answers written in different ways, and rejects
characteristic mistakes with a message that names the call, what was expected,
what came back, and the likely cause.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop import checks, jax_idioms


def rejects(checker, fn, *fragments: str) -> str:
    """Assert that ``checker(fn)`` fails with a message containing every fragment."""
    with pytest.raises(AssertionError) as failure:
        checker(fn)
    message = str(failure.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


# --- Exercise 1 -------------------------------------------------------------------


def grid_choice(key):
    k1, k2 = random.split(key)
    return random.choice(k1, jnp.array([0, 1])), random.choice(k2, jnp.array([-1, 1]))


def ex1_scan(keys, starting_position):
    def step(position, key):
        axis, direction = grid_choice(key)
        position = position.at[axis].add(direction)
        return position, position

    return lax.scan(step, jnp.asarray(starting_position), keys)


def ex1_loop(keys, starting_position):
    position = np.array(starting_position)
    history = []
    for key in keys:
        axis, direction = grid_choice(key)
        position = position.copy()
        position[int(axis)] += int(direction)
        history.append(position)
    return history[-1], np.stack(history)


def ex1_one_hot(keys, starting_position):
    axes, directions = jax.vmap(grid_choice)(keys)
    steps = jax.nn.one_hot(axes, 2, dtype=jnp.int32) * directions[:, None]
    history = jnp.asarray(starting_position) + jnp.cumsum(steps, axis=0)
    return history[-1], history


def ex1_same_key(keys, starting_position):
    return ex1_scan(jnp.stack([keys[0]] * len(keys)), starting_position)


def ex1_start_included(keys, starting_position):
    final, history = ex1_scan(keys, starting_position)
    return final, jnp.vstack([jnp.asarray(starting_position)[None], history])


def ex1_permutation_hint(keys, starting_position):
    def step(position, key):
        k1, k2 = random.split(key)
        axis = random.permutation(k1, jnp.array([0, 1]))[0]
        position = position.at[axis].add(random.choice(k2, jnp.array([-1, 1])))
        return position, position

    return lax.scan(step, jnp.asarray(starting_position), keys)


class TestCheckEx1:
    @pytest.mark.parametrize("answer", [jax_idioms.randomness_ex_1, ex1_scan, ex1_loop, ex1_one_hot])
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checks.check_randomness_ex_1(answer) is None
        assert capsys.readouterr().out.count("\n") == 1

    def test_same_key_for_every_step(self):
        rejects(checks.check_randomness_ex_1, ex1_same_key, "the same key was used for every step")

    def test_starting_position_included(self):
        rejects(checks.check_randomness_ex_1, ex1_start_included, "has shape (6, 2), expected (5, 2)",
                "starting position is included in the history (off by one)")

    def test_transposed_history(self):
        def transposed(keys, start):
            final, history = ex1_scan(keys, start)
            return final, history.T

        rejects(checks.check_randomness_ex_1, transposed, "history is transposed")

    def test_float_positions(self):
        rejects(checks.check_randomness_ex_1, lambda k, s: ex1_scan(k, jnp.asarray(s, jnp.float32)),
                "dtype float32, expected integers")

    def test_axis_from_permutation_names_the_first_difference_and_the_rule(self):
        message = rejects(checks.check_randomness_ex_1, ex1_permutation_hint, "differs from the reference first at index")
        assert "random.choice(k1, jnp.array([0, 1]))" in message

    def test_returning_none(self):
        rejects(checks.check_randomness_ex_1, lambda keys, start: None, "returned None", "`return`")

    def test_an_exception_is_named_and_chained(self):
        def broken(keys, starting_position):
            raise NotImplementedError("replace this with your answer")

        with pytest.raises(AssertionError) as failure:
            checks.check_randomness_ex_1(broken)
        assert "broken(keys=random.split(random.key(44), 5), starting_position=np.array([0, 0]))" in str(failure.value)
        assert "raised NotImplementedError: replace this with your answer" in str(failure.value)
        assert isinstance(failure.value.__cause__, NotImplementedError)


# --- Exercise 2 -------------------------------------------------------------------


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


def ex2_scan_with(fraction):
    def answer(key, num_breaks, concentration):
        def step(length, k):
            piece = length * fraction(k, concentration)
            return length - piece, piece

        return lax.scan(step, 1.0, random.split(key, num_breaks))

    return answer


class TestCheckEx2:
    @pytest.mark.parametrize(
        "answer",
        [jax_idioms.randomness_ex_2, ex2_loop, ex2_cumprod,
         ex2_scan_with(lambda k, c: random.beta(k, a=1, b=c))],
        ids=["package", "loop", "cumprod", "scan"],
    )
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checks.check_randomness_ex_2(answer) is None
        assert "randomness_ex_2 matches the loop reference" in capsys.readouterr().out

    def test_same_key_for_every_break(self):
        def same_key(key, num_breaks, concentration):
            def step(length, _):
                piece = length * random.beta(key, a=1, b=concentration)
                return length - piece, piece

            return lax.scan(step, 1.0, None, length=num_breaks)

        rejects(checks.check_randomness_ex_2, same_key, "the same key was used for every break")

    def test_beta_parameters_swapped(self):
        rejects(checks.check_randomness_ex_2, ex2_scan_with(lambda k, c: random.beta(k, a=c, b=1)),
                "the Beta parameters are swapped")

    def test_returns_lengths_left_instead_of_pieces(self):
        def lengths_left(key, num_breaks, concentration):
            final, sticks = jax_idioms.randomness_ex_2(key, num_breaks, concentration)
            return final, 1.0 - jnp.cumsum(sticks)

        rejects(checks.check_randomness_ex_2, lengths_left, "holds the length left after each break")

    def test_wrong_final(self):
        def final_is_sum(key, num_breaks, concentration):
            _, sticks = jax_idioms.randomness_ex_2(key, num_breaks, concentration)
            return sticks.sum(), sticks

        rejects(checks.check_randomness_ex_2, final_is_sum, "final differs", "length of stick left")

    def test_returns_only_one_array(self):
        rejects(checks.check_randomness_ex_2, lambda *a: jax_idioms.randomness_ex_2(*a)[1],
                "expected a pair (final, sticks)")


# --- Exercise 3 -------------------------------------------------------------------


def ex3_loop(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    walks = [grw_draw(k, num_steps) for k in random.split(key, num_realizations)]
    return jnp.array([f for f, _ in walks]), jnp.stack([w for _, w in walks])


def ex3_cumsum(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    def one(k):
        draws = jax.vmap(random.normal)(random.split(k, num_steps))
        positions = jnp.cumsum(draws)
        return positions[-1], jnp.concatenate([jnp.zeros(1), positions[:-1]])

    return jax.vmap(one)(random.split(key, num_realizations))


def ex3_jit(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    many = jax.jit(jax.vmap(grw_draw, in_axes=(0, None)), static_argnums=1)
    return many(random.split(key, num_realizations), num_steps)


class TestCheckEx3:
    @pytest.mark.parametrize("answer", [jax_idioms.randomness_ex_3, ex3_loop, ex3_cumsum, ex3_jit])
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checks.check_randomness_ex_3(answer) is None
        assert "randomness_ex_3 matches" in capsys.readouterr().out

    def test_one_key_for_every_walk(self):
        def shared_key(key, num_realizations, grw_draw, num_steps):
            return jax.vmap(lambda _: grw_draw(key, num_steps))(jnp.arange(num_realizations))

        rejects(checks.check_randomness_ex_3, shared_key, "all realizations are identical")

    def test_transposed_trajectories(self):
        def transposed(*args):
            finals, trajectories = jax_idioms.randomness_ex_3(*args)
            return finals, trajectories.T

        rejects(checks.check_randomness_ex_3, transposed, "trajectories is transposed")

    def test_num_steps_ignored(self):
        def default_steps(key, num_realizations, grw_draw, num_steps):
            return jax_idioms.randomness_ex_3(key, num_realizations, grw_draw)

        rejects(checks.check_randomness_ex_3, default_steps, "pass num_steps on to grw_draw")

    def test_a_new_seed_per_walk_names_the_rule(self):
        def reseeded(key, num_realizations, grw_draw, num_steps):
            keys = jnp.stack([random.key(i) for i in range(num_realizations)])
            return jax.vmap(lambda k: grw_draw(k, num_steps))(keys)

        rejects(checks.check_randomness_ex_3, reseeded, "random.split(key, num_realizations)[i]")


# --- Exercise 4 -------------------------------------------------------------------


def ex4_loop(key, num_steps, drift, volatility):
    position, positions = 0.0, []
    for k in random.split(key, num_steps):
        position = position + drift + volatility * random.normal(k)
        positions.append(position)
    return jnp.array(positions)


def ex4_scan(key, num_steps, drift, volatility):
    def step(position, k):
        position = position + drift + volatility * random.normal(k)
        return position, position

    return lax.scan(step, 0.0, random.split(key, num_steps))[1]


class TestCheckEx4:
    @pytest.mark.parametrize("answer", [jax_idioms.randomness_ex_4, ex4_loop, ex4_scan])
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checks.check_randomness_ex_4(answer) is None
        assert "randomness_ex_4 matches" in capsys.readouterr().out

    def test_same_key_for_every_step(self):
        def same_key(key, num_steps, drift, volatility):
            return jnp.cumsum(jnp.full(num_steps, drift + volatility * random.normal(key)))

        rejects(checks.check_randomness_ex_4, same_key, "the same key was used for every step")

    def test_starting_point_included(self):
        def with_start(*args):
            return jnp.concatenate([jnp.zeros(1), jax_idioms.randomness_ex_4(*args)])

        rejects(checks.check_randomness_ex_4, with_start, "off by one")

    def test_steps_not_summed(self):
        def steps(key, num_steps, drift, volatility):
            return drift + volatility * jax.vmap(random.normal)(random.split(key, num_steps))

        rejects(checks.check_randomness_ex_4, steps, "these are the steps, not the positions")

    def test_drift_and_volatility_swapped(self):
        def swapped(key, num_steps, drift, volatility):
            return jax_idioms.randomness_ex_4(key, num_steps, volatility, abs(drift))

        rejects(checks.check_randomness_ex_4, swapped, "drift and volatility are swapped")


# --- Exercise 5 -------------------------------------------------------------------


def ex5_loop(key, num_walks, num_steps):
    squared = []
    for walk_key in random.split(key, num_walks):
        _, history = jax_idioms.randomness_ex_1(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
        squared.append((history**2).sum(axis=1))
    return jnp.stack(squared).mean(axis=0)


def ex5_scan(key, num_walks, num_steps):
    def one(walk_key):
        _, history = ex1_scan(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
        return (history**2).sum(axis=1)

    return jax.vmap(one)(random.split(key, num_walks)).mean(axis=0)


class TestCheckEx5:
    @pytest.mark.parametrize("answer", [jax_idioms.randomness_ex_5, ex5_loop, ex5_scan])
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checks.check_randomness_ex_5(answer) is None
        assert "randomness_ex_5 matches" in capsys.readouterr().out

    def test_every_walk_the_same(self):
        def same_walk(key, num_walks, num_steps):
            _, history = jax_idioms.randomness_ex_1(random.split(key, num_steps), jnp.zeros(2, jnp.int32))
            return jnp.tile((history**2).sum(axis=1), (num_walks, 1)).mean(axis=0)

        rejects(checks.check_randomness_ex_5, same_walk, "every walk is the same walk")

    def test_not_averaged(self):
        def per_walk(key, num_walks, num_steps):
            return jax.vmap(lambda k: ex5_scan(k, 1, num_steps))(random.split(key, num_walks))

        rejects(checks.check_randomness_ex_5, per_walk, "average over the walks")

    def test_displacement_not_squared(self):
        def not_squared(key, num_walks, num_steps):
            def one(walk_key):
                _, history = ex1_scan(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
                return jnp.sqrt((history**2).sum(axis=1))

            return jax.vmap(one)(random.split(key, num_walks)).mean(axis=0)

        rejects(checks.check_randomness_ex_5, not_squared, "square the displacement")

    def test_start_included(self):
        def with_start(key, num_walks, num_steps):
            return jnp.concatenate([jnp.zeros(1), jax_idioms.randomness_ex_5(key, num_walks, num_steps)])

        rejects(checks.check_randomness_ex_5, with_start, "off by one")
