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


def verdict(value: float, target: float) -> str:
    return "meets target" if value <= target else "MISSES target"


def page_section(page_rows: list[dict]) -> list[str]:
    name, width, height = pages.largest_figure()
    lines = [
        "",
        "## Pages (served with gzip, as GitHub Pages does; Lighthouse with Debian's Chromium)",
        "",
        "Targets: under 1 MB transferred, accessibility 100, performance at least 90.",
        "",
        "| page | transferred | Lighthouse performance (median; all runs) | accessibility | largest items |",
        "|---|---|---|---|---|",
    ]
    for row in page_rows:
        items = ", ".join(f"{item} {size / 1e3:.0f} kB" for item, size in row["largest_items"])
        lines.append(
            f"| {row['page']} | {row['transfer_bytes'] / 1e6:.2f} MB | {100 * row['performance']:.0f}"
            f" ({', '.join(f'{100 * score:.0f}' for score in row['performance_runs'])})"
            f" | {100 * row['accessibility']:.0f} | {items} |"
        )
    lines += ["", f"Largest figure: {name}, {width} x {height} px ({width * height / 1e6:.2f} megapixels)."]
    return lines


def report(build_results: dict, solution_rows: list[dict], page_rows: list[dict]) -> str:
    lines = ["# Benchmark report", "", "## Machine", ""]
    lines += [f"- {name}: {value}" for name, value in machine().items()]
    floor = build_results["floor_s"]
    build_results["clean_book_over_floor"] = build_results["clean_book_s"] / floor
    build_results["nbval_over_floor"] = build_results["nbval_s"] / floor
    lines += [
        "",
        "## Building and testing the book",
        "",
        "On a scratch copy of the working tree that shares its installed environment (`.venv`, and `.cache`: "
        "JAX's compilation cache, warm since `make bench` builds the book first, and the Binder test's environment).",
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
    ]
    lines.append(f"| floor: every chapter executed once with nbclient, summed | {floor:.1f} s | | |")
    lines.append(f"| clean `make book` | {build_results['clean_book_s']:.1f} s | | |")
    lines.append(f"| nbval step (parallel) | {build_results['nbval_s']:.1f} s | | |")
    for key, (label, target) in TARGETS.items():
        if key in build_results:
            value = build_results[key]
            lines.append(f"| {label} | {value:.2f} | ≤ {target} | {verdict(value, target)} |")
    if "make_test_steps" in build_results:
        steps = build_results["make_test_steps"]
        cores = os.cpu_count() or 1
        total = sum(step["cpu_s"] for step in steps.values())
        lines += [
            "",
            "`make test`'s steps, each run alone after it (CPU: every process on the machine, browsers and kernels included):",
            "",
            "| step | wall | CPU |",
            "|---|---|---|",
            *(f"| {name} | {step['wall_s']:.1f} s | {step['cpu_s']:.0f} s |" for name, step in steps.items()),
            "",
            f"The steps need {total:.0f} s of CPU in all: on {cores} cores no schedule of them takes less than "
            f"{total / cores:.0f} s.",
        ]
    if "make_test_failed" in build_results:
        lines += [
            "",
            "**`make test` failed on the scratch copy**, so it has no time:",
            "",
            "```",
            build_results["make_test_failed"],
            "```",
        ]
    lines += [
        "",
        f"Pages re-executed after a prose-only edit of book/03-many-draws.md: "
        f"{build_results['prose_edit_pages_executed'] or 'none'}",
        f"Pages re-executed after an edit of dl_workshop/checkers.py: {build_results['package_edit_pages_executed']}"
        f" ({build_results['package_edit_rebuild_s']:.1f} s)",
        "",
        "Floor per page (s): "
        + ", ".join(f"{Path(p).name} {s:.1f}" for p, s in build_results["floor_per_page_s"].items()),
        "",
    ]
    lines += solutions.section(solution_rows)
    lines += page_section(page_rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    quick = "--quick" in sys.argv
    OUT.mkdir(parents=True, exist_ok=True)
    solution_rows = solutions.measure()
    if not (ROOT / "_build" / "html" / "index.html").exists():
        raise SystemExit("Build the site first: make book")
    page_rows = pages.measure()
    with tempfile.TemporaryDirectory(prefix="dl-workshop-bench-") as workdir:
        build_results = build.measure(Path(workdir), include_make_test=not quick)
    text = report(build_results, solution_rows, page_rows)
    (OUT / "report.md").write_text(text)
    (OUT / "report.json").write_text(
        json.dumps(
            {"machine": machine(), "build": build_results, "solutions": solution_rows, "pages": page_rows},
            indent=1,
        )
    )
    print(text)
    print(f"Report written to {OUT / 'report.md'}")


if __name__ == "__main__":
    main()
