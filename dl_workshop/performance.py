"""Seven ways to compute many Gaussian random walks, and how to time them fairly.

Every version returns an array of shape ``(num_walks, num_steps)`` holding the
position before each step (so column 0 is all zeros), as :func:`grw_draw` does.
They differ in how many keys they make:

- **one key per draw** (:func:`walks_python_loop`, :func:`walks_scan`,
  :func:`walks_vmap_scan`, :func:`walks_vmap_cumsum`): the keys and draws of
  :func:`grw_draw`. Walk ``w`` uses the ``w``-th of ``random.split(key, num_walks)``,
  split again into one key per step. These four agree exactly or to float32
  round-off.
- **one key per walk** (:func:`walks_key_per_walk`): walk ``w`` draws all its
  steps at once from the ``w``-th of ``random.split(key, num_walks)``.
- **one key for all** (:func:`walks_one_key`): one call,
  ``random.normal(key, (num_walks, num_steps))``.

The last two draw other numbers than :func:`grw_draw`, with the same
distribution; so does :func:`walks_numpy`, from a NumPy ``Generator``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random
from jax.experimental.compilation_cache import compilation_cache

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
    """One key per draw, all draws at once with ``vmap``, then a running sum, compiled."""
    draws = jax.vmap(lambda walk_key: jax.vmap(random.normal)(random.split(walk_key, num_steps)))(
        random.split(key, num_walks)
    )
    return positions_before_each_step(draws)


@partial(jax.jit, static_argnums=(1, 2))
def walks_key_per_walk(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """One key per walk: each walk's draws in one call, then a running sum, compiled.

    Walk ``w`` is made from the ``w``-th of ``random.split(key, num_walks)`` alone:
    it can be made again without the others, whatever ``num_walks`` is.

    >>> walks_key_per_walk(random.key(0), 3, 5).shape
    (3, 5)
    """
    draws = jax.vmap(lambda walk_key: random.normal(walk_key, (num_steps,)))(random.split(key, num_walks))
    return positions_before_each_step(draws)


@partial(jax.jit, static_argnums=(1, 2))
def walks_one_key(key: jax.Array, num_walks: int, num_steps: int) -> jax.Array:
    """One key for all the draws, ``random.normal(key, shape)``, then a running sum, compiled.

    Each walk depends on the shape of the batch: with another ``num_steps``, the
    same key gives other walks (all but the first).

    >>> walks_one_key(random.key(0), 3, 5).shape
    (3, 5)
    """
    return positions_before_each_step(random.normal(key, (num_walks, num_steps)))


def positions_before_each_step(draws: jax.Array) -> jax.Array:
    """The running sum of ``draws`` along the last axis, shifted one step: the
    position before each step of walks that start at 0.

    >>> positions_before_each_step(jnp.array([[1.0, 2.0, 3.0]])).tolist()
    [[0.0, 1.0, 3.0]]
    """
    start = jnp.zeros_like(draws[..., :1])
    return jnp.concatenate([start, jnp.cumsum(draws[..., :-1], axis=-1)], axis=-1)


def walks_numpy(seed: int, num_walks: int, num_steps: int) -> np.ndarray:
    """NumPy's fastest way: one ``Generator`` call for all draws, then ``cumsum``."""
    draws = np.random.default_rng(seed).standard_normal((num_walks, num_steps), dtype=np.float32)
    walks = np.zeros_like(draws)
    np.cumsum(draws[:, :-1], axis=1, out=walks[:, 1:])
    return walks


def compare_times(ratio: float) -> str:
    """Words for ``ratio``, one time divided by another, in a sentence "A takes ... B".

    >>> compare_times(2.345)
    '2.3 times as long as'
    >>> compare_times(1.03)
    'about as long as'
    >>> compare_times(0.4)
    'only 0.40 times as long as'
    """
    if ratio >= 1.05:
        return f"{ratio:.1f} times as long as"
    if ratio > 1 / 1.05:
        return "about as long as"
    return f"only {ratio:.2f} times as long as"


