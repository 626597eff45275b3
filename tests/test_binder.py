"""Binder, simulated: every chapter opens as a notebook, runs, and reads like the site.

A chapter's Binder button builds an image of the repository with repo2docker
and opens ``lab/tree/<chapter>.ipynb`` in JupyterLab: the chapter's learner
notebook, which ``.binder/postBuild`` makes from the chapter's MyST markdown
(scripts/learner_notebooks.py). This test does the same on this machine,
without Docker or network (apart from the package index):

1. a copy of the repository: the files git tracks or would track (``git
   ls-files -co --exclude-standard``), so no ``.venv``, ``_build`` or learner
   notebooks;
2. a new virtual environment, where ``pip install -r .binder/requirements.txt``
   runs from the copy's root, then ``.binder/postBuild``, with that environment
   first on PATH, as repo2docker runs them. Like Binder's image, whose installed
   packages are a layer reused while the files they come from stay the same,
   the environment is made again only when ``.binder/requirements.txt``,
   ``pyproject.toml`` or the Python change: it lives in ``.cache/binder/``
   between runs. postBuild runs again whenever the copy changes, as it runs in
   every image;
3. that environment's JupyterLab on 127.0.0.1, with an empty home: no saved
   workspace and no user settings, like a new Binder container (one per
   pytest-xdist process: the Makefile runs two, each taking half the chapters);
   one setting is added, which changes when JupyterLab draws a cell, not how:
   every cell is drawn when the notebook opens, not when it is scrolled to,
   so that the test can read all of them;
4. Debian's Chromium (Playwright) opening every chapter of ``_toc.yml`` that has
   code cells at the path of its Binder link, checking that it opened as a
   notebook (not in the text editor), running all cells from the Run menu, and
   checking that every cell ran, in order, with no error; then that the prose
   reads like the site's: no MyST syntax left raw in any rendered markdown
   cell, every number the site glues into a sentence shown in that sentence
   (the value the notebook's own cells glued, formatted by myst-nb as the site
   formats it; nbval proves the site's glued values are those a run gives),
   and every exercise's checker called and passing.

The path opened is derived from ``_config.yml`` the way sphinx-book-theme
builds the button (``scripts.book_site.launch_path``); tests/test_site.py checks
that every built page's Binder link has exactly that path. This test needs no
built site, so ``make test`` runs it while the book builds. Screenshots of every
notebook after its run, at its first sentence with a glued number:
``_build/screenshots/binder-<chapter>.png``; a summary of every run:
``_build/screenshots/binder-report.json``.

``make binder-test`` runs it; ``make test`` runs it beside the unit tests.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import nbformat
import pytest
import yaml

from scripts.book_site import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SHOTS,
    code_cells,
    copy_repository,
    file_bytes,
    launch_path,
    repository_files,
    source_file,
    toc_files,
)
from scripts.learner_notebooks import QUOTE

VIEWPORT = {"width": 1400, "height": 1000}

# One chapter: open, start the kernel, run every cell. The slowest takes under
# a minute on 2 busy cores; past this, the chapter fails and says which cells
# had not finished.
CHAPTER_SECONDS = 300
# pytest-timeout's bound on each chapter's test (fixtures excluded: installing
# the environment is bounded by the timeouts of its own commands, below).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(CHAPTER_SECONDS + 60, func_only=True)]

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())

# What Binder's environment does not have: this project's virtual environment,
# its test settings (PYTHONHASHSEED is exported by the Makefile) and any
# Jupyter or XDG directory of the machine's user. Kept: the Makefile's JAX
# compilation cache (JAX_COMPILATION_CACHE_*, JAX_PERSISTENT_CACHE_*), which
# changes how long a first call takes and nothing it returns, so the kernels
# here reuse what the build compiled.
DROPPED_VARIABLES = re.compile(
    r"^(VIRTUAL_ENV|PYTHONPATH|PYTHONHOME|PYTHONHASHSEED|PYTHONSTARTUP|MPLBACKEND|MPLCONFIGDIR"
    r"|CONDA_.*|JUPYTER.*|IPYTHONDIR|XDG_.*|PYTEST.*|(?!JAX_COMPILATION_CACHE_|JAX_PERSISTENT_CACHE_)JAX_.*|XLA_.*)$"
)
# The copy of the repository and its Binder environment: kept between runs, the
# environment made again when what it is made from changes (see install_key).
CACHE = ROOT / ".cache" / "binder"


# --- what Binder opens ------------------------------------------------------------

CHAPTERS = [source for source in map(source_file, toc_files(TOC)) if code_cells(source)]


def chapter_id(source: Path) -> str:
    return source.relative_to(ROOT).with_suffix("").as_posix()


# --- the Binder image, simulated -----------------------------------------------------


def install_key(repo: Path) -> str:
    """A hash of what the installed packages come from: the learner's lock, the package, the Python."""
    parts = [
        sys.version.encode(),
        (repo / ".binder/requirements.txt").read_bytes(),
        (repo / "pyproject.toml").read_bytes(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"`{' '.join(command)}` failed in {cwd} (exit {result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


@dataclass
class Binder:
    url: str
    repo: Path
    home: Path
    log: Path
    browser: object = None  # a Playwright BrowserContext (one persistent profile)
    seconds: dict = field(default_factory=dict)

    def errors_logged(self, since: int) -> str:
        """The errors JupyterLab logged after byte ``since`` of its log (a failed request, a kernel that died)."""
        with self.log.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        errors = [line for line in lines if line.startswith("[E ")]
        return "\n".join(errors[-15:]) or "(JupyterLab logged no error)"

    def api(self, method: str, path: str) -> object:
        """A call to the server's REST API, with the XSRF cookie and header it asks of a browser."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{self.url}/lab", timeout=30).close()  # sets the _xsrf cookie
        xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
        request = urllib.request.Request(f"{self.url}/{path}", method=method, headers={"X-XSRFToken": xsrf})
        with opener.open(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def forget(self) -> None:
        """Shut down every kernel and delete the saved workspace: the next chapter opens fresh."""
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")
        for kernel in self.api("GET", "api/kernels"):
            self.api("DELETE", f"api/kernels/{kernel['id']}")
        shutil.rmtree(self.home / "workspaces", ignore_errors=True)


@pytest.fixture(scope="module")
def binder(tmp_path_factory) -> Iterator[Binder]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (installs Debian's chromium).")
    base = tmp_path_factory.mktemp("binder")
    home = base / "home"
    home.mkdir()
    repo, venv = CACHE / "repo", CACHE / "venv"
    environment = {key: value for key, value in os.environ.items() if not DROPPED_VARIABLES.match(key)}
    project_bin = str(Path(sys.executable).parent)
    path = [entry for entry in environment.get("PATH", "").split(os.pathsep) if entry and entry != project_bin]
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), *path])

    seconds = {}
    started = time.monotonic()
    # pytest-xdist runs chapters in two processes, each with its own JupyterLab
    # and browser; they share one copy of the repository and one environment,
    # which the first to come makes (the other waits on the lock, then finds
    # them made).
    CACHE.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(CACHE.with_suffix(".lock")):
        files = repository_files()
        content = hashlib.sha256(
            b"".join(name.encode() + b"\0" + file_bytes(ROOT / name) for name in files)
        ).hexdigest()
        # The copy is made again when the files change, but only once per run:
        # a file edited while the first process installs the environment must
        # not replace the copy that its JupyterLab is serving.
        # The marker holds the content's hash and the run that made the copy.
        run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
        marker = repo / ".binder-copy"
        copied, _, copied_by = (marker.read_text() if marker.exists() else "").partition("\n")
        copy_made = copied != content and not (run_id and copied_by == run_id)
        if copy_made:
            copy_repository(files, repo)
        config = repo / ".binder"
        runtime = (config / "runtime.txt").read_text().strip()
        here = f"python-{sys.version_info.major}.{sys.version_info.minor}"
        assert runtime == here, f"{config.name}/runtime.txt asks Binder for {runtime}; this machine has {here}"
        # The installed packages, made again only when what they come from
        # changes (like repo2docker's image layer, reused while those files are the same).
        image = install_key(repo)
        stamp = venv / ".binder-image"
        installed = stamp.exists() and stamp.read_text() == image
        if not installed:
            shutil.rmtree(venv, ignore_errors=True)
            # repo2docker: a Python environment of the runtime.txt version, then
            # `pip install -r .binder/requirements.txt` from the repository root.
            # (pip's download cache is reused: the same files, fetched once.)
            run([sys.executable, "-m", "venv", str(venv)], cwd=base, env=environment, timeout=120)
            pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            run([*pip, "-r", ".binder/requirements.txt"], cwd=repo, env=environment, timeout=1200)
            seconds["install"] = round(time.monotonic() - started, 1)
        else:
            seconds["install"] = f"reused ({venv.relative_to(ROOT)}: {stamp.name} matches)"
        if copy_made or not installed:
            # postBuild: the image's last step, with the image's HOME (a scratch one here).
            post_build = config / "postBuild"
            assert os.access(post_build, os.X_OK), f"{post_build.relative_to(repo)} is not executable"
            run([f"./{post_build.relative_to(repo)}"], cwd=repo, env={**environment, "HOME": str(base)}, timeout=300)
            stamp.write_text(image)
            marker.write_text(f"{content}\n{run_id}")

    # Binder's home is new and empty: no ~/.jupyter, no saved workspace, no user settings.
    environment |= {
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }

    # The one setting added (see the module's docstring): JupyterLab draws
    # every cell when a notebook opens ("none": no windowing), so that the
    # test reads every rendered markdown cell, not only those on the screen.
    notebook_settings = home / "user-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    notebook_settings.parent.mkdir(parents=True)
    notebook_settings.write_text(json.dumps({"windowingMode": "none"}))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (base / "jupyterlab.log").open("w")
    # JupyterLab as Binder starts it, plus one flag that changes nothing a
    # learner sees: window.jupyterapp, through which the test reads each
    # cell's outputs from the notebook model. (The page cannot tell them
    # apart: JupyterLab renders an error as application/vnd.jupyter.stderr,
    # the same as a stream written to stderr.)
    server = subprocess.Popen(
        [
            str(venv / "bin/jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={repo}",
            "--LabApp.expose_app_in_browser=True",
            # If this test is killed before it can stop the server, the server stops itself.
            "--ServerApp.shutdown_no_activity_timeout=1200",
        ],
        cwd=repo,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        deadline = started + 120
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{(base / 'jupyterlab.log').read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, (
                    f"JupyterLab did not start:\n{(base / 'jupyterlab.log').read_text()[-3000:]}"
                )
                time.sleep(1)
        seconds["server start"] = round(time.monotonic() - started, 1)
        with sync_playwright() as playwright:
            # One browser profile for all the chapters of this JupyterLab, kept
            # on disk, as a learner's browser is: JupyterLab's scripts come
            # from its cache, compiled (V8's code cache), from the third page
            # on, which saves CPU on every chapter. The files
            # are the same either way; each chapter still opens in a new page
            # at its launch path, and JupyterLab keeps no state in the browser
            # that decides what opens (its workspace, on the server, is
            # deleted after each chapter).
            browser = playwright.chromium.launch_persistent_context(
                base / "browser-profile", executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, viewport=VIEWPORT
            )
            try:
                yield Binder(
                    url=url, repo=repo, home=home, log=base / "jupyterlab.log", browser=browser, seconds=seconds
                )
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def report(binder):
    """What each chapter's run gave, added to _build/screenshots/binder-report.json.

    The processes of one run (pytest-xdist) add to the same file; a new run starts it again.
    """
    runs: dict[str, dict] = {}
    yield runs
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "binder-report.json"
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with filelock.FileLock(path.with_suffix(".lock")):
        summary = json.loads(path.read_text()) if path.exists() else {}
        if not run_id or summary.get("run") != run_id:
            summary = {"run": run_id, "environment (seconds)": {}, "chapters": {}}
        summary["environment (seconds)"][worker] = binder.seconds
        summary["chapters"] = dict(sorted({**summary["chapters"], **runs}.items()))
        path.write_text(json.dumps(summary, indent=2) + "\n")


# --- in JupyterLab ------------------------------------------------------------------

MAIN = "#jp-main-dock-panel .jp-MainAreaWidget:not(.lm-mod-hidden)"
# The code cells as the learner sees them: their prompts ("[ ]:", "[*]:", "[3]:").
CELLS = f"""() => [...document.querySelectorAll('{MAIN} .jp-Notebook .jp-CodeCell')].map(cell => ({{
    prompt: (cell.querySelector('.jp-InputArea-prompt')?.textContent ?? '').trim(),
}}))"""
# The code cells of the notebook in front, from its model: source, execution
# count, tags, every output with its type (error, stream stderr/stdout,
# display), and the values glued (myst_nb's glue: the output's text/plain).
MODEL = """() => [...window.jupyterapp.shell.currentWidget.content.model.cells]
    .filter(cell => cell.type === 'code')
    .map(cell => cell.toJSON())
    .map(cell => ({
        source: [].concat(cell.source).join(''),
        count: cell.execution_count,
        tags: cell.metadata.tags ?? [],
        outputs: cell.outputs.map(out => ({
            type: out.output_type === 'stream' ? out.name : out.output_type,
            text: out.output_type === 'error' ? `${out.ename}: ${out.evalue}`
                : out.output_type === 'stream' ? [].concat(out.text).join('') : '',
            glue: out.metadata?.scrapbook?.name ?? null,
            glued: out.metadata?.scrapbook
                ? [].concat(out.data[out.metadata.scrapbook.mime_prefix + 'text/plain']).join('') : null,
        })),
    }))"""
# The markdown cells as rendered (jupyterlab-myst draws into .myst): the text
# a learner reads, the same without code (where MyST syntax may be shown on
# purpose) and math (its LaTeX, such as \operatorname{erf}, is in the page),
# and how many of the cell's {eval} roles the kernel has evaluated.
PROSE = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'markdown')
    .map(cell => {
        const rendered = cell.node.querySelector('.myst') ?? cell.node.querySelector('.jp-RenderedMarkdown');
        const prose = rendered?.cloneNode(true);
        prose?.querySelectorAll('code, pre, .math, .katex, math').forEach(code => code.remove());
        const source = cell.model.sharedModel.getSource();
        return {
            source,
            text: rendered?.innerText ?? '',
            prose: prose?.textContent ?? '',
            evals: source.split('{eval}`').length - 1,
            evaluated: (cell.model.getMetadata('user_expressions') ?? []).length,
            results: (cell.model.getMetadata('user_expressions') ?? [])
                .map(expression => JSON.stringify(expression.result ?? null).slice(0, 300)),
        };
    })"""
KERNEL_IDLE = """() => [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .some(item => /\\| Idle$/.test(item.textContent.trim()))"""


def run_all_cells(page, started: float) -> list[dict]:
    """Run > Run All Cells, then wait until every code cell of the notebook has an execution count.

    The counts are read from the notebook's model: the page may not have drawn
    a cell far down yet (see the count of cells above).
    """
    notebook = page.locator(f"{MAIN} .jp-Notebook").first
    for _attempt in range(3):
        notebook.click()  # the menu acts on the notebook that has the focus
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # A click that comes before the notebook's commands are ready does
        # nothing; it shows as no cell starting to run.
        try:
            page.wait_for_function(
                f"({MODEL})().some(cell => cell.count !== null) || ({CELLS})().some(cell => cell.prompt !== '[ ]:')",
                timeout=15_000,
            )
            break
        except Exception:
            page.keyboard.press("Escape")
    while True:
        cells = page.evaluate(MODEL)
        if all(cell["count"] is not None for cell in cells):
            return cells
        if time.monotonic() - started > CHAPTER_SECONDS:
            waiting = [f"cell {i + 1}" for i, cell in enumerate(cells) if cell["count"] is None]
            pytest.fail(f"cells still not run after {CHAPTER_SECONDS} s: {', '.join(waiting)}")
        time.sleep(1)


# What must not be in a sentence after rendering: a MyST role's or directive's
# name ({glue:text}, {doc}, :::{admonition}...), or jupyterlab-myst's box for one it does not know.
RAW_MYST = re.compile(r"\{[a-z][a-z:-]*\}|:::|Unknown (Directive|Role)")
# Every {eval} evaluated by the kernel, and its value drawn in the page (which follows a moment later).
EVALUATED = f"""() => ({PROSE})().every(cell => cell.evaluated >= cell.evals && !cell.text.includes('glued("'))"""


@pytest.mark.parametrize("source", CHAPTERS, ids=chapter_id)
def test_the_chapter_opens_as_a_notebook_on_binder_and_runs(binder, report, source):
    interface = CONFIG.get("launch_buttons", {}).get("notebook_interface", "classic")
    assert interface == "jupyterlab", f"launch_buttons.notebook_interface is {interface!r}; this test opens JupyterLab"
    # The path of the chapter's Binder link (tests/test_site.py checks that the
    # built page's button has exactly this path): its learner notebook, made by postBuild.
    urlpath = launch_path(CONFIG, source.relative_to(ROOT).as_posix())
    notebook_path = binder.repo / source.relative_to(ROOT).with_suffix(".ipynb")
    assert notebook_path.is_file(), f"postBuild made no {notebook_path.relative_to(binder.repo)}"
    expected = [cell for cell in nbformat.read(notebook_path, as_version=4).cells if cell.cell_type == "code"]

    from playwright.sync_api import Error as PlaywrightError

    started = time.monotonic()
    log_start = binder.log.stat().st_size
    page = binder.browser.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{binder.url}/{urlpath}", timeout=120_000)
        page.wait_for_selector(f"{MAIN} .jp-Notebook .jp-CodeCell, {MAIN} .jp-FileEditor", timeout=120_000)
        tab = page.locator(
            ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
        ).first.text_content()
        assert page.locator(f"{MAIN} .jp-FileEditor").count() == 0, (
            f"{notebook_path.name} opened as text, not as a notebook"
        )
        assert tab == notebook_path.name, f"the tab in front is {tab!r}, not {notebook_path.name!r}"
        # The notebook's model holds every cell once it is loaded; the page
        # may still be drawing them. Count the model's code cells.
        try:
            page.wait_for_function(f"({MODEL})().length >= {len(expected)}", timeout=60_000)
        except Exception:
            pass
        shown = len(page.evaluate(MODEL))
        assert shown == len(expected), (
            f"the notebook shows {shown} code cells; {notebook_path.name} has {len(expected)}"
        )

        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        run_all_cells(page, started)
        # The sentences' values come from the kernel after the cells ran
        # (jupyterlab-myst sends each {eval} as a user expression).
        try:
            page.wait_for_function(EVALUATED, timeout=60_000)
        except Exception:
            pass  # the check below says which sentence lacks its values
        seconds = round(time.monotonic() - started, 1)
        cells = page.evaluate(MODEL)
        prose = page.evaluate(PROSE)
        SHOTS.mkdir(parents=True, exist_ok=True)
        # The screenshot shows the first sentence with a glued value, as rendered (else the top).
        first = next((index for index, cell in enumerate(prose) if cell["evals"]), 0)
        page.locator(f"{MAIN} .jp-MarkdownCell").nth(first).scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"binder-{source.stem}.png")
    except PlaywrightError as error:
        # A wait that timed out says only what it waited for: say why, from the server's side.
        failure = f"{notebook_path.name}: {str(error).splitlines()[0]}\nJupyterLab's errors meanwhile:\n{binder.errors_logged(log_start)}"
    else:
        failure = None
    finally:
        page.close()
        binder.forget()
    if failure:
        pytest.fail(failure, pytrace=False)

    outputs = [(number, out) for number, cell in enumerate(cells, start=1) for out in cell["outputs"]]
    glued = {out["glue"]: out["glued"] for _, out in outputs if out["glue"]}
    checkers = [
        number for number, cell in enumerate(cells, start=1) if re.search(r"^check_\w+\(", cell["source"], re.MULTILINE)
    ]
    report[chapter_id(source)] = {
        "opened": urlpath,
        "code cells": len(cells),
        "outputs": len(outputs),
        "markdown cells": len(prose),
        "glued values in sentences": sum(cell["evals"] for cell in prose),
        "checker cells": checkers,
        "errors": [f"cell {number}: {out['text']}" for number, out in outputs if out["type"] == "error"],
        "stderr": [f"cell {number}: {out['text']}" for number, out in outputs if out["type"] == "stderr"],
        "seconds": seconds,
    }
    # Run All in a new kernel numbers the cells 1, 2, 3...: every cell ran, once, in order.
    assert [cell["count"] for cell in cells] == list(range(1, len(cells) + 1))
    # An error only where the chapter raises one on purpose (the tag that also
    # tells JupyterLab and nbval to go on), and nothing on stderr: no chapter
    # writes there, so a warning (a red box for the learner) is a failure too.
    problems = []
    for number, cell in enumerate(cells, start=1):
        for out in cell["outputs"]:
            if out["type"] == "error" and "raises-exception" not in cell["tags"]:
                problems.append(f"cell {number} raised {out['text'][:500]}")
            if out["type"] == "stderr":
                problems.append(f"cell {number} wrote to stderr: {out['text'][:500]}")
    # Every exercise's checker ran on the course's solution and passed (it prints ✓).
    for number in checkers:
        printed = "".join(out["text"] for out in cells[number - 1]["outputs"] if out["type"] == "stdout")
        if "raises-exception" not in cells[number - 1]["tags"] and not printed.startswith("✓"):
            problems.append(f"cell {number} calls a checker, which printed {printed[:300]!r}, not its ✓")
    # The prose reads like the site's: no MyST left raw, and every glued value
    # in its sentence, formatted as the site formats it ({glue:text}`name:spec`
    # is myst-nb's format_plain_text of the glued text/plain; the unit test of
    # the learner notebooks' setup cell checks that this function still exists).
    from myst_nb.core.variables import format_plain_text

    for number, cell in enumerate(prose, start=1):
        raw = RAW_MYST.search(cell["prose"])
        if raw:
            problems.append(f"markdown cell {number} shows {raw.group(0)!r} raw: {cell['prose'][:300]!r}")
        for role in QUOTE.finditer(cell["source"]):
            name, spec = role["name"], role["spec"] or ""
            if name not in glued:
                problems.append(f"markdown cell {number}: no cell glued {name!r}")
                continue
            value = format_plain_text(glued[name], spec)
            if value not in cell["text"]:
                problems.append(
                    f"markdown cell {number}: {name!r} should read {value!r} ({cell['evaluated']} of its "
                    f"{cell['evals']} {{eval}} roles evaluated: {cell['results']}): {cell['text'][:300]!r}"
                )
    assert not problems, f"{notebook_path.name} on Binder:\n" + "\n".join(problems)
