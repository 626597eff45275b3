"""The published site, in a real browser: what a learner sees.

The built site (``_build/html``) is served on 127.0.0.1 and every page of ``_toc.yml`` (and the search and index
pages) is visited with Playwright and Debian's Chromium, at 1280 px in the light colour scheme and at 375 px in the
dark one. Requests that leave the site are aborted and listed; external links are listed in
``_build/screenshots/external-links.txt``, never fetched. Each test checks one property over every visit and lists
every problem at once. Full-page screenshots: ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
import yaml

from scripts.book_site import CHROMIUM, CHROMIUM_ARGS, ROOT, SHOTS, SITE, code_cells, launch_path, toc_files

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}

# Bounds each test (the first also pays for visiting every page twice), with room for a machine that also runs
# nbval and the Binder test (make test): a hang fails, a busy machine does not.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
FILES = [re.sub(r"\.(md|ipynb)$", "", name) for name in toc_files()]
PAGES = [f"{name}.html" for name in FILES] + [
    name for name in ("search.html", "genindex.html") if (SITE / name).exists()
]


def source_of(page: str) -> Path | None:
    name = page.removesuffix(".html")
    return ROOT / f"{name}.md" if name in FILES else None


# --- what one visit records ----------------------------------------------------


@dataclass
class Visit:
    # An HTTP status other than 200, console errors, failed requests for the site's files.
    load_problems: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    image_problems: list[str] = field(default_factory=list)
    math_problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    solution_problems: list[str] = field(default_factory=list)
    solutions: int = 0
    formulas: int = 0
    axe: list[dict] = field(default_factory=list)
    buttons: dict = field(default_factory=dict)
    scroll_width: int = 0
    wide_elements: list[str] = field(default_factory=list)
    # For each cell tagged cpu-dependent: where its visible note links (None: no note).
    cpu_notes: list[str | None] = field(default_factory=list)
    # axe-core fetches stylesheets itself, and resolves a relative @import against the page (GET /basic.css, 404):
    # what happens while it runs is axe's doing, not the site's, and is not recorded.
    auditing: bool = False


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@functools.cache
def static_ids(path: Path) -> frozenset[str]:
    """The ids of a built HTML file (Sphinx writes every attribute in double quotes)."""
    return frozenset(re.findall(r'\sid="([^"]+)"', path.read_text(errors="replace")))


# Run in the page: images (made to load even if lazy), math (and what is wrong with it), links, ids.
INSPECT = """async () => {
  const images = [...document.images];
  await Promise.all(images.map(img => {
    img.loading = 'eager';
    if (img.complete) return null;
    return new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done);
      setTimeout(done, 5000);
    });
  }));
  const describe = el => el.outerHTML.slice(0, 120);
  return {
    images: images.map(img => ({
      src: img.currentSrc || img.src, loaded: img.complete && img.naturalWidth > 0,
      alt: (img.getAttribute('alt') || '').trim(), html: describe(img)})),
    math: [...document.querySelectorAll('.math')].map(el => {
      const math = el.querySelector('math');
      // Drawn: a MathML box with a width (unless inside a closed dropdown).
      const drawn = math !== null && (!el.checkVisibility() || math.getBoundingClientRect().width > 0);
      const problem = el.querySelector('merror') ? 'with a MathML error' : drawn ? null : 'not drawn as MathML';
      return {problem, html: describe(el)};
    }),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(el => el.id),
    solutions: document.querySelectorAll('.solution').length,
  };
}"""

# The buttons that our configuration decides: the repository's, and the Binder link.
BUTTONS = """() => {
  const href = selector => document.querySelector(selector)?.href ?? null;
  return {binder: href('.dropdown-launch-buttons a[href*="/v2/gh/"]'),
          repository: href('a.btn-source-repository-button')};
}"""

# Elements that stick out of a 375 px page and are not inside a scroll box.
WIDE = """() => {
  const width = document.documentElement.clientWidth;
  // Whether an element or one of its ancestors has a style that passes the test.
  const within = (el, test) => {
    for (let p = el; p; p = p.parentElement) if (test(getComputedStyle(p))) return true;
    return false;
  };
  const scrolls = style => ['auto', 'scroll', 'hidden'].includes(style.overflowX);
  return [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > width + 1 && el.checkVisibility()
                  && !within(el.parentElement, scrolls) && !within(el, style => style.position === 'fixed'))
    .slice(0, 5)
    .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}` +
               `${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}` +
               ` (right edge at ${Math.round(el.getBoundingClientRect().right)} px)`);
}"""


FINISH_ANIMATIONS = """() => Promise.all(document.getAnimations()
  .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
  .map(a => a.finished.catch(() => null)))"""


class Watcher:
    """Blocks and lists external requests; records console errors and failed local requests. One per browser page,
    reused for every visit: ``visit`` is the one now recorded."""

    def __init__(self, page, base: str) -> None:
        self.base = base
        self.visit = Visit()
        page.route("**/*", self.route)
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.record(f"console error: uncaught: {error}"))
        page.on("requestfailed", lambda request: self.failed(request.url, str(request.failure)))
        page.on(
            "response", lambda response: response.status >= 400 and self.failed(response.url, f"HTTP {response.status}")
        )

    def record(self, problem: str) -> None:
        if not self.visit.auditing:
            self.visit.load_problems.append(problem)

    def route(self, request_route) -> None:
        url = request_route.request.url
        if url.startswith(self.base) or not url.startswith(("http:", "https:", "ws:", "wss:")):
            request_route.continue_()
        else:
            self.visit.external_requests.append(url)
            request_route.abort()

    def console(self, message) -> None:
        location = message.location.get("url", "")
        # An error at a blocked request is that request, listed in external_requests.
        if message.type == "error" and location not in self.visit.external_requests:
            self.record(f"console error: {message.text} (at {location or 'page'})")

    def failed(self, url: str, why: str) -> None:
        if url.startswith(self.base):
            self.record(f"failed request: {url[len(self.base) :]}: {why}")


def check_solutions(page, visit: Visit) -> None:
    """Each solution's content is hidden until its toggle is clicked, and shown after."""
    solutions = page.locator(".solution")
    for index in range(solutions.count()):
        solution = solutions.nth(index)
        label = f"solution {index + 1} ({solution.get_attribute('id')})"
        content = solution.locator(":scope > :not(.admonition-title)")
        if content.count() == 0:
            visit.solution_problems.append(f"{label}: has no content")
            continue
        if any(content.nth(i).is_visible() for i in range(content.count())):
            visit.solution_problems.append(f"{label}: its content is visible before the toggle is clicked")
        toggle = solution.locator(".toggle-button")
        if toggle.count() != 1:
            visit.solution_problems.append(f"{label}: has {toggle.count()} toggle buttons, not 1")
            continue
        toggle.click()
        try:
            content.first.wait_for(state="visible", timeout=3000)
        except Exception:  # noqa: BLE001 (Playwright's TimeoutError)
            visit.solution_problems.append(f"{label}: its content is still hidden after the toggle is clicked")


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail(f"No built site in {SITE}: run `make book` (or `make test`) first.")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


SIZES = {
    # Desktop: the full axe audit (after the solutions are opened).
    "desktop": (DESKTOP, "light", {"resultTypes": ["violations"]}),
    # Phone, dark: what the colour mode changes, colour contrast. That rule reads the styles as computed: axe need not
    # fetch and parse the stylesheets itself first (its "cssom" preload, for a rule on screen orientation).
    "phone": (PHONE, "dark", {"runOnly": ["color-contrast"], "resultTypes": ["violations"], "preload": False}),
}


# Each cell tagged cpu-dependent (myst-nb: class tag_cpu-dependent): its note's link (_ext/cpu_dependent.py), if shown.
CPU_NOTES = """[...document.querySelectorAll('.cell.tag_cpu-dependent')].map(cell => {
  const note = cell.querySelector(':scope > p.cpu-dependent-note');
  return note && note.checkVisibility() ? note.querySelector('a')?.getAttribute('href') ?? '' : null;
})"""


def visit(page, watcher: Watcher, server: str, page_name: str, size: str, axe) -> Visit:
    """One page at one size: what it shows, its screenshot and its axe audit."""
    viewport, _, axe_options = SIZES[size]
    visit = watcher.visit = Visit()
    response = page.goto(server + page_name, wait_until="load")
    if response is None or response.status != 200:
        visit.load_problems.append(f"HTTP {response.status if response else None}")
    seen = page.evaluate(INSPECT)
    visit.links = seen["links"]
    visit.ids = set(seen["ids"])
    visit.solutions = seen["solutions"]
    visit.formulas = len(seen["math"])
    for image in seen["images"]:
        if not image["loaded"]:
            visit.image_problems.append(f"image did not load: {image['src']}")
        if not image["alt"]:
            visit.image_problems.append(f"image without alt text: {image['html']}")
    visit.math_problems = [f"math {math['problem']}: {math['html']}" for math in seen["math"] if math["problem"]]
    visit.buttons = page.evaluate(BUTTONS)
    visit.scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if visit.scroll_width > viewport["width"]:
        visit.wide_elements = page.evaluate(WIDE)
    visit.cpu_notes = page.evaluate(CPU_NOTES)
    shot = page_name.removesuffix(".html").replace("/", "__")
    page.screenshot(path=SHOTS / f"{shot}-{size}.jpeg", full_page=True, quality=85)
    if size == "desktop":
        # After the screenshot (which shows them closed): open every solution, so that axe checks their content too.
        check_solutions(page, visit)
        # Let the toggles' fade-in end: axe measures the contrast of text as drawn, and half-faded text fails it.
        page.evaluate(FINISH_ANIMATIONS)
    visit.auditing = True
    visit.axe = axe.run(page, options=axe_options).response["violations"]
    return visit


def visit_pages(server: str, pages: list[str]) -> dict[str, dict[str, Visit]]:
    """These pages at both sizes, in a browser of its own (its own thread: see ``visits``)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (installs Debian's chromium-headless-shell).")
    axe = Axe()
    found: dict[str, dict[str, Visit]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for size, (viewport, scheme, _) in SIZES.items():
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                watcher = Watcher(page, server)
                found[size] = {name: visit(page, watcher, server, name, size, axe) for name in pages}
                context.close()
        finally:
            browser.close()
    return found


@pytest.fixture(scope="module")
def visits(server) -> dict[str, tuple[Visit, Visit]]:
    """Every page visited at desktop width (light scheme) and at phone width (dark). Half the pages each, in two
    threads with a Playwright and a browser each (Playwright's sync API is used from one thread only): a visit mostly
    waits on the browser, so two at once take little longer than one."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # This run's screenshots only: none of a page since removed, or of an older format.
    for size in SIZES:
        for old in SHOTS.glob(f"*-{size}.*"):
            old.unlink()
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = list(pool.map(functools.partial(visit_pages, server), [PAGES[0::2], PAGES[1::2]]))
    found = {size: {name: visit for half in halves for name, visit in half[size].items()} for size in SIZES}
    return {page_name: (found["desktop"][page_name], found["phone"][page_name]) for page_name in PAGES}


def assert_none(problems: list[str], what: str) -> None:
    """No problems; else the message counts and lists them all."""
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(f"  {problem}" for problem in problems)


def on_desktop(visits, kind: str) -> list[str]:
    """The problems of this kind (a field of ``Visit``) of every page at 1280 px, each named by its page."""
    return [f"{page_name}: {problem}" for page_name, (wide, _) in visits.items() for problem in getattr(wide, kind)]


def every_visit(visits):
    for page_name, (wide, narrow) in visits.items():
        yield page_name, "1280 px, light", wide
        yield page_name, "375 px, dark", narrow


# --- the tests --------------------------------------------------------------


def test_the_table_of_contents_names_the_pages():
    assert "book/index" in FILES and "book/02-prng-keys" in FILES, FILES
    missing = [page for page in PAGES if not (SITE / page).exists()]
    assert_none(missing, "pages of _toc.yml are not in the built site")


def test_every_page_loads_with_no_console_error_and_no_failed_request(visits):
    problems = [
        f"{page_name} ({how}): {problem}"
        for page_name, how, visit in every_visit(visits)
        for problem in visit.load_problems
    ]
    assert_none(problems, "problems")


def test_no_page_needs_anything_from_outside_the_site(visits):
    """External requests are blocked; a page that makes one needs the internet to work."""
    problems = {
        f"{page_name}: requested {url}"
        for page_name, _, visit in every_visit(visits)
        for url in visit.external_requests
    }
    assert_none(sorted(problems), "requests for resources outside the site (blocked)")


def test_every_image_loads_and_has_alt_text(visits):
    assert_none(on_desktop(visits, "image_problems"), "image problems")


def test_every_formula_is_typeset(visits):
    assert_none(on_desktop(visits, "math_problems"), "formulas not rendered")
    assert any(wide.formulas for wide, _ in visits.values()), "no page has a formula: did the math class change?"


def test_solutions_are_hidden_until_their_toggle_is_clicked(visits):
    exercise_pages = [name for name, (wide, _) in visits.items() if wide.solutions]
    assert exercise_pages, "no page has a solution (.solution): the exercise pages have changed"
    assert_none(on_desktop(visits, "solution_problems"), "solution toggle problems")


def test_every_cpu_dependent_cell_shows_a_note_linking_to_its_explanation(visits):
    explained = "12-reproducibility-across-versions.html#cpu-dependent-outputs"
    problems = []
    for page_name, how, visit in every_visit(visits):
        source = source_of(page_name)
        tagged = len(re.findall(r"^:?tags: \[[^]]*\bcpu-dependent\b", source.read_text(), re.M)) if source else 0
        if len(visit.cpu_notes) != tagged:
            problems.append(
                f"{page_name} ({how}): {tagged} cells tagged cpu-dependent in the source, "
                f"{len(visit.cpu_notes)} on the page"
            )
        for index, href in enumerate(visit.cpu_notes):
            if href is None or not urljoin(page_name, href).endswith(explained):
                note = "missing" if href is None else "links to " + repr(href)
                problems.append(f"{page_name} ({how}): tagged cell {index}: note {note}")
    assert_none(problems, "CPU-dependence notes")
    tagged_cells = sum(len(wide.cpu_notes) for wide, _ in visits.values())
    assert tagged_cells, "no page has a cell tagged cpu-dependent: has the tag's class changed?"


def test_the_repository_and_binder_buttons_follow_the_configuration(visits):
    """The repository button is _config.yml's repository; a chapter's Binder button opens
    its learner notebook (where tests/test_binder.py opens it) on that repository's branch."""
    repository = CONFIG["repository"]
    url = repository["url"].rstrip("/")
    binder = f"/v2/gh/{urlsplit(url).path.strip('/')}/{repository['branch']}?urlpath="
    problems = []
    for page_name in (f"{name}.html" for name in FILES):
        buttons = visits[page_name][0].buttons
        if buttons["repository"] != url:
            problems.append(f"{page_name}: repository button is {buttons['repository']}, not {url}")
        if code_cells(source_of(page_name)):
            expected = binder + launch_path(source_of(page_name))
            if not (buttons["binder"] or "").endswith(expected):
                problems.append(f"{page_name}: Binder button is {buttons['binder']}, not ...{expected}")
    assert_none(problems, "button problems")


def test_no_page_scrolls_sideways_on_a_phone(visits):
    problems = [
        f"{page_name}: the page is {narrow.scroll_width} px wide at 375 px; too wide: "
        + ("; ".join(narrow.wide_elements) or "(no single element found)")
        for page_name, (_, narrow) in visits.items()
        if narrow.scroll_width > PHONE["width"]
    ]
    assert_none(problems, "pages that scroll horizontally")


def test_no_serious_or_critical_accessibility_violations(visits):
    problems = []
    for page_name, how, visit in every_visit(visits):
        for violation in visit.axe:
            if violation["impact"] in ("serious", "critical"):
                targets = ", ".join(str(node["target"]) for node in violation["nodes"][:5])
                problems.append(
                    f"{page_name} ({how}): {violation['id']} ({violation['impact']}): "
                    f"{violation['help']}; {len(violation['nodes'])} element(s): {targets}"
                )
    assert_none(problems, "axe-core violations")


def test_internal_links_and_anchors_resolve(visits, server):
    """Every link within the site points at a file that exists, and at an id in it."""
    problems, external = set(), set()
    for page_name, (wide, _) in visits.items():
        for link in wide.links:
            if not link.startswith(server):
                if link.startswith(("http:", "https:")):
                    external.add(f"{link}\t{page_name}")
                continue
            target, fragment = urldefrag(link)
            path = unquote(urlsplit(target).path).lstrip("/")
            file = SITE / path
            if path == "" or file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                problems.add(f"{page_name}: broken link to {path or '/'}")
                continue
            if fragment and file.suffix == ".html":
                fragment = unquote(fragment)
                ids = wide.ids if file == SITE / page_name else static_ids(file)
                if fragment not in ids:
                    problems.add(f"{page_name}: link to {path}#{fragment}: no such id in {file.relative_to(SITE)}")
    (SHOTS / "external-links.txt").write_text(
        "# External links of the site (URL, then the page): listed, never fetched.\n"
        + "".join(f"{line}\n" for line in sorted(external))
    )
    assert_none(sorted(problems), "broken internal links")


def test_learner_notebooks_link_to_pages_and_sections_that_exist():
    """The learner notebooks (book/*.ipynb, made by make book) link the site's pages and sections where the chapters
    have {doc}, {ref} and {term}: each link lands on an id of the built site; one to another notebook names one made."""
    import nbformat

    site_url = CONFIG["html"]["baseurl"].rstrip("/") + "/"
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    assert notebooks, "no learner notebooks in book/: run `make book`"
    problems, checked = [], 0
    for notebook in notebooks:
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for link in re.findall(r"\]\(([^)\s]+)\)", cell.source):
                checked += 1
                if link.startswith(site_url):
                    target, fragment = urldefrag(link)
                    file = SITE / target.removeprefix(site_url)
                    if not file.is_file():
                        problems.append(f"{notebook.name}: {link}: no {file.relative_to(SITE)} in the site")
                    elif fragment and fragment not in static_ids(file):
                        problems.append(f"{notebook.name}: {link}: no id {fragment!r} in {file.relative_to(SITE)}")
                elif not link.startswith(("http:", "https:")) and not (notebook.parent / link).is_file():
                    problems.append(f"{notebook.name}: {link}: no such notebook")
    assert checked, "the learner notebooks have no links: is the link pattern out of date?"
    assert_none(problems, "broken links in learner notebooks")


def test_learner_notebooks_quote_only_values_glued_above():
    """A notebook runs from top to bottom: on Binder, a sentence can show only a value that a cell above it glued (the
    site, built whole, shows any). Which cell glued each value is read from the build's execution cache (the executed
    notebooks in _build/jupyter_execute lose their glue outputs), whose code cells are the learner notebook's, in
    order, after its setup cell."""
    import nbformat
    from jupyter_cache import get_cache

    from scripts.learner_notebooks import QUOTE, SETUP_CELL

    cache = get_cache(SITE.parent / ".jupyter_cache")
    # Page name -> its last execution (the cache may hold older ones).
    records = sorted(cache.list_cache_records(), key=lambda record: record.accessed)
    executions = {Path(record.uri).stem: record for record in records}
    problems, quoted = [], 0
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        assert notebook.stem in executions, f"{notebook.stem} is not in the execution cache: run `make book`"
        bundle = cache.get_cache_bundle(executions[notebook.stem].pk)
        code = [cell for cell in bundle.nb.cells if cell.cell_type == "code"]
        glued_by = {}  # name -> index of the code cell that glued it first
        for index, cell in enumerate(code):
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name is not None:
                    glued_by.setdefault(name, index)
        above = 0  # the chapter's code cells above the current cell
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "code":
                above += cell.source != SETUP_CELL
                continue
            for name in (quote["name"] for quote in QUOTE.finditer(cell.source)):
                quoted += 1
                if glued_by.get(name, len(code)) >= above:
                    where = f"code cell {glued_by[name] + 1}" if name in glued_by else "no cell"
                    problems.append(
                        f"{notebook.name}: a sentence after code cell {above} quotes {name!r}, glued by {where}"
                    )
    assert quoted, "no glued values quoted in the learner notebooks: is the pattern out of date?"
    assert_none(problems, "values quoted before they are glued")
