"""The build and nbval guards, each proven by injecting its fault.

Every test works on a temporary book of six small pages (faults go into one), with this book's configuration, and
runs the Makefile's commands with its flags; Sphinx reads the pages in parallel, as it does the book's. A guard that
never fails protects nothing: each test shows one fault caught, and the message that names it.
"""

from __future__ import annotations

import base64
import functools
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

from dl_workshop.cpus import cap_changes_nothing, host_cpu_flags, on_x86

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text()

pytestmark = [pytest.mark.slow]


@functools.cache
def make_value(name: str) -> str:
    """A variable of the Makefile as make computes it here (one that runs a command, too); '' if it is empty."""
    command = ["make", "-s", "--no-print-directory", "--eval", f"value: ; @:$(info $({name}))", "value"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def make_variable(name: str) -> list[str]:
    """The words of a variable of the Makefile, such as its flags."""
    words = shlex.split(make_value(name))
    assert words, f"{name} is not defined in the Makefile, or is empty"
    return words


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Two processes read pages, as on the book's two cores (even on one core).
    env = {**os.environ, "PYTHONHASHSEED": "0", "BOOK_JOBS": "2", **(env or {})}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def plain(text: str) -> str:
    """Without the colours (ANSI escapes) of the kernel's tracebacks."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return plain(result.stdout + result.stderr)


def assert_says(text: str, *fragments: str) -> None:
    """Every fragment is in ``text``; else the message names those missing, then shows ``text``."""
    missing = [fragment for fragment in fragments if fragment not in text]
    assert not missing, f"missing {missing} in:\n{text}"


# What is under test is the pipeline (build flags, nbval and its plugin), with the book's own configuration,
# extensions and templates: a small page with the kinds of output the chapters have (an array, a glued number,
# a figure) keeps each test to seconds. nbval on every real chapter is `make nbval`.
FRONT_MATTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

PAGE = (
    FRONT_MATTER
    + """
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

```{code-cell} ipython3
random.bits(random.key(1), (3,))  # integers: the same on every CPU
```

```{code-cell} ipython3
float(random.normal(random.key(1), (1000,)).sum())  # changes without fused multiply-add
```
"""
)
CELL_SAME_ON_EVERY_CPU, CELL_CHANGED_WITHOUT_FMA = 2, 3


# Sphinx reads pages in parallel only when it has more than five to read (sphinx/builders/__init__.py): five tiny
# pages beside it. One runs code (a page executed while another fails); the others are plain markdown (no kernel).
EXECUTED_PAGES = {"page2": f"{FRONT_MATTER}\n# Page 2\n\n```{{code-cell}} ipython3\nprint(2)\n```\n"}
OTHER_PAGES = {**EXECUTED_PAGES, **{f"page{n}": f"# Page {n}\n\nText only.\n" for n in range(3, 7)}}


def copy_book(destination: Path) -> Path:
    """Six fresh pages (faults go into ``page.md``) with this book's configuration, static files and extensions."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", destination)
    chapters = "".join(f"  - file: {name}\n" for name in OTHER_PAGES)
    (destination / "_toc.yml").write_text(f"format: jb-book\nroot: page\nchapters:\n{chapters}")
    (destination / "page.md").write_text(PAGE)
    for name, text in OTHER_PAGES.items():
        (destination / f"{name}.md").write_text(text)
    for name in ("_static", "_ext", "_templates"):  # named by _config.yml
        shutil.copytree(ROOT / name, destination / name)
    return destination


def build(book: Path, fresh: bool = True) -> subprocess.CompletedProcess[str]:
    """The Makefile's build (JB_FLAGS): every page read again if ``fresh`` (make test), else as make book."""
    script = ROOT / "scripts" / "jb_build.py"
    return run([sys.executable, str(script), ".", *(["--all"] if fresh else []), *make_variable("JB_FLAGS")], book)


# The instruction set that `make nbval` has XLA compile for on this machine ("AVX2" on a CPU with AVX-512).
NBVAL_CAP = make_value("NBVAL_CAP") or None


def nbval(notebooks: Path, workers: bool = False, isa: str | None = NBVAL_CAP) -> subprocess.CompletedProcess[str]:
    """nbval with the Makefile's flags, from the project root: in one process unless ``workers``
    (xdist is where a refused run once went on comparing); for ``isa`` as ``make nbval`` runs it, or as ``make
    portability`` does with ``isa="AVX"`` (``None``: uncapped)."""
    flags = [str(ROOT / flag) if flag.endswith(".cfg") else flag for flag in make_variable("NBVAL_FLAGS")]
    one_process = [] if workers else ["-n", "0"]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *flags, *one_process, str(notebooks)]
    if isa is None:
        return run(command, ROOT)
    capped = dict(word.split("=", 1) for word in make_variable(f"call capped,{isa}"))  # the Makefile's environment
    return run(command, ROOT, capped)


