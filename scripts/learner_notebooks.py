"""Learner notebooks: every chapter as a Jupyter notebook that reads like the site.

The chapters are MyST markdown (``book/*.md``), which Jupyter Book executes
and renders. On Binder, learners open them in JupyterLab, where the
jupyterlab-myst extension renders most of MyST: headings, math, admonitions,
the exercise and solution boxes, and the ``{eval}`` role, which shows the
value of a Python expression computed by the notebook's kernel. For every
page of ``_toc.yml`` that has code cells, this script writes
``book/<page>.ipynb`` beside its source, with the same cells and only what
JupyterLab cannot render replaced:

========================================  =====================================================
in the chapter                            in the learner notebook
========================================  =====================================================
``{glue:text}`name:spec```, ``{glue}``    ``{eval}`glued("name", "spec")```: after Run All, the
                                          value that this notebook's cells glued, formatted as
                                          the site formats it (the setup cell below)
``{doc}`text <page>```                    a link to that page's notebook, or to the site's page
                                          if it has no code
``{ref}`` and ``{term}``                  a link to the section or glossary entry on the site
``{rubric}``                              a line in bold
``{literalinclude}`` with ``:pyobject:``  that function's source, as a code block
a figure's caption (``mystnb.figure``)    an italic line under its cell
cells tagged remove-*/hide-*              collapsed (still run: some check the prose)
========================================  =====================================================

Anything else that jupyterlab-myst cannot render is an error here, naming the
page and the construct, so that a new construct in a chapter is dealt with
before a learner meets it raw. The site's theme links a chapter's Binder
button to ``<page>.ipynb`` when that file exists when the book is built (it
is excluded from the book's sources), so `make book` writes them first, and
Binder's ``postBuild`` writes them again in the image.

Usage: ``python scripts/learner_notebooks.py [ROOT]`` (the repository root; default: this one).
"""

from __future__ import annotations

import ast
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

# The first code cell of a notebook that glues values. Its source is collapsed.
SETUP_CELL = '''\
# Setup for the sentences of this notebook (Binder). On the course site, the
# numbers in the sentences are filled in when the book is built, from values
# that the cells below glue with myst_nb's `glue(name, value)`. Here, this
# cell keeps each glued value as the cells run, and the sentences show them
# with `glued(name, format)` (jupyterlab-myst's {eval} role) after you run
# the notebook (Run > Run All Cells): the same numbers, formatted the same way.
from IPython import get_ipython
from myst_nb.core.variables import format_plain_text

_glued = {}


def _keep_glued(message):
    content = message.get("content", {})
    record = content.get("metadata", {}).get("scrapbook")
    if record:
        _glued[record["name"]] = content["data"][record["mime_prefix"] + "text/plain"]
    return message


get_ipython().display_pub.register_hook(_keep_glued)


def glued(name, spec=""):
    """The value glued as `name`, formatted as the site's {glue:text}`name:spec` shows it."""
    if name not in _glued:
        return f"(run the cells above to see {name})"
    return format_plain_text(_glued[name], spec)'''

# A glued value as a learner notebook quotes it (what Page.role writes): its name and format.
QUOTE = re.compile(r'\{eval\}`glued\("(?P<name>[^"]+)"(?:, "(?P<spec>[^"]*)")?\)`')
ROLE = re.compile(r"\{(?P<name>[a-z][a-z:-]*)\}`(?P<body>[^`]+)`")
# A role, or code that may show a role's syntax without being one (left as written):
# a fenced block without a directive, or an inline code span.
ROLE_OR_CODE = re.compile(
    ROLE.pattern + r"|(?P<code>^(?P<codefence>`{3,}|~{3,})(?!\{).*?^(?P=codefence)[ \t]*$|(?P<ticks>`+).+?(?P=ticks))",
    re.MULTILINE | re.DOTALL,
)
# A directive in a backtick or colon fence: ```{name} argument, options (:key: value), body, closing fence.
# (Indented when inside a list item: the indent is kept.)
DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z][a-z:-]*)\}[ \t]*(?P<argument>[^\n]*)\n"
    r"(?P<options>(?:[ \t]*:[a-z-]+:[^\n]*\n)*)(?P<body>(?:.*?\n)??)(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
