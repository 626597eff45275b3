"""`make bench`: measure build, test and solution speed; write _build/bench/report.{md,json}.

Usage: python -m benchmarks.run [--quick]   (--quick skips the whole `make test` timing)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks import build, pages, solutions
from dl_workshop.performance import machine

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench"

TARGETS = {
    "clean_book_over_floor": ("clean `make book` / floor", 1.3),
    "nbval_over_floor": ("nbval step / floor", 1.1),
    "prose_edit_rebuild_s": ("rebuild after a prose-only edit (s)", 5.0),
    "make_test_s": ("`make test`, environment installed (s)", 240.0),
}


def page_section(page_rows: list[dict]) -> list[str]:
    """The report's section on the pages, as Markdown blocks."""
    name, width, height = pages.largest_figure()
    table = [
        "| page | transferred | Lighthouse performance (median; all runs) | accessibility | largest items |",
        "|---|---|---|---|---|",
        *(
            f"| {row['page']} | {row['transfer_bytes'] / 1e6:.2f} MB | {100 * row['performance']:.0f}"
            f" ({', '.join(f'{100 * score:.0f}' for score in row['performance_runs'])})"
            f" | {100 * row['accessibility']:.0f}"
            f" | {', '.join(f'{item} {size / 1e3:.0f} kB' for item, size in row['largest_items'])} |"
            for row in page_rows
        ),
    ]
    return [
        "## Pages (served with gzip, as GitHub Pages does; Lighthouse with Debian's Chromium)",
        "Targets: under 1 MB transferred, accessibility 100, performance at least 90.",
        "\n".join(table),
        f"Largest figure: {name}, {width} x {height} px ({width * height / 1e6:.2f} megapixels).",
    ]


def report(build_results: dict, solution_rows: list[dict], page_rows: list[dict]) -> str:
    """The report in Markdown; adds the ratios to the floor to ``build_results`` (report.json keeps them)."""
    floor = build_results["floor_s"]
    build_results["clean_book_over_floor"] = build_results["clean_book_s"] / floor
    build_results["nbval_over_floor"] = build_results["nbval_s"] / floor
    measures = [
        "| measure | value | target | |",
        "|---|---|---|---|",
        f"| floor: every chapter executed once with nbclient, summed | {floor:.1f} s | | |",
        f"| clean `make book` | {build_results['clean_book_s']:.1f} s | | |",
        f"| nbval step (parallel) | {build_results['nbval_s']:.1f} s | | |",
        *(
            f"| {label} | {build_results[key]:.2f} | ≤ {target} | {solutions.verdict(build_results[key] <= target)} |"
            for key, (label, target) in TARGETS.items()
            if key in build_results
        ),
    ]
    blocks = [
        "# Benchmark report",
        "## Machine",
        "\n".join(f"- {name}: {value}" for name, value in machine().items()),
        "## Building and testing the book",
        "On a scratch copy of the working tree that shares its installed environment (`.venv`, and `.cache`: "
        "JAX's compilation cache, warm since `make bench` builds the book first, and the Binder test's environment).",
        "\n".join(measures),
        "Host speed, CPU seconds of a fixed pure-Python workload (best of 3; lower is faster; compare runs by it): "
        + ", ".join(f"{when} {seconds:.3f} s" for when, seconds in build_results["host_speed_s"].items())
        + ".",
    ]
    if "make_test_steps" in build_results:
        steps = build_results["make_test_steps"]
        cores = os.cpu_count() or 1
        total = sum(step["cpu_s"] for step in steps.values())
        step_rows = [f"| {name} | {step['wall_s']:.1f} s | {step['cpu_s']:.0f} s |" for name, step in steps.items()]
        blocks += [
            "`make test`'s steps, each run alone after it (CPU: every process on the machine, browsers and kernels included):",
            "\n".join(["| step | wall | CPU |", "|---|---|---|", *step_rows]),
            f"The steps need {total:.0f} s of CPU in all: on {cores} cores no schedule of them takes less than "
            f"{total / cores:.0f} s.",
        ]
    if "make_test_failed" in build_results:
        blocks += [
            "**`make test` failed on the scratch copy**, so it has no time:",
            f"```\n{build_results['make_test_failed']}\n```",
        ]
    blocks += [
        "Pages re-executed after a prose-only edit of book/03-many-draws.md: "
        f"{build_results['prose_edit_pages_executed'] or 'none'}\n"
        f"Pages re-executed after an edit of dl_workshop/checkers.py: {build_results['package_edit_pages_executed']}"
        f" ({build_results['package_edit_rebuild_s']:.1f} s)",
        "Floor per page (s): "
        + ", ".join(f"{Path(p).name} {s:.1f}" for p, s in build_results["floor_per_page_s"].items()),
        *solutions.section(solution_rows),
        *page_section(page_rows),
    ]
    return "\n\n".join(blocks) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    solution_rows = solutions.measure()
    if not (ROOT / "_build" / "html" / "index.html").exists():
        raise SystemExit("Build the site first: make book")
    page_rows = pages.measure()
    with tempfile.TemporaryDirectory(prefix="dl-workshop-bench-") as workdir:
        build_results = build.measure(Path(workdir), include_make_test="--quick" not in sys.argv)
    text = report(build_results, solution_rows, page_rows)
    (OUT / "report.md").write_text(text)
    results = {"machine": machine(), "build": build_results, "solutions": solution_rows, "pages": page_rows}
    (OUT / "report.json").write_text(json.dumps(results, indent=1))
    print(f"{text}\nReport written to {OUT / 'report.md'}")


if __name__ == "__main__":
    main()
