"""The learner notebooks (scripts/learner_notebooks.py): each chapter as Binder opens it.

The chapters' MyST is either rendered by jupyterlab-myst as written, or turned
into something it renders; nothing is left raw and nothing is lost. What the
notebooks look like in JupyterLab, after Run All, is tests/test_binder.py's.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from dl_workshop import jax_idioms
from scripts.learner_notebooks import (
    ROOT,
    SETUP_CELL,
    Book,
    UnsupportedConstruct,
    learner_notebook,
    term_anchor,
    write_learner_notebooks,
)

SITE = "https://example.org/course/"
# Left in a learner notebook's markdown only: {eval} and the directives jupyterlab-myst renders.
RAW_ROLE = re.compile(r"\{(?!eval\})[a-z][a-z:-]*\}`")
RAW_DIRECTIVE = re.compile(
    r"^[ \t]*(`{3,}|:{3,})\{(?!admonition|exercise-start|exercise-end|solution-start|solution-end)", re.MULTILINE
)
PAGES = sorted(Book(ROOT).notebooks)


def sources(notebook, cell_type: str) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == cell_type]


# --- the course's own chapters -------------------------------------------------------
@pytest.fixture(scope="module")
def course() -> Book:
    return Book(ROOT)


def test_every_page_with_code_gets_a_notebook_and_only_those(course):
    assert "book/05-brownian-motion-on-a-grid" in course.notebooks
    assert "book/glossary" in course.pages and "book/glossary" not in course.notebooks
    for page in course.pages:
        has_code = any(cell.cell_type == "code" for cell in jupytext.read(ROOT / f"{page}.md", fmt="md:myst").cells)
        assert (page in course.notebooks) == has_code, page


@pytest.mark.parametrize("page", PAGES)
def test_a_chapter_leaves_no_myst_that_jupyterlab_shows_raw(course, page):
    for source in sources(learner_notebook(course, page), "markdown"):
        # Roles inside code (how-to text that shows MyST syntax) are not roles.
        prose = re.sub(r"(`+).+?\1", "", re.sub(r"^```(?!\{).*?^```", "", source, flags=re.MULTILINE | re.DOTALL))
        assert not RAW_ROLE.search(prose), f"{page}: a role is left raw in:\n{source[:800]}"
        assert not RAW_DIRECTIVE.search(source), f"{page}: a directive is left raw in:\n{source[:800]}"


@pytest.mark.parametrize("page", PAGES)
def test_a_chapter_keeps_its_code_cells_and_every_glued_value(course, page):
    chapter = jupytext.read(ROOT / f"{page}.md", fmt="md:myst")
    notebook = learner_notebook(course, page)
    glued = len(re.findall(r"\{glue(?::text)?\}`", (ROOT / f"{page}.md").read_text()))
    evals = sum(source.count("{eval}`glued(") for source in sources(notebook, "markdown"))
    assert evals == glued, f"{page}: {glued} glued values in the chapter, {evals} in the notebook"
    setup = [SETUP_CELL] if glued else []
    assert sources(notebook, "code") == setup + sources(chapter, "code")


def test_the_theme_links_every_chapter_to_its_notebook():
    """The Binder button opens ``<page>.ipynb`` if it exists as the book is built: make book writes them first."""
    makefile = (ROOT / "Makefile").read_text()
    build = makefile[makefile.index("define build_site") :]
    assert build.index("scripts/learner_notebooks.py") < build.index("scripts/jb_build.py")
    assert "python scripts/learner_notebooks.py" in (ROOT / ".binder" / "postBuild").read_text()


# --- each construct, on a small book --------------------------------------------------
@pytest.fixture
def book(tmp_path) -> Book:
    """A two-page book: a chapter (written by each test) and a glossary without code."""
    (tmp_path / "_config.yml").write_text(f"html:\n  baseurl: {SITE}\n")
    (tmp_path / "_toc.yml").write_text("root: book/a\nchapters:\n  - file: book/glossary\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "glossary.md").write_text("(words)=\n# Glossary\n\nNo code here.\n")
    (tmp_path / "pkg.py").write_text(inspect.getsource(jax_idioms))
    return tmp_path


def convert(root: Path, markdown: str, code: str = "x = 1", **cell_options: str) -> nbformat.NotebookNode:
    options = "".join(f"{key}: {value}\n" for key, value in cell_options.items())
    options = f"---\n{options}---\n" if options else ""
    (root / "book" / "a.md").write_text(
        "(start)=\n# Page A\n\n" + textwrap.dedent(markdown) + f"\n```{{code-cell}} ipython3\n{options}{code}\n```\n"
    )
    return learner_notebook(Book(root), "book/a")


@pytest.mark.parametrize(
    ("markdown", "converted"),
    [
        pytest.param(
            "Mean {glue:text}`sample_mean:.3f`, count {glue:text}`n`, raw {glue}`v`.\n",
            'Mean {eval}`glued("sample_mean", ".3f")`, count {eval}`glued("n")`, raw {eval}`glued("v")`.',
            id="a glued value becomes an eval of the same name and format",
        ),
        pytest.param(
            "{doc}`again <a>`, {doc}`glossary`, {ref}`start`, {ref}`here <words>`, "
            "{term}`PRNG key`, {term}`keys <carry>`.\n",
            f"[again](a.ipynb), [Glossary]({SITE}book/glossary.html), [Page A]({SITE}book/a.html#start), "
            f"[here]({SITE}book/glossary.html#words), [PRNG key]({SITE}book/glossary.html#term-PRNG-key), "
            f"[keys]({SITE}book/glossary.html#term-carry).",
            id="links go to notebooks where there is code and to the site elsewhere",
        ),
        pytest.param(
            "```{rubric} Hints\n```\n\n1. In a list:\n\n"
            "   ```{literalinclude} ../pkg.py\n   :pyobject: grid_step\n   ```\n",
            "**Hints**\n\n1. In a list:\n\n   ```python\n"
            + textwrap.indent(inspect.getsource(jax_idioms.grid_step), "   ")
            + "   ```",
            id="a rubric is bold and an included function is its source",
        ),
        pytest.param(
            ":::{admonition} Key points\n:class: tip\nThe mean is {glue:text}`m:.2f`.\n\n"
            "```{rubric} Inside\n```\n:::\n",
            ':::{admonition} Key points\n:class: tip\nThe mean is {eval}`glued("m", ".2f")`.\n\n**Inside**\n:::',
            id="directives jupyterlab renders are kept with what is inside converted",
        ),
        pytest.param(
            "Write `` {glue:text}`name:.3f` `` in prose, or:\n\n```md\n{doc}`x`\n```\n",
            "Write `` {glue:text}`name:.3f` `` in prose, or:\n\n```md\n{doc}`x`\n```",
            id="syntax shown as code is left as written",
        ),
    ],
)
def test_markdown_becomes_what_jupyterlab_renders(book, markdown, converted):
    assert sources(convert(book, markdown), "markdown") == [f"(start)=\n# Page A\n\n{converted}"]


def test_hidden_cells_are_collapsed_and_a_caption_follows_its_figure(book):
    notebook = convert(book, "Text.\n", tags="[remove-cell]")
    assert notebook.cells[-1].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    notebook = convert(book, "Text.\n", mystnb="\n  figure:\n    caption: A walk of {glue:text}`n` steps.")
    assert notebook.cells[-1].cell_type == "markdown"
    assert notebook.cells[-1].source == '*A walk of {eval}`glued("n")` steps.*'


@pytest.mark.parametrize(
    ("markdown", "named"),
    [
        ("```{figure} x.png\n```\n", "the directive {figure}"),
        ("See {numref}`fig-a`.\n", "the role {numref}"),
        ("{doc}`missing`\n", "{doc} to 'missing'"),
        ("```{literalinclude} ../pkg.py\n:lines: 1-3\n```\n", "{literalinclude} with lines"),
        ("From elsewhere: {glue:text}`other.md::x`.\n", "a value glued on another page"),
    ],
)
def test_a_construct_without_a_learner_form_fails_and_says_where(book, markdown, named):
    with pytest.raises(UnsupportedConstruct) as failure:
        convert(book, markdown)
    assert str(failure.value).startswith("book/a.md: ") and named in str(failure.value)


def test_notebooks_are_written_once_with_stable_ids(book):
    convert(book, "Text.\n")
    (path,) = write_learner_notebooks(book)
    first, stamp = path.read_text(), path.stat().st_mtime_ns
    assert write_learner_notebooks(book) == [path]
    assert path.read_text() == first and path.stat().st_mtime_ns == stamp
    assert [cell.id for cell in nbformat.read(path, 4).cells] == ["cell-0", "cell-1"]


def test_glossary_anchors_follow_sphinx():
    assert term_anchor("carry") == "term-carry"
    assert term_anchor("PRNG key") == "term-PRNG-key"
    assert term_anchor("vmap (vectorising map)") == "term-vmap-vectorising-map"


def test_the_setup_cell_gives_each_glued_value_as_the_site_formats_it():
    """In a real kernel, so that an upgrade breaking what the setup cell uses fails here:
    myst-nb's ``format_plain_text`` (its {glue:text} formatting) and ipykernel's display hooks."""
    cells = [
        SETUP_CELL,
        "from myst_nb import glue\nglue('mean', 0.123456, display=False)\nglue('n', 100000)",
        "print(glued('mean', '.3f'), glued('n', ','), glued('n'), glued('later'), sep='|')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    # As nbval in the Makefile: a kernel may take minutes to start beside the Binder test.
    NotebookClient(notebook, timeout=300, startup_timeout=300, kernel_name="python3").execute()
    printed = notebook.cells[2].outputs[0]["text"].strip()
    assert printed == "0.123|100,000|100000|(run the cells above to see later)"


def test_a_chapters_source_is_its_myst_not_the_learner_notebook_beside_it(tmp_path, monkeypatch):
    """The tests and benchmarks that read chapters (scripts.book_site.source_file) read the MyST."""
    from scripts import book_site

    (tmp_path / "book").mkdir()
    for suffix in (".md", ".ipynb"):
        (tmp_path / "book" / f"chapter{suffix}").write_text("")
    monkeypatch.setattr(book_site, "ROOT", tmp_path)
    assert book_site.source_file("book/chapter") == tmp_path / "book" / "chapter.md"
