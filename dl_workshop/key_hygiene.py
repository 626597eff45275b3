"""Key hygiene: wide key trees with ``fold_in``, no key reuse, one stream per worker.

The solutions of the "Going further" exercises on keys:

- :func:`fold_in_walk`: a walk whose step ``i`` uses ``random.fold_in(key, i)``,
  split in two so that no key is used twice (chapter 10);
- :func:`worker_draws`: one independent stream per worker, made from a seed and
  the worker's id with ``random.fold_in`` (chapter 13).

Both are pure functions: the same arguments always give the same result, under
``jax.jit`` or not, with typed keys (``random.key``) or legacy ones
(``random.PRNGKey``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random

from dl_workshop._arguments import KEY_BYTES, check_key, check_memory, check_size, describe

# fold_in folds a 32-bit unsigned integer into a key; without jax_enable_x64,
# random.key keeps only the low 32 bits of its seed.
MAX_FOLD_IN = 2**32 - 1
MAX_SEED = 2**32 - 1


def fold_in_step(key: jax.Array, step: jax.Array | int) -> jax.Array:
    """One step of :func:`fold_in_walk`: a direction of ±1 times an exponential length.

    The step's own key is ``random.fold_in(key, step)``. It is split in two, so
    that the direction and the length come from different keys:

    >>> from jax import random
    >>> s = fold_in_step(random.key(0), 3)
    >>> s.shape, bool(s != 0)
    ((), True)
    """
    direction_key, length_key = random.split(random.fold_in(key, step))
    direction = random.choice(direction_key, jnp.array([-1.0, 1.0]))
    length = random.exponential(length_key)
    return direction * length


def fold_in_walk(key: jax.Array, num_steps: int) -> jax.Array:
    """A walk of ``num_steps`` steps from 0 whose step ``i`` uses ``random.fold_in(key, i)``.

    Each step's key is split into a direction key (``random.choice`` of -1 or
    +1) and a length key (``random.exponential``), so no key is used twice and
    the walk passes ``jax.debug_key_reuse(True)``. The steps do not depend on
    the position, so they are drawn at once with ``vmap`` over the step numbers
    and summed. Returns the position after each step, shape ``(num_steps,)``.

    >>> import jax
    >>> from jax import random
    >>> positions = fold_in_walk(random.key(44), num_steps=50)
    >>> positions.shape
    (50,)
    >>> with jax.debug_key_reuse(True):  # no key is reused
    ...     again = fold_in_walk(random.key(44), num_steps=50)
    >>> bool((again == positions).all())
    True
    """
    check_key("key", key)
    num_steps = check_size("num_steps", num_steps)
    # per step: its key, the two halves, the step and the position
    check_memory(f"num_steps={num_steps}", num_steps * (3 * KEY_BYTES + 4 + 4))
    steps = jax.vmap(lambda i: fold_in_step(key, i))(jnp.arange(num_steps))
    return jnp.cumsum(steps)


def check_seed(name: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is an integer from 0 to 2**32 - 1.

    Without ``jax_enable_x64``, ``random.key`` keeps only the low 32 bits of its
    seed, so ``random.key(2**32)`` is ``random.key(0)``: larger seeds are refused
    rather than silently shared.

    >>> check_seed("seed", 2026)
    2026
    >>> check_seed("seed", 1.5)
    Traceback (most recent call last):
    ...
    TypeError: seed must be an integer, got 1.5 of type float
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the bool {value!r}")
    try:
        seed = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {describe(value)}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(
            f"{name} must be an integer from 0 to {MAX_SEED} (random.key keeps only "
            f"the low 32 bits of a seed), got {seed}"
        )
    return seed


def check_worker_ids(name: str, value: Any) -> np.ndarray | jax.Array:
    """Return ``value`` as a 1-D ``uint32`` array of worker ids (integers from 0 to 2**32 - 1).

    Traced values (inside ``jax.jit``) cannot be inspected: only their shape and
    dtype are checked.

    >>> check_worker_ids("worker_ids", [3, 0, 7]).tolist()
    [3, 0, 7]
    >>> check_worker_ids("worker_ids", [0, -1])
    Traceback (most recent call last):
    ...
    ValueError: worker_ids must hold integers from 0 to 4294967295, got -1
    """
    if isinstance(value, jax.core.Tracer):  # inside jax.jit: the values cannot be inspected
        if value.ndim != 1 or not jnp.issubdtype(value.dtype, jnp.integer):
            raise TypeError(f"{name} must be a non-empty 1-D sequence of integers, got {describe(value)}")
        return value.astype(jnp.uint32)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be a sequence of integers such as [0, 1, 2], got {describe(value)}")
    ids = np.asarray(value)
    if ids.ndim != 1 or ids.size == 0 or not (np.issubdtype(ids.dtype, np.integer) and ids.dtype != bool):
        raise TypeError(f"{name} must be a non-empty 1-D sequence of integers, got {describe(value)}")
    for worker_id in ids.tolist():
        if not 0 <= worker_id <= MAX_FOLD_IN:
            raise ValueError(f"{name} must hold integers from 0 to {MAX_FOLD_IN}, got {worker_id}")
    return ids.astype(np.uint32)


def worker_draws(seed: int, worker_ids: Sequence[int], num_draws: int) -> jax.Array:
    """``num_draws`` standard normal draws for each worker, from ``(seed, worker_id)``.

    Worker ``w``'s key is ``random.fold_in(random.key(seed), w)``: one stream per
    (seed, worker id) pair, the same whatever other workers exist and in
    whatever order they are listed. Row ``j`` of the result is
    ``random.normal(worker_key, (num_draws,))`` for ``worker_ids[j]``; the shape
    is ``(len(worker_ids), num_draws)``.

    >>> draws = worker_draws(2026, [0, 1, 2], num_draws=4)
    >>> draws.shape
    (3, 4)
    >>> bool((worker_draws(2026, [2], 4)[0] == draws[2]).all())  # worker 2 alone
    True
    """
    seed = check_seed("seed", seed)
    ids = check_worker_ids("worker_ids", worker_ids)
    num_draws = check_size("num_draws", num_draws)
    check_memory(
        f"len(worker_ids)={len(ids)} and num_draws={num_draws}", len(ids) * (KEY_BYTES + 4 * num_draws)
    )  # a key and a row per worker
    base = random.key(seed)
    keys = jax.vmap(lambda w: random.fold_in(base, w))(jnp.asarray(ids))
    return jax.vmap(lambda k: random.normal(k, (num_draws,)))(keys)
