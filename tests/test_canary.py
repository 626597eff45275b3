"""Canary: the exact random stream of the pinned JAX.

The book prints random values, and nbval checks them against a fresh run, but
both come from the same JAX. This test pins a handful of draws to literal
values, so that a change in JAX's random stream (an upgrade, or the flag
``jax_threefry_partitionable`` flipped) fails loudly with a message that says
what it means for the book, before a learner meets different numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import jax
import numpy as np
import pytest
from jax import random

from dl_workshop.jax_idioms import grw_draw

ROOT = Path(__file__).resolve().parents[1]

# Exact values of the pinned jax/jaxlib 0.10.2 with jax_threefry_partitionable=True
# (the default since JAX 0.5.0). float32 values are written so that they round-trip.
EXPECTED = {
    "random.normal(PRNGKey(42))": [-0.028304616],
    "random.split(PRNGKey(0))": [1797259609, 2579123966, 928981903, 3453687069],
    "random.uniform(PRNGKey(0), (3,))": [0.947667, 0.9785799, 0.33229148],
    "random.normal(PRNGKey(44), (5,))": [0.5588424, 1.9596592, 0.6658762, -0.03853846, -1.8312759],
    "grw_draw(PRNGKey(44), 100)[0]": [11.010032],
}


def current_draws() -> dict[str, np.ndarray]:
    """The draws named in ``EXPECTED``, computed now."""
    return {
        "random.normal(PRNGKey(42))": random.normal(random.PRNGKey(42)),
        "random.split(PRNGKey(0))": random.split(random.PRNGKey(0)),
        "random.uniform(PRNGKey(0), (3,))": random.uniform(random.PRNGKey(0), (3,)),
        "random.normal(PRNGKey(44), (5,))": random.normal(random.PRNGKey(44), (5,)),
        "grw_draw(PRNGKey(44), 100)[0]": grw_draw(random.PRNGKey(44), 100)[0],
    }


def chapters_with_random_values() -> list[str]:
    """Chapters in the table of contents whose code uses JAX's random module."""
    listed = re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())
    uses_random = re.compile(r"from jax import .*\brandom\b|\bjax\.random\b")
    return [f"{name}.md" for name in listed if uses_random.search((ROOT / f"{name}.md").read_text())]


def show(values: np.ndarray) -> str:
    """Values as the shortest strings that round-trip in their own dtype."""
    return "[" + ", ".join(str(value) for value in values) + "]"


def check_random_stream() -> None:
    """Raise AssertionError, explaining the consequences, if any pinned draw changed."""
    changed = []
    for name, value in current_draws().items():
        now = np.asarray(value).ravel()
        expected = np.asarray(EXPECTED[name], dtype=now.dtype)
        if now.shape != expected.shape or not np.array_equal(now, expected):
            changed.append(f"  {name}: expected {show(expected)}, got {show(now)}")
    if changed:
        chapters = "\n".join(f"  - {chapter}" for chapter in chapters_with_random_values())
        raise AssertionError(
            "JAX's random stream has changed: the same keys now give different values.\n"
            f"(jax {jax.__version__}, jaxlib {jax.lib.__version__}, "
            f"jax_threefry_partitionable={jax.config.jax_threefry_partitionable})\n"
            + "\n".join(changed)
            + "\nThe random values printed in the book will change. If this is a deliberate "
            "upgrade, update EXPECTED in tests/test_canary.py, rebuild with `make test` "
            "(nbval compares every output against the new build), and re-read these "
            "chapters, whose prose quotes random values:\n" + chapters
        )


def test_pinned_jax_gives_the_pinned_random_stream():
    check_random_stream()


def test_canary_fails_and_explains_when_the_stream_changes():
    """Flipping jax_threefry_partitionable changes the stream, as an upgrade would."""
    with jax.threefry_partitionable(False):
        with pytest.raises(AssertionError) as failure:
            check_random_stream()
    message = str(failure.value)
    assert "random values printed in the book will change" in message
    assert "jax_threefry_partitionable=False" in message
    assert "random.normal(PRNGKey(42)): expected [-0.028304616], got [-0.18471177]" in message
    assert "book/02-prng-keys.md" in message
