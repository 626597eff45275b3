"""Make the virtual environment hold exactly the lock: uninstall what it does not list.

``pip install -r requirements.txt`` installs and upgrades, but never removes a
package that a new lock no longer lists, so an environment made from an older
lock keeps it, importable, where a fresh clone (and CI) would not have it.
After each install, the Makefile runs this script, which uninstalls every
distribution that is neither in the lock nor this project nor pip itself.

Usage: python scripts/sync_venv.py requirements.txt   (with the environment's Python)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==", re.M)
# The environment's installer, which the lock does not list.
TOOLS = {"pip"}


def extraneous(lock: str, project: str, installed: set[str]) -> list[str]:
    """The installed distributions that the lock, the project and the tools do not account for."""
    # Names compared as PyPI compares them (PEP 503: case, ".", "_" and "-" aside).
    wanted = {canonicalize_name(name) for name in [*PINNED.findall(lock), project]} | TOOLS
    return sorted(name for name in map(canonicalize_name, installed) if name not in wanted)


def main(lock_path: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    # The environment's own packages, not whatever else is on sys.path (PYTHONPATH).
    site_packages = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    installed = {dist.metadata["Name"] for dist in metadata.distributions(path=site_packages)}
    extra = extraneous(Path(lock_path).read_text(), project, installed)
    if extra:
        print(f"Not in {lock_path}, uninstalled: {', '.join(extra)}")
        # Without PYTHONPATH, pip finds the environment's copy, not one that shadows it.
        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *extra], check=True, env=environment)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "requirements.txt")
