"""Specification of dl_workshop.environment: the versions a page states."""

from __future__ import annotations

import platform
import re
from pathlib import Path

from dl_workshop.environment import versions

ROOT = Path(__file__).resolve().parents[1]


def test_names_python_and_the_packages_that_decide_printed_values():
    assert set(versions()) == {"python", "jax", "jaxlib", "numpy"}
    assert versions()["python"] == platform.python_version()


def test_package_versions_are_the_pinned_ones():
    """What a chapter states is what requirements.txt pins (so the lock is really used)."""
    pins = dict(re.findall(r"^([\w.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    found = versions()
    for name in ("jax", "jaxlib", "numpy"):
        assert found[name] == pins[name], f"{name} {found[name]} is installed, {pins[name]} is pinned"
