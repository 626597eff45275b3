"""What the tests that visit the built site or launch chapters share (and the benchmarks use):
paths, the browser, the pages and their sources, the files of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jupytext
import yaml

from scripts import learner_notebooks

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
# Debian's Chromium headless shell (`make chromium`), the build of Chromium that Playwright's own headless runs use
# (the same Blink, without the browser's windowing layer); Playwright's own download cannot work offline. make bench's
# Lighthouse runs the full browser, /usr/bin/chromium.
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def toc_files(toc: dict | None = None) -> list[str]:
    """Every file of the table of contents (``_toc.yml`` unless given), in order."""
    return learner_notebooks.toc_files(toc if toc is not None else yaml.safe_load((ROOT / "_toc.yml").read_text()))


def launch_path(source: Path) -> str:
    """Where a chapter's Binder button opens it: its learner notebook, in JupyterLab.

    ``_config.yml`` asks for JupyterLab; the theme links the ``.ipynb`` beside a
    page's source when it exists at build time (scripts/learner_notebooks.py).
    """
    return f"lab/tree/{source.relative_to(ROOT).with_suffix('.ipynb').as_posix()}"


def source_file(name: str) -> Path:
    """The MyST source of a table-of-contents entry (given with or without its suffix).

    Not the ``.ipynb`` beside it: that is the learner notebook made from it (not committed).
    """
    path = ROOT / name
    path = path if path.suffix else path.with_suffix(".md")
    assert path.exists(), f"_toc.yml names {name}, and there is no {path.relative_to(ROOT)}"
    return path


def code_cells(path: Path) -> list[dict]:
    """The code cells of a chapter, as jupytext reads them (MyST markdown, as the book does)."""
    notebook = jupytext.read(path, fmt="md:myst") if path.suffix == ".md" else jupytext.read(path)
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def repository_files() -> list[str]:
    """The files git tracks or would track (not ignored), as Binder clones them; not a deleted one."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return sorted(name for name in listed if name and ((ROOT / name).is_symlink() or (ROOT / name).is_file()))


def file_bytes(path: Path) -> bytes:
    """What git stores for a listed file: its content, or the target of a symbolic link."""
    return os.readlink(path).encode() if path.is_symlink() else path.read_bytes()


def copy_repository(files: list[str], destination: Path) -> Path:
    """Those files, copied into an emptied folder."""
    shutil.rmtree(destination, ignore_errors=True)
    for name in files:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name, follow_symlinks=False)
    return destination
