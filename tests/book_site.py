"""What the tests that visit the built site or launch chapters share: paths, the browser, the pages."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
# Debian's Chromium (`make chromium`); Playwright's own browser download cannot work offline.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def toc_files(toc: dict | None = None) -> list[str]:
    """Every file of the table of contents, in order: root, parts, chapters, sections."""
    toc = toc if toc is not None else yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]] if "root" in toc else []

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                found.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key, []))
    return found


def launch_path(config: dict, source: str) -> str:
    """The ``urlpath`` of a chapter's Binder link, built like sphinx-book-theme builds it.

    ``lab/tree/`` (``launch_buttons.notebook_interface: jupyterlab``), then
    ``repository.path_to_book``, then ``source``: the chapter's path in the
    book, with the suffix of its source file.
    """
    interface = config.get("launch_buttons", {}).get("notebook_interface", "classic")
    tree = "lab/tree" if interface == "jupyterlab" else "tree"
    book = (config.get("repository", {}).get("path_to_book") or "").strip("/")
    return "/".join(part for part in (tree, book, source) if part)
