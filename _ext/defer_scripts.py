"""Load every script file of a page with ``defer``, so that none blocks the first paint.

Sphinx and its extensions (doctools, copybutton, togglebutton, sphinx-design,
the book theme) add their scripts to ``<head>`` as plain ``<script src>``
tags: the browser stops parsing the page until each is fetched and run, and
Lighthouse counts them as render-blocking. Deferred scripts still run in the
order of the page, after it is parsed and before ``DOMContentLoaded``, which
is when these scripts act.

One stays blocking: ``documentation_options.js`` defines
``DOCUMENTATION_OPTIONS``, which inline scripts of the theme's layout set
while the page is parsed. Inline scripts (``body=``) only declare settings and
are left as they are. The search page is left as it is: its template calls
doctools' ``_ready`` from an inline script. ``tests/test_site.py`` fails on
any console error, so a script that breaks when deferred shows there.
"""

from __future__ import annotations

from typing import Any

from sphinx.builders.html._assets import _JavaScript

BLOCKING = ("_static/documentation_options.js",)


def deferred(script: _JavaScript) -> _JavaScript:
    attributes = script.attributes
    if not script.filename or "async" in attributes or "defer" in attributes or "body" in attributes:
        return script
    if str(script.filename).endswith(BLOCKING):
        return script
    return _JavaScript(script.filename, priority=script.priority, **attributes, defer="defer")


def defer_scripts(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if isinstance(scripts, list) and pagename != "search":
        # The builder restores its own list before the next page.
        scripts[:] = [deferred(script) for script in scripts]


def setup(app: Any) -> dict[str, Any]:
    # After the other handlers, which may add a page's own scripts (MathJax).
    app.connect("html-page-context", defer_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
