"""What the notebook site (`utils.nb.site`) changes in nbconvert's markup: math and numbers.

- Math is typeset at build time: the exporter's markdown filter writes each ``$…$``/``$$…$$``
  formula of the README, the markdown cells, markdown outputs and ``text/latex`` outputs as MathML
  (`utils.nb.site_math`), which browsers typeset themselves. A page needs no MathJax, no script and
  no network to show its math, and a formula the converter cannot read fails the build (`TexError`).
- A number never breaks across lines: a browser may break ``8.3e-05`` after its ``-`` and
  ``0.21–0.47`` after its dash, so `keep_numbers_whole` wraps every number that holds one in a
  ``<span class="site-num">`` that the stylesheet keeps on one line. Numbers are never rewritten:
  the text a notebook printed is the text the page shows, only its line breaks change.

- A notebook figure is an `<img>` with its dark variant in ``data-dark-src`` (what JupyterLab shows
  whether or not the notebook is trusted); `as_picture` makes it the `<picture>` that switches with
  the reader's colour scheme.

Deliberately not here: math inside HTML outputs (``$…$`` in a ``text/html`` output stays as
written: nothing in them is math today, and guessing which dollar signs are would be worse), and
numbers inside code, preformatted text and math, which already do not wrap or are not prose.
"""

from __future__ import annotations

import re

from jinja2 import pass_context
from jinja2.runtime import Context
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import ExtractOutputPreprocessor

from utils.nb.site_math import TexError, tex_to_mathml
from utils.nb.site_theme import PAGE_TEMPLATE

__all__ = [
    'DARK_IMG',
    'NUMBER_CLASS',
    'MathMLRenderer',
    'SiteExporter',
    'as_picture',
    'keep_numbers_whole',
    'make_exporter',
]

NUMBER_CLASS = 'site-num'
"""The class of the span that holds one number on one line (styled in `site_theme.SITE_CSS`)."""

DISPLAY_ENVIRONMENTS = {'equation', 'equation*', 'displaymath'}

_NUM = r'\d+(?:\.\d+)?(?:[eE][-+]?\d+)?'
# a number with its sign, percent sign (also spaced: 95 %) and en-dash range (0.21–0.47, 40%–53%);
# not one that is part of a word, a name or an entity (ex-2.10, &#8211;)
NUMBER = re.compile(rf'(?<![\w.&#-])[-−]?{_NUM}(?: ?%)?(?:–[-−]?{_NUM}(?: ?%)?)?(?!\w)')
BREAKS = re.compile(r'[-−– ]')  # where a browser may break a number
TAG = re.compile(r'<(/?)([A-Za-z][\w-]*)[^>]*>|<!--.*?-->', re.DOTALL)
VERBATIM = {'head', 'pre', 'code', 'script', 'style', 'math', 'svg', 'textarea'}
"""Elements whose text is left exactly as it is."""


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, writing math as MathML instead of TeX for MathJax."""

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body)

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def latex_environment(self, name: str, body: str) -> str:
        if name not in DISPLAY_ENVIRONMENTS:
            raise TexError(f'\\begin{{{name}}} (only {sorted(DISPLAY_ENVIRONMENTS)} are supported)')
        return tex_to_mathml(body, display=True)


class SiteExporter(HTMLExporter):
    """nbconvert's HTML exporter whose markdown filter renders math with `MathMLRenderer`."""

    @pass_context
    def markdown2html(self, context: Context, source: str) -> str:
        # the same settings as HTMLExporter's own filter, with the renderer swapped
        cell = context.get('cell', {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get('attachments', {}),
            embed_images=self.embed_images,
            path=context.get('resources', {}).get('metadata', {}).get('path', ''),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)


def make_exporter() -> SiteExporter:
    """nbconvert's lab template with the site's own page template; image outputs are extracted."""
    exporter = SiteExporter(
        template_name='lab',
        raw_template=PAGE_TEMPLATE,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        ExtractOutputPreprocessor(extract_output_types={'image/png', 'image/jpeg'}), enabled=True
    )
    return exporter


def keep_numbers_whole(page_html: str) -> str:
    """`page_html` with each number that a browser could break wrapped in a ``site-num`` span.

    Only text between tags changes, and none inside `VERBATIM` elements. `page_html` must escape
    ``<`` in text, as nbconvert's serialised pages do.
    """
    out: list[str] = []
    verbatim = 0  # how many VERBATIM elements enclose the current text
    at = 0

    def wrap(match: re.Match[str]) -> str:
        number = match.group(0)
        return f'<span class="{NUMBER_CLASS}">{number}</span>' if BREAKS.search(number) else number

    for tag in TAG.finditer(page_html):
        text = page_html[at : tag.start()]
        out += [text if verbatim else NUMBER.sub(wrap, text), tag.group(0)]
        at = tag.end()
        if (tag.group(2) or '').lower() in VERBATIM and not tag.group(0).endswith('/>'):
            # a stray closing tag in a notebook's HTML output must not stop the wrapping for good
            verbatim = max(verbatim - 1, 0) if tag.group(1) else verbatim + 1
    tail = page_html[at:]
    out.append(tail if verbatim else NUMBER.sub(wrap, tail))
    return ''.join(out)


DARK_IMG = re.compile(r'<img\b([^>]*?)\sdata-dark-src="([^"]*)"([^>]*)>', re.IGNORECASE)
"""A notebook figure (`displayer_mpl`): an `<img>` of the light variant with the dark one's URL."""


def as_picture(match: re.Match[str]) -> str:
    """A figure's `<img data-dark-src>` as the `<picture>` a browser switches by colour scheme."""
    before, dark, after = match.groups()
    return (
        f'<picture><source media="(prefers-color-scheme: dark)" srcset="{dark}">'
        f'<img{before}{after}></picture>'
    )
