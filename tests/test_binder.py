"""Binder, simulated: every chapter opens as a notebook, runs, and reads like the site.

A chapter's Binder button opens ``lab/tree/<chapter>.ipynb``: the learner notebook that ``.binder/postBuild`` makes
from the chapter's MyST markdown. Here, without Docker: a copy of the files git tracks, an environment made with
``pip install -r .binder/requirements.txt`` (kept in ``.cache/binder`` until the learner's lock, ``pyproject.toml``
or the Python change), postBuild, then that environment's JupyterLab with an empty home, and Chromium opening each
chapter at its launch path (``scripts.book_site.launch_path``; tests/test_site.py checks the built buttons have it).
Each chapter must open as a notebook, run every cell in order with no error and nothing on stderr, pass its checkers,
and read like the site: no MyST left raw, every glued value in its sentence, formatted as myst-nb formats it.
As a learner who goes on to the next chapter in the same Binder: each pytest-xdist process loads JupyterLab once, at
the launch path of its first chapter, and opens each later chapter's launch path in that JupyterLab (its
``docmanager:open`` command, which the launch path's URL runs), after closing the chapter before and shutting down its
kernel. A chapter that fails closes the page: the next one loads JupyterLab again.
Screenshots: ``_build/screenshots/binder-*.png``.
"""

from __future__ import annotations

import contextlib
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
from dataclasses import dataclass
from pathlib import Path

import filelock
import nbformat
import pytest

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

# One chapter: open, start the kernel, run every cell; past this bound (room for a busy machine), the chapter fails
# and says which cells had not finished. pytest-timeout bounds each chapter's test a minute later
# (fixtures excluded: installing the environment is bounded by the timeouts of its own commands, below).
CHAPTER_SECONDS = 300
pytestmark = [pytest.mark.slow, pytest.mark.timeout(CHAPTER_SECONDS + 60, func_only=True)]


