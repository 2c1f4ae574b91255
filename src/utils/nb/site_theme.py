"""How a page of the notebook site (`utils.nb.site`) looks: its nbconvert template and stylesheet.

The template extends nbconvert's JupyterLab template (``lab/index.html.j2``) and changes only what a
static site needs changed:
- the stylesheets are linked, not inlined: JupyterLab's ``index.css`` and light theme always, its
  dark theme under ``prefers-color-scheme: dark`` (the media query the figures' ``<picture>`` uses),
  and the site's own ``site.css``; every page sits at the site's top level, so ``static/…`` resolves;
- no script at all: require.js, widgets and mermaid are left out (no widgets, no diagrams), and so is
  MathJax, since math is MathML written at build time (`utils.nb.site_markup`); ``text/latex``
  outputs go through the same markdown filter, so their math is MathML too. A page makes no request
  beyond the site's own files;
- a header links every notebook page to the index, and the index ends with a list of all notebooks
  (so a notebook the README does not mention is still reachable); both sit outside ``<main>``, whose
  links alone the site rewrites;
- each code cell's source is folded into a ``<details>`` whose summary gives its length, except the
  cell tagged ``parameters`` (the experiment's named constants), which readers look for first: it
  is shown open, under a summary that says so, and can still be folded.

The stylesheet keeps prose to a readable measure (48rem) while code, tables and figures may use the
page's full width, and hides prompts, collapsers and anchor links (shown on hover). A number keeps
to one line (``.site-num``, the spans `utils.nb.site_markup.keep_numbers_whole` writes), and table
digits share one width so that right-aligned columns line up.
"""

from __future__ import annotations

__all__ = ['PAGE_TEMPLATE', 'SITE_CSS', 'THEME_FILES']

THEME_FILES = ('static/index.css', 'static/theme-light.css', 'static/theme-dark.css')
"""Files of nbconvert's lab template that every page links; copied into the site as they are."""

PAGE_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}

{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}

{%- block notebook_css -%}
<meta name="color-scheme" content="light dark">
<link rel="stylesheet" href="static/index.css">
<link rel="stylesheet" href="static/theme-light.css">
<link rel="stylesheet" href="static/theme-dark.css" media="(prefers-color-scheme: dark)">
<link rel="stylesheet" href="static/site.css">
{%- endblock notebook_css -%}

{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{%- set site = resources.site %}
{%- if site.current.name != site.home.name %}
<header class="site-header"><a href="{{ site.home.name }}">{{ site.home.title | escape_html }}</a></header>
{%- endif %}
<main>
{%- endblock body_header -%}

{%- block body_footer %}
</main>
{%- set site = resources.site %}
{%- if site.current.name == site.home.name and site.pages %}
<footer class="site-footer"><nav><h2>Notebooks</h2><ul>
{%- for page in site.pages %}
<li><a href="{{ page.name }}">{{ page.title | escape_html }}</a></li>
{%- endfor %}
</ul></nav></footer>
{%- endif %}
</body>
{%- endblock body_footer %}

{%- block input_group -%}
{%- set lines = cell.source.splitlines() | length %}
{%- if 'parameters' in cell.metadata.get('tags', []) %}
<details class="site-code site-parameters" open><summary>Parameters <span class="site-code-length">({{ lines }} line{{ 's' if lines != 1 }})</span></summary>
{%- else %}
<details class="site-code"><summary>Code <span class="site-code-length">({{ lines }} line{{ 's' if lines != 1 }})</span></summary>
{%- endif %}
{{ super() }}
</details>
{%- endblock input_group %}

{%- block data_latex scoped -%}
<div class="jp-RenderedLatex jp-OutputArea-output {{ extra_class }}" data-mime-type="text/latex">
{{ output.data['text/latex'] | markdown2html }}
</div>
{%- endblock data_latex %}
"""
"""The page template (Jinja, nbconvert's ``raw_template``); `resources['site']` names the pages."""

SITE_CSS = """\
/* The site's layout over JupyterLab's notebook styles (index.css and the theme files). */
:root {
  color-scheme: light dark;
}

body.jp-Notebook {
  margin: 0;
  padding: 1.5rem 1rem 4rem;
}

.site-header,
main,
.site-footer {
  max-width: 60rem;
  margin: 0 auto;
}

.site-header,
.site-footer {
  font-family: var(--jp-content-font-family);
}

.site-header {
  padding: 0 var(--jp-code-padding) 1rem;
  border-bottom: 1px solid var(--jp-border-color2);
  font-size: var(--jp-content-font-size2);
}

.site-footer {
  padding: 2rem var(--jp-code-padding) 0;
  font-size: var(--jp-content-font-size1);
  color: var(--jp-content-font-color1);
}

.site-header a,
.site-footer a {
  color: var(--jp-content-link-color);
}

/* prose at a readable measure; tables, code and figures may use the full width */
.jp-RenderedMarkdown > :is(p, ul, ol, dl, blockquote, h1, h2, h3, h4, h5, h6) {
  max-width: 48rem;
}

.jp-RenderedHTMLCommon img,
.jp-OutputArea-output img {
  max-width: 100%;
  height: auto;
}

/* no prompts (In [3]:, Out[3]:) and no collapser bars: a page is read, not edited */
.jp-InputPrompt,
.jp-OutputPrompt,
.jp-Collapser {
  display: none;
}

details.site-code > summary {
  cursor: pointer;
  padding: 2px var(--jp-code-padding);
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  color: var(--jp-content-font-color2);
}

details.site-code[open] > summary {
  margin-bottom: 4px;
}

.site-code-length {
  color: var(--jp-content-font-color3);
}

details.site-parameters > summary {
  color: var(--jp-content-font-color1);
}

/* a number stays on one line (8.3e-05, not 8.3e- / 05); the build wraps each in this span */
.site-num {
  white-space: nowrap;
}

/* digits of one width, so the numbers of a right-aligned column line up */
.jp-RenderedHTMLCommon :is(td, th) {
  font-variant-numeric: tabular-nums;
}

/* MathML, typeset by the browser: the body's colour in either scheme, a little larger as in TeX */
math {
  color: inherit;
  font-size: 1.05em;
}

/* as in nbconvert's lab page: highlighted code keeps the editor's padding and font */
.jp-InputArea,
.jp-InputArea-editor {
  overflow: hidden;
}

.cm-editor.cm-s-jupyter .highlight pre {
  padding: var(--jp-code-padding) 4px;
  margin: 0;
  font-family: inherit;
  font-size: inherit;
  line-height: inherit;
  color: inherit;
}

.jp-OutputArea-output pre {
  line-height: inherit;
  font-family: inherit;
}

.jp-RenderedText pre {
  color: var(--jp-content-font-color1);
  font-size: var(--jp-code-font-size);
}

a.anchor-link {
  display: none;
  margin-left: 0.25em;
  text-decoration: none;
  color: var(--jp-content-font-color3);
}

:is(h1, h2, h3, h4, h5, h6):hover > a.anchor-link {
  display: inline;
}

* {
  -webkit-print-color-adjust: exact;
  print-color-adjust: exact;
}
"""
"""The site's own stylesheet (``static/site.css``)."""
