"""Five ways to compute many Gaussian random walks, and how to time them fairly.

All the JAX versions use the same keys and draws as :func:`grw_draw`: walk
``w`` uses the ``w``-th of ``random.split(key, num_walks)``, split again into
one key per step. They return the same array, shape ``(num_walks, num_steps)``,
holding the position before each step (so column 0 is all zeros); they agree
exactly or to float32 round-off. The NumPy version draws other numbers (from a
``Generator``) with the same distribution.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random

from dl_workshop.jax_idioms import grw_draw


def walks_python_loop(key: jax.Array, num_walks: int, num_steps: int) -> np.ndarray:
    """The seed's way: eager JAX calls in two Python loops, one draw at a time."""
    walks = np.zeros((num_walks, num_steps), dtype=np.float32)
    for w, walk_key in enumerate(random.split(key, num_walks)):
        position = 0.0
        for t, step_key in enumerate(random.split(walk_key, num_steps)):
            walks[w, t] = position
            position = position + random.normal(step_key)
    return walks


_grw_draw_jit = jax.jit(grw_draw, static_argnums=1)


def walks_scan(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """One compiled ``lax.scan`` per walk (:func:`grw_draw`), called from a Python loop."""
    return jnp.stack([_grw_draw_jit(k, num_steps)[1] for k in random.split(key, num_walks)])


@partial(jax.jit, static_argnums=(1, 2))
def walks_vmap_scan(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """``vmap`` of :func:`grw_draw` over the walk keys, compiled (exercise 3)."""
    return jax.vmap(lambda k: grw_draw(k, num_steps)[1])(random.split(key, num_walks))


@partial(jax.jit, static_argnums=(1, 2))
def walks_vmap_cumsum(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """All draws at once with ``vmap``, then a running sum (``cumsum``), compiled."""

    def one_walk(walk_key: jax.Array) -> jax.Array:
        draws = jax.vmap(random.normal)(random.split(walk_key, num_steps))
        return jnp.concatenate([jnp.zeros(1), jnp.cumsum(draws)[:-1]])

    return jax.vmap(one_walk)(random.split(key, num_walks))


def walks_numpy(seed: int, num_walks: int, num_steps: int) -> np.ndarray:
    """NumPy's fastest way: one ``Generator`` call for all draws, then ``cumsum``."""
    draws = np.random.default_rng(seed).standard_normal((num_walks, num_steps), dtype=np.float32)
    walks = np.zeros_like(draws)
    np.cumsum(draws[:, :-1], axis=1, out=walks[:, 1:])
    return walks


@dataclass(frozen=True)
class Timing:
    """Seconds for the first call (compilation included) and the best of the later calls."""

    first_call: float
    run: float

    @property
    def compile(self) -> float:
        """Time of the first call beyond a normal call: mostly tracing and compilation."""
        return max(self.first_call - self.run, 0.0)


def time_call(fn: Callable[..., Any], *args: Any, repeat: int = 5) -> Timing:
    """Time ``fn(*args)``, waiting for JAX's asynchronous results to be ready.

    >>> timing = time_call(lambda n: np.arange(n).sum(), 1000, repeat=3)
    >>> timing.run <= timing.first_call + 1.0
    True
    """
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        runs.append(time.perf_counter() - start)
    return Timing(first_call=first, run=min(runs))


def machine() -> dict[str, str]:
    """The machine and versions that a timing belongs to.

    >>> sorted(machine())
    ['cores', 'cpu', 'jax', 'jaxlib', 'numpy', 'platform', 'python']
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{name: metadata.version(name) for name in ("jax", "jaxlib", "numpy")},
    }
