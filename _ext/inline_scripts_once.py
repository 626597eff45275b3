"""Write each inline ``<script>`` of an extension into the page once, not twice.

Sphinx 7.4 (the line jupyter-book 1.x requires) adds an inline script that an
extension registers after the builder started (``app.add_js_file(None,
body=...)``) twice: once as filename ``None``, once as ``''``
(sphinx-doc/sphinx#13402, fixed in Sphinx 8.2). sphinx-thebe's
``const THEBE_JS_URL = ...`` then runs twice, and every page logs
"SyntaxError: Identifier 'THEBE_JS_URL' has already been declared".

The fix is Sphinx's own: hand the HTML builder ``''`` for ``None``, so that its
duplicate check sees the same script. Remove this extension (and its entry under
``sphinx.local_extensions`` in ``_config.yml``) once the book builds with
Sphinx 8.2 or newer; tests/test_site.py fails on console errors if it returns.
"""

from __future__ import annotations

from typing import Any


def normalise_inline_scripts(app: Any) -> None:
    builder = app.builder
    add_js_file = getattr(builder, "add_js_file", None)
    if add_js_file is None or getattr(add_js_file, "inline_scripts_once", False):
        return

    def add_js_file_once(filename: str | None, **kwargs: Any) -> None:
        add_js_file(filename or "", **kwargs)

    add_js_file_once.inline_scripts_once = True  # type: ignore[attr-defined]
    builder.add_js_file = add_js_file_once


def setup(app: Any) -> dict[str, Any]:
    # Before the other extensions' builder-inited handlers add their scripts.
    app.connect("builder-inited", normalise_inline_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
