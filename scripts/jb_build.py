"""``jupyter-book build``, with Sphinx reading (and so executing) pages in parallel.

Usage is that of ``jupyter-book build``: ``python scripts/jb_build.py . --all -W``.
Jupyter Book 1.x gives Sphinx one process and no option to change it; here the
number is ``BOOK_JOBS`` (default: every core). Three things make that work:

- Sphinx reads in parallel only if every extension says it may. Two do not say,
  and keep no state across pages, so they are declared safe here:
  sphinx-multitoc-numbering 0.1.3 (renumbers once all pages are read, in the main
  process) and sphinx-jupyterbook-latex 1.0.0 (acts on LaTeX builds only).
- myst-nb's execution cache (SQLite, ``_build/.jupyter_cache``) is created here,
  before Sphinx starts its processes: two creating it at once collide.
- Each kernel gets CurveZMQ keys (``transport_encryption: auto``), so that the
  build and its kernels talk encrypted over loopback, and ipykernel does not log
  "Kernel is running over TCP without encryption" for every page. myst-nb passes
  no options to the kernel manager, so they are added where it calls jupyter-cache.

And one fix: on a cache hit, myst-nb 1.4 renders the outputs it merged from the
cache, but writes the notebook it read, with none, to ``_build/jupyter_execute``
(nbval's reference). The notebook it read is given the merged cells here.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import jupyter_book.sphinx
import myst_nb.core.execute.cache
from jupyter_book.cli.main import main
from jupyter_cache import get_cache
from traitlets.config import Config

UNDECLARED_BUT_SAFE = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def declared_parallel_safe(setup: Any) -> Any:
    def setup_declared(app: Any) -> dict[str, Any]:
        return {**(setup(app) or {}), "parallel_read_safe": True, "parallel_write_safe": True}

    return setup_declared


for name in UNDECLARED_BUT_SAFE:
    module = importlib.import_module(name)
    module.setup = declared_parallel_safe(module.setup)

jobs = int(os.environ.get("BOOK_JOBS") or os.cpu_count() or 1)
# jupyter-book imports build_sphinx when it builds, so it gets this one.
jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx, jobs=jobs)
# myst-nb executes through this name; the processes Sphinx forks inherit it.
myst_nb.core.execute.cache.single_nb_execution = functools.partial(
    myst_nb.core.execute.cache.single_nb_execution, config=Config(KernelManager={"transport_encryption": "auto"})
)

start_client = myst_nb.core.execute.cache.NotebookClientCache.start_client


def start_client_keeping_outputs(self: Any) -> None:
    read = self.notebook
    start_client(self)
    if self.notebook is not read:  # a cache hit: the client holds the merged copy
        read.update(self.notebook)


myst_nb.core.execute.cache.NotebookClientCache.start_client = start_client_keeping_outputs

if __name__ == "__main__":
    book = Path(next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "."))
    get_cache(book / "_build" / ".jupyter_cache").list_cache_records()
    sys.exit(main(["build", *sys.argv[1:]]))
