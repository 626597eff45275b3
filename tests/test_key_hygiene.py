"""Specification of dl_workshop.key_hygiene and dl_workshop.reproducibility, and of the JAX
facts that chapters 10 to 13 rely on: a JAX upgrade that changes a fact fails here, naming it,
before a chapter's prose becomes wrong.
"""

from __future__ import annotations

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax, random
from jax.errors import KeyReuseError

from dl_workshop.checkers import fingerprint_reference, fold_in_walk_reference, worker_draws_reference
from dl_workshop.key_hygiene import fold_in_step, fold_in_walk, worker_draws
from dl_workshop.reproducibility import draw_fingerprints, fingerprint, fresh_process_environment, in_fresh_processes

KEY = random.key(0)
SEEDS = [0, 44, 1234]


def loop_fold_in_walk(key: jax.Array, num_steps: int) -> jax.Array:
    """The chapter's loop reference, written with JAX arrays."""
    position, positions = 0.0, []
    for i in range(num_steps):
        direction_key, length_key = random.split(random.fold_in(key, i))
        position = position + random.choice(direction_key, jnp.array([-1.0, 1.0])) * random.exponential(length_key)
        positions.append(position)
    return jnp.array(positions)


@pytest.mark.parametrize("seed", SEEDS)
class TestFoldInWalk:
    def test_equals_the_loop_reference_to_round_off(self, make_key, seed):
        positions = fold_in_walk(make_key(seed), 20)
        assert positions.shape == (20,)
        np.testing.assert_allclose(positions, loop_fold_in_walk(make_key(seed), 20), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(positions, fold_in_walk_reference(make_key(seed), 20), rtol=1e-5, atol=1e-5)

    def test_steps_are_the_fold_in_steps_exactly(self, make_key, seed):
        key = make_key(seed)
        steps = np.diff(np.concatenate([[0.0], np.asarray(fold_in_walk(key, 10), np.float64)]))
        expected = np.array([float(fold_in_step(key, i)) for i in range(10)])
        np.testing.assert_allclose(steps, expected, rtol=1e-5, atol=1e-5)

    def test_under_jit(self, make_key, seed):
        jitted = jax.jit(fold_in_walk, static_argnums=1)(make_key(seed), 25)
        np.testing.assert_allclose(jitted, fold_in_walk(make_key(seed), 25), rtol=1e-6, atol=1e-6)

    def test_the_first_steps_do_not_depend_on_the_length_of_the_walk(self, make_key, seed):
        """The point of fold_in: step i's key is fold_in(key, i), whatever comes after it."""
        np.testing.assert_allclose(
            fold_in_walk(make_key(seed), 50)[:10], fold_in_walk(make_key(seed), 10), rtol=1e-5, atol=1e-5
        )

    def test_a_single_step(self, make_key, seed):
        assert fold_in_walk(make_key(seed), 1).tolist() == [float(fold_in_step(make_key(seed), 0))]


def test_fold_in_walk_reuses_no_key():
    with jax.debug_key_reuse(True):
        fold_in_walk(random.key(0), 20)
        jax.jit(fold_in_walk, static_argnums=1)(random.key(1), 20)


def test_fold_in_walk_is_the_same_with_both_key_types():
    assert jnp.array_equal(fold_in_walk(random.key(3), 30), fold_in_walk(random.PRNGKey(3), 30))


class TestWorkerDraws:
    @pytest.mark.parametrize("seed", SEEDS)
    def test_row_j_is_the_fold_in_stream_of_worker_ids_j_exactly(self, seed):
        ids = [5, 0, 3]
        draws = worker_draws(seed, ids, 6)
        assert draws.shape == (3, 6)
        for row, worker_id in zip(draws, ids, strict=True):
            assert jnp.array_equal(row, random.normal(random.fold_in(random.key(seed), worker_id), (6,)))
        assert np.array_equal(draws, worker_draws_reference(seed, ids, 6))

    def test_a_workers_stream_does_not_depend_on_the_other_workers(self):
        assert jnp.array_equal(worker_draws(1, [0, 1, 2, 3], 4)[2], worker_draws(1, [2], 4)[0])
        assert jnp.array_equal(worker_draws(1, [3, 2], 4)[1], worker_draws(1, [2], 4)[0])

    def test_neighbouring_seeds_do_not_share_streams(self):
        assert not jnp.array_equal(worker_draws(0, [1], 8), worker_draws(1, [0], 8))

    def test_under_jit(self):
        jitted = jax.jit(worker_draws, static_argnums=(0, 2))(7, jnp.array([0, 9]), 5)
        assert jnp.array_equal(jitted, worker_draws(7, [0, 9], 5))

    def test_smallest_sizes_and_largest_values(self):
        assert worker_draws(0, [0], 1).shape == (1, 1)
        assert worker_draws(2**32 - 1, [2**32 - 1], 2).shape == (1, 2)


class TestFingerprint:
    def test_is_the_sha256_of_dtype_shape_then_bytes(self):
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        expected = hashlib.sha256(b"float32(2, 3)" + x.tobytes()).hexdigest()
        assert fingerprint(x) == expected == fingerprint_reference(x)

    def test_equal_arrays_equal_fingerprints_whatever_their_type_or_layout(self):
        x = np.arange(6, dtype=np.int32).reshape(2, 3)
        transposed = np.ascontiguousarray(x.T)
        assert fingerprint(x.T) == fingerprint(transposed) == fingerprint(jnp.asarray(transposed))

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (np.zeros(4, np.int32), np.zeros(4, np.float32)),
            (np.zeros(4, np.float32), np.zeros((2, 2), np.float32)),
            (np.array([1.0], np.float32), np.array([np.nextafter(np.float32(1), np.float32(2))], np.float32)),
        ],
        ids=["dtype", "shape", "one bit"],
    )
    def test_differs_when_dtype_shape_or_one_bit_differs(self, a, b):
        assert fingerprint(a) != fingerprint(b)

    def test_is_64_hex_digits(self):
        digest = fingerprint(np.float32(0.5))
        assert len(digest) == 64 and int(digest, 16) >= 0


