"""Page weight and Lighthouse scores of every chapter page of the built site.

Serves `_build/html` on 127.0.0.1 with gzip and kept-alive connections (as
GitHub Pages does), runs npm's `lighthouse` with Debian's Chromium on each page
listed in `_toc.yml`, and reads the largest figure's size from the PNGs
themselves. Lighthouse's performance score varies from run to run (its own
documentation advises the median of several runs): each page is run
``RUNS`` times and the run with the median performance score is reported.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from _ext.fast_pages import png_size  # the reader that gives the site's <img> their size
from scripts.book_site import CHROMIUM_ARGS, toc_files

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
NPM_PREFIX = ROOT / "_build" / "bench" / "npm"
LIGHTHOUSE_PACKAGE = "lighthouse@13.5.0"
CHROME_FLAGS = " ".join(CHROMIUM_ARGS)
LIGHTHOUSE_OPTIONS = ["--quiet", f"--chrome-flags={CHROME_FLAGS}", "--only-categories=performance,accessibility"]
LIGHTHOUSE_ENV = {"CHROME_PATH": "/usr/bin/chromium", "PATH": "/usr/bin:/bin"}
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".svg", ".txt")
RUNS = 3


class GzipHandler(SimpleHTTPRequestHandler):
    """Static files, gzip-compressed for text types when the browser accepts it.

    HTTP/1.1, so that the browser keeps its connections open between requests
    (the standard library's default, HTTP/1.0, opens one per file).
    """

    protocol_version = "HTTP/1.1"

    def send_head(self):  # noqa: D102 - the standard library's hook
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        gzip_accepted = "gzip" in self.headers.get("Accept-Encoding", "")
        if path.suffix not in COMPRESSIBLE or not gzip_accepted or not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return BytesIO(body)

    def log_message(self, *args):  # quiet
        pass


def pages() -> list[str]:
    return [f"{re.sub(r'[.](md|ipynb)$', '', name)}.html" for name in toc_files()]


def ensure_lighthouse() -> Path:
    binary = NPM_PREFIX / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        install = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM_PREFIX), LIGHTHOUSE_PACKAGE]
        subprocess.run(install, check=True, capture_output=True)
    return binary


def measure() -> list[dict[str, object]]:
    if shutil.which("chromium") is None:
        raise RuntimeError("Debian's chromium is needed: apt-get install chromium")
    lighthouse = ensure_lighthouse()
    reports = ROOT / "_build" / "bench" / "lighthouse"
    reports.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(GzipHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    try:
        for page in pages():
            url = f"http://127.0.0.1:{server.server_port}/{page}"
            results = []
            for run in range(RUNS):
                out = reports / f"{Path(page).stem}.{run}.json"
                command = [str(lighthouse), url, *LIGHTHOUSE_OPTIONS, "--output=json", f"--output-path={out}"]
                subprocess.run(command, check=True, capture_output=True, env=LIGHTHOUSE_ENV, timeout=300)
                results.append(json.loads(out.read_text()))
            results.sort(key=lambda result: result["categories"]["performance"]["score"])
            median = results[len(results) // 2]
            weight = median["audits"]["total-byte-weight"]
            rows.append(
                {
                    "page": page,
                    "performance": median["categories"]["performance"]["score"],
                    "performance_runs": [result["categories"]["performance"]["score"] for result in results],
                    "accessibility": median["categories"]["accessibility"]["score"],
                    "transfer_bytes": weight["numericValue"],
                    "largest_items": [
                        (item["url"].split("/")[-1].split("?")[0], item["totalBytes"])
                        for item in weight["details"]["items"][:3]
                    ],
                }
            )
            print(rows[-1], flush=True)
    finally:
        server.shutdown()
    return rows


def largest_figure() -> tuple[str, int, int]:
    figures = [(path.name, *png_size(path)) for path in (SITE / "_images").glob("*.png")]
    return max(figures, key=lambda f: f[1] * f[2]) if figures else ("none", 0, 0)
