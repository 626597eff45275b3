"""The software versions a page was executed with.

The values that JAX's random functions print depend on the exact JAX version,
so every chapter states the versions it was executed with, next to its numbers.
"""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("jax", "jaxlib", "numpy")


def versions() -> dict[str, str]:
    """Python's version and those of the packages that decide the printed values.

    >>> sorted(versions())
    ['jax', 'jaxlib', 'numpy', 'python']
    """
    found = {"python": platform.python_version()}
    found.update({name: metadata.version(name) for name in PACKAGES})
    return found


def glue_versions() -> dict[str, str]:
    """Glue each version as ``<name>_version`` for a page's prose, and return them.

    A page then writes ``{glue:text}`jax_version``` and the number comes from
    the kernel that executed it. Needs myst-nb, so call it only in the book.
    """
    from myst_nb import glue

    found = versions()
    for name, version in found.items():
        glue(f"{name}_version", version, display=False)
    return found
