"""Random walks with explicit PRNG keys, and the solutions to the exercises.

A Gaussian random walk starts at 0 and adds one unit normal draw per step. Each
step gets its own key, split from one parent key, so the whole walk is a pure
function of that key. The exercise solutions build on the same idea: a grid
walk (exercise 1), stick-breaking (exercise 2) and many walks at once (exercise 3).
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax, random

from dl_workshop._arguments import (
    KEY_BYTES,
    check_key,
    check_memory,
    check_real,
    check_size,
    describe,
    is_key,
    key_batch_shape,
    show,
)


def new_draw(prev_val: jax.Array | float, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One step of a Gaussian random walk, in the shape ``lax.scan`` expects.

    Takes the walk's current position (the carry) and this step's key, and
    returns ``(new position, previous position)``: the carry for the next step
    and the value ``lax.scan`` stacks into its output. Stacking the previous
    position makes the stacked walk start at the starting point.

    >>> from jax import random
    >>> new, prev = new_draw(0.0, random.key(0))
    >>> float(prev)
    0.0
    >>> bool(new == random.normal(random.key(0)))
    True
    """
    new = prev_val + random.normal(key)
    return new, prev_val


def grw_draw(key: jax.Array, num_steps: int) -> tuple[jax.Array, jax.Array]:
    """A Gaussian random walk of ``num_steps`` steps that starts at 0.

    Splits ``key`` into one key per step and scans :func:`new_draw` over them.
    Returns ``(final, draws)``: ``draws`` has shape ``(num_steps,)`` and holds
    the position before each step (so ``draws[0] == 0``); ``final`` is the
    position after the last step.

    >>> from jax import random
    >>> final, draws = grw_draw(random.key(44), num_steps=100)
    >>> draws.shape, float(draws[0])
    ((100,), 0.0)
    >>> bool((grw_draw(random.key(44), 100)[1] == draws).all())  # same key, same walk
    True
    """
    check_key("key", key)
    num_steps = check_size("num_steps", num_steps)
    check_memory(f"num_steps={num_steps}", num_steps * (KEY_BYTES + 4))  # keys, draws
    keys = random.split(key, num_steps)
    final, draws = lax.scan(new_draw, 0.0, keys)
    return final, draws


# --- Exercise solutions --------------------------------------------------------


def check_key_batch(name: str, keys: Any) -> int:
    """Return the number of keys in ``keys`` if it is a 1-D batch of at least one key.

    >>> from jax import random
    >>> check_key_batch("keys", [random.key(0), random.key(1)])
    Traceback (most recent call last):
    ...
    TypeError: keys must be a 1-D batch of PRNG keys such as random.split(key, n), got a list of 2 keys: make one array of them with jnp.stack(keys)
    """
    shape = key_batch_shape(keys)
    if shape is None or len(shape) != 1 or shape[0] < 1:
        hint = ""
        if shape == ():
            received = "a single key"
        elif shape is not None:
            received = f"a batch of keys of shape {shape}"
        elif isinstance(keys, (list, tuple)) and keys and all(is_key(k) for k in keys):
            received = f"a {type(keys).__name__} of {len(keys)} keys"
            hint = f": make one array of them with jnp.stack({name})"
        else:
            received = describe(keys)
        raise TypeError(f"{name} must be a 1-D batch of PRNG keys such as random.split(key, n), got {received}{hint}")
    return shape[0]


def check_start(name: str, value: Any, num_steps: int) -> None:
    """Raise unless ``value`` is a point ``(x, y)`` of the integer grid that a walk of
    ``num_steps`` steps cannot carry out of JAX's integers (int32 by default).

    Traced values (inside ``jax.jit``) cannot be inspected: only their shape and
    dtype are checked.

    >>> check_start("starting_position", [2**40, 0], num_steps=10)
    Traceback (most recent call last):
    ...
    ValueError: starting_position must be within ±2147483637 of (0, 0), so that a walk of 10 steps stays within int32, got [1099511627776, 0]
    """
    try:
        shape = np.shape(value)
    except ValueError:  # a ragged sequence
        shape = None
    if shape != (2,):
        raise ValueError(f"{name} must be an (x, y) pair of length 2, got {describe(value)}")
    dtype = getattr(value, "dtype", None)
    if dtype is None:  # a list or tuple: its items must be integers
        try:
            position = [operator.index(item) for item in value if not isinstance(item, bool)]
        except TypeError:
            position = None
        if position is not None and len(position) != 2:  # bools are not coordinates
            position = None
    elif np.issubdtype(dtype, np.integer):
        position = None if isinstance(value, jax.core.Tracer) else [int(item) for item in np.asarray(value)]
    else:
        position = None
    if position is None and not (isinstance(value, jax.core.Tracer) and jnp.issubdtype(dtype, jnp.integer)):
        raise TypeError(f"{name} must hold two integers (a point of the grid), got {describe(value)}")
    int_dtype = jax.dtypes.canonicalize_dtype(np.int64)  # int32 unless jax_enable_x64
    limit = np.iinfo(int_dtype).max - num_steps
    if position is not None and max(abs(coordinate) for coordinate in position) > limit:
        raise ValueError(
            f"{name} must be within ±{limit} of (0, 0), so that a walk of {num_steps} steps "
            f"stays within {np.dtype(int_dtype).name}, got {show(value)}"
        )


