"""Specification of dl_workshop.jax_idioms: Gaussian random walks and the exercise solutions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop import _arguments
from dl_workshop.checkers import drifting_walk_reference, grid_walk_reference, msd_reference, stick_breaking_reference
from dl_workshop.jax_idioms import (
    grw_draw,
    new_draw,
    randomness_ex_1,
    randomness_ex_2,
    randomness_ex_3,
    randomness_ex_4,
    randomness_ex_5,
)

KEY = random.key(0)
KEYS = random.split(KEY, 4)
LEGACY_KEY = random.PRNGKey(0)
SEEDS = [0, 44, 1234]


def loop_walk(key: jax.Array, num_steps: int) -> jax.Array:
    """The chapter's Python loop: start at 0, add one unit normal per split key."""
    positions = [0.0]
    for k in random.split(key, num_steps):
        positions.append(positions[-1] + random.normal(k))
    return jnp.array(positions)


def step_and_draw(position, key):
    """Chapters 4 and 11: a walk's step that also returns its draw."""
    draw = random.normal(key)
    return position + draw, (position, draw)


def draws_only(key, num_steps):
    return grw_draw(key, num_steps)[1]


def keyword_only_walk(key, *, num_steps):
    return grw_draw(key, num_steps)


def test_new_draw_adds_one_unit_normal_draw_and_returns_the_previous_position_for_scan_to_stack():
    key = random.PRNGKey(3)
    new, previous = new_draw(1.5, key)
    assert new == 1.5 + random.normal(key)
    assert previous == 1.5


class TestGrwDraw:
    def test_shapes_and_start(self, make_key):
        final, draws = grw_draw(make_key(44), 100)
        assert draws.shape == (100,)
        assert final.shape == ()
        assert draws[0] == 0.0

    def test_is_a_scan_of_new_draw_over_split_keys(self, make_key):
        key = make_key(7)
        expected_final, expected = lax.scan(new_draw, 0.0, random.split(key, 50))
        final, draws = grw_draw(key, 50)
        assert jnp.array_equal(draws, expected)
        assert final == expected_final

    def test_same_key_same_walk_different_keys_different_walks(self, make_key):
        assert jnp.array_equal(grw_draw(make_key(1), 30)[1], grw_draw(make_key(1), 30)[1])
        assert not jnp.array_equal(grw_draw(make_key(1), 30)[1], grw_draw(make_key(2), 30)[1])

    def test_works_under_jit_with_a_static_size(self, make_key):
        jitted = jax.jit(grw_draw, static_argnums=1)
        assert jnp.array_equal(jitted(make_key(5), 20)[1], grw_draw(make_key(5), 20)[1])

    def test_a_single_step(self, make_key):
        final, draws = grw_draw(make_key(0), 1)
        assert draws.tolist() == [0.0]
        assert final == random.normal(random.split(make_key(0), 1)[0])


