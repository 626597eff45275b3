"""A pytest plugin that makes nbval check what this book promises.

Loaded by `make test` as ``-p scripts.nbval_strict`` next to ``--nbval``. It adds
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
4. Another CPU, simulated. When ``XLA_FLAGS`` caps the instruction set
   (``--xla_cpu_max_isa=...``, as ``make portability`` does), every cell must
   still reproduce exactly, except in one case: without fused multiply-add
   (``AVX`` or ``SSE4_2``) on a machine that has it, the cells tagged
   ``cpu-dependent`` must differ, and only they may. A tagged cell that
   reproduces fails (the tag is wrong), and so does an untagged cell that
   differs (a CPU dependence the page does not declare). A cap that takes
   nothing away from this CPU (AVX2 on a CPU without AVX-512) would only repeat
   plain nbval, and a machine that is not x86 has none of these instruction
   sets: the run is skipped, and says so.
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

from dl_workshop.reproducibility import ISAS_WITHOUT_FMA, cap_changes_nothing, host_cpu_flags, isa_cap, on_x86

FIGURE_TYPES = ("image/png", "image/jpeg")
CPU_TAG = "cpu-dependent"


# This run's cap on XLA's instruction set (None: this CPU's best), and whether
# it takes away the fused multiply-add that this CPU has. Fixed for the run.
CAP = isa_cap(os.environ.get("XLA_FLAGS"))
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
    if CAP is not None and not on_x86():
        pytest.exit(
            f"skipped: --xla_cpu_max_isa names x86 instruction sets; this machine is {platform.machine()}",
            returncode=0,
        )
    if CAP is not None and cap_changes_nothing(CAP, host_cpu_flags()):
        # The same instructions as the build's: the run would repeat plain nbval.
        pytest.exit(
            f"skipped: this CPU has nothing newer than {CAP}, so XLA compiles the same code with "
            f"XLA_FLAGS={os.environ['XLA_FLAGS']} as without it (plain nbval checks that code)",
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


def declared_cpu_dependent(cell: IPyNbCell, compare):
    """Wrap ``compare`` for a ``cpu-dependent`` cell in a run without FMA: it must differ."""

    def differs(test: list, ref: list, skip_compare: tuple | None = None) -> bool:
        if not compare(test, ref, skip_compare):
            cell.user_properties.append((CPU_TAG, "differs, as declared"))
            return True
        cell.comparison_traceback = [
            f"The cell is tagged '{CPU_TAG}', but without fused multiply-add "
            f"({os.environ.get('XLA_FLAGS')}) its outputs equal the reference: "
            "remove the tag from the chapter's cell."
        ]
        return False

    return differs


def undeclared(cell: IPyNbCell, compare):
    """Wrap ``compare`` in a capped run so that a difference says what the tag would mean."""

    def same(test: list, ref: list, skip_compare: tuple | None = None) -> bool:
        if compare(test, ref, skip_compare):
            return True
        if FMA_REMOVED:
            cell.comparison_traceback.append(
                f"\nThis cell is not tagged '{CPU_TAG}', yet its outputs differ when XLA compiles "
                f"for another CPU ({os.environ.get('XLA_FLAGS')}). If the difference is the expected "
                "effect of fused multiply-add, tag the cell and say so on the page (chapter 12 explains it)."
            )
        else:
            cell.comparison_traceback.append(
                f"\nWith XLA_FLAGS={os.environ.get('XLA_FLAGS')} every cell must equal the reference exactly."
            )
        return False

    return same


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
            if CAP is None:
                continue
            if FMA_REMOVED and CPU_TAG in item.cell.metadata.get("tags", []):
                item.compare_outputs = declared_cpu_dependent(item, item.compare_outputs)
            else:
                item.compare_outputs = undeclared(item, item.compare_outputs)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """List the cells that differed as their tag declares (a run without FMA)."""
    differed = [
        report.nodeid
        for report in terminalreporter.stats.get("passed", [])
        if (CPU_TAG, "differs, as declared") in report.user_properties
    ]
    if differed:
        terminalreporter.section(f"cells tagged '{CPU_TAG}' that differ without FMA, as declared")
        for nodeid in sorted(differed):
            terminalreporter.line(nodeid)