def read_in_parallel(text: str) -> bool:
    """Whether Sphinx read the pages in processes: its progress then names groups of pages."""
    return re.search(r"reading sources\.\.\. \[ *\d+%\] \S+ \.\. \S+", text) is not None


def after_a_failed_build(book: Path) -> str:
    """What the Makefile prints and does when a build fails: its build_site's commands from "What went wrong" to
    ``exit 1``, run on the book's _build/build.log."""
    build_site = re.search(r"^define build_site\n(.*?)^endef", MAKEFILE, re.M | re.S)
    assert build_site, "build_site is not defined in the Makefile"
    commands = re.search(r"What went wrong.*\n((?:.*\n)*?)\s*exit 1;", build_site.group(1))
    assert commands, "build_site has no 'What went wrong' section ending in 'exit 1'"
    script = commands.group(1).replace("\\\n", "\n").replace("$$", "$")
    return output(subprocess.run(["bash", "-c", script], cwd=book, capture_output=True, text=True, timeout=60))


def append_to_page(book: Path, text: str) -> None:
    path = book / "page.md"
    path.write_text(path.read_text() + "\n" + text + "\n")


# --- the build ---------------------------------------------------------------


FAILING_CELL = 'raise RuntimeError("injected failure")'
# How a failed build names the page and the error.
PAGE_FAILED = "page.md: WARNING: Executing notebook failed: CellExecutionError"
ERROR = "RuntimeError: injected failure"


@pytest.fixture(scope="session")
def failed_build(run_folder) -> Path:
    """The book with a failing cell, built (and failed) once per run, its output in _build/build.log. A test that
    changes it (the Makefile's failure branch, a build again) holds ``failing-book.lock``."""
    book = run_folder / "failing-book"
    with filelock.FileLock(run_folder / "failing-book.lock"):
        if not (book / "_build" / "build.log").exists():
            copy_book(book)
            append_to_page(book, f"```{{code-cell}} ipython3\n{FAILING_CELL}\n```")
            result = build(book)
            assert result.returncode != 0, output(result)
            (book / "_build" / "build.log").write_text(result.stdout + result.stderr)
    return book


def test_a_failing_cell_fails_the_build_and_names_page_cell_and_error(failed_build):
    text = plain((failed_build / "_build" / "build.log").read_text())
    assert read_in_parallel(text), text
    # The other pages are read and executed all the same (nothing is killed mid-page).
    assert_says(text, PAGE_FAILED, FAILING_CELL, ERROR, *(f"{name}.md: Executed notebook" for name in EXECUTED_PAGES))
    assert "Sphinx parallel build error" not in text and "ZMQError" not in text, text
    # Kernels are given CurveZMQ keys (scripts/jb_build.py): ipykernel has nothing to warn about.
    assert "without encryption" not in text, text


def test_the_makefile_summary_of_a_failed_build_names_page_cell_and_error(failed_build):
    with filelock.FileLock(failed_build.with_suffix(".lock")):
        summary = after_a_failed_build(failed_build)
    assert_says(summary, PAGE_FAILED, FAILING_CELL, ERROR)