class TestTheChaptersWalk:
    """book/04-gaussian-random-walks.md (and chapter 12): the loop walk (key 44, 100 steps) vs grw_draw."""

    def test_the_draws_of_vmap_and_of_a_scan_are_the_loops_exactly(self):
        keys = random.split(random.key(44), 100)
        loop_draws = jnp.stack([random.normal(k) for k in keys])
        _, (_, scan_draws) = lax.scan(step_and_draw, 0.0, keys)
        assert jnp.array_equal(jax.vmap(random.normal)(keys), loop_draws)
        assert jnp.array_equal(scan_draws, loop_draws)

    def test_a_scan_that_returns_its_draws_sums_like_the_loop(self):
        """Chapter 12: the rounded draw is added, as in the eager loop (on any CPU)."""
        _, (positions, _) = lax.scan(step_and_draw, 0.0, random.split(random.key(44), 100))
        assert jnp.array_equal(positions, loop_walk(random.key(44), 100)[:-1])

    def test_positions_agree_to_float32_round_off(self):
        """As in chapter 4's admonition, jnp.append(walk[1:], final) is the position after each step."""
        observations = loop_walk(random.key(44), 100)
        final, walk = grw_draw(random.key(44), 100)
        np.testing.assert_allclose(walk, observations[:-1], rtol=0, atol=1e-5)
        np.testing.assert_allclose(final, observations[-1], rtol=0, atol=1e-5)
        after = jnp.append(walk[1:], final)
        assert after.shape == (100,) and after[-1] == final
        np.testing.assert_allclose(after, observations[1:], rtol=0, atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
class TestExerciseSolutions:
    """Each solution against its loop reference (the references live in dl_workshop.checkers)."""

    def test_ex1_grid_walk_equals_the_loop_exactly(self, make_key, seed):
        keys = random.split(make_key(seed), 40)
        final, history = randomness_ex_1(keys, np.array([2, -1]))
        assert history.shape == (40, 2)
        assert np.issubdtype(history.dtype, np.integer)
        assert np.array_equal(history, grid_walk_reference(keys, (2, -1)))
        assert np.array_equal(final, history[-1])
        assert np.all(np.abs(np.diff(history, axis=0)).sum(axis=1) == 1)

    def test_ex1_under_jit(self, make_key, seed):
        keys = random.split(make_key(seed), 40)
        jitted = jax.jit(randomness_ex_1)(keys, jnp.array([0, 0]))[1]
        assert np.array_equal(jitted, randomness_ex_1(keys, jnp.array([0, 0]))[1])

    def test_ex2_stick_breaking_equals_the_loop_to_round_off(self, make_key, seed):
        final, sticks = randomness_ex_2(make_key(seed), 30, 5.0)
        expected, left = stick_breaking_reference(make_key(seed), 30, 1.0, 5.0)
        assert sticks.shape == (30,)
        np.testing.assert_allclose(sticks, expected, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(final, left, rtol=1e-5, atol=1e-7)
        assert abs(float(sticks.sum() + final) - 1.0) < 1e-6

    def test_ex2_under_jit_with_traced_concentration(self, make_key, seed):
        jitted = jax.jit(randomness_ex_2, static_argnums=1)(make_key(seed), 30, 5.0)[1]
        assert np.array_equal(jitted, randomness_ex_2(make_key(seed), 30, 5.0)[1])

    def test_ex3_row_i_is_grw_draw_of_split_key_i_exactly(self, make_key, seed):
        finals, trajectories = randomness_ex_3(make_key(seed), num_realizations=5, num_steps=200)
        assert trajectories.shape == (5, 200) and finals.shape == (5,)
        for i, k in enumerate(random.split(make_key(seed), 5)):
            final, walk = grw_draw(k, 200)
            assert np.array_equal(trajectories[i], walk)
            assert finals[i] == final

    def test_ex3_under_jit(self, make_key, seed):
        jitted = jax.jit(randomness_ex_3, static_argnums=(1, 2, 3))(make_key(seed), 5, grw_draw, 100)[1]
        assert np.array_equal(jitted, randomness_ex_3(make_key(seed), 5, grw_draw, 100)[1])

    def test_ex4_drifting_walk_equals_the_loop_to_round_off(self, make_key, seed):
        positions = randomness_ex_4(make_key(seed), 60, drift=0.2, volatility=1.5)
        expected = drifting_walk_reference(make_key(seed), 60, 0.2, 1.5)
        np.testing.assert_allclose(positions, expected, rtol=1e-5, atol=1e-5)

    def test_ex5_msd_equals_the_loop_to_round_off(self, make_key, seed):
        msd = randomness_ex_5(make_key(seed), num_walks=3, num_steps=15)
        np.testing.assert_allclose(msd, msd_reference(make_key(seed), 3, 15), rtol=1e-6)


def test_ex1_takes_a_start_of_integers_of_any_kind():
    for start in ([1, 2], (1, 2), np.array([1, 2], np.int64), jnp.array([1, 2]), np.array([1, 2], np.uint8)):
        assert randomness_ex_1(KEYS, start)[1].tolist() == randomness_ex_1(KEYS, [1, 2])[1].tolist()


def test_ex3_calls_grw_draw_by_keyword():
    """A grw_draw whose num_steps is keyword-only works, as in the original notebook."""
    assert np.array_equal(randomness_ex_3(KEY, 3, keyword_only_walk, 10)[1], randomness_ex_3(KEY, 3, grw_draw, 10)[1])


def test_ex4_without_volatility_is_a_straight_line():
    positions = randomness_ex_4(random.key(0), 10, drift=0.5, volatility=0.0)
    np.testing.assert_allclose(positions, 0.5 * np.arange(1, 11), rtol=1e-6)


def test_ex5_msd_grows_like_the_number_of_steps():
    """E|X_t|^2 = t for unit steps in random directions; 4,000 walks get within a few percent."""
    msd = randomness_ex_5(random.key(0), num_walks=4000, num_steps=100)
    steps = np.arange(1, 101)
    np.testing.assert_allclose(msd, steps, rtol=0.1)
    assert abs(float(np.polyfit(steps, msd, 1)[0]) - 1.0) < 0.05


# The openings of messages that several rows of the table below assert.
KEY_BATCH = "keys must be a 1-D batch of PRNG keys such as random.split(key, n)"
PAIR = "starting_position must be an (x, y) pair of length 2"
PRNG_KEY = "key must be a PRNG key (random.key(seed) or random.PRNGKey(seed))"
WALK = "grw_draw must be a function like grw_draw(key, num_steps) that returns (final, draws)"


@pytest.mark.parametrize(
    ("function", "args", "error", "message"),
    [
        (grw_draw, (LEGACY_KEY, 0), ValueError, "num_steps must be at least 1, got 0"),
        (grw_draw, (LEGACY_KEY, -3), ValueError, "num_steps must be at least 1, got -3"),
        (grw_draw, (LEGACY_KEY, 2.5), TypeError, "num_steps must be an integer"),
        (grw_draw, (LEGACY_KEY, "10"), TypeError, "num_steps must be an integer"),
        (grw_draw, (LEGACY_KEY, None), TypeError, "num_steps must be an integer"),
        (grw_draw, (LEGACY_KEY, True), TypeError, "num_steps must be an integer"),
        (grw_draw, (KEY, "9" * 1000), TypeError, "num_steps must be an integer, got '99999"),
        (
            jax.jit(grw_draw),
            (KEY, 10),
            TypeError,
            "num_steps must be a Python integer, but jax.jit traced it (a size must be known when compiling): "
            "mark it static, jax.jit(f, static_argnums=...)",
        ),
        (grw_draw, (42, 10), TypeError, "key must be a PRNG key"),
        (grw_draw, (np.array([1.0, 2.0]), 10), TypeError, "key must be a PRNG key"),
        (grw_draw, (random.split(LEGACY_KEY, 3), 10), TypeError, "key must be a PRNG key"),
        (grw_draw, (jnp.zeros(3, jnp.uint32), 10), TypeError, "key must be a PRNG key"),
        (randomness_ex_1, (KEY, [0, 0]), TypeError, f"{KEY_BATCH}, got a single key"),
        (randomness_ex_1, (jnp.stack([KEYS, KEYS]), [0, 0]), TypeError, "got a batch of keys of shape (2, 4)"),
        (randomness_ex_1, (jnp.arange(4.0), [0, 0]), TypeError, "keys must be a 1-D batch of PRNG keys"),
        (
            randomness_ex_1,
            (list(KEYS) * 250, [0, 0]),
            TypeError,
            f"{KEY_BATCH}, got a list of 1000 keys: make one array of them with jnp.stack(keys)",
        ),
        (randomness_ex_1, (KEYS, [0, 0, 0]), ValueError, f"{PAIR}, got [0, 0, 0] of type list"),
        (randomness_ex_1, (KEYS, "ab"), ValueError, f"{PAIR}, got 'ab' of type str"),
        (randomness_ex_1, (KEYS, 0), ValueError, f"{PAIR}, got 0 of type int"),
        (randomness_ex_1, (KEYS, list(range(1000))), ValueError, "got a list of 1000 items of type int"),
        (randomness_ex_1, (KEYS, [0.5, 0.0]), TypeError, "starting_position must hold two integers"),
        (randomness_ex_1, (KEYS, np.array([0.0, 0.0])), TypeError, "starting_position must hold two integers"),
        (randomness_ex_1, (KEYS, [True, False]), TypeError, "starting_position must hold two integers"),
        (
            randomness_ex_1,
            (KEYS, [2**40, 0]),
            ValueError,
            "starting_position must be within ±2147483643 of (0, 0), so that a walk of 4 steps stays within int32, "
            "got [1099511627776, 0]",
        ),
        (randomness_ex_2, (KEY, 0, 5.0), ValueError, "num_breaks must be at least 1, got 0"),
        (randomness_ex_2, (KEY, 2.0, 5.0), TypeError, "num_breaks must be an integer, got 2.0 of type float"),
        (randomness_ex_2, (KEY, 3, 0.0), ValueError, "concentration must be positive and finite, got 0.0"),
        (randomness_ex_2, (KEY, 3, -1), ValueError, "concentration must be positive and finite, got -1"),
        (randomness_ex_2, (KEY, 3, float("inf")), ValueError, "concentration must be finite, got inf"),
        (randomness_ex_2, (KEY, 3, float("nan")), ValueError, "concentration must be positive and finite, got nan"),
        (randomness_ex_2, (KEY, 3, "5"), TypeError, "concentration must be a real number, got '5' of type str"),
        (randomness_ex_2, (KEY, 3, [1.0, 2.0]), TypeError, "concentration must be a real number"),
        (
            randomness_ex_2,
            (KEY, 3, [1.0] * 1000),
            TypeError,
            "concentration must be a real number, got a list of 1000 items",
        ),
        (randomness_ex_2, (44, 3, 5.0), TypeError, f"{PRNG_KEY}, got 44 of type int"),
        (randomness_ex_3, (KEY, 0), ValueError, "num_realizations must be at least 1, got 0"),
        (randomness_ex_3, (KEY, 3, grw_draw, -5), ValueError, "num_steps must be at least 1, got -5"),
        (randomness_ex_3, (KEY, 1.5), TypeError, "num_realizations must be an integer, got 1.5"),
        (randomness_ex_3, (KEYS, 3), TypeError, f"{PRNG_KEY}, got an array of shape (4,) and dtype key<fry>"),
        (randomness_ex_3, (KEY, 3, None, 10), TypeError, f"{WALK}, got None of type NoneType"),
        (
            randomness_ex_3,
            (KEY, 3, draws_only, 10),
            TypeError,
            f"{WALK}, but it returned an array of shape (10,) and dtype float32",
        ),
        (randomness_ex_3, (KEY, 3, lambda key: key, 10), TypeError, f"{WALK}, called as grw_draw(key, num_steps=...)"),
        (
            randomness_ex_3,
            (KEY, 10**6, grw_draw, 10**6),
            MemoryError,
            "num_realizations=1000000 and num_steps=1000000 would need about 12.0 TB of memory, more than this machine has",
        ),
        (randomness_ex_4, (KEY, 0, 0.1, 1.0), ValueError, "num_steps must be at least 1, got 0"),
        (randomness_ex_4, (KEY, 5, float("nan"), 1.0), ValueError, "drift must be finite, got nan"),
        (randomness_ex_4, (KEY, 5, 0.1, -1.0), ValueError, "volatility must be non-negative and finite, got -1.0"),
        (randomness_ex_5, (KEY, 0, 5), ValueError, "num_walks must be at least 1, got 0"),
        (randomness_ex_5, (KEY, 2, True), TypeError, "num_steps must be an integer, got the bool True"),
        (randomness_ex_5, ("key", 2, 5), TypeError, "key must be a PRNG key"),
    ],
)
def test_bad_input_is_refused_in_a_short_message_naming_the_argument_and_the_value(function, args, error, message):
    with pytest.raises(error) as raised:
        function(*args)
    assert message in str(raised.value)
    assert len(str(raised.value)) < 200


class TestMemoryGuard:
    @pytest.mark.parametrize(
        ("function", "args", "message"),
        [
            (grw_draw, (KEY, 10**9), "num_steps=1000000000 would need about 12.0 GB"),
            (randomness_ex_1, (random.split(KEY, 10**5), [0, 0]), "len(keys)=100000 would need about 3.2 MB"),
            (randomness_ex_2, (KEY, 10**9, 5.0), "num_breaks=1000000000 would need about 16.0 GB"),
            (randomness_ex_4, (KEY, 10**9, 0.1, 1.0), "num_steps=1000000000 would need about 16.0 GB"),
            (randomness_ex_5, (KEY, 10**5, 10**4), "num_walks=100000 and num_steps=10000 would need about 44.0 GB"),
        ],
    )
    def test_the_estimate_names_the_arguments(self, monkeypatch, function, args, message):
        monkeypatch.setattr(_arguments, "memory_bytes", lambda: 1_000_000)  # a machine with 1 MB
        with pytest.raises(MemoryError) as raised:
            function(*args)
        assert message in str(raised.value) and "more than this machine has (1.0 MB)" in str(raised.value)

    def test_without_a_known_memory_size_nothing_is_refused(self, monkeypatch):
        monkeypatch.setattr(_arguments, "memory_bytes", lambda: None)
        assert grw_draw(KEY, 5)[1].shape == (5,)
