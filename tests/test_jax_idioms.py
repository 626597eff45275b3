"""Specification of dl_workshop.jax_idioms: Gaussian random walks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random

from dl_workshop.jax_idioms import grw_draw, new_draw

KEY_MAKERS = {"legacy PRNGKey": random.PRNGKey, "typed key": random.key}


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


@pytest.mark.parametrize("make_key", KEY_MAKERS.values(), ids=KEY_MAKERS.keys())
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


class TestTheChaptersWalk:
    """book/04-gaussian-random-walks.md: the loop walk (key 44, 100 steps) vs grw_draw."""

    def test_draws_are_identical(self):
        keys = random.split(random.PRNGKey(44), 100)
        loop_draws = jnp.stack([random.normal(k) for k in keys])
        assert jnp.array_equal(loop_draws, jax.vmap(random.normal)(keys))

    def test_positions_agree_to_float32_round_off(self):
        observations = loop_walk(random.PRNGKey(44), 100)
        final, draws = grw_draw(random.PRNGKey(44), 100)
        np.testing.assert_allclose(draws, observations[:-1], rtol=0, atol=1e-5)
        np.testing.assert_allclose(final, observations[-1], rtol=0, atol=1e-5)


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
