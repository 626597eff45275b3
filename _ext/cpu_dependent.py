"""A note under every cell tagged ``cpu-dependent``: its last digits depend on the CPU.

A chapter declares that a cell's output changes on a CPU without fused
multiply-add by giving the cell the tag ``cpu-dependent`` (``make portability``
checks that exactly those cells change). This extension turns the tag into a
short note after the cell's output, linking to the section of chapter 12 that
measures and explains it, so the note is never typed by hand and never missing.

myst-nb marks a cell by its tags: its container has the class ``tag_<tag>``.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

TAG = "cpu-dependent"
#: The label of the section that explains it (book/12-reproducibility-across-versions.md).
SECTION = "cpu-dependent-outputs"


def note() -> nodes.paragraph:
    """The note: a sentence, then a link to the section."""
    link = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=SECTION, refexplicit=False, refwarn=True)
    link += nodes.inline("", "", classes=["xref", "std", "std-ref"])
    paragraph = nodes.paragraph("", classes=["cpu-dependent-note"])
    paragraph += nodes.strong("", "Depends on the CPU: ")
    paragraph += nodes.Text("the last digits shown here can differ on a CPU without fused multiply-add. See ")
    paragraph += link
    paragraph += nodes.Text(".")
    return paragraph


def add_notes(app: Sphinx, doctree: nodes.document) -> None:
    for cell in doctree.findall(nodes.container):
        if f"tag_{TAG}" in cell["classes"] and cell.get("nb_element") == "cell_code":
            cell += note()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", add_notes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
