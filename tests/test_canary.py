"""Canary: the exact random stream of the pinned JAX, and the version matrix kept true.

nbval compares the book's random values with a fresh run, but of the same JAX. These tests recompute
live the pinned release's rows of ``dl_workshop/versions.json`` (written by ``make versions``, rendered
in chapter 12) and compare them with the file: a change in JAX's random stream (an upgrade, or
``jax_threefry_partitionable`` flipped) fails saying what it means for the book, and the table on the
site cannot go stale silently.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jax
import pytest

from dl_workshop.cpus import host_cpu_flags
from dl_workshop.versions import differences, find_row, headline_values, load_matrix

ROOT = Path(__file__).resolve().parents[1]


def pinned_release() -> str:
    """The JAX version that requirements.txt pins."""
    return re.search(r"^jax==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)


def chapters_with_random_values() -> list[str]:
    """Chapters in the table of contents whose code uses JAX's random module."""
    listed = re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())
    uses_random = re.compile(r"from jax import .*\brandom\b|\bjax\.random\b")
    return [f"{name}.md" for name in listed if uses_random.search((ROOT / f"{name}.md").read_text())]


@functools.cache
def live_values(partitionable: bool) -> dict[str, list[str]]:
    """The headline values now, with the flag at ``partitionable`` (cached: the first run compiles for about 20 s)."""
    with jax.threefry_partitionable(partitionable):
        return headline_values()


def check_random_stream(matrix: dict[str, Any], partitionable: bool, expected_setting: bool | None = None) -> None:
    """Raise AssertionError, explaining the consequences, unless this JAX with the flag at ``partitionable``
    computes the matrix's row of the pinned release with the flag at ``expected_setting`` (by default the same)."""
    expected_setting = partitionable if expected_setting is None else expected_setting
    expected = find_row(matrix, pinned_release(), expected_setting)
    if expected is None:
        raise AssertionError(
            f"dl_workshop/versions.json has no row for the pinned JAX {pinned_release()} with "
            f"jax_threefry_partitionable={expected_setting}: run `make versions` after changing the pin."
        )
    changed = differences(live_values(partitionable), expected["values"])
    if changed:
        measured_with_fma = matrix["provenance"]["machine"]["fma"]
        has_fma = "fma" in host_cpu_flags()
        fma_note = (
            f"\nThe file was measured on a CPU {'with' if measured_with_fma else 'without'} fused "
            f"multiply-add, and this CPU has {'it' if has_fma else 'none'}: normals and other float "
            "transforms can differ in their last bits (chapter 12)."
            if host_cpu_flags() and measured_with_fma != has_fma
            else ""
        )
        chapters = "\n".join(f"  - {chapter}" for chapter in chapters_with_random_values())
        raise AssertionError(
            "JAX's random stream has changed: the same keys now give different values.\n"
            f"(jax {jax.__version__}, jaxlib {jax.lib.__version__}, "
            f"jax_threefry_partitionable={partitionable}; compared with the row of JAX "
            f"{pinned_release()}, jax_threefry_partitionable={expected_setting}, in dl_workshop/versions.json)\n"
            + "\n".join(f"  {line}" for line in changed)
            + fma_note
            + "\nThe random values printed in the book will change. If this is a deliberate "
            "upgrade, run `make versions` (it measures the new release's rows), then `make test` "
            "(nbval compares every output against the new build), and re-read these chapters, "
            "whose prose quotes random values:\n" + chapters
        )


@pytest.mark.parametrize("partitionable", [True, False], ids=["partitionable on", "partitionable off"])
def test_pinned_jax_computes_its_rows_of_the_version_matrix(partitionable):
    check_random_stream(load_matrix(), partitionable)


def test_canary_fails_and_explains_when_the_stream_changes():
    """Flipping jax_threefry_partitionable changes the stream, as an upgrade would."""
    with pytest.raises(AssertionError) as failure:
        check_random_stream(load_matrix(), partitionable=False, expected_setting=True)
    message = str(failure.value)
    assert "random values printed in the book will change" in message
    assert "jax_threefry_partitionable=False" in message
    assert "random.normal(key(42)), printed in 02-prng-keys: expected [-0.028304616], got [-0.18471177]" in message
    assert "book/02-prng-keys.md" in message


def test_an_altered_value_in_the_file_fails_and_is_named():
    """The table cannot go stale silently: a value changed in the file fails the check."""
    matrix = copy.deepcopy(load_matrix())
    find_row(matrix, pinned_release(), True)["values"]["exercise 1: final position"] = ["-13", "-8"]
    with pytest.raises(AssertionError) as failure:
        check_random_stream(matrix, partitionable=True)
    named = "exercise 1: final position, printed in 05-brownian-motion-on-a-grid: expected [-13, -8], got [-13, -9]"
    assert named in str(failure.value) and str(failure.value).count("expected") == 1