def test_draw_fingerprints_eager_jit_and_sharded_agree():
    found = draw_fingerprints(2026, 1000)
    assert found["eager"] == found["jit"] == found["sharded"]
    assert found["eager"] == fingerprint(random.normal(random.key(2026), (1000,)))
    assert found["devices"] == len(jax.devices())


def test_fresh_processes_with_two_devices_and_one_cpu_give_the_same_bits():
    """Chapter 12's claim: the same key gives the same bits on one or two devices, any thread count."""
    configurations = {"two devices": {"devices": 2, "one_cpu": False}, "one CPU": {"devices": 1, "one_cpu": True}}
    found = in_fresh_processes(configurations, seed=2026, size=1000)
    assert found["two devices"]["devices"] == 2
    assert found["one CPU"]["devices"] == 1
    here = draw_fingerprints(2026, 1000)["eager"]
    for result in found.values():
        assert result["eager"] == result["jit"] == result["sharded"] == here


def test_fresh_process_environment_keeps_existing_xla_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/nowhere")
    env = fresh_process_environment(2, one_cpu=True)
    assert env["XLA_FLAGS"] == (
        "--xla_dump_to=/nowhere --xla_force_host_platform_device_count=2 --xla_cpu_multi_thread_eigen=false"
    )
    assert env["JAX_PLATFORMS"] == "cpu"


# The openings of messages that several rows of the table below assert.
PRNG_KEY = "key must be a PRNG key (random.key(seed) or random.PRNGKey(seed))"
IDS = "worker_ids must be a non-empty 1-D sequence of integers"


