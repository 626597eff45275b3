"""Re-execute the pages that use a changed module of dl_workshop.

jupyter-cache re-executes a page only when its code cells change
(jupyter-book#1633), so an edit to the solutions package would leave pages
showing outputs of the old code. Before each `make book`, this script compares
each module's hash with the one recorded at the last build; for every changed
module it drops the cached execution of the pages that use it (by import or
literalinclude, directly or through another module of the package) and marks
those pages as changed, so that Sphinx reads and executes them again.

Usage: python scripts/refresh_cache.py [BUILD_DIR]   (default: _build)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dl_workshop"
USES = re.compile(r"dl_workshop[./](\w+)|from dl_workshop import (\w+)")


def modules_used(text: str) -> set[str]:
    return {a or b for a, b in USES.findall(text)}


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


def main(build: Path) -> None:
    record = build / ".dl_workshop-hashes.json"
    hashes = {path.stem: hashlib.sha256(path.read_bytes()).hexdigest() for path in PACKAGE.glob("*.py")}
    before = json.loads(record.read_text()) if record.exists() else {}
    cache_dir = build / ".jupyter_cache"
    changed = {name for name in hashes.keys() | before.keys() if hashes.get(name) != before.get(name)}
    # No record yet: the first build executes every page anyway.
    if record.exists() and changed and cache_dir.exists():
        affected = affected_modules(changed)
        # Imported only when needed: it takes 2 s, most of a prose-only rebuild.
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        for cached in cache.list_cache_records():
            page = Path(cached.uri)
            if page.exists() and modules_used(page.read_text()) & affected:
                print(f"dl_workshop changed ({', '.join(sorted(changed))}): re-executing {page.relative_to(ROOT)}")
                cache.remove_cache(cached.pk)
                page.touch()
    build.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(hashes, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build")
