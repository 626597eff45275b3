"""Specification of dl_workshop.jax_idioms: Gaussian random walks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop.checkers import (
    drifting_walk_reference,
    grid_walk_reference,
    msd_reference,
    stick_breaking_reference,
)
from dl_workshop.jax_idioms import (
    grw_draw,
    new_draw,
    randomness_ex_1,
    randomness_ex_2,
    randomness_ex_3,
    randomness_ex_4,
    randomness_ex_5,
)


def loop_walk(key: jax.Array, num_steps: int) -> jax.Array:
    """The chapter's Python loop: start at 0, add one unit normal per split key."""
    position = 0.0
    observations = [position]
    for k in random.split(key, num_steps):
        position = position + random.normal(k)
        observations.append(position)
    return jnp.array(observations)


class TestNewDraw:
    def test_adds_one_unit_normal_draw_of_the_key(self):
        key = random.PRNGKey(3)
        new, _ = new_draw(1.5, key)
        assert new == 1.5 + random.normal(key)

    def test_returns_the_previous_position_for_scan_to_stack(self):
        _, previous = new_draw(1.5, random.PRNGKey(3))
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

    def test_same_key_same_walk(self, make_key):
        assert jnp.array_equal(grw_draw(make_key(1), 30)[1], grw_draw(make_key(1), 30)[1])

    def test_different_keys_different_walks(self, make_key):
        assert not jnp.array_equal(grw_draw(make_key(1), 30)[1], grw_draw(make_key(2), 30)[1])

    def test_works_under_jit_with_a_static_size(self, make_key):
        jitted = jax.jit(grw_draw, static_argnums=1)
        assert jnp.array_equal(jitted(make_key(5), 20)[1], grw_draw(make_key(5), 20)[1])

    def test_a_single_step(self, make_key):
        final, draws = grw_draw(make_key(0), 1)
        assert draws.tolist() == [0.0]
        assert final == random.normal(random.split(make_key(0), 1)[0])


def step_and_draw(position, key):
    """Chapters 4 and 11: a walk's step that also returns its draw."""
    draw = random.normal(key)
    return position + draw, (position, draw)


class TestTheChaptersWalk:
    """book/04-gaussian-random-walks.md (and chapter 12): the loop walk (key 44, 100 steps) vs grw_draw."""

    def test_draws_are_identical(self):
        keys = random.split(random.key(44), 100)
        loop_draws = jnp.stack([random.normal(k) for k in keys])
        assert jnp.array_equal(loop_draws, jax.vmap(random.normal)(keys))

    def test_the_draws_made_inside_a_scan_are_the_loops(self):
        keys = random.split(random.key(44), 100)
        _, (_, scan_draws) = lax.scan(step_and_draw, 0.0, keys)
        assert jnp.array_equal(scan_draws, jnp.stack([random.normal(k) for k in keys]))

    def test_a_scan_that_returns_its_draws_sums_like_the_loop(self):
        """Chapter 12: the rounded draw is added, as in the eager loop (on any CPU)."""
        _, (positions, _) = lax.scan(step_and_draw, 0.0, random.split(random.key(44), 100))
        assert jnp.array_equal(positions, loop_walk(random.key(44), 100)[:-1])

    def test_positions_agree_to_float32_round_off(self):
        observations = loop_walk(random.key(44), 100)
        final, draws = grw_draw(random.key(44), 100)
        np.testing.assert_allclose(draws, observations[:-1], rtol=0, atol=1e-5)
        np.testing.assert_allclose(final, observations[-1], rtol=0, atol=1e-5)

    def test_positions_after_each_step_are_the_walk_without_its_start_plus_the_final(self):
        """Chapter 4's admonition: jnp.append(walk[1:], final) is the position after each step."""
        final, walk = grw_draw(random.key(44), 100)
        after = jnp.append(walk[1:], final)
        assert after.shape == (100,) and after[-1] == final
        np.testing.assert_allclose(after, loop_walk(random.key(44), 100)[1:], rtol=0, atol=1e-5)


SEEDS = [0, 44, 1234]


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


def test_ex5_msd_grows_like_the_number_of_steps():
    """E|X_t|^2 = t for unit steps in random directions; 4,000 walks get within a few percent."""
    msd = randomness_ex_5(random.key(0), num_walks=4000, num_steps=100)
    steps = np.arange(1, 101)
    np.testing.assert_allclose(msd, steps, rtol=0.1)
    assert abs(float(np.polyfit(steps, msd, 1)[0]) - 1.0) < 0.05


def test_ex4_without_volatility_is_a_straight_line():
    positions = randomness_ex_4(random.key(0), 10, drift=0.5, volatility=0.0)
    np.testing.assert_allclose(positions, 0.5 * np.arange(1, 11), rtol=1e-6)


