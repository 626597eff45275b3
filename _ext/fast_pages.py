"""Nothing blocks a page's first paint but one stylesheet, and nothing moves after it.

Sphinx, the theme and the extensions put a dozen stylesheets and scripts in
``<head>``, each render-blocking; figures without a size shift the text when
they load. As Sphinx writes each page (``html-page-context``), or at the end of
the build:

- **Scripts are deferred** (they still run in order, before ``DOMContentLoaded``,
  when these act). The search page is left alone: its template calls doctools'
  ``_ready`` inline. ``documentation_options.js`` is inlined: the theme's inline
  scripts use it while the page is parsed, so it cannot be deferred.
- **The stylesheets are one file**, ``_static/styles/bundle-<hash>.css``: the
  theme's two (``_templates/static/webpack-macros.html`` no longer links them),
  then every other in the page's order, ``@import`` inlined, ``url()`` rebased.
  It is written at the end of every build (myst-nb copies its stylesheet only
  then) and named by its list of files, so an edited ``_static/custom.css``
  reaches pages that were not written again.
- **Icon fonts hold only the icons used** (fontTools): a few kB, not three webfonts.
- **Figures carry their size** (``width``/``height`` from the PNG header);
  ``height: auto`` in ``_static/custom.css`` keeps them in proportion.

``tests/test_fast_pages.py`` pins the rules; ``tests/test_site.py`` fails on
console errors, failed requests and broken figures in the built site.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
import struct
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.ttLib import TTFont

# --- Sphinx internals: the only ones this extension reads, all here ----------
# Sphinx has no public API for the stylesheet and script objects of a page's
# context, nor for the builder's list of the stylesheets every page links.
# tests/test_fast_pages.py fails with "Sphinx changed: re-check ..." when an
# upgrade moves them.
from sphinx.builders.html._assets import _CascadingStyleSheet as Stylesheet
from sphinx.builders.html._assets import _JavaScript as Script


def builder_stylesheets(builder: Any) -> list[Stylesheet] | None:
    """The stylesheets the builder links on every page, before a page adds its own.

    Sphinx 7.4 keeps them as ``_orig_css_files`` from ``prepare_writing`` on and
    restores the page's list from it after each page. None: no page was written.
    """
    return getattr(builder, "_orig_css_files", None)


# ------------------------------------------------------------------------------

# fontTools reports every table it prunes at INFO (dozens of lines a build); the
# build log keeps its warnings only.
logging.getLogger("fontTools").setLevel(logging.WARNING)

INLINED = "_static/documentation_options.js"
THEME_STYLES = ("_static/styles/theme.css", "_static/styles/pydata-sphinx-theme.css")
BUNDLE_DIR = "_static/styles"

IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)["']?\s*\)?\s*;""")
URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
DROPPED = re.compile(r"""@charset\s+"[^"]*";|/\*#\s*sourceMappingURL=[^*]*\*/""")
ICON_FONTS = "_static/vendor/fontawesome/webfonts"
FA_CLASS = re.compile(r"\b(fa-[a-z0-9-]+)")
ICON_RULE = re.compile(r"""((?:\.fa-[a-z0-9-]+:(?:before|after),?)+)\{content:"([^"]*)"\}""")
PRIVATE = re.compile(r"\\([ef][0-9a-f]{3})(?![0-9a-f])|([\ue000-\uf8ff])", re.IGNORECASE)
IMG = re.compile(r"""<img (?![^>]*\bwidth=)([^>]*?\bsrc="([^"]*_images/([^"/]+\.png))"[^>]*?)\s*/?>""")


# --- scripts ---------------------------------------------------------------


def fast_script(script: Script, outdir: Path) -> Script:
    attributes = script.attributes
    if not script.filename or {"async", "defer", "body"} & attributes.keys():
        return script
    if os.fspath(script.filename) == INLINED:
        return Script("", priority=script.priority, body=(outdir / INLINED).read_text(encoding="utf-8"))
    return Script(script.filename, priority=script.priority, **attributes, defer="defer")


# --- stylesheets -----------------------------------------------------------


def css_text(outdir: Path, filename: str) -> str:
    """One stylesheet (path relative to outdir) with its imports inlined and its urls rebased."""
    base = posixpath.dirname(filename)
    text = DROPPED.sub("", (outdir / filename).read_text(encoding="utf-8"))
    text = IMPORT.sub(lambda m: css_text(outdir, posixpath.normpath(posixpath.join(base, m.group(1)))), text)

    def rebase(match: re.Match[str]) -> str:
        url = match.group(2).strip()
        if re.match(r"[a-z][a-z0-9+.-]*:|/|#", url, re.IGNORECASE):
            return match.group(0)  # data:, http:, absolute or fragment
        path, suffix = re.match(r"([^?#]*)(.*)", url).groups()  # type: ignore[union-attr]
        target = posixpath.relpath(posixpath.normpath(posixpath.join(base, path)), BUNDLE_DIR)
        return f'url("{target}{suffix}")'

    return URL.sub(rebase, text)


