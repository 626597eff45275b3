"""Measure the book's headline values in many JAX releases: `make versions`.

For each release below, uv installs jax and jaxlib into a throwaway virtual
environment (deleted afterwards; uv's download cache makes a second run
quick), and dl_workshop.versions.measured_row() runs there twice, in new
processes: with jax_threefry_partitionable at its default and flipped. The
rows, with the provenance (the machine, the command, the versions of each
environment), go to dl_workshop/versions.json, which chapter 12 renders and
tests/test_canary.py checks against the pinned JAX.

Usage: python scripts/jax_versions.py [RELEASE ...]   (default: RELEASES)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dl_workshop.cpus import host_cpu_flags
from dl_workshop.performance import machine
from dl_workshop.versions import DATA, release_key

ROOT = Path(__file__).resolve().parents[1]

# Why each release is here. Every minor line from 0.4 to the pinned one, and
# the releases on each side of every change that the matrix shows. 0.4.13 is
# the oldest with a jaxlib wheel for Linux and Python 3.11 on PyPI.
RELEASES = {
    "0.4.13": "oldest with a jaxlib wheel for Python 3.11 on Linux",
    "0.4.14": "gamma and beta re-factored (changelog)",
    "0.4.31": "last before the new CPU backend",
    "0.4.33": "new CPU backend, from jaxlib 0.4.32 (changelog; jax 0.4.32 was withdrawn)",
    "0.4.38": "last 0.4",
    "0.5.0": "jax_threefry_partitionable on by default (changelog)",
    "0.6.2": "last before 0.7.0",
    "0.7.0": "first 0.7, other vectorised normals",
    "0.7.1": "last before 0.7.2",
    "0.7.2": "randint changed (changelog)",
    "0.8.0": "first 0.8",
    "0.8.1": "last before 0.8.2",
    "0.8.2": "first with 0.10.2's vectorised normals",
    "0.9.0": "first 0.9",
    "0.10.0": "first 0.10",
    "0.10.2": "pinned in requirements.txt",
}
# Experiments: a release again, with XLA_FLAGS, to test an explanation.
EXPERIMENTS = {
    ("0.4.33", "--xla_cpu_use_thunk_runtime=false"): "the CPU backend of before jaxlib 0.4.32 (changelog)",
}

# JAX's wheels before 0.4.26 were compiled against NumPy 1 and do not say so.
NUMPY_1_BEFORE = (0, 4, 26)

MEASURE = "import json; from dl_workshop.versions import measured_row; print(json.dumps(measured_row()))"


def uv(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "uv", *args], check=True, capture_output=True, text=True)


def child_environment(partitionable: str | None, xla_flags: str) -> dict[str, str]:
    """This process's environment without JAX's and XLA's settings (the Makefile's
    compilation cache, a portability cap), with the flag and XLA_FLAGS set if asked."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("JAX_", "XLA_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONHASHSEED="0", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="2")
    if partitionable is not None:
        env["JAX_THREEFRY_PARTITIONABLE"] = partitionable
    if xla_flags:
        env["XLA_FLAGS"] = xla_flags
    return env


def measure(python: Path, partitionable: str | None, xla_flags: str) -> dict:
    run = subprocess.run(
        [str(python), "-c", MEASURE], env=child_environment(partitionable, xla_flags), capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(f"{python}: measuring failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.splitlines()[-1])


def rows_for(release: str, why: str, xla_flags: str = "") -> list[dict]:
    """The release's rows: the flag at its default, then flipped, with ``xla_flags``."""
    folder = Path(tempfile.mkdtemp(prefix=f"jax-{release}-"))
    try:
        uv("venv", "--quiet", "--python", sys.executable, str(folder))
        python = folder / "bin" / "python"
        numpy = ["numpy<2"] if release_key(release) < NUMPY_1_BEFORE else []
        uv("pip", "install", "--quiet", "--python", str(python), f"jax=={release}", f"jaxlib<={release}", *numpy)
        default = measure(python, None, xla_flags)
        flipped = measure(python, "0" if default["partitionable"] else "1", xla_flags)
        rows = [default | {"default": True}, flipped | {"default": False}]
        for row in rows:
            row.update(why=why, xla_flags=xla_flags)
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(releases: list[str]) -> None:
    start = time.monotonic()
    rows = []
    for release in releases:
        print(f"JAX {release} ...", flush=True)
        rows += rows_for(release, RELEASES.get(release, "asked for on the command line"))
    for (release, xla_flags), why in EXPERIMENTS.items():
        if release in releases:
            print(f"JAX {release} with XLA_FLAGS={xla_flags} ...", flush=True)
            rows += rows_for(release, why, xla_flags)
    flags = host_cpu_flags()
    provenance = {
        "command": " ".join(["python scripts/jax_versions.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cpu model": machine()["cpu"],
            "fma": "fma" in flags,
            "avx512f": "avx512f" in flags,
            "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(),
        },
        "seconds": round(time.monotonic() - start),
    }
    DATA.write_text(json.dumps({"provenance": provenance, "rows": rows}, indent=1) + "\n")
    print(f"Wrote {DATA.relative_to(ROOT)}: {len(rows)} rows, {provenance['seconds']} s.")


if __name__ == "__main__":
    main(sys.argv[1:] or list(RELEASES))
