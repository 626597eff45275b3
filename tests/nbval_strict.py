"""A pytest plugin that makes nbval check what this book promises.

Loaded by `make test` as ``-p tests.nbval_strict`` next to ``--nbval``. It adds
two things to stock nbval:

1. Figures are compared byte for byte. Stock nbval skips ``image/png`` and
   ``image/jpeg`` unless ``--nbdime`` is given (which does not work under pytest
   9). Matplotlib's Agg PNGs are byte-identical across runs with pinned versions.
2. Reference notebooks must be executed. A jupyter-book build that hit its
   execution cache writes notebooks with no outputs; nbval would compare nothing
   and pass. Such notebooks are refused before anything runs, each named.
3. Glued values are compared too. myst-nb moves every ``glue`` output out of
   the executed notebook into ``<page>.glue.json`` (the prose's numbers come
   from there), so stock nbval would see "unexpected output fields". Each glue
   output of the new run is compared with its entry in that file instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

FIGURE_TYPES = ("image/png", "image/jpeg")


def unexecuted_cells(path: Path) -> list[int]:
    """Indexes of the code cells of a notebook that have source but were never executed."""
    notebook = nbformat.read(path, as_version=4)
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse, before anything runs, reference notebooks that were never executed."""
    config = session.config
    if not config.option.nbval or hasattr(config, "workerinput"):
        return
    notebooks = []
    for arg in config.args:
        path = Path(arg.split("::")[0])
        notebooks += sorted(path.rglob("*.ipynb")) if path.is_dir() else [path]
    refused = [
        f"  {notebook}: code cells {cells} have no execution count"
        for notebook in notebooks
        if notebook.suffix == ".ipynb" and ".ipynb_checkpoints" not in notebook.parts
        and (cells := unexecuted_cells(notebook))
    ]
    if refused:
        raise pytest.UsageError(
            "refusing to run nbval on reference notebooks that were never executed "
            "(nbval would compare nothing and pass):\n" + "\n".join(refused) + "\n"
            "A build that hits the execution cache writes such notebooks. Build from "
            "a clean _build, as `make test` does, so that every page is executed."
        )


def compare_glue_then_outputs(cell: IPyNbCell, glued: dict[str, Any]):
    """Wrap ``cell.compare_outputs`` so that glue outputs are checked against ``glued``."""
    compare_outputs = cell.compare_outputs

    def compare(test: list, ref: list, skip_compare: tuple | None = None) -> bool:
        shown = []
        for output in test:
            record = output.get("metadata", {}).get("scrapbook")
            if record is None:
                shown.append(output)
                continue
            prefix = record.get("mime_prefix", "")
            now = {mime.removeprefix(prefix): cell.sanitize(v) for mime, v in output["data"].items()}
            reference = glued.get(record["name"], {}).get("data", {})
            before = {mime: cell.sanitize(v) for mime, v in reference.items()}
            if now != before:
                cell.comparison_traceback = []
                cell.format_output_compare(f"glued value {record['name']}", before, now)
                return False
        return compare_outputs(shown, ref, skip_compare)

    return compare


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make every collected notebook compare its figures and glued values too."""
    for notebook in {item.parent for item in items if isinstance(item.parent, IPyNbFile)}:
        notebook.skip_compare = tuple(k for k in notebook.skip_compare if k not in FIGURE_TYPES)
    glue_files: dict[Path, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            glue_file = item.parent.path.with_suffix(".glue.json")
            if glue_file not in glue_files:
                glue_files[glue_file] = json.loads(glue_file.read_text()) if glue_file.exists() else {}
            item.compare_outputs = compare_glue_then_outputs(item, glue_files[glue_file])
