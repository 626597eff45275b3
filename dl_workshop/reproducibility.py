"""Checking reproducibility: fingerprints of arrays, and fresh processes to compare.

- :func:`fingerprint`: the SHA-256 of an array's dtype, shape and bytes, so two
  results can be compared bit for bit by comparing two short strings
  (the solution of the exercise of chapter 11);
- :func:`draw_fingerprints`: fingerprints of the same random draws made eagerly,
  under ``jax.jit`` and sharded over every device of this process;
- :func:`in_fresh_processes`: the same, run in new Python processes with other
  settings (two CPU devices, or a single CPU thread), which must be chosen
  before JAX starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

import jax
import numpy as np
from jax import random

from dl_workshop._validate import check_size, describe, key_batch_shape


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
    if key_batch_shape(x) is not None and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        raise TypeError(
            f"x is an array of typed PRNG keys ({describe(x)}): fingerprint "
            "random.key_data(x), the integers under the keys"
        )
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"x must be an array of numbers, got {describe(x)}")
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
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
    running = {}
    for name, setting in settings.items():
        devices = check_size(f"settings[{name!r}]['devices']", setting.get("devices", 1))
        one_cpu = bool(setting.get("one_cpu", False))
        arguments = json.dumps({"seed": seed, "size": size, "one_cpu": one_cpu})
        running[name] = subprocess.Popen(
            [sys.executable, "-c", _CHILD, arguments],
            env=fresh_process_environment(devices, one_cpu),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=300)
        if process.returncode != 0:
            raise RuntimeError(f"the fresh process for {name!r} failed:\n{err}")
        results[name] = json.loads(out.strip().splitlines()[-1])
    return results
