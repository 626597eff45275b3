"""A pytest plugin that makes nbval check what this book promises.

Loaded by `make test` as ``-p scripts.nbval_strict`` next to ``--nbval``. It adds
four things to stock nbval:

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
4. Another CPU, simulated. When ``XLA_FLAGS`` caps the instruction set
   (``--xla_cpu_max_isa=...``: ``make nbval`` caps it at AVX2 on a CPU with
   AVX-512, ``make portability`` at AVX), every cell must still reproduce
   exactly, except in one case: without fused multiply-add (``AVX`` or
   ``SSE4_2``) on a machine that has it, the cells tagged ``cpu-dependent``
   must differ, and only they may. A tagged cell that reproduces fails (the tag
   is wrong), and so does an untagged cell that differs (a CPU dependence the
   page does not declare). A cap that takes nothing away from this CPU (AVX on
   a CPU without FMA) would only repeat plain nbval, and a machine that is not
   x86 has none of these instruction sets: the run is skipped, and says so.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

from dl_workshop.cpus import ISAS_WITHOUT_FMA, cap_changes_nothing, host_cpu_flags, isa_cap, on_x86

FIGURE_TYPES = ("image/png", "image/jpeg")
CPU_TAG = "cpu-dependent"
DIFFERS_AS_DECLARED = (CPU_TAG, "differs, as declared")  # in user_properties: a tagged cell passed by differing

# This run's cap on XLA's instruction set (None: this CPU's best), and whether
# it takes away the fused multiply-add that this CPU has. Fixed for the run.
XLA_FLAGS = os.environ.get("XLA_FLAGS")
CAP = isa_cap(XLA_FLAGS)
FMA_REMOVED = CAP in ISAS_WITHOUT_FMA and "fma" in host_cpu_flags()


def pytest_report_header(config: pytest.Config) -> str | None:
    if CAP is None:
        return None
    if FMA_REMOVED:
        return (
            f"XLA compiles for {CAP} (no fused multiply-add, which this CPU has): cells tagged "
            f"'{CPU_TAG}' must differ from the reference, every other cell must equal it"
        )
    return f"XLA compiles for {CAP}: every cell must equal the reference exactly"


def unexecuted_cells(path: Path) -> list[int]:
    """Indexes of the code cells of a notebook that have source but were never executed."""
    return [
        index
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Skip a capped run that cannot differ from plain nbval, and refuse unexecuted reference notebooks."""
    config = session.config
    if not config.option.nbval or hasattr(config, "workerinput"):
        return
    if CAP is not None and not on_x86():
        pytest.exit(
            f"skipped: --xla_cpu_max_isa names x86 instruction sets; this machine is {platform.machine()}",
            returncode=0,
        )
    if CAP is not None and cap_changes_nothing(CAP, host_cpu_flags()):
        pytest.exit(
            f"skipped: this CPU has nothing newer than {CAP}, so XLA compiles the same code with "
            f"XLA_FLAGS={XLA_FLAGS} as without it (plain nbval checks that code)",
            returncode=0,
        )
    notebooks = []
    for arg in config.args:
        path = Path(arg.split("::")[0])
        notebooks += sorted(path.rglob("*.ipynb")) if path.is_dir() else [path]
    refused = [
        f"  {notebook}: code cells {cells} have no execution count"
        for notebook in notebooks
        if notebook.suffix == ".ipynb"
        and ".ipynb_checkpoints" not in notebook.parts
        and (cells := unexecuted_cells(notebook))
    ]
    if refused:
        raise pytest.UsageError(
            "refusing to run nbval on reference notebooks that were never executed "
            "(nbval would compare nothing and pass):\n" + "\n".join(refused) + "\n"
            "A build that hits the execution cache writes such notebooks. Build from "
            "a clean _build, as `make test` does, so that every page is executed."
        )


def strict_compare(cell: IPyNbCell, glued: dict[str, Any]):
    """``cell.compare_outputs``, which also checks glue outputs against ``glued`` and, in a capped run,
    that the cell differs from its reference if and only if it is tagged ``cpu-dependent`` (without FMA)."""
    compare_outputs = cell.compare_outputs
    declared = FMA_REMOVED and CPU_TAG in cell.cell.metadata.get("tags", [])

    def equal(test: list, ref: list, skip_compare: tuple | None) -> bool:
        shown = []
        for output in test:
            record = output.get("metadata", {}).get("scrapbook")
            if record is None:
                shown.append(output)
                continue
            name, prefix = record["name"], record.get("mime_prefix", "")
            now = {mime.removeprefix(prefix): cell.sanitize(v) for mime, v in output["data"].items()}
            before = {mime: cell.sanitize(v) for mime, v in glued.get(name, {}).get("data", {}).items()}
            if now != before:
                cell.comparison_traceback = []
                cell.format_output_compare(f"glued value {name}", before, now)
                return False
        return compare_outputs(shown, ref, skip_compare)

    def compare(test: list, ref: list, skip_compare: tuple | None = None) -> bool:
        same = equal(test, ref, skip_compare)
        if declared:
            if same:
                cell.comparison_traceback = [
                    f"The cell is tagged '{CPU_TAG}', but without fused multiply-add ({XLA_FLAGS}) its outputs "
                    "equal the reference: remove the tag from the chapter's cell."
                ]
            else:
                cell.user_properties.append(DIFFERS_AS_DECLARED)
            return not same
        if same or CAP is None:
            return same
        if FMA_REMOVED:
            cell.comparison_traceback.append(
                f"\nThis cell is not tagged '{CPU_TAG}', yet its outputs differ when XLA compiles for another CPU "
                f"({XLA_FLAGS}). If the difference is the expected effect of fused multiply-add, tag the cell "
                "and say so on the page (chapter 12 explains it)."
            )
        else:
            cell.comparison_traceback.append(
                f"\nWith XLA_FLAGS={XLA_FLAGS} every cell must equal the reference exactly. "
                "`make nbval NBVAL_CAP=` runs nbval without the cap: a cell that differs there too does not "
                "reproduce on this CPU either."
            )
        return False

    return compare


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make every collected notebook compare its figures and glued values too."""
    for notebook in {item.parent for item in items if isinstance(item.parent, IPyNbFile)}:
        notebook.skip_compare = tuple(k for k in notebook.skip_compare if k not in FIGURE_TYPES)
    cells = [item for item in items if isinstance(item, IPyNbCell)]
    glue_files = {cell.parent.path.with_suffix(".glue.json") for cell in cells}
    glued = {path: json.loads(path.read_text()) if path.exists() else {} for path in glue_files}
    for cell in cells:
        cell.compare_outputs = strict_compare(cell, glued[cell.parent.path.with_suffix(".glue.json")])


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """List the cells that differed as their tag declares (a run without FMA)."""
    passed = terminalreporter.stats.get("passed", [])
    differed = sorted(report.nodeid for report in passed if DIFFERS_AS_DECLARED in report.user_properties)
    if differed:
        terminalreporter.section(f"cells tagged '{CPU_TAG}' that differ without FMA, as declared")
        for nodeid in differed:
            terminalreporter.line(nodeid)
