"""Benchmark of building and testing the book, on a scratch copy of the working tree.

Each measure starts from its own fresh state: the floor (every chapter's notebook
executed once with nbclient), a clean `make book`, rebuilds after a prose-only
edit (execution cache) and after a dl_workshop edit (the pages that use it
re-executed), the nbval step, `make test`, then each of its steps alone with the
CPU time of every process on the machine while it ran: their sum over the
number of cores bounds what any schedule of the steps can reach. The host's speed,
measured on a fixed workload at the start, before `make test` and at the end,
tells a slower host from slower code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import jupytext
import nbclient
from traitlets.config import Config

from scripts.book_site import code_cells, copy_repository, repository_files, source_file, toc_files

ROOT = Path(__file__).resolve().parents[1]
ENCRYPTED = Config(KernelManager={"transport_encryption": "auto"})
EXECUTED = re.compile(r"(\S+\.md): Executing notebook")  # in `make book`'s log: a page it executes


def chapters(root: Path) -> list[Path]:
    """The pages the build executes (those with code cells), in ``root``, in the order of ``_toc.yml``."""
    sources = (source_file(name) for name in toc_files())
    return [root / source.relative_to(ROOT) for source in sources if code_cells(source)]


def scratch_copy(destination: Path) -> Path:
    """The working tree (tracked and untracked, not ignored files) and its git metadata.

    The installed environment is shared, not rebuilt: the copy links to this
    tree's ``.venv`` and ``.cache`` (JAX's compilation cache and the Binder
    test's environment), so `make test` there measures "the environment
    already installed".
    """
    copy_repository(repository_files(), destination)
    shutil.copytree(ROOT / ".git", destination / ".git")  # the Binder test lists files with git
    (destination / ".venv").symlink_to(ROOT / ".venv")
    (ROOT / ".cache").mkdir(exist_ok=True)
    (destination / ".cache").symlink_to(ROOT / ".cache")
    # .gitignore's ".venv/" and ".cache/" match folders, not links to them: ignore the links too.
    with (destination / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("\n/.venv\n/.cache\n")
    return destination


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        # What failed first (pytest's summary lines: the steps' whole output is long), then the end.
        failed = "\n".join(re.findall(r"^(?:FAILED|ERROR) .*$", result.stdout, re.M))
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{failed}\n...\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed, result.stdout + result.stderr


# The steps of `make test`, in an order each can run in (the build before nbval and the site test).
MAKE_TEST_STEPS = ("unit-tests", "binder-test", "test-build", "nbval", "site-tests", "portability")


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since it booted (/proc/stat: user, nice, system, irq, softirq).

    A parent's resource usage misses processes it does not wait for: the
    browsers Playwright starts, JupyterLab's kernels. This counts everything.
    """
    # The first line of /proc/stat, "cpu", sums all cores.
    user, nice, system, _idle, _iowait, irq, softirq = map(int, Path("/proc/stat").read_text().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def host_speed(repeat: int = 3) -> float:
    """CPU seconds of this process for a fixed pure-Python workload, the best of ``repeat``.

    It does the same work every time, so it measures the host, not the course: on
    a shared machine, the CPU time of the same work changes with the load of the
    host's other guests. Beside the steps' CPU times, it says whether another run's
    times differ because the code changed or because the host did.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        sum(i * i % 7 for i in range(3_000_000))
        best = min(best, time.process_time() - start)
    return best


def make_test_steps(root: Path, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each step of `make test` run alone: its wall time and the machine's busy CPU time meanwhile."""
    steps = {}
    for step in MAKE_TEST_STEPS:
        before = busy_cpu_seconds()
        wall, _ = timed(["make", step], root, env)
        steps[step] = {"wall_s": wall, "cpu_s": busy_cpu_seconds() - before}
    return steps


def floor(root: Path) -> dict[str, float]:
    """Seconds to execute each chapter (each page the build executes) once with nbclient, kernel start included."""
    seconds = {}
    for page in chapters(root):
        notebook = jupytext.read(page, fmt="md:myst")
        start = time.perf_counter()
        # With CurveZMQ keys, as the build gives its kernels (scripts/jb_build.py): no warning from each kernel.
        client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", config=ENCRYPTED)
        client.execute(cwd=str(page.parent))
        seconds[str(page.relative_to(root))] = time.perf_counter() - start
    return seconds


def measure(workdir: Path, include_make_test: bool = True) -> dict[str, object]:
    root = scratch_copy(workdir)
    # The kernel must import the copy's dl_workshop, not the editable install's.
    # JAX's cache is this tree's, under its own path: JAX does not find its
    # entries under the path through the copy's link (another spelling).
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "PYTHONHASHSEED": "0",
        "JAX_COMPILATION_CACHE_DIR": str(ROOT / ".cache" / "jax"),
    }
    os.environ["PYTHONPATH"] = str(root)

    speeds = {"start": host_speed()}  # and, below, before `make test` and at the end
    per_page = floor(root)
    results: dict[str, object] = {
        "floor_s": sum(per_page.values()),
        "floor_per_page_s": per_page,
        "host_speed_s": speeds,
    }
    results["clean_book_s"], _ = timed(["make", "book"], root, env)

    page = root / "book" / "03-many-draws.md"
    page.write_text(page.read_text() + "\nA sentence added by the benchmark.\n")
    results["prose_edit_rebuild_s"], log = timed(["make", "book"], root, env)
    results["prose_edit_pages_executed"] = EXECUTED.findall(log)

    module = root / "dl_workshop" / "checkers.py"
    # At the top, where ruff's format accepts it (make test checks the format first).
    module.write_text("# A comment added by the benchmark.\n" + module.read_text())
    results["package_edit_rebuild_s"], log = timed(["make", "book"], root, env)
    results["package_edit_pages_executed"] = sorted(str(Path(page).relative_to(root)) for page in EXECUTED.findall(log))

    timed(["make", "test-build"], root, env)
    results["nbval_s"], _ = timed(["make", "nbval"], root, env)

    if include_make_test:
        speeds["before make test"] = host_speed()
        try:
            results["make_test_s"], _ = timed(["make", "test"], root, env)
            results["make_test_steps"] = make_test_steps(root, env)
        except RuntimeError as failure:
            results["make_test_failed"] = str(failure)
        speeds["end"] = host_speed()
    return results