def test_the_build_after_a_failed_one_fails_again(failed_build):
    """Sphinx says nothing of a page that it does not read again: after a failed build it reads them all."""
    with filelock.FileLock(failed_build.with_suffix(".lock")):
        after_a_failed_build(failed_build)
        result = build(failed_build, fresh=False)  # as make book does
    assert result.returncode != 0, output(result)
    assert_says(output(result), PAGE_FAILED, ERROR)


# Faults found without running code, all in one build with execution switched off: each must be named.
BROKEN_REFERENCE = "See {doc}`no-such-chapter`."
BAD_FORMULAS = {
    "misspelt command": (r"x \sim \mathcal{N}(0, \sigmaa)", r"unknown command \sigmaa"),
    "unclosed bracket": (r"\left( x_t", "extra left or missing right"),
}


@pytest.fixture(scope="session")
def unexecuted_build(run_folder) -> str:
    """The output of a failed build of the book, its execution off, with a broken reference and the bad formulas
    in ``page.md``. Built once per run, by the first pytest-xdist worker that needs it."""
    book, saved = run_folder / "unexecuted-book", run_folder / "unexecuted-book.log"
    with filelock.FileLock(run_folder / "unexecuted-book.lock"):
        if not saved.exists():
            copy_book(book)
            config = book / "_config.yml"
            config.write_text(config.read_text().replace("execute_notebooks: cache", 'execute_notebooks: "off"'))
            append_to_page(book, BROKEN_REFERENCE)
            for formula, _ in BAD_FORMULAS.values():
                append_to_page(book, f"A walk: ${formula}$.")
            result = build(book)
            assert result.returncode != 0, output(result)
            saved.write_text(output(result))
    return saved.read_text()


def test_a_broken_reference_fails_the_build_and_names_page_and_target(unexecuted_build):
    assert re.search(r"page\.md:\d+: WARNING: unknown document: 'no-such-chapter'", unexecuted_build), unexecuted_build


@pytest.mark.parametrize("fault", BAD_FORMULAS)
def test_a_formula_that_is_not_valid_latex_fails_the_build_and_is_named(unexecuted_build, fault):
    # Math is rendered to MathML when the page is written (_ext/mathml.py): one warning per formula, naming it.
    formula, problem = BAD_FORMULAS[fault]
    lines = [line for line in unexecuted_build.splitlines() if "cannot render the formula" in line]
    named = [line for line in lines if "page.md" in line and repr(formula) in line and problem in line]
    assert named, f"no line names page.md, {formula!r} and {problem!r}:\n{unexecuted_build}"


# --- nbval on an executed build -------------------------------------------------


@pytest.fixture(scope="session")
def builds(run_folder) -> dict[str, Path]:
    """The executed notebook of a clean build of the page, and that of a rebuild that hits the execution cache (make
    test after make book). Made once per run, by the first pytest-xdist worker that needs it."""
    book, executed = run_folder / "fault-book", run_folder / "fault-book-executed"
    with filelock.FileLock(run_folder / "fault-book.lock"):
        if not (executed / "done").exists():
            copy_book(book)
            first = build(book)
            assert first.returncode == 0, output(first)
            assert read_in_parallel(output(first)), output(first)
            assert "without encryption" not in output(first), output(first)
            shutil.rmtree(executed, ignore_errors=True)
            shutil.copytree(book / "_build" / "jupyter_execute", executed)
            second = build(book)
            assert second.returncode == 0, output(second)
            assert_says(output(second), "Using cached notebook")
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


def first_output(notebook: dict, where, in_cell=lambda cell: True) -> dict:
    """The first output whose data (a dict of MIME type to content) ``where`` accepts, in a cell ``in_cell`` accepts."""
    return next(
        out
        for cell in notebook["cells"]
        if in_cell(cell)
        for out in cell.get("outputs", [])
        if where(out.get("data", {}))
    )


