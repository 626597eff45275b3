"""Specification of dl_workshop.checkers: the answer checkers.

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

from dl_workshop import checkers, jax_idioms


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
        assert checkers.check_randomness_ex_1(answer) is None
        assert capsys.readouterr().out.count("\n") == 1

    def test_same_key_for_every_step(self):
        rejects(checkers.check_randomness_ex_1, ex1_same_key, "the same key was used for every step")

    def test_starting_position_included(self):
        rejects(
            checkers.check_randomness_ex_1,
            ex1_start_included,
            "has shape (61, 2), expected (60, 2)",
            "starting position is included in the history (off by one)",
        )

    def test_transposed_history(self):
        def transposed(keys, start):
            final, history = ex1_scan(keys, start)
            return final, history.T

        rejects(checkers.check_randomness_ex_1, transposed, "history is transposed")

    def test_float_positions(self):
        message = rejects(
            checkers.check_randomness_ex_1,
            lambda k, s: ex1_scan(k, jnp.asarray(s, jnp.float32)),
            "history has dtype float32, expected integers",
            "Likely cause: positions on the grid are whole numbers",
        )
        assert "int64" not in message and "split each step's key" not in message

    def test_the_dtype_is_named_before_the_shape(self):
        rejects(
            checkers.check_randomness_ex_1,
            lambda k, s: ex1_start_included(k, jnp.asarray(s, jnp.float32)),
            "dtype float32",
        )

    def test_a_key_dropped(self):
        message = rejects(
            checkers.check_randomness_ex_1,
            lambda k, s: ex1_scan(k[:-1], s),
            "history has shape (59, 2), expected (60, 2)",
            "one row too few",
            "keys[:-1]",
        )
        assert "split each step's key" not in message

    def test_cumsum_without_axis(self):
        def flat(keys, starting_position):
            history = jnp.cumsum(jax.vmap(lambda k: jax_idioms.grid_step(k))(keys))
            return history[-2:], history

        def reshaped(keys, starting_position):
            steps = jax.vmap(jax_idioms.grid_step)(keys)
            history = jnp.asarray(starting_position) + jnp.cumsum(steps).reshape(-1, 2)
            return history[-1], history

        def broadcast(keys, starting_position):
            history = jnp.asarray(starting_position) + jnp.cumsum(jax.vmap(jax_idioms.grid_step)(keys))
            return history[-1], history

        rejects(checkers.check_randomness_ex_1, flat, "has shape (120,)", "jnp.cumsum(steps, axis=0)")
        rejects(checkers.check_randomness_ex_1, reshaped, "the running sum ran over the flattened steps")
        rejects(
            checkers.check_randomness_ex_1,
            broadcast,
            "raised TypeError",
            "incompatible shapes",
            "jnp.cumsum without axis=0",
        )

    def test_pair_in_the_wrong_order(self):
        rejects(
            checkers.check_randomness_ex_1,
            lambda k, s: ex1_scan(k, s)[::-1],
            "history has shape (2,), expected (60, 2)",
            "the pair is in the wrong order: return (final, history)",
        )

    def test_positions_before_each_step(self):
        def before(keys, starting_position):
            def step(position, key):
                axis, direction = grid_choice(key)
                return position.at[axis].add(direction), position  # grw_draw's convention

            return lax.scan(step, jnp.asarray(starting_position), keys)

        message = rejects(checkers.check_randomness_ex_1, before, "history[i] is the position before step i")
        assert "exactly 1 along" not in message

    def test_starting_position_not_added(self):
        message = rejects(
            checkers.check_randomness_ex_1,
            lambda k, s: ex1_scan(k, jnp.zeros(2, jnp.int32)),
            "starting_position=np.array([3, -2])",
            "the starting position is missing",
        )
        assert "exactly 1 along" not in message

    def test_fold_in_instead_of_split_within_a_step(self):
        def fold_in_halves(keys, starting_position):
            def step(position, key):
                axis = random.choice(random.fold_in(key, 0), jnp.array([0, 1]))
                direction = random.choice(random.fold_in(key, 1), jnp.array([-1, 1]))
                position = position.at[axis].add(direction)
                return position, position

            return lax.scan(step, jnp.asarray(starting_position), keys)

        rejects(
            checkers.check_randomness_ex_1,
            fold_in_halves,
            "with jax.threefry_partitionable(False): ",
            "not fold_in(k, 0) and fold_in(k, 1)",
            "equal only while jax_threefry_partitionable is on",
        )

    def test_axis_from_permutation_names_the_first_difference_and_the_rule(self):
        message = rejects(
            checkers.check_randomness_ex_1, ex1_permutation_hint, "differs from the reference first at index"
        )
        assert "random.choice(k1, jnp.array([0, 1]))" in message

    def test_returning_none(self):
        rejects(checkers.check_randomness_ex_1, lambda keys, start: None, "returned None", "`return`")

    def test_an_exception_is_named_and_chained(self):
        def broken(keys, starting_position):
            raise NotImplementedError("replace this with your answer")

        with pytest.raises(AssertionError) as failure:
            checkers.check_randomness_ex_1(broken)
        assert "broken(keys=random.split(random.key(44), 60), starting_position=np.array([0, 0]))" in str(failure.value)
        assert "raised NotImplementedError: replace this with your answer" in str(failure.value)
        assert isinstance(failure.value.__cause__, NotImplementedError)

    def test_a_traced_size_under_jit_suggests_static_argnums(self):
        def jitted(keys, starting_position):
            @jax.jit
            def walk(keys, n):
                return ex1_scan(keys[:n], starting_position)

            return walk(keys, len(keys))

        rejects(checkers.check_randomness_ex_1, jitted, "raised", "static_argnums")


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
        [jax_idioms.randomness_ex_2, ex2_loop, ex2_cumprod, ex2_scan_with(lambda k, c: random.beta(k, a=1, b=c))],
        ids=["package", "loop", "cumprod", "scan"],
    )
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checkers.check_randomness_ex_2(answer) is None
        assert "randomness_ex_2 matches the loop reference" in capsys.readouterr().out

    def test_same_key_for_every_break(self):
        def same_key(key, num_breaks, concentration):
            def step(length, _):
                piece = length * random.beta(key, a=1, b=concentration)
                return length - piece, piece

            return lax.scan(step, 1.0, None, length=num_breaks)

        rejects(checkers.check_randomness_ex_2, same_key, "the same key was used for every break")

    def test_beta_parameters_swapped(self):
        rejects(
            checkers.check_randomness_ex_2,
            ex2_scan_with(lambda k, c: random.beta(k, a=c, b=1)),
            "the Beta parameters are swapped",
        )

    def test_returns_lengths_left_instead_of_pieces(self):
        def lengths_left(key, num_breaks, concentration):
            final, sticks = jax_idioms.randomness_ex_2(key, num_breaks, concentration)
            return final, 1.0 - jnp.cumsum(sticks)

        rejects(checkers.check_randomness_ex_2, lengths_left, "holds the length left after each break")

    def test_wrong_final(self):
        def final_is_sum(key, num_breaks, concentration):
            _, sticks = jax_idioms.randomness_ex_2(key, num_breaks, concentration)
            return sticks.sum(), sticks

        rejects(checkers.check_randomness_ex_2, final_is_sum, "final differs", "length of stick left")

    def test_returns_only_one_array(self):
        rejects(
            checkers.check_randomness_ex_2,
            lambda *a: jax_idioms.randomness_ex_2(*a)[1],
            "expected a pair (final, sticks)",
        )

    def test_final_holds_every_length_left(self):
        def lengths_left_as_final(key, num_breaks, concentration):
            final, sticks = jax_idioms.randomness_ex_2(key, num_breaks, concentration)
            return 1.0 - jnp.cumsum(sticks), sticks

        rejects(
            checkers.check_randomness_ex_2,
            lengths_left_as_final,
            "final has shape (30,), expected ()",
            "final holds the length left after every break: return only the last one",
        )

    def test_pair_in_the_wrong_order(self):
        rejects(
            checkers.check_randomness_ex_2,
            lambda *a: jax_idioms.randomness_ex_2(*a)[::-1],
            "the pair is in the wrong order: return (final, sticks)",
        )

    def test_fold_in_keys(self):
        def fold_in(key, num_breaks, concentration):
            def step(length, i):
                piece = length * random.beta(random.fold_in(key, i), a=1, b=concentration)
                return length - piece, piece

            return lax.scan(step, 1.0, jnp.arange(num_breaks))

        rejects(
            checkers.check_randomness_ex_2,
            fold_in,
            "with jax.threefry_partitionable(False): ",
            "must be random.split(key, num_breaks), not fold_in(key, i)",
        )


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


def ex3_keyword(key, num_realizations=20, grw_draw=jax_idioms.grw_draw, num_steps=1000):
    """Calls grw_draw by keyword, as the original notebook did."""
    return jax.vmap(lambda k: grw_draw(k, num_steps=num_steps))(random.split(key, num_realizations))


class TestCheckEx3:
    @pytest.mark.parametrize("answer", [jax_idioms.randomness_ex_3, ex3_loop, ex3_jit, ex3_keyword])
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checkers.check_randomness_ex_3(answer) is None
        assert "randomness_ex_3 matches" in capsys.readouterr().out

    def test_one_key_for_every_walk(self):
        def shared_key(key, num_realizations, grw_draw, num_steps):
            return jax.vmap(lambda _: grw_draw(key, num_steps))(jnp.arange(num_realizations))

        rejects(checkers.check_randomness_ex_3, shared_key, "all realizations are identical")

    def test_transposed_trajectories(self):
        def transposed(*args):
            finals, trajectories = jax_idioms.randomness_ex_3(*args)
            return finals, trajectories.T

        rejects(checkers.check_randomness_ex_3, transposed, "trajectories is transposed")

    def test_num_steps_ignored(self):
        def default_steps(key, num_realizations, grw_draw, num_steps):
            return jax_idioms.randomness_ex_3(key, num_realizations, grw_draw)

        rejects(checkers.check_randomness_ex_3, default_steps, "pass num_steps on to grw_draw")

    def test_a_new_seed_per_walk_names_the_rule(self):
        def reseeded(key, num_realizations, grw_draw, num_steps):
            keys = jnp.stack([random.key(i) for i in range(num_realizations)])
            return jax.vmap(lambda k: grw_draw(k, num_steps))(keys)

        rejects(checkers.check_randomness_ex_3, reseeded, "random.split(key, num_realizations)[i]")

    def test_the_grw_draw_argument_ignored(self):
        def module_walk(key, num_realizations, grw_draw, num_steps):
            return jax_idioms.randomness_ex_3(key, num_realizations, jax_idioms.grw_draw, num_steps)

        rejects(
            checkers.check_randomness_ex_3,
            module_walk,
            "grw_draw=uniform_grw_draw",
            "the grw_draw argument is not used",
        )

    def test_a_walk_of_its_own_instead_of_grw_draw(self):
        rejects(checkers.check_randomness_ex_3, ex3_cumsum, "the grw_draw argument is not used")

    def test_keys_split_by_the_number_of_steps(self):
        def sliced(key, num_realizations, grw_draw, num_steps):
            keys = random.split(key, num_steps)[:num_realizations]
            return jax.vmap(lambda k: grw_draw(k, num_steps))(keys)

        rejects(
            checkers.check_randomness_ex_3,
            sliced,
            "num_realizations=6",
            "num_steps=2",
            "make one walk per key of random.split(key, num_realizations)",
        )

    def test_keys_split_by_the_number_of_steps_when_there_are_enough(self):
        def sliced(key, num_realizations, grw_draw, num_steps):
            keys = random.split(key, max(num_steps, num_realizations))[:num_realizations]
            return jax.vmap(lambda k: grw_draw(k, num_steps))(keys)

        rejects(
            checkers.check_randomness_ex_3,
            sliced,
            "with jax.threefry_partitionable(False): ",
            "random.split(key, num_steps)[:num_realizations]",
        )

    def test_fold_in_keys(self):
        def fold_in(key, num_realizations, grw_draw, num_steps):
            return jax.vmap(lambda i: grw_draw(random.fold_in(key, i), num_steps))(jnp.arange(num_realizations))

        rejects(
            checkers.check_randomness_ex_3,
            fold_in,
            "with jax.threefry_partitionable(False): ",
            "must be random.split(key, num_realizations), not fold_in(key, i)",
        )

    def test_in_axes_that_map_num_steps(self):
        def mapped(key, num_realizations, grw_draw, num_steps):
            return jax.vmap(grw_draw, in_axes=(0, 0))(random.split(key, num_realizations), num_steps)

        rejects(
            checkers.check_randomness_ex_3,
            mapped,
            "raised ValueError: vmap was requested",
            "Likely cause: vmap maps every argument",
            "in_axes=(0, None)",
        )

    def test_a_traced_size_under_jit(self):
        def traced(key, num_realizations, grw_draw, num_steps):
            return jax.jit(jax.vmap(grw_draw, in_axes=(0, None)))(random.split(key, num_realizations), num_steps)

        rejects(checkers.check_randomness_ex_3, traced, "raised", "static_argnums")

    def test_positions_after_each_step(self):
        def after(key, num_realizations, grw_draw, num_steps):
            finals, trajectories = jax_idioms.randomness_ex_3(key, num_realizations, grw_draw, num_steps)
            return finals, jnp.concatenate([trajectories[:, 1:], finals[:, None]], axis=1)

        rejects(checkers.check_randomness_ex_3, after, "these are the positions after each step")


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
        assert checkers.check_randomness_ex_4(answer) is None
        assert "randomness_ex_4 matches" in capsys.readouterr().out

    def test_same_key_for_every_step(self):
        def same_key(key, num_steps, drift, volatility):
            return jnp.cumsum(jnp.full(num_steps, drift + volatility * random.normal(key)))

        rejects(checkers.check_randomness_ex_4, same_key, "the same key was used for every step")

    def test_starting_point_included(self):
        def with_start(*args):
            return jnp.concatenate([jnp.zeros(1), jax_idioms.randomness_ex_4(*args)])

        rejects(checkers.check_randomness_ex_4, with_start, "off by one")

    def test_steps_not_summed(self):
        def steps(key, num_steps, drift, volatility):
            return drift + volatility * jax.vmap(random.normal)(random.split(key, num_steps))

        rejects(checkers.check_randomness_ex_4, steps, "these are the steps, not the positions")

    def test_drift_and_volatility_swapped(self):
        def swapped(key, num_steps, drift, volatility):
            return jax_idioms.randomness_ex_4(key, num_steps, volatility, abs(drift))

        rejects(checkers.check_randomness_ex_4, swapped, "drift and volatility are swapped")

    def test_positions_before_each_step(self):
        def before(key, num_steps, drift, volatility):
            def step(position, k):
                return position + drift + volatility * random.normal(k), position

            return lax.scan(step, 0.0, random.split(key, num_steps))[1]

        rejects(checkers.check_randomness_ex_4, before, "these are the positions before each step")

    def test_fold_in_keys(self):
        def fold_in(key, num_steps, drift, volatility):
            draws = jax.vmap(lambda i: random.normal(random.fold_in(key, i)))(jnp.arange(num_steps))
            return jnp.cumsum(drift + volatility * draws)

        rejects(
            checkers.check_randomness_ex_4,
            fold_in,
            "with jax.threefry_partitionable(False): ",
            "must be random.split(key, num_steps), not fold_in(key, i)",
        )


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
        assert checkers.check_randomness_ex_5(answer) is None
        assert "randomness_ex_5 matches" in capsys.readouterr().out

    def test_every_walk_the_same(self):
        def same_walk(key, num_walks, num_steps):
            _, history = jax_idioms.randomness_ex_1(random.split(key, num_steps), jnp.zeros(2, jnp.int32))
            return jnp.tile((history**2).sum(axis=1), (num_walks, 1)).mean(axis=0)

        rejects(checkers.check_randomness_ex_5, same_walk, "every walk is the same walk")

    def test_not_averaged(self):
        def per_walk(key, num_walks, num_steps):
            return jax.vmap(lambda k: ex5_scan(k, 1, num_steps))(random.split(key, num_walks))

        rejects(checkers.check_randomness_ex_5, per_walk, "average over the walks")

    def test_displacement_not_squared(self):
        def not_squared(key, num_walks, num_steps):
            def one(walk_key):
                _, history = ex1_scan(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
                return jnp.sqrt((history**2).sum(axis=1))

            return jax.vmap(one)(random.split(key, num_walks)).mean(axis=0)

        rejects(checkers.check_randomness_ex_5, not_squared, "square the displacement")

    def test_start_included(self):
        def with_start(key, num_walks, num_steps):
            return jnp.concatenate([jnp.zeros(1), jax_idioms.randomness_ex_5(key, num_walks, num_steps)])

        rejects(checkers.check_randomness_ex_5, with_start, "off by one")

    def test_values_before_each_step(self):
        def before(key, num_walks, num_steps):
            return jnp.concatenate([jnp.zeros(1), jax_idioms.randomness_ex_5(key, num_walks, num_steps)[:-1]])

        rejects(checkers.check_randomness_ex_5, before, "these are the values before each step")

    def test_fold_in_keys(self):
        def fold_in(key, num_walks, num_steps):
            def one(walk_key):
                _, history = ex1_scan(random.split(walk_key, num_steps), jnp.zeros(2, jnp.int32))
                return (history**2).sum(axis=1)

            walk_keys = jax.vmap(lambda i: random.fold_in(key, i))(jnp.arange(num_walks))
            return jax.vmap(one)(walk_keys).mean(axis=0)

        rejects(
            checkers.check_randomness_ex_5,
            fold_in,
            "with jax.threefry_partitionable(False): ",
            "must be random.split, not fold_in(key, i)",
        )

    @pytest.mark.parametrize("case", checkers.EX5_CASES)
    def test_every_case_can_reject_a_wrong_answer(self, case):
        """An answer right everywhere but in one case (where it returns E|X_t|^2 = t) fails."""
        _, num_walks, num_steps, _ = case

        def theory_in_one_case(key, w, n):
            if (w, n) == (num_walks, num_steps):
                return jnp.arange(1.0, n + 1)
            return jax_idioms.randomness_ex_5(key, w, n)

        rejects(checkers.check_randomness_ex_5, theory_in_one_case, f"num_walks={num_walks}, num_steps={num_steps}")


# --- Going further: chapter 10, fold_in_walk ----------------------------------------

from dl_workshop import key_hygiene, reproducibility  # noqa: E402


def fold_in_walk_with(make_step):
    """A vmap-and-cumsum answer whose step ``i`` is ``make_step(key, i)``."""

    def answer(key, num_steps):
        return jnp.cumsum(jax.vmap(lambda i: make_step(key, i))(jnp.arange(num_steps)))

    return answer


def direction_times_length(direction_key, length_key):
    return random.choice(direction_key, jnp.array([-1.0, 1.0])) * random.exponential(length_key)


def walk_loop(key, num_steps):
    position, positions = 0.0, []
    for i in range(num_steps):
        k1, k2 = random.split(random.fold_in(key, i))
        position = position + direction_times_length(k1, k2)
        positions.append(position)
    return jnp.array(positions)


def walk_scan(key, num_steps):
    def step(position, i):
        position = position + direction_times_length(*random.split(random.fold_in(key, i)))
        return position, position

    return lax.scan(step, 0.0, jnp.arange(num_steps))[1]


def walk_split_up_front(key, num_steps):
    """Wrong: split(key, n)[i] is fold_in(key, i) only while jax_threefry_partitionable is on."""
    steps = jax.vmap(lambda k: direction_times_length(*random.split(k)))(random.split(key, num_steps))
    return jnp.cumsum(steps)


class TestCheckFoldInWalk:
    @pytest.mark.parametrize(
        "answer", [key_hygiene.fold_in_walk, walk_loop, walk_scan], ids=["package", "loop", "scan"]
    )
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checkers.check_fold_in_walk(answer) is None
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "reuses no key" in out

    def test_one_key_for_direction_and_length_is_caught_by_the_key_reuse_checker(self):
        def reused(key, i):
            k = random.fold_in(key, i)
            return direction_times_length(k, k)

        message = rejects(
            checkers.check_fold_in_walk,
            fold_in_walk_with(reused),
            "reuses a key: under jax.debug_key_reuse(True) it raised KeyReuseError",
            "Split each step's key in two",
        )
        assert "jaxpr" not in message  # only the first line of JAX's message

    def test_reuse_in_a_python_loop_is_caught_too(self):
        def reused_loop(key, num_steps):
            position, positions = 0.0, []
            for i in range(num_steps):
                k = random.fold_in(key, i)
                position = position + direction_times_length(k, k)
                positions.append(position)
            return jnp.array(positions)

        rejects(checkers.check_fold_in_walk, reused_loop, "reuses a key")

    def test_same_key_for_every_step(self):
        rejects(
            checkers.check_fold_in_walk,
            fold_in_walk_with(lambda key, i: direction_times_length(*random.split(key))),
            "the same key was used for every step",
            "random.fold_in(key, i)",
        )

    def test_step_numbers_from_one(self):
        rejects(
            checkers.check_fold_in_walk,
            fold_in_walk_with(lambda key, i: key_hygiene.fold_in_step(key, i + 1)),
            "step numbers start at 0",
        )

    def test_keys_swapped(self):
        def swapped(key, i):
            k1, k2 = random.split(random.fold_in(key, i))
            return direction_times_length(k2, k1)

        rejects(checkers.check_fold_in_walk, fold_in_walk_with(swapped), "the two keys are swapped")

    def test_start_included(self):
        rejects(
            checkers.check_fold_in_walk,
            lambda key, n: jnp.concatenate([jnp.zeros(1), key_hygiene.fold_in_walk(key, n)]),
            "off by one",
        )

    def test_steps_not_summed(self):
        rejects(
            checkers.check_fold_in_walk,
            lambda key, n: jax.vmap(lambda i: key_hygiene.fold_in_step(key, i))(jnp.arange(n)),
            "these are the steps, not the positions",
        )

    def test_a_chain_of_splits_names_the_rule(self):
        def chain(key, num_steps):
            position, positions = 0.0, []
            for _ in range(num_steps):
                key, sub = random.split(key)
                position = position + direction_times_length(*random.split(sub))
                positions.append(position)
            return jnp.array(positions)

        rejects(checkers.check_fold_in_walk, chain, "differs from the reference", "step i uses random.fold_in(key, i)")

    def test_split_up_front_instead_of_fold_in(self):
        rejects(
            checkers.check_fold_in_walk,
            walk_split_up_front,
            "with jax.threefry_partitionable(False): ",
            "the exercise asks for random.fold_in(key, i)",
            "equal only while jax_threefry_partitionable is on",
        )

    def test_positions_before_each_step(self):
        rejects(
            checkers.check_fold_in_walk,
            lambda key, n: jnp.concatenate([jnp.zeros(1), key_hygiene.fold_in_walk(key, n)[:-1]]),
            "these are the positions before each step",
        )


# --- Going further: chapter 12, fingerprint -----------------------------------------

import hashlib  # noqa: E402


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


class TestCheckFingerprint:
    @pytest.mark.parametrize(
        "answer",
        [reproducibility.fingerprint, fingerprint_joined, fingerprint_buffer, fingerprint_copy],
        ids=["package", "joined", "buffer", "copy"],
    )
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checkers.check_fingerprint(answer) is None
        assert capsys.readouterr().out.startswith("✓ fingerprint matches")

    def test_python_hash(self):
        rejects(
            checkers.check_fingerprint,
            lambda x: hash(np.asarray(x).tobytes()),
            "expected a string of 64 hex digits",
            "Python's hash() is not a fingerprint",
        )

    def test_bytes_only(self):
        rejects(
            checkers.check_fingerprint,
            lambda x: hashlib.sha256(np.asarray(x).tobytes()).hexdigest(),
            "only the bytes were hashed",
        )

    def test_printed_text(self):
        def printed(x):
            a = np.asarray(x)
            return hashlib.sha256(f"{a.dtype}{a.shape}".encode() + str(x).encode()).hexdigest()

        rejects(
            checkers.check_fingerprint,
            lambda x: hashlib.sha256(str(x).encode()).hexdigest(),
            "the printed text was hashed",
        )
        rejects(checkers.check_fingerprint, printed, "hash the text f'{a.dtype}{a.shape}' (encoded as UTF-8)")

    def test_digest_bytes_instead_of_hex(self):
        rejects(
            checkers.check_fingerprint,
            lambda x: hashlib.sha256(np.asarray(x).tobytes()).digest(),
            "returned 32 bytes",
            "hexdigest()",
        )

    def test_shortened(self):
        rejects(checkers.check_fingerprint, lambda x: reproducibility.fingerprint(x)[:16], "return all 64 hex digits")

    def test_header_after_the_bytes(self):
        def reversed_order(x):
            a = np.asarray(x)
            return hashlib.sha256(a.tobytes() + f"{a.dtype}{a.shape}".encode()).hexdigest()

        rejects(checkers.check_fingerprint, reversed_order, "(the order matters)")

    def test_another_hash(self):
        def with_hash(name):
            def answer(x):
                a = np.asarray(x)
                return hashlib.new(name, f"{a.dtype}{a.shape}".encode() + a.tobytes()).hexdigest()

            return answer

        message = rejects(checkers.check_fingerprint, with_hash("md5"), "this is the md5 digest, not SHA-256")
        assert "not a part of them" not in message
        rejects(checkers.check_fingerprint, with_hash("sha3_256"), "this is the sha3_256 digest, not SHA-256")
        rejects(
            checkers.check_fingerprint,
            lambda x: hashlib.md5(str(x).encode()).hexdigest(),
            "the digest has 32 hex digits, as MD5 gives; the hash must be SHA-256",
        )

    def test_a_long_answer_is_not_echoed_in_full(self):
        message = rejects(checkers.check_fingerprint, lambda x: "0" * 10_000, "returned '0000")
        assert len(message) < 500


# --- Going further: chapter 13, worker_draws ----------------------------------------


def workers_loop(seed, worker_ids, num_draws):
    base = random.key(seed)
    return jnp.stack([random.normal(random.fold_in(base, w), (num_draws,)) for w in worker_ids])


def workers_split(seed, worker_ids, num_draws):
    """Wrong: split(key, n)[w] is fold_in(key, w) only while jax_threefry_partitionable is on."""
    keys = random.split(random.key(seed), max(worker_ids) + 1)[jnp.array(worker_ids)]
    return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)


def workers_jit(seed, worker_ids, num_draws):
    @jax.jit
    def draw(ids):
        keys = jax.vmap(random.fold_in, in_axes=(None, 0))(random.key(seed), ids)
        return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)

    return draw(jnp.asarray(worker_ids))


def workers_with(make_key):
    def answer(seed, worker_ids, num_draws):
        return jnp.stack([random.normal(make_key(seed, w), (num_draws,)) for w in worker_ids])

    return answer


class TestCheckWorkerDraws:
    @pytest.mark.parametrize(
        "answer", [key_hygiene.worker_draws, workers_loop, workers_jit], ids=["package", "loop", "jit"]
    )
    def test_accepts_correct_answers_whatever_the_method(self, answer, capsys):
        assert checkers.check_worker_draws(answer) is None
        assert capsys.readouterr().out.count("\n") == 1

    def test_seed_plus_worker_id(self):
        rejects(
            checkers.check_worker_draws,
            workers_with(lambda s, w: random.key(s + w)),
            "random.key(seed + worker_id) gives neighbouring seeds the same streams",
        )

    def test_same_stream_for_every_worker(self):
        rejects(
            checkers.check_worker_draws, workers_with(lambda s, w: random.key(s)), "every worker got the same draws"
        )

    def test_seed_and_worker_id_swapped(self):
        rejects(
            checkers.check_worker_draws,
            workers_with(lambda s, w: random.fold_in(random.key(w), s)),
            "seed and worker id are swapped",
        )

    def test_position_instead_of_id(self):
        def by_position(seed, worker_ids, num_draws):
            return workers_loop(seed, range(len(worker_ids)), num_draws)

        rejects(checkers.check_worker_draws, by_position, "not its position in worker_ids")

    def test_one_key_for_all_rows(self):
        rejects(
            checkers.check_worker_draws,
            lambda seed, ids, n: random.normal(random.key(seed), (len(ids), n)),
            "all rows come from one key",
        )

    def test_one_split_key_per_draw(self):
        def per_draw(seed, worker_ids, num_draws):
            return jnp.stack(
                [
                    jax.vmap(random.normal)(random.split(random.fold_in(random.key(seed), w), num_draws))
                    for w in worker_ids
                ]
            )

        rejects(checkers.check_worker_draws, per_draw, "draw each worker's row with one call")

    def test_transposed(self):
        rejects(checkers.check_worker_draws, lambda *args: key_hygiene.worker_draws(*args).T, "draws is transposed")

    def test_split_by_worker_id_instead_of_fold_in(self):
        rejects(
            checkers.check_worker_draws,
            workers_split,
            "with jax.threefry_partitionable(False): ",
            "the exercise asks for random.fold_in(random.key(seed), worker_id)",
        )

    def test_a_list_passed_to_vmap(self):
        def listed(seed, worker_ids, num_draws):
            keys = jax.vmap(random.fold_in, in_axes=(None, 0))(random.key(seed), worker_ids)
            return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)

        rejects(
            checkers.check_worker_draws,
            listed,
            "raised ValueError: vmap was requested",
            "worker_ids is a Python list",
            "jnp.asarray(worker_ids)",
        )