def grid_step(key: jax.Array) -> jax.Array:
    """One step of a walk on the 2-D integer grid: ±1 along x or along y.

    The step's key is split in two: the first picks the axis with
    ``random.choice`` over ``[0, 1]``, the second the direction with
    ``random.choice`` over ``[-1, 1]``. Returns the step as an integer vector.

    >>> from jax import random
    >>> step = grid_step(random.key(0))
    >>> step.shape, int(abs(step).sum())
    ((2,), 1)
    """
    axis_key, direction_key = random.split(key)
    axis = random.choice(axis_key, jnp.array([0, 1]))
    direction = random.choice(direction_key, jnp.array([-1, 1]))
    return jnp.zeros(2, dtype=direction.dtype).at[axis].set(direction)


def randomness_ex_1(keys: jax.Array, starting_position: Any) -> tuple[jax.Array, jax.Array]:
    """Brownian motion on a 2-D grid: one :func:`grid_step` per key.

    The steps do not depend on the position, so all of them are drawn at once
    with ``vmap`` and the walk is their running sum. Returns ``(final, history)``:
    ``history[i]`` is the position after step ``i`` (shape ``(len(keys), 2)``) and
    ``final == history[-1]``.

    >>> from jax import random
    >>> final, history = randomness_ex_1(random.split(random.key(44), 1000), [0, 0])
    >>> history.shape, bool((final == history[-1]).all())
    ((1000, 2), True)
    """
    num_steps = check_key_batch("keys", keys)
    check_start("starting_position", starting_position, num_steps)
    # the two keys of each step, the steps, and the history: 2 keys and 4 int32 per step
    check_memory(f"len(keys)={num_steps}", num_steps * (2 * KEY_BYTES + 4 * 4))
    history = jnp.asarray(starting_position) + jnp.cumsum(jax.vmap(grid_step)(keys), axis=0)
    return history[-1], history