class TestBadInput:
    @pytest.mark.parametrize("num_steps", [0, -3])
    def test_num_steps_below_one(self, num_steps):
        with pytest.raises(ValueError, match=f"num_steps must be at least 1, got {num_steps}"):
            grw_draw(random.PRNGKey(0), num_steps)

    @pytest.mark.parametrize("num_steps", [2.5, "10", None, True])
    def test_num_steps_not_an_integer(self, num_steps):
        with pytest.raises(TypeError, match="num_steps must be an integer"):
            grw_draw(random.PRNGKey(0), num_steps)

    @pytest.mark.parametrize(
        "not_a_key",
        [42, np.array([1.0, 2.0]), random.split(random.PRNGKey(0), 3), jnp.zeros(3, jnp.uint32)],
        ids=["int", "float array", "batch of keys", "three uint32"],
    )
    def test_key_not_a_single_key(self, not_a_key):
        with pytest.raises(TypeError, match="key must be a PRNG key"):
            grw_draw(not_a_key, 10)


KEY = random.key(0)
KEYS = random.split(KEY, 4)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: randomness_ex_1(KEY, [0, 0]),
            TypeError,
            "keys must be a 1-D batch of PRNG keys such as random.split(key, n), got a single key",
        ),
        (lambda: randomness_ex_1(jnp.stack([KEYS, KEYS]), [0, 0]), TypeError, "got a batch of keys of shape (2, 4)"),
        (lambda: randomness_ex_1(jnp.arange(4.0), [0, 0]), TypeError, "keys must be a 1-D batch of PRNG keys"),
        (
            lambda: randomness_ex_1(KEYS, [0, 0, 0]),
            ValueError,
            "starting_position must be an (x, y) pair of length 2, got [0, 0, 0] of type list",
        ),
        (
            lambda: randomness_ex_1(KEYS, "ab"),
            ValueError,
            "starting_position must be an (x, y) pair of length 2, got 'ab' of type str",
        ),
        (
            lambda: randomness_ex_1(KEYS, 0),
            ValueError,
            "starting_position must be an (x, y) pair of length 2, got 0 of type int",
        ),
        (lambda: randomness_ex_2(KEY, 0, 5.0), ValueError, "num_breaks must be at least 1, got 0"),
        (lambda: randomness_ex_2(KEY, 2.0, 5.0), TypeError, "num_breaks must be an integer, got 2.0 of type float"),
        (lambda: randomness_ex_2(KEY, 3, 0.0), ValueError, "concentration must be positive and finite, got 0.0"),
        (lambda: randomness_ex_2(KEY, 3, -1), ValueError, "concentration must be positive and finite, got -1"),
        (lambda: randomness_ex_2(KEY, 3, float("inf")), ValueError, "concentration must be finite, got inf"),
        (
            lambda: randomness_ex_2(KEY, 3, float("nan")),
            ValueError,
            "concentration must be positive and finite, got nan",
        ),
        (lambda: randomness_ex_2(KEY, 3, "5"), TypeError, "concentration must be a real number, got '5' of type str"),
        (lambda: randomness_ex_2(KEY, 3, [1.0, 2.0]), TypeError, "concentration must be a real number"),
        (
            lambda: randomness_ex_2(44, 3, 5.0),
            TypeError,
            "key must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), got 44 of type int",
        ),
        (lambda: randomness_ex_3(KEY, 0), ValueError, "num_realizations must be at least 1, got 0"),
        (lambda: randomness_ex_3(KEY, 3, grw_draw, -5), ValueError, "num_steps must be at least 1, got -5"),
        (lambda: randomness_ex_3(KEY, 1.5), TypeError, "num_realizations must be an integer, got 1.5"),
        (
            lambda: randomness_ex_3(KEYS, 3),
            TypeError,
            "key must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), got an array of shape (4,) and dtype key<fry>",
        ),
        (lambda: randomness_ex_4(KEY, 0, 0.1, 1.0), ValueError, "num_steps must be at least 1, got 0"),
        (lambda: randomness_ex_4(KEY, 5, float("nan"), 1.0), ValueError, "drift must be finite, got nan"),
        (
            lambda: randomness_ex_4(KEY, 5, 0.1, -1.0),
            ValueError,
            "volatility must be non-negative and finite, got -1.0",
        ),
        (lambda: randomness_ex_5(KEY, 0, 5), ValueError, "num_walks must be at least 1, got 0"),
        (lambda: randomness_ex_5(KEY, 2, True), TypeError, "num_steps must be an integer, got the bool True"),
        (lambda: randomness_ex_5("key", 2, 5), TypeError, "key must be a PRNG key"),
    ],
)
def test_bad_input_names_the_argument_and_the_value(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


# --- Bad input: long values, the walk function, sizes ----------------------------------

from dl_workshop import _arguments  # noqa: E402


def test_a_list_of_keys_is_named_briefly_with_the_fix():
    keys = list(random.split(KEY, 1000))
    with pytest.raises(TypeError) as raised:
        randomness_ex_1(keys, [0, 0])
    message = str(raised.value)
    assert "keys must be a 1-D batch of PRNG keys" in message and "a list of 1000 keys" in message
    assert "jnp.stack(keys)" in message and len(message) < 200


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: randomness_ex_1(KEYS, list(range(1000))), ValueError, "got a list of 1000 items of type int"),
        (
            lambda: randomness_ex_2(KEY, 3, [1.0] * 1000),
            TypeError,
            "concentration must be a real number, got a list of 1000 items",
        ),
        (lambda: grw_draw(KEY, "9" * 1000), TypeError, "num_steps must be an integer, got '99999"),
    ],
)
def test_messages_echo_at_most_a_short_part_of_a_value(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value) and len(str(raised.value)) < 250


