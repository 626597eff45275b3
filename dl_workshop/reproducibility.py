"""Checking reproducibility: fingerprints of arrays, and fresh processes to compare.

- :func:`fingerprint`: the SHA-256 of an array's dtype, shape and bytes, so two
  results can be compared bit for bit by comparing two short strings
  (the solution of the exercise of chapter 12);
- :func:`draw_fingerprints`: fingerprints of the same random draws made eagerly,
  under ``jax.jit`` and sharded over every device of this process;
- :func:`in_fresh_processes`: the same, run in new Python processes with other
  settings (two CPU devices, or a single CPU thread), which must be chosen
  before JAX starts;
- :func:`on_two_cpus`: results computed by XLA for this CPU and for an older one
  without fused multiply-add (``--xla_cpu_max_isa``), to compare
  (chapter 12), with :func:`ulp_distance` to measure how far apart they are
  (which CPU this is, and which caps XLA takes: :mod:`dl_workshop.cpus`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import random

from dl_workshop._arguments import PRNG_KEY_DTYPE, check_size, describe, key_batch_shape
from dl_workshop.cpus import ISA_WITHOUT_FMA, cpu_environment, on_x86
from dl_workshop.jax_idioms import grw_draw, randomness_ex_1


def fingerprint(x: Any) -> str:
    """The SHA-256 hex digest of ``x``'s dtype and shape, then of its bytes.

    The text ``f"{dtype}{shape}"`` (for example ``float32(3,)``) is hashed first,
    so that arrays with the same bytes but another dtype or shape differ, then
    the array's bytes in C order. Two arrays have the same fingerprint exactly
    when they are equal bit for bit (same dtype, shape and values).

    >>> import numpy as np
    >>> fingerprint(np.zeros(3, np.float32))[:16]
    '951cd8cbb637d643'
    >>> fingerprint(np.zeros(3, np.float32)) == fingerprint(np.zeros(3, np.int32))
    False
    """
    if key_batch_shape(x) is not None and jax.dtypes.issubdtype(x.dtype, PRNG_KEY_DTYPE):
        raise TypeError(
            f"x is an array of typed PRNG keys ({describe(x)}): fingerprint "
            "random.key_data(x), the integers under the keys"
        )
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"x must be an array of numbers, got {describe(x)}")
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)):
        raise TypeError(f"x must be an array of numbers, got {describe(x)}")
    digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def draw_fingerprints(seed: int, size: int) -> dict[str, Any]:
    """Fingerprints of ``random.normal(random.key(seed), (size,))`` computed three ways.

    ``eager``: called directly; ``jit``: under ``jax.jit``; ``sharded``: under
    ``jax.jit`` with the output split over all the devices of this process.
    Also returns ``devices``, the number of devices that held a part of the
    sharded result.

    >>> found = draw_fingerprints(0, 8)
    >>> found["eager"] == found["jit"] == found["sharded"]
    True
    """
    size = check_size("size", size)
    key = random.key(seed)

    def draws(k: jax.Array) -> jax.Array:
        return random.normal(k, (size,))

    devices = jax.devices()
    mesh = jax.sharding.Mesh(np.array(devices), ("x",))
    split_over_devices = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))
    # An array can only be split evenly: fall back to one device if it cannot.
    sharding = split_over_devices if size % len(devices) == 0 else None
    sharded = jax.jit(draws, out_shardings=sharding)(key)
    return {
        "eager": fingerprint(draws(key)),
        "jit": fingerprint(jax.jit(draws)(key)),
        "sharded": fingerprint(sharded),
        "devices": len(sharded.sharding.device_set),
    }


# Run in a new process: restrict it to one CPU if asked (before JAX starts its
# thread pool), then print the fingerprints as JSON.
_CHILD = """
import json, os, sys
settings = json.loads(sys.argv[1])
if settings["one_cpu"] and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from dl_workshop.reproducibility import draw_fingerprints
print(json.dumps(draw_fingerprints(settings["seed"], settings["size"])))
"""


def fresh_process_environment(devices: int, one_cpu: bool) -> dict[str, str]:
    """The environment of a new process with ``devices`` CPU devices (and one thread if asked)."""
    flags = [os.environ.get("XLA_FLAGS", ""), f"--xla_force_host_platform_device_count={devices}"]
    if one_cpu:
        flags.append("--xla_cpu_multi_thread_eigen=false")
    return {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": " ".join(f for f in flags if f)}


def in_fresh_processes(settings: dict[str, dict[str, Any]], seed: int, size: int) -> dict[str, dict[str, Any]]:
    """:func:`draw_fingerprints` in one new Python process per named setting, run side by side.

    Each setting is a dict with ``devices`` (how many CPU devices XLA makes) and
    ``one_cpu`` (restrict the process to a single CPU and a single XLA thread).
    These must be chosen before JAX starts, hence the new processes.

    >>> found = in_fresh_processes({"two devices": {"devices": 2, "one_cpu": False}}, seed=0, size=8)
    >>> found["two devices"]["devices"], found["two devices"]["eager"] == draw_fingerprints(0, 8)["eager"]
    (2, True)
    """
    size = check_size("size", size)
    commands = {}
    for name, setting in settings.items():
        devices = check_size(f"settings[{name!r}]['devices']", setting.get("devices", 1))
        one_cpu = bool(setting.get("one_cpu", False))
        arguments = json.dumps({"seed": seed, "size": size, "one_cpu": one_cpu})
        commands[name] = ([sys.executable, "-c", _CHILD, arguments], fresh_process_environment(devices, one_cpu))
    return {name: json.loads(out.strip().splitlines()[-1]) for name, out in side_by_side(commands).items()}


def side_by_side(commands: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, str]:
    """Run each named command (arguments, environment) in a new process, all at once.

    Returns what each one printed, by name; a process that fails raises
    ``RuntimeError`` with its name and what it wrote to standard error.

    >>> side_by_side({"hello": ([sys.executable, "-c", "print('hi')"], dict(os.environ))})
    {'hello': 'hi\\n'}
    """
    running = {
        name: subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (command, env) in commands.items()
    }
    printed = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=300)
        if process.returncode != 0:
            raise RuntimeError(f"the fresh process for {name!r} failed:\n{err}")
        printed[name] = out
    return printed


# --- Another CPU ---------------------------------------------------------------

#: ``random.normal`` draws ``u`` uniformly from [NORMAL_UNIFORM_LOW, 1), the
#: open interval (-1, 1), and returns ``sqrt(2) * erf_inv(u)`` (JAX 0.10.2).
NORMAL_UNIFORM_LOW = float(np.nextafter(np.float32(-1.0), np.float32(0.0)))


def cpu_results(seed: int, size: int, num_steps: int) -> dict[str, np.ndarray]:
    """The results that chapter 12 compares between two CPUs, computed here.

    One key per result, split from ``random.key(seed)``:

    - ``keys``: the integers of ``size`` keys split from it;
    - ``bits``: ``size`` random 32-bit integers;
    - ``normal``: ``size`` standard normal draws, and ``uniform (-1, 1)``: the
      uniform draws that ``random.normal`` turns into them with the same key
      (JAX 0.10.2 computes ``sqrt(2) * erf_inv(u)``);
    - ``uniform (0.1, 0.7)``: ``size`` uniform draws on another interval, which
      JAX scales as ``u * (maxval - minval) + minval``;
    - ``grid walk``: the positions of exercise 1's walk on a grid, ``num_steps`` steps;
    - ``walk``: the Gaussian random walk of ``grw_draw``, ``num_steps`` steps;
    - ``loop walk`` and ``scan walk``: a 100-step Gaussian random walk computed
      by an eager Python loop and by ``lax.scan`` (``grw_draw``), from the same
      keys: the position before each step, as ``grw_draw`` returns it.

    >>> found = cpu_results(0, 8, 10)
    >>> found["normal"].shape, found["grid walk"].dtype.kind, found["loop walk"].shape
    ((8,), 'i', (100,))
    """
    size = check_size("size", size)
    num_steps = check_size("num_steps", num_steps)
    keys_key, bits_key, normal_key, uniform_key, grid_key, walk_key, loop_key = random.split(random.key(seed), 7)
    position, loop_walk = jnp.float32(0.0), []
    for step_key in random.split(loop_key, 100):
        loop_walk.append(position)
        position = position + random.normal(step_key)
    results = {
        "keys": random.key_data(random.split(keys_key, size)),
        "bits": random.bits(bits_key, (size,)),
        "uniform (-1, 1)": random.uniform(normal_key, (size,), minval=NORMAL_UNIFORM_LOW, maxval=1.0),
        "normal": random.normal(normal_key, (size,)),
        "uniform (0.1, 0.7)": random.uniform(uniform_key, (size,), minval=0.1, maxval=0.7),
        "grid walk": randomness_ex_1(random.split(grid_key, num_steps), jnp.array([0, 0]))[1],
        "walk": grw_draw(walk_key, num_steps)[1],
        "loop walk": jnp.stack(loop_walk),
        "scan walk": grw_draw(loop_key, 100)[1],
    }
    return {name: np.asarray(value) for name, value in results.items()}


# Run in a new process: compute cpu_results and save them to the .npz file named.
_CPU_CHILD = """
import sys
import numpy as np
from dl_workshop.reproducibility import cpu_results
path, seed, size, num_steps = sys.argv[1], *map(int, sys.argv[2:])
np.savez(path, **cpu_results(seed, size, num_steps))
"""


def on_two_cpus(seed: int, size: int, num_steps: int, isa: str = ISA_WITHOUT_FMA) -> dict[str, dict[str, np.ndarray]]:
    """:func:`cpu_results` in two new processes, side by side: ``"this CPU"`` and ``isa``.

    The first process lets XLA use everything this CPU has; the second caps
    it at ``isa`` (by default ``AVX``, the newest set without fused
    multiply-add), which is how XLA would compile on an older CPU.
    ``--xla_cpu_max_isa`` names x86 instruction sets, so on another
    architecture only ``"this CPU"`` is returned.

    >>> found = on_two_cpus(0, 8, 10)
    >>> sorted(found) == (["AVX", "this CPU"] if on_x86() else ["this CPU"])
    True
    """
    size = check_size("size", size)
    num_steps = check_size("num_steps", num_steps)
    runs: dict[str, str | None] = {"this CPU": None}
    if on_x86():
        runs[isa] = isa
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: str(Path(folder) / f"{index}.npz") for index, name in enumerate(runs)}
        side_by_side(
            {
                name: (
                    [sys.executable, "-c", _CPU_CHILD, paths[name], str(seed), str(size), str(num_steps)],
                    cpu_environment(cap),
                )
                for name, cap in runs.items()
            }
        )
        results = {}
        for name, path in paths.items():
            with np.load(path) as saved:
                results[name] = {key: saved[key] for key in saved.files}
    return results


def ulp_distance(a: Any, b: Any) -> np.ndarray:
    """How many float32 values lie between ``a`` and ``b``, element by element (0 when equal).

    One ulp (unit in the last place) is the gap between a float and the next
    one; two results that differ by 1 ulp differ only in the last bit.

    >>> import numpy as np
    >>> x = np.float32(1.0)
    >>> ulp_distance([x, x], [np.nextafter(x, np.float32(2)), x]).tolist()
    [1, 0]
    >>> int(ulp_distance(np.float32(-0.0), np.float32(0.0)))
    0
    """
    a, b = (np.asarray(v, dtype=np.float32) for v in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")

    def ordered(x: np.ndarray) -> np.ndarray:
        # Reinterpret the bits as integers that count up with the float's value.
        bits = x.view(np.int32).astype(np.int64)
        return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)

    return np.abs(ordered(a) - ordered(b))
