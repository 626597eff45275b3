"""Argument checks shared by the solutions.

They run before any tracing, so a bad argument gives one clear line that names
the argument and the value received, not a deep traceback from inside JAX.
"""

from __future__ import annotations

import math
import operator
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# The dtype of typed keys (random.key). JAX before 0.4.16 has no typed keys, only
# legacy ones; the solutions still run there, for the version matrix
# of chapter 12 (make versions), and no value has this placeholder dtype.
PRNG_KEY_DTYPE = getattr(jax.dtypes, "prng_key", np.void)


def check_size(name: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is an integer of at least 1.

    >>> check_size("num_steps", 3)
    3
    >>> check_size("num_steps", 0)
    Traceback (most recent call last):
    ...
    ValueError: num_steps must be at least 1, got 0
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the bool {value!r}")
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"{name} must be a Python integer, but jax.jit traced it (a size must be known when "
            "compiling): mark it static, jax.jit(f, static_argnums=...) or static_argnames=..."
        )
    try:
        size = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {describe(value)}") from None
    if size < 1:
        raise ValueError(f"{name} must be at least 1, got {size}")
    return size


# A message echoes at most this many characters of a value, so that a list of a
# thousand keys gives one readable line, not the whole list.
MAX_ECHO = 80


def show(value: Any) -> str:
    """``repr(value)``, shortened to about :data:`MAX_ECHO` characters.

    >>> show([0, 1])
    '[0, 1]'
    >>> show(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 2… (4890 characters)'
    """
    text = repr(value)
    if len(text) <= MAX_ECHO:
        return text
    return f"{text[:MAX_ECHO]}… ({len(text)} characters)"


def is_key(value: Any) -> bool:
    """True for one PRNG key: a typed ``random.key`` or a legacy ``PRNGKey``.

    >>> from jax import random
    >>> is_key(random.key(0)), is_key(random.PRNGKey(0)), is_key(0)
    (True, True, False)
    """
    return key_batch_shape(value) == ()


def key_batch_shape(value: Any) -> tuple[int, ...] | None:
    """The batch shape of an array of keys, or ``None`` if ``value`` holds no keys.

    A typed key array of shape ``S`` and a legacy ``uint32`` array of shape
    ``S + (2,)`` both have batch shape ``S``.

    >>> from jax import random
    >>> key_batch_shape(random.split(random.key(0), 3))
    (3,)
    >>> key_batch_shape(random.split(random.PRNGKey(0), 3))
    (3,)
    >>> key_batch_shape([1.0, 2.0]) is None
    True
    """
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is None or shape is None:
        return None
    if jnp.issubdtype(dtype, PRNG_KEY_DTYPE):
        return tuple(shape)
    if dtype == jnp.uint32 and len(shape) >= 1 and shape[-1] == 2:
        return tuple(shape[:-1])
    return None


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (at most about 100 characters).

    >>> describe(2.5)
    '2.5 of type float'
    >>> describe(list(range(1000)))
    'a list of 1000 items of type int'
    """
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is not None and shape is not None:
        return f"an array of shape {tuple(shape)} and dtype {dtype}"
    if isinstance(value, (list, tuple)) and len(repr(value)) > MAX_ECHO:
        kinds = sorted({type(item).__name__ for item in value})
        return f"a {type(value).__name__} of {len(value)} items of type {' and '.join(kinds[:3])}"
    return f"{show(value)} of type {type(value).__name__}"


def check_key(name: str, value: Any) -> None:
    """Raise ``TypeError`` unless ``value`` is a single PRNG key.

    >>> check_key("key", 42)
    Traceback (most recent call last):
    ...
    TypeError: key must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), got 42 of type int
    """
    if not is_key(value):
        raise TypeError(f"{name} must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), got {describe(value)}")


def check_real(name: str, value: Any, *, positive: bool = False, nonnegative: bool = False) -> None:
    """Raise unless ``value`` is a finite real number (and positive, or non-negative, if asked).

    Traced values (inside ``jax.jit``) cannot be inspected and pass unchecked.

    >>> check_real("concentration", 0.0, positive=True)
    Traceback (most recent call last):
    ...
    ValueError: concentration must be positive and finite, got 0.0
    """
    if isinstance(value, jax.core.Tracer):
        return
    if isinstance(value, (bool, str)) or np.ndim(value) != 0:
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {describe(value)}") from None
    if positive and not number > 0:
        raise ValueError(f"{name} must be positive and finite, got {show(value)}")
    if nonnegative and not number >= 0:
        raise ValueError(f"{name} must be non-negative and finite, got {show(value)}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {show(value)}")


# --- Memory ---------------------------------------------------------------------

# Bytes of one PRNG key (threefry: two uint32), typed or legacy.
KEY_BYTES = 8


def memory_bytes() -> int | None:
    """The physical memory of this machine in bytes, or ``None`` where it cannot be read."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows), or no such name
        return None


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in the largest unit that keeps it at least 1.

    >>> format_bytes(4e12), format_bytes(16_000_000_000), format_bytes(512)
    ('4.0 TB', '16.0 GB', '512 bytes')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_memory(names: str, nbytes: int) -> None:
    """Raise ``MemoryError`` if ``nbytes`` exceed the memory of this machine.

    Call it with an estimate of what a function will allocate (its result and
    its large intermediate arrays) before allocating anything; ``names`` are
    the arguments that set the size, as the caller wrote them.

    >>> check_memory("num_steps=1000", 12_000)  # fits: returns None
    >>> check_memory("num_steps=10**13", 12 * 10**13)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    MemoryError: num_steps=10**13 would need about 120.0 TB of memory, more than this machine has (...): use smaller sizes
    """
    total = memory_bytes()
    if total is not None and nbytes > total:
        raise MemoryError(
            f"{names} would need about {format_bytes(nbytes)} of memory, more than this "
            f"machine has ({format_bytes(total)}): use smaller sizes"
        )
