"""Re-execute the pages that use a changed module of dl_workshop, and every page when the environment changed.

jupyter-cache re-executes a page only when its code cells change
(jupyter-book#1633), so an edit to the solutions package would leave pages
showing outputs of the old code. Before each build, this script compares
each module's hash with the one recorded at the last build; for every changed
module it drops the cached execution of the pages that use it (by import or
literalinclude, directly or through another module of the package) and marks
those pages as changed, so that Sphinx reads and executes them again.

The same holds for the environment: after `make lock` (another JAX, say) or with
another Python, no page's cached outputs are kept.

Usage: python scripts/refresh_cache.py [BUILD_DIR]   (default: _build)
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dl_workshop"
USES = re.compile(r"dl_workshop[./](\w+)|from dl_workshop import (\w+)")
PASTED = re.compile(r"^:doc:\s*(\S+\.md)\s*$", re.MULTILINE)
PASTED_INLINE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+\.md)::")


def modules_used(text: str) -> set[str]:
    return {a or b for a, b in USES.findall(text)}


def pasted_from(text: str) -> set[str]:
    """The pages that a page pastes glued outputs from (``:doc:`` or ``page.md::key``)."""
    return set(PASTED.findall(text)) | set(PASTED_INLINE.findall(text))


def affected_modules(changed: set[str]) -> set[str]:
    """The changed modules and every module of the package that imports one of them."""
    affected = set(changed)
    while True:
        more = {
            path.stem
            for path in PACKAGE.glob("*.py")
            if path.stem not in affected and modules_used(path.read_text()) & affected
        }
        if not more:
            return affected
        affected |= more


def module_hashes(package: Path) -> dict[str, str]:
    """Each module's SHA-256, with its data files (same name, another suffix: versions.json)."""
    return {
        path.stem: hashlib.sha256(b"".join(f.read_bytes() for f in sorted(package.glob(f"{path.stem}.*")))).hexdigest()
        for path in package.glob("*.py")
    }


def environment_hash() -> str:
    """What the pages' outputs depend on besides their code and the package: the lock and the Python."""
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes() + sys.version.encode()).hexdigest()


def page_of(uri: str) -> Path | None:
    """This checkout's chapter that a cache record names, if it still exists.

    A record names the page by its absolute path when it was executed, which may
    be another checkout's (the repository moved, or its _build was copied).
    """
    page = ROOT / "book" / Path(uri).name
    return page if page.exists() else None


def main(build: Path) -> None:
    record = build / ".dl_workshop-hashes.json"
    hashes = module_hashes(PACKAGE)
    recorded = json.loads(record.read_text()) if record.exists() else {}
    before = recorded.get("modules", {})
    cache_dir = build / ".jupyter_cache"
    environment = environment_hash()
    if cache_dir.exists() and recorded.get("environment") != environment:
        print("The environment changed (requirements.txt or Python) or is unknown: every page is executed again")
        shutil.rmtree(cache_dir)
        # Sphinx reads again only the pages it thinks changed: forget them all.
        (build / ".doctrees" / "environment.pickle").unlink(missing_ok=True)
    changed = {name for name in hashes.keys() | before.keys() if hashes.get(name) != before.get(name)}
    # No record: no cache either (dropped above), so the build executes every page anyway.
    if record.exists() and changed and cache_dir.exists():
        affected = affected_modules(changed)
        # Imported only when needed: importing it is most of a prose-only rebuild.
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        executed_again = set()
        for cached in cache.list_cache_records():
            page = page_of(cached.uri)
            if page and modules_used(page.read_text()) & affected:
                print(f"dl_workshop changed ({', '.join(sorted(changed))}): re-executing {page.relative_to(ROOT)}")
                cache.remove_cache(cached.pk)
                page.touch()
                executed_again.add(page.name)
        # A page that pastes what another one glued (instructors.md shows chapter
        # 12's table) is read again with it: Sphinx would keep the old paste.
        for page in (ROOT / "book").glob("*.md"):
            if pasted_from(page.read_text()) & executed_again:
                print(f"re-reading {page.relative_to(ROOT)}, which pastes from a page executed again")
                page.touch()
    build.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"environment": environment, "modules": hashes}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build")