# What jupyterlab-myst renders itself: left as written.
RENDERED_DIRECTIVES = {"admonition", "exercise-start", "exercise-end", "solution-start", "solution-end"}
# A code cell's collapsed parts (``metadata.jupyter``) and the tags that collapse each.
HIDDEN_BY = {
    "source_hidden": {"remove-cell", "remove-input", "hide-input", "hide-cell"},
    "outputs_hidden": {"remove-cell", "remove-output", "hide-output", "hide-cell"},
}


class UnsupportedConstruct(ValueError):
    """A MyST construct that JupyterLab cannot render and this script does not convert."""


def toc_files(toc: dict) -> list[str]:
    """Every file of a table of contents (``_toc.yml``), in order: root, parts, chapters, sections."""

    def walk(node: dict) -> Iterator[str]:
        for key in ("parts", "chapters", "sections"):
            for entry in node.get(key, []):
                if "file" in entry:
                    yield entry["file"]
                yield from walk(entry)

    return ([toc["root"]] if "root" in toc else []) + list(walk(toc))


def term_anchor(term: str) -> str:
    """The id Sphinx gives a glossary term: ``term-`` and the term, runs of other characters as one hyphen."""
    ascii_term = unicodedata.normalize("NFKD", term).encode("ascii", "ignore").decode()
    return "term-" + re.sub(r"[^\w.]+", "-", ascii_term).strip("-_.")


class Book:
    """What a page's links need to know about the whole book: its pages, titles, labels and site."""

    def __init__(self, root: Path) -> None:
        self.root = root
        config = yaml.safe_load((root / "_config.yml").read_text())
        self.site = config["html"]["baseurl"].rstrip("/") + "/"
        toc = yaml.safe_load((root / "_toc.yml").read_text())
        self.pages = [
            str(Path(name).with_suffix("")) if name.endswith((".md", ".ipynb")) else name for name in toc_files(toc)
        ]
        self.notebooks: set[str] = set()  # pages that get a learner notebook (they have code cells)
        self.titles: dict[str, str] = {}
        self.labels: dict[str, tuple[str, str]] = {}  # label -> (page, title of what it labels)
        for page in self.pages:
            text = (root / f"{page}.md").read_text()
            if re.search(r"^```\{code-cell\}", text, re.MULTILINE):
                self.notebooks.add(page)
            heading = re.search(r"^# (.+)$", text, re.MULTILINE)
            self.titles[page] = heading.group(1).strip() if heading else page
            for match in re.finditer(r"^\((?P<label>[\w-]+)\)=\n+#+ (?P<title>.+)$", text, re.MULTILINE):
                self.labels[match["label"]] = (page, match["title"].strip())
            for match in re.finditer(r"^:label: (?P<label>[\w-]+)$", text, re.MULTILINE):
                self.labels[match["label"]] = (page, "the exercise")

    def page_url(self, page: str, anchor: str = "") -> str:
        return f"{self.site}{page}.html" + (f"#{anchor}" if anchor else "")


def split_target(body: str) -> tuple[str | None, str]:
    """``text <target>`` -> (text, target); ``target`` -> (None, target)."""
    match = re.fullmatch(r"(?P<text>.*?)\s*<(?P<target>[^<>]+)>", body.strip(), re.DOTALL)
    return (match["text"], match["target"]) if match else (None, body.strip())