def glues(cell: dict) -> bool:
    return "glue(" in "".join(cell["source"])


def test_nbval_passes_on_an_untouched_build(notebooks):
    result = nbval(notebooks)
    assert result.returncode == 0, output(result)
    assert re.search(r"\d+ passed", result.stdout), output(result)


def code_cell_of(notebook: dict, holds) -> int:
    """nbval's number of the first code cell that ``holds`` accepts."""
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return next(number for number, cell in enumerate(code) if holds(cell))


def report_of(stdout: str, cell: int) -> str:
    """pytest's report of the failure of the page's code cell ``cell`` ('' if it did not fail)."""
    found = re.search(rf"^_+ \S*::Cell {cell} _+\n(.*?)(?=^_{{3,}} |^=+ )", stdout, re.M | re.S)
    return found.group(1) if found else ""


@pytest.fixture(scope="session")
def tampered(builds, run_folder) -> dict[str, str]:
    """One nbval run on a copy of the executed page with three faults, each where nbval must find it: a digit of the
    array changed, the glued number changed (in the glue file), a pixel of the figure changed. Returns pytest's
    report of the failure of each fault's cell ('' if it passed), and nbval's whole output. Run once per run, by the
    first worker that needs it."""
    folder, saved = run_folder / "tampered", run_folder / "tampered.json"
    with filelock.FileLock(run_folder / "tampered.lock"):
        if not saved.exists():
            shutil.rmtree(folder, ignore_errors=True)
            (folder / "book").mkdir(parents=True)
            for name in ("page.ipynb", "page.glue.json"):
                shutil.copy(builds["executed"] / name, folder / "book")
            path, notebook = chapter(folder)

            # Each fault in a cell of its own: nbval reports only the first mismatch of a cell.
            array = first_output(
                notebook, lambda data: "Array([" in "".join(data.get("text/plain", "")), lambda cell: not glues(cell)
            )
            text = "".join(array["data"]["text/plain"])
            array["data"]["text/plain"] = re.sub(r"\d(?=\D*$)", lambda m: str((int(m.group()) + 1) % 10), text, count=1)

            figure = first_output(notebook, lambda data: "image/png" in data)
            pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(figure["data"]["image/png"])))
            pixels[10, 10, :3] = 1.0 - pixels[10, 10, :3]
            png = io.BytesIO()
            matplotlib.image.imsave(png, pixels, format="png")
            figure["data"]["image/png"] = base64.b64encode(png.getvalue()).decode()
            path.write_text(json.dumps(notebook))

            glue_file = folder / "book" / "page.glue.json"
            glued = json.loads(glue_file.read_text())
            glued["num_draws"]["data"]["text/plain"] = "6"
            glue_file.write_text(json.dumps(glued))

            result = nbval(folder)
            assert result.returncode != 0, output(result)
            stdout = plain(result.stdout)
            reports = {
                "number": report_of(stdout, code_cell_of(notebook, lambda cell: array in cell["outputs"])),
                "pixel": report_of(stdout, code_cell_of(notebook, lambda cell: figure in cell["outputs"])),
                "glue": report_of(stdout, code_cell_of(notebook, glues)),
                "output": output(result),
            }
            saved.write_text(json.dumps(reports))
    return json.loads(saved.read_text())


def test_a_changed_number_fails_nbval(tampered):
    assert "mismatch 'text/plain'" in tampered["number"], tampered["output"]
    if NBVAL_CAP:  # compiled for an older CPU: the report says how to tell a CPU's doing from a page's
        assert "`make nbval NBVAL_CAP=` runs nbval without the cap" in tampered["number"], tampered["output"]


def test_a_changed_glued_number_fails_nbval(tampered):
    assert "mismatch 'glued value num_draws'" in tampered["glue"], tampered["output"]