# Not in Binder's environment: this project's venv and test settings, the user's Jupyter and XDG folders. JAX's
# compilation cache is kept: it changes how long a first call takes, not what it returns.
DROPPED = ("VIRTUAL_ENV", "PYTHON", "CONDA_", "JUPYTER", "IPYTHONDIR", "MPL", "XDG_", "PYTEST", "XLA_", "JAX_")
KEPT = ("JAX_COMPILATION_CACHE_", "JAX_PERSISTENT_CACHE_")
CACHE = ROOT / ".cache" / "binder"
CHAPTERS = [source for source in map(source_file, toc_files()) if code_cells(source)]


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@dataclass
class Binder:
    url: str
    repo: Path
    home: Path
    log: Path
    browser: object  # a Playwright BrowserContext
    page: object | None = None  # the page with JupyterLab loaded, kept from chapter to chapter
    # The REST API's client: the _xsrf cookie and header that the server asks of a browser, set by the first call.
    opener: urllib.request.OpenerDirector | None = None
    xsrf: str = ""

    def errors_logged(self, since: int) -> str:
        """The errors JupyterLab logged after byte ``since`` of its log (a failed request, a kernel that died)."""
        with self.log.open("rb") as log:
            log.seek(since)
            errors = [line for line in log.read().decode(errors="replace").splitlines() if line.startswith("[E ")]
        return "\n".join(errors[-15:]) or "(JupyterLab logged no error)"

    def api(self, method: str, path: str) -> object:
        """A call to the server's REST API, with the XSRF cookie and header it asks of a browser."""
        if self.opener is None:
            jar = http.cookiejar.CookieJar()
            self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            self.opener.open(f"{self.url}/lab", timeout=30).close()  # sets the _xsrf cookie
            self.xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
        request = urllib.request.Request(f"{self.url}/{path}", method=method, headers={"X-XSRFToken": self.xsrf})
        with self.opener.open(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def open_chapter(self, source: Path) -> object:
        """The page with the chapter at its launch path: JupyterLab loaded there, or, when it is loaded already, the
        launch path's file opened in it, as the URL would have it opened."""
        if self.page is None:
            self.page = self.browser.new_page()
            self.page.set_default_timeout(60_000)
            self.page.goto(f"{self.url}/{launch_path(source)}", timeout=120_000)
        else:
            self.page.evaluate(OPEN, launch_path(source).removeprefix("lab/tree/"))
        return self.page

    def close_chapter(self, keep_page: bool) -> None:
        """Close the chapter without saving it, and forget it; with ``keep_page`` false (after a failure), or if it
        does not close, close the page too: the next chapter loads JupyterLab again."""
        from playwright.sync_api import Error as PlaywrightError

        if self.page is not None and keep_page:
            try:
                self.page.evaluate(CLOSE_ALL)
            except PlaywrightError:
                keep_page = False
        if self.page is not None and not keep_page:
            self.page.close()
            self.page = None
        self.forget()

    def forget(self) -> None:
        """Shut down every kernel and delete the saved workspace: the next chapter opens fresh."""
        for session in self.api("GET", "api/sessions"):
            self.api("DELETE", f"api/sessions/{session['id']}")
        for kernel in self.api("GET", "api/kernels"):
            self.api("DELETE", f"api/kernels/{kernel['id']}")
        shutil.rmtree(self.home / ".jupyter/lab/workspaces", ignore_errors=True)


# JupyterLab as Binder starts it, plus window.jupyterapp, through which the test reads each cell's outputs from the
# notebook's model, and a shutdown when idle (if this test dies first).
LAB_FLAGS = (
    "--no-browser --allow-root --ip=127.0.0.1 --IdentityProvider.token= --ServerApp.password= "
    "--LabApp.expose_app_in_browser=True --ServerApp.shutdown_no_activity_timeout=1200"
).split()


def make_image(environment: dict[str, str], scratch: Path) -> Path:
    """The copy of the repository and its environment, as repo2docker builds them, in .cache/binder.

    The two pytest-xdist processes share them: the first makes them, under a lock. The packages are installed again
    only when the learner's lock, pyproject.toml (the editable package) or the Python change; the copy and postBuild,
    when a file changes.
    """
    repo, venv = CACHE / "repo", CACHE / "venv"
    CACHE.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(CACHE.with_suffix(".lock")):
        files = repository_files()
        content = hashlib.sha256(b"".join(name.encode() + b"\0" + file_bytes(ROOT / name) for name in files))
        made_from = [ROOT / ".binder/requirements.txt", ROOT / "pyproject.toml"]
        image = hashlib.sha256(b"\0".join([sys.version.encode(), *map(file_bytes, made_from)])).hexdigest()
        # Copied once per run at most: a file edited during the run must not replace the copy that the other
        # process's JupyterLab serves.
        run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
        marker, stamp = repo / ".binder-copy", venv / ".binder-image"
        copied_hash, _, copied_by = (marker.read_text() if marker.exists() else "").partition("\n")
        copied = copied_hash == content.hexdigest() or (run_id != "" and copied_by == run_id)
        installed = stamp.exists() and stamp.read_text() == image
        if not copied:
            copy_repository(files, repo)
        runtime = (repo / ".binder/runtime.txt").read_text().strip()
        here = f"python-{sys.version_info.major}.{sys.version_info.minor}"
        assert runtime == here, f".binder/runtime.txt asks Binder for {runtime}; this machine has {here}"
        if not installed:
            shutil.rmtree(venv, ignore_errors=True)
            run([sys.executable, "-m", "venv", str(venv)], cwd=scratch, env=environment, timeout=120)
            pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            run([*pip, "-r", ".binder/requirements.txt"], cwd=repo, env=environment, timeout=1200)
        if not (copied and installed):
            assert os.access(repo / ".binder/postBuild", os.X_OK), ".binder/postBuild is not executable"
            run(["./.binder/postBuild"], cwd=repo, env={**environment, "HOME": str(scratch)}, timeout=300)
            stamp.write_text(image)
            marker.write_text(f"{content.hexdigest()}\n{run_id}")
    return repo


@pytest.fixture(scope="module")
def binder(tmp_path_factory) -> Iterator[Binder]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (installs Debian's chromium-headless-shell).")
    base = tmp_path_factory.mktemp("binder")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED) or k.startswith(KEPT)}
    project_bin = str(Path(sys.executable).parent)
    path = [entry for entry in environment.get("PATH", "").split(os.pathsep) if entry and entry != project_bin]
    environment["PATH"] = os.pathsep.join([str(CACHE / "venv" / "bin"), *path])
    repo = make_image(environment, base)

    # A new container's home: no ~/.jupyter, no saved workspace, no user settings but one, which changes when
    # JupyterLab draws a cell, not how: every cell when the notebook opens (no windowing), so that the test reads all.
    home = base / "home"
    environment["HOME"] = str(home)
    settings = home / ".jupyter/lab/user-settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"windowingMode": "none"}))

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log_path = base / "jupyterlab.log"
    log = log_path.open("w")
    lab = [str(CACHE / "venv/bin/jupyter"), "lab", f"--port={port}", f"--ServerApp.root_dir={repo}", *LAB_FLAGS]
    server = subprocess.Popen(
        lab, cwd=repo, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{log_path.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}"
                time.sleep(1)
        with sync_playwright() as playwright:
            # One profile on disk, as a learner's: JupyterLab's scripts come from its cache after the first chapters.
            browser = playwright.chromium.launch_persistent_context(
                base / "browser-profile", executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, viewport=VIEWPORT
            )
            browser.add_init_script(NO_ANIMATIONS)
            try:
                yield Binder(url=url, repo=repo, home=home, log=log_path, browser=browser)
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


# --- in JupyterLab ------------------------------------------------------------------

# CSS animations off in every page: while cells run, JupyterLab's status bar animates a progress bar without end (and
# a focused editor blinks its cursor), so the browser draws frames that nobody looks at. Nothing the test reads moves.
NO_ANIMATIONS = """document.addEventListener('DOMContentLoaded', () => {
    const style = document.createElement('style');
    style.textContent = '*, *::before, *::after { animation: none !important; }';
    document.head.appendChild(style);
});"""

MAIN = "#jp-main-dock-panel .jp-MainAreaWidget:not(.lm-mod-hidden)"
# A path opened in the JupyterLab already loaded: what its URL, lab/tree/<path>, runs.
OPEN = "async path => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }"
# Every document closed, unsaved (marked clean: no "save your changes?" dialog), within 10 s. (JupyterLab then
# shows its Launcher, which stays behind the next chapter.)
CLOSE_ALL = """async () => {
    const documents = () => Array.from(window.jupyterapp.shell.widgets('main')).filter(widget => widget.context);
    for (const widget of documents()) {
        widget.context.model.dirty = false;
        widget.close();
    }
    for (let waited = 0; documents().length > 0; waited += 50) {
        if (waited > 10000) throw new Error(`still open: ${documents().map(widget => widget.title.label)}`);
        await new Promise(done => setTimeout(done, 50));
    }
}"""
CURRENT_TAB = ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
# The code cells as the learner sees them: their prompts ("[ ]:", "[*]:", "[3]:").
CELLS = f"""() => [...document.querySelectorAll('{MAIN} .jp-Notebook .jp-CodeCell')].map(cell => ({{
    prompt: (cell.querySelector('.jp-InputArea-prompt')?.textContent ?? '').trim(),
}}))"""
# The code cells of the notebook in front, from its model: source, execution count, tags, every output with its type
# (error, stream stderr/stdout, display), and the values glued (myst_nb's glue: the output's text/plain).
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
# The markdown cells as rendered (jupyterlab-myst draws into .myst): the text a learner reads, the same without code
# (where MyST syntax may be shown on purpose) and math (its LaTeX, such as \operatorname{erf}, is in the page), and
# how many of the cell's {eval} roles the kernel has evaluated.
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
        };
    })"""
# How often a wait re-runs its script in the page. Playwright's default, every animation frame, ran the scripts that
# read the whole notebook model 60 times a second: a large share of the browser's CPU.
POLL_MS = 250
KERNEL_IDLE = """() => [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .some(item => /\\| Idle$/.test(item.textContent.trim()))"""
RUN_STARTED = f"() => ({MODEL})().some(cell => cell.count !== null) || ({CELLS})().some(cell => cell.prompt !== '[ ]:')"
# Every code cell has an execution count (read in the page: no copy of the outputs leaves it at each poll).
ALL_RUN = """() => [...window.jupyterapp.shell.currentWidget.content.model.cells]
    .every(cell => cell.type !== 'code' || cell.executionCount !== null)"""


def run_all_cells(page, started: float) -> list[dict]:
    """Run > Run All Cells, then wait until every code cell has an execution count, read from the notebook's model
    (the page may not have drawn a cell far down yet)."""
    notebook = page.locator(f"{MAIN} .jp-Notebook").first
    for _attempt in range(3):
        notebook.click()  # the menu acts on the notebook that has the focus
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # A click that comes before the notebook's commands are ready does nothing: no cell starts to run.
        try:
            page.wait_for_function(RUN_STARTED, timeout=15_000, polling=POLL_MS)
            break
        except Exception:
            page.keyboard.press("Escape")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    remaining = max(CHAPTER_SECONDS - (time.monotonic() - started), 1.0)
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(ALL_RUN, timeout=remaining * 1000, polling=POLL_MS)
    cells = page.evaluate(MODEL)
    if waiting := [f"cell {i + 1}" for i, cell in enumerate(cells) if cell["count"] is None]:
        pytest.fail(f"cells still not run after {CHAPTER_SECONDS} s: {', '.join(waiting)}")
    return cells


# What must not be in a sentence after rendering: a MyST role's or directive's name ({glue:text}, {doc},
# :::{admonition}...), or jupyterlab-myst's box for one it does not know.
RAW_MYST = re.compile(r"\{[a-z][a-z:-]*\}|:::|Unknown (Directive|Role)")
# Every {eval} evaluated by the kernel, and its value drawn in the page (which follows a moment later).
EVALUATED = f"""() => ({PROSE})().every(cell => cell.evaluated >= cell.evals && !cell.text.includes('glued("'))"""


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda source: source.stem)
def test_the_chapter_opens_as_a_notebook_on_binder_and_runs(binder, source):
    notebook_path = binder.repo / source.relative_to(ROOT).with_suffix(".ipynb")
    assert notebook_path.is_file(), f"postBuild made no {notebook_path.relative_to(binder.repo)}"
    file_name = notebook_path.name
    expected = [cell for cell in nbformat.read(notebook_path, as_version=4).cells if cell.cell_type == "code"]

    from myst_nb.core.variables import format_plain_text
    from playwright.sync_api import Error as PlaywrightError

    started = time.monotonic()
    log_start = binder.log.stat().st_size
    failure, passed = None, False
    try:
        page = binder.open_chapter(source)
        page.wait_for_selector(f"{MAIN} .jp-Notebook .jp-CodeCell, {MAIN} .jp-FileEditor", timeout=120_000)
        tab = page.locator(CURRENT_TAB).first.text_content()
        assert page.locator(f"{MAIN} .jp-FileEditor").count() == 0, f"{file_name} opened as text, not as a notebook"
        assert tab == file_name, f"the tab in front is {tab!r}, not {file_name!r}"
        with contextlib.suppress(PlaywrightError):  # the model holds every cell once loaded; the page may still draw
            page.wait_for_function(f"({MODEL})().length >= {len(expected)}", timeout=60_000, polling=POLL_MS)
        shown = len(page.evaluate(MODEL))
        assert shown == len(expected), f"the notebook shows {shown} code cells; {file_name} has {len(expected)}"

        page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=POLL_MS)
        run_all_cells(page, started)
        # The sentences' values come from the kernel after the cells ran (jupyterlab-myst sends each {eval} as a user
        # expression). If they do not come, the check below says which sentence lacks its values.
        with contextlib.suppress(PlaywrightError):
            page.wait_for_function(EVALUATED, timeout=60_000, polling=POLL_MS)
        cells = page.evaluate(MODEL)
        prose = page.evaluate(PROSE)
        SHOTS.mkdir(parents=True, exist_ok=True)
        # The screenshot shows the first sentence with a glued value, as rendered (else the top).
        first = next((index for index, cell in enumerate(prose) if cell["evals"]), 0)
        page.locator(f"{MAIN} .jp-MarkdownCell").nth(first).scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"binder-{source.stem}.png")
        passed = True
    except PlaywrightError as error:
        # A wait that timed out says only what it waited for: say why, from the server's side.
        failure = f"{file_name}: {str(error).splitlines()[0]}\nJupyterLab's errors meanwhile:\n{binder.errors_logged(log_start)}"
    finally:
        binder.close_chapter(keep_page=passed)
    if failure:
        pytest.fail(failure, pytrace=False)

    # Run All in a new kernel numbers the cells 1, 2, 3...: every cell ran, once, in order.
    assert [cell["count"] for cell in cells] == list(range(1, len(cells) + 1))
    # An error only where the chapter raises one on purpose (the tag that also tells JupyterLab and nbval to go on),
    # and nothing on stderr: no chapter writes there, so a warning (a red box for the learner) is a failure too.
    # Every exercise's checker ran on the course's solution and passed (it prints ✓).
    problems = []
    for number, cell in enumerate(cells, start=1):
        raises = "raises-exception" in cell["tags"]
        for out in cell["outputs"]:
            if out["type"] == "error" and not raises:
                problems.append(f"cell {number} raised {out['text'][:500]}")
            if out["type"] == "stderr":
                problems.append(f"cell {number} wrote to stderr: {out['text'][:500]}")
        printed = "".join(out["text"] for out in cell["outputs"] if out["type"] == "stdout")
        if re.search(r"^check_\w+\(", cell["source"], re.MULTILINE) and not raises and not printed.startswith("✓"):
            problems.append(f"cell {number} calls a checker, which printed {printed[:300]!r}, not its ✓")
    # The prose reads like the site's: no MyST left raw, every glued value in its sentence as {glue:text} formats it.
    glued = {out["glue"]: out["glued"] for cell in cells for out in cell["outputs"] if out["glue"]}
    for number, cell in enumerate(prose, start=1):
        if raw := RAW_MYST.search(cell["prose"]):
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
                    f"{cell['evals']} {{eval}} roles evaluated): {cell['text'][:300]!r}"
                )
    assert not problems, f"{file_name} on Binder:\n" + "\n".join(problems)


def test_jupyterlab_does_not_ask_learners_about_its_news_feed(binder):
    """postBuild turns the feed off, so no "get notified about official Jupyter news?" prompt."""
    settings = binder.api("GET", "lab/api/settings/@jupyterlab/apputils-extension:notification")
    # Overrides become the schema's defaults; the learner's own settings are empty.
    assert settings["schema"]["properties"]["fetchNews"]["default"] == "false", settings["schema"]["properties"]