def stick_break(stick_length: jax.Array, fraction: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Break ``fraction`` of what is left of the stick off.

    Returns ``(length left, piece broken off)``: the carry and output of a scan.

    >>> left, piece = stick_break(1.0, 0.25)
    >>> left, piece
    (0.75, 0.25)
    """
    piece = stick_length * fraction
    return stick_length - piece, piece


def randomness_ex_2(key: jax.Array, num_breaks: int, concentration: float) -> tuple[jax.Array, jax.Array]:
    """Stochastic stick-breaking with ``lax.scan``: ``num_breaks`` pieces of a unit stick.

    Break ``i`` takes the fraction ``random.beta(k_i, a=1, b=concentration)`` of
    the length left, ``k_i`` the ``i``-th of ``random.split(key, num_breaks)``.
    The fractions do not depend on the length left, so they are drawn at once
    with ``vmap``; the length left is carried from break to break by a scan of
    :func:`stick_break`. Returns ``(final, sticks)``: the length left and the
    pieces (shape ``(num_breaks,)``), so that ``sticks.sum() + final == 1`` up to
    round-off.

    >>> from jax import random
    >>> final, sticks = randomness_ex_2(random.key(44), num_breaks=30, concentration=5)
    >>> sticks.shape, abs(float(sticks.sum() + final) - 1.0) < 1e-6
    ((30,), True)
    """
    check_key("key", key)
    num_breaks = check_size("num_breaks", num_breaks)
    check_real("concentration", concentration, positive=True)
    check_memory(f"num_breaks={num_breaks}", num_breaks * (KEY_BYTES + 4 + 4))  # keys, fractions, pieces
    keys = random.split(key, num_breaks)
    fractions = jax.vmap(lambda k: random.beta(k, a=1.0, b=concentration))(keys)
    return lax.scan(stick_break, 1.0, fractions)


def randomness_ex_3(
    key: jax.Array,
    num_realizations: int = 20,
    grw_draw: Callable[[jax.Array, int], tuple[jax.Array, jax.Array]] = grw_draw,
    num_steps: int = 1000,
) -> tuple[jax.Array, jax.Array]:
    """Many Gaussian random walks: ``vmap`` a one-walk function over split keys.

    Returns ``(finals, trajectories)`` of shapes ``(num_realizations,)`` and
    ``(num_realizations, num_steps)``; row ``i`` is
    ``grw_draw(random.split(key, num_realizations)[i], num_steps)``.

    >>> from jax import random
    >>> finals, trajectories = randomness_ex_3(random.key(44), num_realizations=20)
    >>> finals.shape, trajectories.shape
    ((20,), (20, 1000))
    """
    check_key("key", key)
    num_realizations = check_size("num_realizations", num_realizations)
    num_steps = check_size("num_steps", num_steps)
    walk_bytes = check_walk_function("grw_draw", grw_draw, key, num_steps)
    # every walk's result, and its step keys (grw_draw splits its key into one per step)
    check_memory(
        f"num_realizations={num_realizations} and num_steps={num_steps}",
        num_realizations * (walk_bytes + num_steps * KEY_BYTES),
    )
    keys = random.split(key, num_realizations)
    return jax.vmap(lambda k: grw_draw(k, num_steps=num_steps))(keys)


def check_walk_function(name: str, walk: Any, key: jax.Array, num_steps: int) -> int:
    """Check that ``walk(key, num_steps=num_steps)`` returns a pair ``(final, draws)``,
    without running it (``jax.eval_shape``); return the bytes of that pair.

    >>> from jax import random
    >>> check_walk_function("grw_draw", grw_draw, random.key(0), 10)  # a float32 final and 10 draws
    44
    >>> check_walk_function("grw_draw", None, random.key(0), 10)
    Traceback (most recent call last):
    ...
    TypeError: grw_draw must be a function like grw_draw(key, num_steps) that returns (final, draws), got None of type NoneType
    """
    expected = "a function like grw_draw(key, num_steps) that returns (final, draws)"
    if not callable(walk):
        raise TypeError(f"{name} must be {expected}, got {describe(walk)}")
    try:
        inspect.signature(walk).bind(key, num_steps=num_steps)
    except TypeError as error:  # the signature does not take (key, num_steps=...)
        raise TypeError(f"{name} must be {expected}, called as {name}(key, num_steps=...): {error}") from None
    except ValueError:  # some callables have no signature to inspect
        pass
    result = jax.eval_shape(lambda k: walk(k, num_steps=num_steps), key)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (
            describe(result)
            if not isinstance(result, (tuple, list))
            else f"a {type(result).__name__} of length {len(result)}"
        )
        raise TypeError(f"{name} must be {expected}, but it returned {got}")
    leaves = jax.tree_util.tree_leaves(result)
    return sum(int(np.prod(leaf.shape)) * getattr(leaf.dtype, "itemsize", KEY_BYTES) for leaf in leaves)


def randomness_ex_4(key: jax.Array, num_steps: int, drift: float, volatility: float) -> jax.Array:
    """A Gaussian random walk with drift and volatility, starting at 0.

    Step ``i`` adds ``drift + volatility * z_i``, with ``z_i`` the unit normal
    draw of the ``i``-th of ``random.split(key, num_steps)``. The steps do not
    depend on the position, so they are drawn at once and summed. Returns the
    position after each step, shape ``(num_steps,)``.

    >>> from jax import random
    >>> positions = randomness_ex_4(random.key(0), num_steps=50, drift=0.1, volatility=0.0)
    >>> positions.shape, round(float(positions[-1]), 4)
    ((50,), 5.0)
    """
    check_key("key", key)
    num_steps = check_size("num_steps", num_steps)
    check_real("drift", drift)
    check_real("volatility", volatility, nonnegative=True)
    check_memory(f"num_steps={num_steps}", num_steps * (KEY_BYTES + 4 + 4))  # keys, draws, positions
    draws = jax.vmap(random.normal)(random.split(key, num_steps))
    return jnp.cumsum(drift + volatility * draws)


def randomness_ex_5(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """Mean squared displacement of ``num_walks`` grid walks of ``num_steps`` steps.

    Walk ``w`` is ``randomness_ex_1(random.split(k_w, num_steps), (0, 0))`` with
    ``k_w`` the ``w``-th of ``random.split(key, num_walks)``. Returns, for each
    step ``t``, the mean over walks of ``x**2 + y**2`` after step ``t``: shape
    ``(num_steps,)``. For a walk of unit steps in random directions the
    expected value after ``t`` steps is ``t``.

    >>> from jax import random
    >>> msd = randomness_ex_5(random.key(0), num_walks=500, num_steps=100)
    >>> msd.shape, float(msd[0])
    ((100,), 1.0)
    """
    check_key("key", key)
    num_walks = check_size("num_walks", num_walks)
    num_steps = check_size("num_steps", num_steps)
    # per step of every walk: its key, the two keys of the step, the step, the history
    # and the squared distance
    check_memory(
        f"num_walks={num_walks} and num_steps={num_steps}", num_walks * num_steps * (3 * KEY_BYTES + 4 * 4 + 4)
    )
    start = jnp.zeros(2, dtype=jnp.int32)

    def squared_displacement(walk_key: jax.Array) -> jax.Array:
        _, history = randomness_ex_1(random.split(walk_key, num_steps), start)
        return (history**2).sum(axis=1)

    return jax.vmap(squared_displacement)(random.split(key, num_walks)).mean(axis=0)
