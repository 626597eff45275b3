"""The build and nbval guards, each proven by injecting its fault.

Every test works on a temporary book of one page, with this book's
configuration, and runs the same commands, with the same flags, as the Makefile. A
guard that never fails protects nothing: each test below shows one fault being
caught, and the message that names it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import filelock
import matplotlib.image
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MAKEFILE = (ROOT / "Makefile").read_text()

pytestmark = [pytest.mark.slow]


def make_variable(name: str) -> list[str]:
    """The words of a ``NAME := ...`` variable of the Makefile (with continuation lines)."""
    match = re.search(rf"^{name} := ((?:.*\\\n)*.*)$", MAKEFILE, re.M)
    assert match, f"{name} is not defined in the Makefile"
    return shlex.split(match.group(1).replace("\\\n", " "))


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# The faults are injected into a small page of the kinds of output the chapters
# have (an array, a glued number, a figure), built with the book's own
# configuration, extensions and templates: what is under test is the pipeline
# (build flags, nbval and its plugin), and a small page keeps each test to
# seconds. nbval on every real chapter is `make nbval`.
PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A page for injected faults

```{code-cell} ipython3
import matplotlib.pyplot as plt
from jax import random
from myst_nb import glue

draws = random.normal(random.key(0), (5,))
glue("num_draws", draws.size, display=False)
draws
```

The page shows {glue:text}`num_draws` draws.

```{code-cell} ipython3
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot(draws, marker="o")
plt.show()
```
"""


def copy_book(destination: Path) -> Path:
    """A book of one page (``page.md``) with this book's configuration, static files and extensions."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_config.yml", destination)
    (destination / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (destination / "page.md").write_text(PAGE)
    # _static (favicon, CSS), _ext (local Sphinx extensions) and _templates are named by _config.yml.
    for name in ("_static", "_ext", "_templates"):
        shutil.copytree(ROOT / name, destination / name)
    return destination


def build(book: Path) -> subprocess.CompletedProcess[str]:
    """The Makefile's build command and flags (scripts/jb_build.py, JB_FLAGS), everything executed."""
    return run([sys.executable, str(ROOT / "scripts" / "jb_build.py"), ".", "--all", *make_variable("JB_FLAGS")], book)


def nbval(notebooks: Path, workers: bool = False) -> subprocess.CompletedProcess[str]:
    """nbval with the Makefile's flags, run from the project root like ``make nbval``.

    For one small notebook, pytest-xdist's worker processes only add start-up
    time: ``-n 0`` runs it in one process, unless ``workers`` (the refusal
    test, since xdist is where a refused run once went on comparing).
    """
    flags = [
        str(ROOT / flag) if flag.endswith(".cfg") else flag for flag in make_variable("NBVAL_FLAGS")
    ]
    one_process = [] if workers else ["-n", "0"]
    return run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *flags, *one_process, str(notebooks)], ROOT)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def append_to_page(book: Path, text: str) -> None:
    path = book / "page.md"
    path.write_text(path.read_text() + "\n" + text + "\n")


# --- the build ---------------------------------------------------------------


def test_a_failing_cell_fails_the_build_and_names_page_and_cell(tmp_path):
    book = copy_book(tmp_path / "book")
    append_to_page(book, '```{code-cell} ipython3\nraise RuntimeError("injected failure")\n```')
    result = build(book)
    assert result.returncode != 0, output(result)
    assert "page.md: WARNING: Executing notebook failed" in output(result)
    assert 'raise RuntimeError("injected failure")' in output(result)


def unexecuted_book(tmp_path: Path) -> Path:
    """The one-page book with execution switched off: for faults found without running code."""
    book = copy_book(tmp_path / "book")
    config = book / "_config.yml"
    config.write_text(config.read_text().replace("execute_notebooks: cache", "execute_notebooks: \"off\""))
    return book


def test_a_broken_reference_fails_the_build_and_names_page_and_target(tmp_path):
    book = unexecuted_book(tmp_path)
    append_to_page(book, "See {doc}`no-such-chapter`.")
    result = build(book)
    assert result.returncode != 0, output(result)
    assert re.search(r"page\.md:\d+: WARNING: unknown document: 'no-such-chapter'", output(result)), output(result)


@pytest.mark.parametrize(
    ("formula", "problem"),
    [(r"x \sim \mathcal{N}(0, \sigmaa)", r"unknown command \sigmaa"), (r"\left( x_t", "extra left or missing right")],
    ids=["misspelt command", "unclosed bracket"],
)
def test_a_formula_that_is_not_valid_latex_fails_the_build_and_is_named(tmp_path, formula, problem):
    # Math is rendered to MathML when the page is written (_ext/mathml.py).
    book = unexecuted_book(tmp_path)
    append_to_page(book, f"A walk: ${formula}$.")
    result = build(book)
    assert result.returncode != 0, output(result)
    assert "page.md" in output(result) and "cannot render the formula" in output(result), output(result)
    assert repr(formula) in output(result) and problem in output(result), output(result)