def shared_styles(builder: Any) -> list[str]:
    """The stylesheets every page links, in order: the theme's, then the builder's.

    A page's own stylesheets stay separate links.
    """
    builder_styles = [os.fspath(s.filename) for s in builder_stylesheets(builder) or [] if plain(s)]
    return [*THEME_STYLES, *builder_styles]


def plain(style: Stylesheet) -> bool:
    return style.attributes.get("rel") == "stylesheet" and set(style.attributes) <= {"rel", "type"}


def bundle_name(files: list[str]) -> str:
    return f"{BUNDLE_DIR}/bundle-{hashlib.sha256(' '.join(files).encode()).hexdigest()[:12]}.css"


def bundled(styles: list[Stylesheet], builder: Any) -> list[Stylesheet]:
    files = shared_styles(builder)
    own = [s for s in styles if not (plain(s) and os.fspath(s.filename) in files)]
    return [Stylesheet(bundle_name(files), priority=0), *own]


def write_bundle(app: Any, exception: Exception | None) -> None:
    """At the end of the build, when every extension has copied its files (myst-nb's last)."""
    if exception is not None or app.builder.format != "html":
        return
    if builder_stylesheets(app.builder) is None:
        # Nothing was out of date, so Sphinx wrote no page and copied no file:
        # the bundle and fonts of the last build still stand.
        return
    outdir, files = Path(app.outdir), shared_styles(app.builder)
    bundle = '@charset "UTF-8";\n' + "\n".join(f"/* {f} */\n{css_text(outdir, f)}" for f in files)
    (outdir / bundle_name(files)).write_text(bundle, encoding="utf-8")
    subset_icon_fonts(outdir, bundle)


# --- icon fonts ------------------------------------------------------------


def icon_codepoints(outdir: Path, css: str) -> set[int]:
    """The Font Awesome characters the site can show.

    Those of every ``fa-*`` class named in a page or a script, and every
    private-use character the stylesheets write themselves (the theme's
    admonition and link icons, as ``content: "\\f05a"`` or the raw character).
    """
    names: set[str] = set()
    for path in [*outdir.rglob("*.html"), *(outdir / "_static").rglob("*.js")]:
        names |= set(FA_CLASS.findall(path.read_text(encoding="utf-8", errors="replace")))
    codepoints = set()
    for rule in ICON_RULE.finditer(css):
        if names & set(FA_CLASS.findall(rule.group(1))):
            codepoints |= private_characters(rule.group(2))
    return codepoints | private_characters(ICON_RULE.sub("", css))


def private_characters(text: str) -> set[int]:
    return {int(escaped, 16) if escaped else ord(raw) for escaped, raw in PRIVATE.findall(text)}


def subset_icon_fonts(outdir: Path, css: str) -> None:
    """Cut each Font Awesome webfont (fetched by every page) down to the icons used.

    Sphinx copies the theme's full fonts again at every build, so this runs on
    the originals each time. ``.ttf`` files are left whole: browsers that read
    woff2 (all current ones) never fetch them.
    """
    codepoints = icon_codepoints(outdir, css)
    for path in sorted((outdir / ICON_FONTS).glob("*.woff2")):
        font = TTFont(path)
        options = subset.Options(flavor="woff2", layout_features=["*"])
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        font.save(path)


# --- figures ---------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int] | None:
    with path.open("rb") as file:
        header = file.read(24)
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", header[16:24])


def sized_images(body: str, sources: dict[str, Path]) -> str:
    def size(match: re.Match[str]) -> str:
        source = sources.get(match.group(3))
        dimensions = png_size(source) if source and source.is_file() else None
        if dimensions is None:
            return match.group(0)
        return f'<img {match.group(1)} width="{dimensions[0]}" height="{dimensions[1]}" />'

    return IMG.sub(size, body)


# --- the hook --------------------------------------------------------------


def fast_page(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    outdir = Path(app.outdir)
    scripts, styles = context.get("script_files"), context.get("css_files")
    # The builder restores its own lists before the next page.
    if isinstance(scripts, list) and pagename != "search":
        scripts[:] = [fast_script(script, outdir) for script in scripts]
    if isinstance(styles, list):
        styles[:] = bundled(styles, app.builder)
    if isinstance(context.get("body"), str) and "_images/" in context["body"]:
        sources = {dest: Path(app.srcdir, src) for src, (_, dest) in app.env.images.items()}
        context["body"] = sized_images(context["body"], sources)


def setup(app: Any) -> dict[str, Any]:
    # After the other handlers, which may add a page's own scripts.
    app.connect("html-page-context", fast_page, priority=900)
    app.connect("build-finished", write_bundle, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
