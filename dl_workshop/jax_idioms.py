"""Gaussian random walks with explicit PRNG keys.

A Gaussian random walk starts at 0 and adds one unit normal draw per step. Each
step gets its own key, split from one parent key, so the whole walk is a pure
function of that key.
"""

from __future__ import annotations

import jax
from jax import lax, random

from dl_workshop._validate import check_key, check_size


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
    keys = random.split(key, num_steps)
    final, draws = lax.scan(new_draw, 0.0, keys)
    return final, draws