# --- nbval on an executed build -------------------------------------------------


@pytest.fixture(scope="session")
def builds(tmp_path_factory, worker_id) -> dict[str, Path]:
    """The executed notebook of a clean build of the page, and that of a rebuild.

    The rebuild (``--all`` again, nothing changed) hits the execution cache for
    every page, and so writes reference notebooks with no outputs. Made once
    per run: under pytest-xdist the first worker to need it builds it in the
    run's shared temporary folder and the others wait for it (pytest-xdist's
    recipe for a fixture made once).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the run's folder, shared by its workers
    book, executed = shared / "fault-book", shared / "fault-book-executed"
    with filelock.FileLock(shared / "fault-book.lock"):
        if not (executed / "done").exists():
            shutil.rmtree(book, ignore_errors=True)
            copy_book(book)
            first = build(book)
            assert first.returncode == 0, output(first)
            shutil.rmtree(executed, ignore_errors=True)
            shutil.copytree(book / "_build" / "jupyter_execute", executed)
            second = build(book)
            assert second.returncode == 0, output(second)
            assert "Using cached notebook" in output(second)
            (executed / "done").touch()
    return {"executed": executed, "cache hit": book / "_build" / "jupyter_execute"}


@pytest.fixture
def notebooks(builds, tmp_path) -> Path:
    """A private copy of the executed page (with its glue file), for one test to tamper with."""
    folder = tmp_path / "book"
    folder.mkdir()
    for name in ("page.ipynb", "page.glue.json"):
        shutil.copy(builds["executed"] / name, folder)
    return tmp_path


def chapter(notebooks: Path) -> tuple[Path, dict]:
    path = notebooks / "book" / "page.ipynb"
    return path, json.loads(path.read_text())


def first_output_with(notebook: dict, mime: str) -> dict:
    return next(
        out for cell in notebook["cells"] for out in cell.get("outputs", []) if mime in out.get("data", {})
    )


def test_nbval_passes_on_an_untouched_build(notebooks):
    result = nbval(notebooks)
    assert result.returncode == 0, output(result)
    assert re.search(r"\d+ passed", result.stdout)


def test_a_changed_number_fails_nbval(notebooks):
    path, notebook = chapter(notebooks)
    out = next(
        out
        for cell in notebook["cells"]
        for out in cell.get("outputs", [])
        if "Array([" in "".join(out.get("data", {}).get("text/plain", ""))
    )
    text = "".join(out["data"]["text/plain"])
    out["data"]["text/plain"] = re.sub(r"\d(?=\D*$)", lambda m: str((int(m.group()) + 1) % 10), text, count=1)
    path.write_text(json.dumps(notebook))
    result = nbval(notebooks)
    assert result.returncode != 0
    assert "page.ipynb::Cell" in result.stdout
    assert "mismatch 'text/plain'" in result.stdout


def test_a_changed_glued_number_fails_nbval(notebooks):
    glue_file = notebooks / "book" / "page.glue.json"
    glued = json.loads(glue_file.read_text())
    glued["num_draws"]["data"]["text/plain"] = "6"
    glue_file.write_text(json.dumps(glued))
    result = nbval(notebooks)
    assert result.returncode != 0
    assert "mismatch 'glued value num_draws'" in result.stdout


def test_a_changed_pixel_fails_nbval(notebooks):
    path, notebook = chapter(notebooks)
    out = first_output_with(notebook, "image/png")
    pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
    pixels[10, 10, :3] = 1.0 - pixels[10, 10, :3]
    png = io.BytesIO()
    matplotlib.image.imsave(png, pixels, format="png")
    out["data"]["image/png"] = base64.b64encode(png.getvalue()).decode()
    path.write_text(json.dumps(notebook))
    result = nbval(notebooks)
    assert result.returncode != 0
    assert "mismatch 'image/png'" in result.stdout


def test_an_unexecuted_reference_notebook_is_refused(builds):
    """A build that hit the execution cache wrote notebooks with no outputs."""
    result = nbval(builds["cache hit"], workers=True)
    assert result.returncode != 0
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output(result)
    assert "refusing to run nbval on reference notebooks that were never executed" in result.stderr
    assert re.search(r"page\.ipynb: code cells \[\d+(, \d+)*\] have no execution count", result.stderr), result.stderr
    assert "passed" not in result.stdout