class TestStartingPosition:
    def test_too_large_for_the_walk_to_stay_in_int32(self):
        with pytest.raises(
            ValueError,
            match=r"starting_position must be within ±2147483643 of \(0, 0\), so that a "
            r"walk of 4 steps stays within int32, got \[1099511627776, 0\]",
        ):
            randomness_ex_1(KEYS, [2**40, 0])

    @pytest.mark.parametrize(
        "start", [[0.5, 0.0], np.array([0.0, 0.0]), [True, False]], ids=["floats", "float array", "bools"]
    )
    def test_not_integers(self, start):
        with pytest.raises(TypeError, match="starting_position must hold two integers"):
            randomness_ex_1(KEYS, start)

    def test_integers_of_any_kind(self):
        for start in ([1, 2], (1, 2), np.array([1, 2], np.int64), jnp.array([1, 2]), np.array([1, 2], np.uint8)):
            assert randomness_ex_1(KEYS, start)[1].tolist() == randomness_ex_1(KEYS, [1, 2])[1].tolist()


def one_array_walk(key, num_steps):
    return grw_draw(key, num_steps)[1]


def keyword_only_walk(key, *, num_steps):
    return grw_draw(key, num_steps)


@pytest.mark.parametrize(
    ("walk", "message"),
    [
        (
            None,
            "grw_draw must be a function like grw_draw(key, num_steps) that returns (final, draws), got None of type NoneType",
        ),
        (
            one_array_walk,
            "grw_draw must be a function like grw_draw(key, num_steps) that returns (final, draws), "
            "but it returned an array of shape (10,) and dtype float32",
        ),
        (
            lambda key: key,
            "grw_draw must be a function like grw_draw(key, num_steps) that returns (final, draws), "
            "called as grw_draw(key, num_steps=...)",
        ),
    ],
    ids=["None", "one array", "no num_steps"],
)
def test_ex3_names_a_bad_grw_draw(walk, message):
    with pytest.raises(TypeError) as raised:
        randomness_ex_3(KEY, 3, walk, 10)
    assert message in str(raised.value)


def test_ex3_calls_grw_draw_by_keyword():
    """A grw_draw whose num_steps is keyword-only works, as in the original notebook."""
    assert np.array_equal(randomness_ex_3(KEY, 3, keyword_only_walk, 10)[1], randomness_ex_3(KEY, 3, grw_draw, 10)[1])


def test_a_size_traced_by_jit_names_static_argnums():
    with pytest.raises(TypeError, match=r"num_steps must be a Python integer, but jax.jit traced it .*static_argnums"):
        jax.jit(grw_draw)(KEY, 10)


class TestMemoryGuard:
    def test_a_result_larger_than_any_machine_is_refused_before_tracing(self):
        with pytest.raises(
            MemoryError,
            match=r"num_realizations=1000000 and num_steps=1000000 would need about "
            r"1\d\.\d TB of memory, more than this machine has",
        ):
            randomness_ex_3(KEY, 10**6, num_steps=10**6)

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: randomness_ex_2(KEY, 10**9, 5.0), "num_breaks=1000000000 would need about 16.0 GB"),
            (lambda: grw_draw(KEY, 10**9), "num_steps=1000000000 would need about 12.0 GB"),
            (lambda: randomness_ex_1(random.split(KEY, 10**5), [0, 0]), "len(keys)=100000 would need about 3.2 MB"),
            (lambda: randomness_ex_4(KEY, 10**9, 0.1, 1.0), "num_steps=1000000000 would need about 16.0 GB"),
            (
                lambda: randomness_ex_5(KEY, 10**5, 10**4),
                "num_walks=100000 and num_steps=10000 would need about 44.0 GB",
            ),
        ],
        ids=["ex2", "grw_draw", "ex1", "ex4", "ex5"],
    )
    def test_the_estimate_names_the_arguments(self, monkeypatch, call, message):
        monkeypatch.setattr(_arguments, "memory_bytes", lambda: 1_000_000)  # a machine with 1 MB
        with pytest.raises(MemoryError) as raised:
            call()
        assert message in str(raised.value) and "more than this machine has (1.0 MB)" in str(raised.value)

    def test_without_a_known_memory_size_nothing_is_refused(self, monkeypatch):
        monkeypatch.setattr(_arguments, "memory_bytes", lambda: None)
        assert grw_draw(KEY, 5)[1].shape == (5,)