class Page:
    """One page's conversion: its markdown, with what JupyterLab cannot render replaced."""

    def __init__(self, book: Book, page: str) -> None:
        self.book, self.page = book, page
        self.source = book.root / f"{page}.md"
        self.glues = 0

    def fail(self, what: str) -> UnsupportedConstruct:
        return UnsupportedConstruct(
            f"{self.source.relative_to(self.book.root)}: {what} has no form that JupyterLab renders; "
            "say in scripts/learner_notebooks.py how a learner notebook shows it"
        )

    def link_to_page(self, text: str | None, target: str) -> str:
        page = target.strip("/") if target.startswith("/") else str((Path(self.page).parent / target).with_suffix(""))
        if page.endswith(".md"):
            page = str(Path(page).with_suffix(""))
        if page not in self.book.titles:
            raise self.fail(f"{{doc}} to {target!r}, which is not a page of _toc.yml,")
        link = f"{Path(page).name}.ipynb" if page in self.book.notebooks else self.book.page_url(page)
        return f"[{text or self.book.titles[page]}]({link})"

    def role(self, match: re.Match) -> str:
        if match["code"]:
            return match.group(0)
        name, body = match["name"], match["body"]
        if name in ("glue:text", "glue"):
            if "::" in body:
                raise self.fail(f"{{{name}}}`{body}` (a value glued on another page)")
            key, _, spec = body.partition(":")
            self.glues += 1
            arguments = f'"{key}", "{spec}"' if spec else f'"{key}"'
            return f"{{eval}}`glued({arguments})`"
        if name == "doc":
            return self.link_to_page(*split_target(body))
        if name == "ref":
            text, label = split_target(body)
            if label not in self.book.labels:
                raise self.fail(f"{{ref}} to the unknown label {label!r}")
            page, title = self.book.labels[label]
            return f"[{text or title}]({self.book.page_url(page, label)})"
        if name == "term":
            text, term = split_target(body)
            return f"[{text or term}]({self.book.page_url('book/glossary', term_anchor(term))})"
        raise self.fail(f"the role {{{name}}}")

    def directive(self, match: re.Match) -> str:
        name, indent = match["name"], match["indent"]
        if name in RENDERED_DIRECTIVES:  # as written, with what is inside converted
            opening = match.group(0)[: match.start("body") - match.start()]
            return opening + DIRECTIVE.sub(self.directive, match["body"]) + indent + match["fence"]
        if name == "rubric":
            return f"{indent}**{match['argument'].strip()}**"
        if name == "literalinclude":
            code = self.included_code(match["argument"].strip(), match["options"])
            return "\n".join(indent + line if line else line for line in code.splitlines())
        raise self.fail(f"the directive {{{name}}}")

    def included_code(self, argument: str, option_lines: str) -> str:
        text = (self.source.parent / argument).resolve().read_text()
        options = dict(re.findall(r"^[ \t]*:([a-z-]+):[ \t]*(.*?)[ \t]*$", option_lines, re.MULTILINE))
        if unknown := set(options) - {"pyobject"}:
            raise self.fail(f"{{literalinclude}} with {', '.join(sorted(unknown))}")
        if "pyobject" in options:
            name = options["pyobject"]
            node = next((node for node in ast.walk(ast.parse(text)) if getattr(node, "name", None) == name), None)
            if node is None:
                raise self.fail(f"{{literalinclude}} of {name!r}, which {argument} does not define,")
            first = min([node.lineno, *(decorator.lineno for decorator in getattr(node, "decorator_list", []))])
            text = "\n".join(text.splitlines()[first - 1 : node.end_lineno]) + "\n"
        return f"```python\n{text}```"

    def markdown(self, text: str) -> str:
        return ROLE_OR_CODE.sub(self.role, DIRECTIVE.sub(self.directive, text))


def learner_notebook(book: Book, page: str) -> nbformat.NotebookNode:
    """The learner notebook of one page (see the module's docstring)."""
    converter = Page(book, page)
    cells = []
    for cell in jupytext.read(converter.source, fmt="md:myst").cells:
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(converter.markdown(cell.source)))
            continue
        metadata = {key: value for key, value in cell.metadata.items() if key in ("tags", "mystnb")}
        tags = set(metadata.get("tags", []))
        if jupyter := {part: True for part, hidden_by in HIDDEN_BY.items() if tags & hidden_by}:
            metadata["jupyter"] = jupyter
        cells.append(nbformat.v4.new_code_cell(cell.source, metadata=metadata))
        if caption := metadata.get("mystnb", {}).get("figure", {}).get("caption"):
            cells.append(nbformat.v4.new_markdown_cell(f"*{converter.markdown(' '.join(caption.split()))}*"))
    if converter.glues:  # before the first code cell: every glue runs after it
        first_code = next(index for index, cell in enumerate(cells) if cell.cell_type == "code")
        cells.insert(first_code, nbformat.v4.new_code_cell(SETUP_CELL, metadata={"jupyter": {"source_hidden": True}}))
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index}"  # stable ids: the same chapter gives the same file
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def write_learner_notebooks(root: Path = ROOT) -> list[Path]:
    """Write ``<page>.ipynb`` for every page with code cells; rewrite only the ones that changed."""
    book = Book(root)
    written = []
    for page in (page for page in book.pages if page in book.notebooks):
        path = root / f"{page}.ipynb"
        text = nbformat.writes(learner_notebook(book, page)) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    try:
        notebooks = write_learner_notebooks(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
    except UnsupportedConstruct as error:
        sys.exit(f"learner_notebooks: {error}")
    print(f"learner_notebooks: {len(notebooks)} learner notebooks ({notebooks[0].parent.name}/*.ipynb)")