def loglog_slope(sizes: Any, times: Any) -> float:
    """The slope of the least-squares line through ``(log size, log time)``.

    A slope of 1 means time proportional to size; below 1, time grows more
    slowly than size (a fixed cost per call still counts); above 1, faster.

    >>> round(loglog_slope([10, 100, 1000], [2e-3, 2e-2, 2e-1]), 6)
    1.0
    """
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def describe_slopes(low: float, high: float) -> str:
    """Words for fitted log-log slopes that range from ``low`` to ``high``.

    >>> describe_slopes(0.93, 1.04)
    'all close to 1: time grows in proportion to the number of draws'
    >>> describe_slopes(0.55, 0.8)
    'all below 1: time grows more slowly than the number of draws, so a fixed cost per call still counts at these sizes'
    """
    if low >= 0.9 and high <= 1.1:
        return "all close to 1: time grows in proportion to the number of draws"
    if high < 1:
        return (
            "all below 1: time grows more slowly than the number of draws, "
            "so a fixed cost per call still counts at these sizes"
        )
    if low > 1:
        return "all above 1: time grows faster than the number of draws at these sizes"
    return (
        "on both sides of 1: some methods grow more slowly than the number of draws "
        "(a fixed cost per call still counts), others faster"
    )


@dataclass(frozen=True)
class Timing:
    """Seconds for the first call (compilation included) and the best of the later calls.

    ``cpu``, when measured, is the best CPU time of the later calls: the time
    every thread of this process computed, without the time spent waiting for
    a core that other processes held.
    """

    first_call: float
    run: float
    cpu: float | None = None

    @property
    def compile(self) -> float:
        """Time of the first call beyond a normal call: mostly tracing and compilation."""
        return max(self.first_call - self.run, 0.0)


@contextlib.contextmanager
def compilation_cache_off() -> Iterator[None]:
    """Inside the block, a first call of a ``jax.jit`` function compiles: it does not load a program that an
    earlier process compiled from JAX's persistent compilation cache, if one is set up (``jax_compilation_cache_dir``).

    JAX decides once per process whether it uses that cache, at the first
    compilation; ``reset_cache`` (JAX's documented way back to an undecided state)
    makes it decide again under the new setting, on entry and on exit. Programs
    compiled in the block are not written to the cache. This is the one place
    the course changes JAX's cache; tests/test_performance.py checks that it
    still works.

    >>> with compilation_cache_off():
    ...     timing = time_call(walks_one_key, random.key(0), 2, 3, repeat=1)
    """
    enabled = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", enabled)
        compilation_cache.reset_cache()


def time_call(fn: Callable[..., Any], *args: Any, repeat: int = 5) -> Timing:
    """Time ``fn(*args)``, waiting for JAX's asynchronous results to be ready.

    >>> timing = time_call(lambda n: np.arange(n).sum(), 1000, repeat=3)
    >>> timing.run <= timing.first_call + 1.0
    True
    """
    return time_calls({"call": (fn, *args)}, repeat=repeat)["call"]


def time_calls(calls: dict[Hashable, tuple[Any, ...]], repeat: int = 5) -> dict[Hashable, Timing]:
    """Time calls ``(fn, *args)`` against each other, waiting for JAX's results; any hashable names them.

    Each call runs once (compiling, if it is a new ``jax.jit`` call), then
    ``repeat`` rounds run every call in turn, and each keeps its best time. On
    a shared machine, taking turns means that a burst of work from other
    processes slows all the calls alike, rather than only the one that
    happened to run then.

    >>> timings = time_calls({"sum": (np.sum, np.ones(1000)), "max": (np.max, np.ones(1000))}, repeat=3)
    >>> sorted(timings), timings["sum"].run <= timings["sum"].first_call + 1.0
    (['max', 'sum'], True)
    """
    first = {}
    for name, (fn, *args) in calls.items():
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        first[name] = time.perf_counter() - start
    run = {name: float("inf") for name in calls}
    cpu = dict(run)
    for _ in range(repeat):
        for name, (fn, *args) in calls.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn(*args))
            run[name] = min(run[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {name: Timing(first_call=first[name], run=run[name], cpu=cpu[name]) for name in calls}


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
