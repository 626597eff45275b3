"""Argument checks shared by the solutions.

They run before any tracing, so a bad argument gives one clear line that names
the argument and the value received, not a deep traceback from inside JAX.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# The dtype of typed keys (random.key). JAX before 0.4.16 has no typed keys, only
# legacy ones; the solutions still run there, for the version matrix
# of chapter 11 (make versions), and no value has this placeholder dtype.
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
    try:
        size = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}"
        ) from None
    if size < 1:
        raise ValueError(f"{name} must be at least 1, got {size}")
    return size


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
    """A short description of ``value`` for error messages."""
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is not None and shape is not None:
        return f"an array of shape {tuple(shape)} and dtype {dtype}"
    return f"{value!r} of type {type(value).__name__}"


def check_key(name: str, value: Any) -> None:
    """Raise ``TypeError`` unless ``value`` is a single PRNG key.

    >>> check_key("key", 42)
    Traceback (most recent call last):
    ...
    TypeError: key must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), got 42 of type int
    """
    if not is_key(value):
        raise TypeError(
            f"{name} must be a PRNG key (random.key(seed) or random.PRNGKey(seed)), "
            f"got {describe(value)}"
        )


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
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    if nonnegative and not number >= 0:
        raise ValueError(f"{name} must be non-negative and finite, got {value!r}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
