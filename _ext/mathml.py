"""Math rendered when the book is built, as MathML, which browsers display natively.

With MathJax, every page with a formula downloaded 0.3 MB of script and fonts
and spent half a second of a phone's CPU typesetting; the text then moved as
formulas took their final width (Lighthouse measured a layout shift of 0.22 on
the drift chapter). Here latex2mathml (pure Python, pinned in requirements.txt)
turns each formula into ``<math>`` while Sphinx writes the page: no script, no
web font, nothing moves, and screen readers read the formula as math. Browsers
draw MathML with the system's math font (Chromium, Firefox and Safari all
support MathML Core); ``\\mathcal`` and ``\\mathbb`` become their Unicode
letters, which MathML Core needs.

It is registered as Sphinx's HTML math renderer (``html_math_renderer:
mathml`` in ``_config.yml``). A formula latex2mathml cannot read is a build
warning naming the page and the formula, so ``-W`` fails the build.
``tests/test_site.py`` checks that every formula on the site is MathML with no
``<merror>``.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)


def mathml(translator: Any, node: nodes.Element, display: str) -> str:
    latex = node.astext()
    try:
        rendered = convert(latex, display=display)
    except Exception as error:  # latex2mathml's errors say what is wrong by their name only
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(error).__name__.removesuffix("Error")).lower()
        problem = f"{words} ({type(error).__name__}) {error}".strip()
    else:
        # A command latex2mathml does not know is kept as text: <mi>\foo</mi>.
        unknown = re.findall(r">(\\[A-Za-z]+)<", rendered)
        if not unknown:
            return rendered
        problem = f"unknown command {', '.join(unknown)}"
    logger.warning("cannot render the formula %r as MathML: %s", latex, problem, location=node)
    return f"<code>{translator.encode(latex)}</code>"


def visit_math(self: Any, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(mathml(self, node, "inline") + "</span>")
    raise nodes.SkipNode


def visit_displaymath(self: Any, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(mathml(self, node, "block") + "</div>\n")
    raise nodes.SkipNode


def setup(app: Any) -> dict[str, Any]:
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