@pytest.mark.parametrize(
    ("function", "args", "error", "message"),
    [
        (fold_in_walk, (KEY, 0), ValueError, "num_steps must be at least 1, got 0"),
        (fold_in_walk, (KEY, 2.5), TypeError, "num_steps must be an integer, got 2.5 of type float"),
        (fold_in_walk, (44, 5), TypeError, f"{PRNG_KEY}, got 44 of type int"),
        (fold_in_walk, (random.split(KEY, 3), 5), TypeError, "key must be a PRNG key"),
        (
            fold_in_walk,
            (KEY, 10**15),
            MemoryError,
            "num_steps=1000000000000000 would need about 32000.0 TB of memory, more than this machine has",
        ),
        (
            worker_draws,
            (-1, [0], 3),
            ValueError,
            "seed must be an integer from 0 to 4294967295 (random.key keeps only the low 32 bits of a seed), got -1",
        ),
        (worker_draws, (2**32, [0], 3), ValueError, "got 4294967296"),
        (worker_draws, (1.0, [0], 3), TypeError, "seed must be an integer, got 1.0 of type float"),
        (worker_draws, (True, [0], 3), TypeError, "seed must be an integer, got the bool True"),
        (worker_draws, (0, [], 3), TypeError, IDS),
        (
            worker_draws,
            (0, 3, 3),
            TypeError,
            "worker_ids must be a sequence of integers such as [0, 1, 2], got 3 of type int",
        ),
        (worker_draws, (0, "01", 3), TypeError, "worker_ids must be a sequence of integers"),
        (worker_draws, (0, [0.5, 1.0], 3), TypeError, f"{IDS}, got [0.5, 1.0] of type list"),
        (worker_draws, (0, [0.5] * 10_000, 3), TypeError, f"{IDS}, got a list of 10000 items of type float"),
        (worker_draws, (0, [[0, 1]], 3), TypeError, IDS),
        (worker_draws, (0, [0, -1], 3), ValueError, "worker_ids must hold integers from 0 to 4294967295, got -1"),
        (worker_draws, (0, [2**32], 3), ValueError, "got 4294967296"),
        (worker_draws, (0, [0], 0), ValueError, "num_draws must be at least 1, got 0"),
        (
            worker_draws,
            (0, [0, 1], 10**15),
            MemoryError,
            "len(worker_ids)=2 and num_draws=1000000000000000 would need about 8000.0 TB of memory, "
            "more than this machine has",
        ),
        (
            fingerprint,
            (KEY,),
            TypeError,
            "x is an array of typed PRNG keys (an array of shape () and dtype key<fry>): fingerprint random.key_data(x)",
        ),
        (fingerprint, ("abc",), TypeError, "x must be an array of numbers, got 'abc' of type str"),
        (fingerprint, (None,), TypeError, "x must be an array of numbers, got None of type NoneType"),
        (fingerprint, (np.array([object()]),), TypeError, "x must be an array of numbers"),
        (draw_fingerprints, (0, 0), ValueError, "size must be at least 1, got 0"),
    ],
)
def test_bad_input_is_refused_in_a_short_message_naming_the_argument_and_the_value(function, args, error, message):
    with pytest.raises(error) as raised:
        function(*args)
    assert message in str(raised.value)
    assert len(str(raised.value)) < 200


class TestKeyReuseChecker:
    """Chapter 11: what jax.debug_key_reuse(True) catches, and what it does not."""

    def test_catches_reuse_under_jit(self):
        with jax.debug_key_reuse(True), pytest.raises(KeyReuseError):
            jax.jit(lambda k: random.normal(k) + random.normal(k))(random.key(0))

    def test_catches_use_after_split(self):
        key = random.key(0)
        with jax.debug_key_reuse(True), pytest.raises(KeyReuseError):
            random.split(key)
            random.normal(key)

    def test_catches_a_scan_body_that_reuses_its_carry_key(self):
        with jax.debug_key_reuse(True), pytest.raises(KeyReuseError, match="scan body function leads to key reuse"):
            lax.scan(lambda key, _: (key, random.normal(key)), random.key(0), None, length=3)

    def test_a_scan_that_splits_its_carry_key_passes(self):
        def step(key, _):
            key, sub = random.split(key)
            return key, random.normal(sub)

        with jax.debug_key_reuse(True):
            lax.scan(step, random.key(0), None, length=3)

    def test_fold_in_does_not_consume_its_key(self):
        key = random.key(0)
        with jax.debug_key_reuse(True):
            for i in range(3):
                random.normal(random.fold_in(key, i))

    def test_clone_allows_deliberate_reuse(self):
        key = random.key(0)
        with jax.debug_key_reuse(True):
            assert random.normal(random.clone(key)) == random.normal(key)

    def test_does_not_track_legacy_keys(self):
        key = random.PRNGKey(0)
        with jax.debug_key_reuse(True):
            assert random.normal(key) == random.normal(key)

    def test_does_not_catch_one_key_broadcast_by_vmap(self):
        """The "every walk is the same walk" bug passes the checker."""
        same_key_walks = jax.vmap(lambda key, walk_id: jnp.cumsum(random.normal(key, (10,))), in_axes=(None, 0))
        with jax.debug_key_reuse(True):
            walks = same_key_walks(random.key(0), jnp.arange(5))
            jitted = jax.jit(same_key_walks)(random.key(1), jnp.arange(5))
        assert bool((walks == walks[0]).all()) and bool((jitted == jitted[0]).all())

    def test_does_not_catch_a_key_both_split_and_folded(self):
        """split(key)[0] and fold_in(key, 0) are one key, and neither call reuses `key`."""
        key = random.key(6)
        with jax.debug_key_reuse(True):
            left, _ = random.split(key)
            also_left = random.fold_in(key, 0)
            assert jnp.array_equal(random.key_data(left), random.key_data(also_left))
            assert random.normal(left) == random.normal(also_left)


