"""The page-speed extension (_ext/fast_pages.py): one stylesheet that still finds its files, sized figures.

The built site is checked in a browser by tests/test_site.py (a wrong path in
the bundle is a failed request there); these pin the rules themselves.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib.image
import numpy as np

from _ext import fast_pages

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def png(path: Path, width: int, height: int) -> Path:
    matplotlib.image.imsave(path, np.zeros((height, width, 3)))
    return path


def test_bundled_stylesheets_keep_their_urls_pointing_at_the_same_files(tmp_path):
    write(tmp_path / "_static/basic.css", "div.x { background: url(file.png); }\n")
    write(tmp_path / "_static/styles/theme.css", '@import "../basic.css";\n')
    write(
        tmp_path / "_static/styles/pydata.css",
        '@charset "UTF-8";a{src:url("../vendor/fa.woff2?v=1#iefix")}\n/*# sourceMappingURL=pydata.css.map */',
    )
    write(tmp_path / "_static/copybutton.css", "b { mask: url('copy.svg'); c: url(data:image/svg+xml;x); d: url(#id) }")

    theme = fast_pages.css_text(tmp_path, "_static/styles/theme.css")
    pydata = fast_pages.css_text(tmp_path, "_static/styles/pydata.css")
    copy = fast_pages.css_text(tmp_path, "_static/copybutton.css")

    # The bundle lives in _static/styles: paths are rewritten relative to it.
    assert theme.strip() == 'div.x { background: url("../file.png"); }'  # the import inlined
    assert 'url("../vendor/fa.woff2?v=1#iefix")' in pydata
    assert "@charset" not in pydata and "sourceMappingURL" not in pydata  # one @charset, at the top of the bundle
    assert 'url("../copy.svg")' in copy
    assert "url(data:image/svg+xml;x)" in copy and "url(#id)" in copy  # left alone


def test_the_bundle_is_named_by_its_list_of_files_not_their_contents():
    name = fast_pages.bundle_name(["_static/a.css", "_static/b.css"])
    assert name.startswith("_static/styles/bundle-") and name.endswith(".css")
    assert name == fast_pages.bundle_name(["_static/a.css", "_static/b.css"])
    assert name != fast_pages.bundle_name(["_static/b.css", "_static/a.css"])  # order matters in CSS


def test_figures_get_their_pixel_size_and_other_images_are_left_alone(tmp_path):
    figure = png(tmp_path / "walk.png", 590, 340)
    body = (
        '<img alt="A walk." src="../_images/abc.png" />\n'
        '<img alt="Sized." src="../_images/abc.png" width="10" />\n'
        '<img alt="Logo" src="../_static/images/logo.svg">\n'
        '<img alt="Gone." src="../_images/missing.png" />'
    )
    sized = fast_pages.sized_images(body, {"abc.png": figure})
    lines = sized.splitlines()
    assert lines[0] == '<img alt="A walk." src="../_images/abc.png" width="590" height="340" />'
    assert lines[1:] == body.splitlines()[1:]  # already sized, not a figure, or no source: unchanged


def test_icon_fonts_keep_the_icons_pages_name_and_those_stylesheets_draw(tmp_path):
    write(tmp_path / "book/page.html", '<i class="fa-brands fa-github"></i><i class="fa-solid fa-bars"></i>')
    write(tmp_path / "_static/scripts/theme.js", 'button.classList.add("fa-moon")')
    css = (
        '.fa-github:before{content:"\\f09b"}.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}'
        '.fa-moon:before{content:"\\f186"}.fa-rocket:before{content:"\\f135"}'
        '.admonition-title:after{content:"\\f05a"}:root{--pst-icon-bell:"\uf0f3"}'
    )
    codepoints = fast_pages.icon_codepoints(tmp_path, css)
    named = {0xF09B, 0xF0C9, 0xF186}  # by a page (github, bars) or a script (moon)
    drawn = {0xF05A, 0xF0F3}  # by a stylesheet, escaped or as the character itself
    assert codepoints == named | drawn  # not the rocket: nothing uses it


def test_a_build_with_nothing_to_write_leaves_the_bundle_alone(tmp_path):
    # `make book` with nothing changed: Sphinx writes no page, so its builder
    # never prepared its list of stylesheets; the last build's bundle stands.
    builder = SimpleNamespace(format="html")
    app = SimpleNamespace(builder=builder, outdir=str(tmp_path))
    fast_pages.write_bundle(app, None)
    assert list(tmp_path.iterdir()) == []


def test_the_sphinx_internals_it_reads_are_still_there():
    """_ext/fast_pages.py reads two private parts of Sphinx (its "Sphinx internals" block)."""
    import inspect

    from sphinx.builders.html import StandaloneHTMLBuilder

    advice = "Sphinx changed: re-check the 'Sphinx internals' block of _ext/fast_pages.py"
    assert fast_pages.Stylesheet.__module__ == "sphinx.builders.html._assets", advice
    style = fast_pages.Stylesheet("x.css", priority=0)
    assert (style.filename, style.priority, style.attributes) == (
        "x.css",
        0,
        {"rel": "stylesheet", "type": "text/css"},
    ), advice
    script = fast_pages.Script("x.js", priority=0, defer="defer")
    assert (script.filename, script.attributes) == ("x.js", {"defer": "defer"}), advice
    # The builder's own stylesheets, kept before the first page and restored after each.
    assert "self._orig_css_files =" in inspect.getsource(StandaloneHTMLBuilder.prepare_writing), advice
    assert "self._css_files[:] = self._orig_css_files" in inspect.getsource(StandaloneHTMLBuilder.handle_page), advice


def test_the_theme_template_it_overrides_is_the_themes_own_but_for_two_changes():
    """_templates/static/webpack-macros.html is a copy of the installed theme's, without its
    stylesheet links (the bundle has them) and its fontawesome.js; the theme's digests included."""
    import pydata_sphinx_theme

    theirs = (
        Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "webpack-macros.html"
    )
    dropped = ("Loaded before other Sphinx assets", "styles/theme.css", "styles/pydata-sphinx-theme.css")
    dropped += ("users can add custom icons", "scripts/fontawesome.js")
    expected = "\n".join(line for line in theirs.read_text().splitlines() if not any(d in line for d in dropped))
    ours = (ROOT / "_templates" / "static" / "webpack-macros.html").read_text()
    assert ours[ours.index("-#}") + len("-#}") :].strip() == expected.strip(), (
        f"the theme changed: copy {theirs} to _templates/static/ again and make the two changes its header lists"
    )