def test_a_changed_pixel_fails_nbval(tampered):
    assert "mismatch 'image/png'" in tampered["pixel"], tampered["output"]


def test_a_build_that_hits_the_execution_cache_writes_the_executed_notebook(builds):
    """nbval's reference after make book then make test: myst-nb alone would write it without outputs
    (scripts/jb_build.py)."""

    def cells(name: str) -> list[dict]:  # without the cells' ids, which jupytext makes up at each read
        notebook = json.loads((builds[name] / "page.ipynb").read_text())
        return [{key: value for key, value in cell.items() if key != "id"} for cell in notebook["cells"]]

    assert cells("cache hit") == cells("executed")


def test_an_unexecuted_reference_notebook_is_refused(notebooks):
    """A reference without outputs, as myst-nb wrote after a cache hit (before scripts/jb_build.py's fix)."""
    path, notebook = chapter(notebooks)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
    path.write_text(json.dumps(notebook))
    result = nbval(notebooks, workers=True)
    assert result.returncode != 0, output(result)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output(result)
    assert_says(result.stderr, "refusing to run nbval on reference notebooks that were never executed")
    assert re.search(r"page\.ipynb: code cells \[\d+(, \d+)*\] have no execution count", result.stderr), result.stderr
    assert "passed" not in result.stdout, output(result)


# --- another CPU (make portability) ----------------------------------------------

without_fma = pytest.mark.skipif(
    not on_x86() or "fma" not in host_cpu_flags(),
    reason="needs an x86 CPU with fused multiply-add, to compile without it",
)


def tag(notebooks: Path, cell: int) -> None:
    """Tag the page's code cell number ``cell`` (nbval's numbering) cpu-dependent."""
    path, notebook = chapter(notebooks)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    code[cell].setdefault("metadata", {}).setdefault("tags", []).append("cpu-dependent")
    path.write_text(json.dumps(notebook))


@without_fma
def test_without_fma_an_undeclared_difference_and_a_needless_tag_both_fail_and_are_named(notebooks):
    tag(notebooks, CELL_SAME_ON_EVERY_CPU)
    result = nbval(notebooks, isa="AVX")
    assert result.returncode != 0, output(result)
    assert "cells tagged 'cpu-dependent' must differ" in result.stdout, output(result)
    failed = set(re.findall(r"^FAILED \S+::Cell (\d+)", result.stdout, re.M))
    assert failed == {str(CELL_SAME_ON_EVERY_CPU), str(CELL_CHANGED_WITHOUT_FMA)}, output(result)
    assert "The cell is tagged 'cpu-dependent', but without fused multiply-add" in result.stdout, output(result)
    assert "remove the tag" in result.stdout, output(result)
    assert "This cell is not tagged 'cpu-dependent', yet its outputs differ" in result.stdout, output(result)
    assert "mismatch 'text/plain'" in result.stdout, output(result)


@without_fma
def test_without_fma_a_declared_difference_passes_and_is_listed(notebooks):
    tag(notebooks, CELL_CHANGED_WITHOUT_FMA)
    result = nbval(notebooks, isa="AVX")
    assert result.returncode == 0, output(result)
    assert "that differ without FMA, as declared" in result.stdout, output(result)
    assert f"page.ipynb::Cell {CELL_CHANGED_WITHOUT_FMA}" in result.stdout, output(result)


def test_a_cap_that_takes_nothing_away_from_this_cpu_is_skipped_and_says_so(notebooks):
    flags = host_cpu_flags()
    cap = next((isa for isa in ("AVX2", "AVX", "SSE4_2") if cap_changes_nothing(isa, flags)), None)
    if cap is None or not on_x86():
        pytest.skip("every cap takes something away from this CPU (or it is not x86)")
    result = nbval(notebooks, isa=cap)
    assert result.returncode == 0, output(result)
    assert_says(output(result), f"skipped: this CPU has nothing newer than {cap}")
    assert "passed" not in result.stdout, output(result)