class TestKeyTypes:
    def test_typed_and_legacy_keys_give_the_same_draws(self):
        assert random.normal(random.key(42)) == random.normal(random.PRNGKey(42))

    def test_key_data_and_wrap_key_data_round_trip(self):
        key = random.key(42)
        assert jnp.array_equal(random.key_data(key), random.PRNGKey(42))
        assert random.normal(random.wrap_key_data(random.key_data(key))) == random.normal(key)

    def test_legacy_prng_key_error_refuses_legacy_keys_in_random_functions(self):
        with jax.legacy_prng_key("error"):
            legacy = random.PRNGKey(0)  # making one is still allowed
            with pytest.raises(ValueError, match="Legacy uint32 key array passed as key"):
                random.normal(legacy)
            random.normal(random.key(0))

    def test_legacy_keys_allow_the_misuses_of_jep_9263_and_typed_keys_refuse_them(self):
        """Chapter 10: indexing, arithmetic and transposing key buffers."""
        legacy = random.PRNGKey(999)
        assert jnp.array_equal(random.PRNGKey(legacy[1]), legacy)  # indexing gives the key back
        assert (legacy + jnp.arange(3, dtype=legacy.dtype)[:, None]).shape == (3, 2)
        assert jax.vmap(random.uniform, in_axes=1)(random.split(random.PRNGKey(0))).shape == (2,)
        typed = random.key(999)
        with pytest.raises(IndexError):
            typed[1]
        with pytest.raises(TypeError, match="add does not accept dtypes key"):
            typed + 1
        with pytest.raises(ValueError, match="map its argument along axis 1"):
            jax.vmap(random.uniform, in_axes=1)(random.split(random.key(0)))

    def test_seeds_keep_only_their_low_32_bits(self):
        """Chapter 13: without jax_enable_x64, random.key(2**32) is random.key(0)."""
        assert not jax.config.jax_enable_x64
        assert jnp.array_equal(random.key_data(random.key(2**32)), random.key_data(random.key(0)))


def split_i_is_fold_in_i() -> bool:
    key = random.key(7)
    folded = jnp.stack([random.key_data(random.fold_in(key, i)) for i in range(6)])
    return bool(jnp.array_equal(random.key_data(random.split(key, 6)), folded))


def a_shorter_draw_is_a_prefix_of_a_longer_one() -> bool:
    key = random.key(7)
    return bool(jnp.array_equal(random.normal(key, (5,)), random.normal(key, (20,))[:5]))


class TestThreefryPartitionable:
    """Chapter 12: the flag whose default changed in JAX 0.5.0."""

    def test_is_on_by_default(self):
        assert jax.config.jax_threefry_partitionable is True

    def test_on_and_off_give_different_values(self):
        on = random.normal(random.key(42), (3,))
        with jax.threefry_partitionable(False):
            off = random.normal(random.key(42), (3,))
        assert not bool((on == off).any())

    @pytest.mark.parametrize("fact", [split_i_is_fold_in_i, a_shorter_draw_is_a_prefix_of_a_longer_one])
    def test_holds_only_when_on(self, fact):
        assert fact()
        with jax.threefry_partitionable(False):
            assert not fact()


def test_stateful_rng_exists_and_its_nth_key_is_fold_in_of_n():
    """Chapter 13: the experimental NumPy-style bridge, and how it makes its keys."""
    from jax.experimental.random import stateful_rng

    rng = stateful_rng(42)
    first, second = rng.key(), rng.key()
    base = random.key(42)
    assert jnp.array_equal(random.key_data(first), random.key_data(random.fold_in(base, 0)))
    assert jnp.array_equal(random.key_data(second), random.key_data(random.fold_in(base, 1)))
    again = stateful_rng(42)
    a, b = again.normal(), again.normal()
    assert a != b  # the state moves on between calls
    assert a == stateful_rng(42).normal()  # and the same seed starts the same sequence


@pytest.mark.parametrize(
    ("seed", "collides"),
    [(2026, False), (2**96 - 1, False), (2**96, True), (0x8C3C010CB4754C905776BDAC5EE7501, True)],
)
def test_a_numpy_list_seed_is_a_spawned_child_when_the_seed_fills_the_pool(seed, collides):
    """Chapter 13: default_rng([seed, i]) is SeedSequence(seed).spawn(...)[i] for seeds of 4+ words.

    SeedSequence pads a seed shorter than its pool (4 words) with zeros only when it has a
    spawn key; [i, seed], the order NumPy's guide recommends, never matches a child of seed.
    """
    child = np.random.SeedSequence(seed).spawn(3)[2]
    state = child.generate_state(4)
    assert np.array_equal(np.random.SeedSequence([seed, 2]).generate_state(4), state) == collides
    assert not np.array_equal(np.random.SeedSequence([2, seed]).generate_state(4), state)
