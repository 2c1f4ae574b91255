r"""Renderers for the per-colour error table (`named_error_table`): HTML, Markdown and LaTeX.

All three show the colour name, its RGB as a hex code (HTML: plus a 1em swatch; LaTeX:
``\swatch{HEX}``), the baseline MSE and, per result, its MSE (HTML, Markdown) and its change from the
baseline. Headers: ``RGB``, ``Baseline``, each result's tags in title case (``Ablated``,
``No Intervention``) and ``Δ <title-cased name>`` for deltas, in full.

Design decisions:
- Hex codes *round* each channel, floor(c·255 + ½), so 0.5 → ``80`` (the reference truncated to ``7f``).
- Numbers: MSE ``.3f``, deltas ``+.3f`` (HTML, Markdown). LaTeX emits six decimals and lets siunitx
  round to three (``\sisetup`` inside the table), with ``print-implicit-plus`` on delta columns.
- Title case capitalises the first letter of each word and leaves the rest alone (``str.title`` would
  turn ``RGB-ish`` into ``Rgb-Ish``). Names are never truncated or stripped by character sets.
- Text is escaped for the target (HTML entities, ``\|`` in Markdown, LaTeX specials).
- The LaTeX uses booktabs and siunitx ``S`` columns and a user macro ``\swatch``; define it in the
  preamble, e.g. ``\newcommand{\swatch}[1]{\textcolor[HTML]{#1}{\rule{1em}{1em}}}`` (needs xcolor).

Deliberately not done: no heat-map column types, no notebook display (callers wrap the HTML string in
``IPython.display.HTML`` and the LaTeX in a ```` ```latex ```` block).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

from ex_color.evaluation.named_table import table_columns


def hex_color(rgb: Sequence[float]) -> str:
    """``'rrggbb'`` (lower case, no ``#``) with each channel rounded half-up from c·255."""
    rgb = tuple(float(c) for c in rgb)
    if len(rgb) != 3 or not all(math.isfinite(c) and 0 <= c <= 1 for c in rgb):
        raise ValueError(f'hex_color: expected 3 channels in [0, 1], got {rgb!r}')
    return ''.join(f'{math.floor(c * 255 + 0.5):02x}' for c in rgb)


def title_case(text: str) -> str:
    """Capitalise the first letter of each space-separated word; leave the rest unchanged."""
    return ' '.join(w[:1].upper() + w[1:] for w in text.split(' '))


def _layout(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, header, kind) for the numeric columns in display order; kind 'mse' or 'delta'."""
    cols = table_columns(df)
    out = [('baseline', 'Baseline', 'mse')]
    for col in cols.results:
        out.append((col, title_case(col), 'mse'))
        if col in cols.deltas:
            out.append((cols.deltas[col], f'Δ {title_case(col)}', 'delta'))
    return out


def _number(value: float, kind: str) -> str:
    return f'{value:+.3f}' if kind == 'delta' else f'{value:.3f}'


def to_styled_html(df: pd.DataFrame) -> str:
    """An HTML ``<table>``: name, RGB swatch and hex, baseline, results and deltas."""
    layout = _layout(df)
    right = 'style="text-align: right"'
    head = ['<th>Name</th>', '<th>RGB</th>'] + [f'<th {right}>{html.escape(h)}</th>' for _, h, _ in layout]
    rows = []
    for _, row in df.iterrows():
        code = hex_color(row['rgb'])
        swatch = (
            f'<span style="display: inline-block; width: 1em; height: 1em; vertical-align: middle; '
            f'background-color: #{code}"></span> <code>#{code}</code>'
        )
        cells = [f'<td>{html.escape(str(row["name"]))}</td>', f'<td>{swatch}</td>']
        cells += [f'<td {right}>{_number(row[col], kind)}</td>' for col, _, kind in layout]
        rows.append('<tr>' + ''.join(cells) + '</tr>')
    return (
        '<table class="ex-color-named-errors">\n'
        f'<thead><tr>{"".join(head)}</tr></thead>\n'
        '<tbody>\n' + '\n'.join(rows) + '\n</tbody>\n</table>'
    )


def _md(text: str) -> str:
    return text.replace('|', r'\|')


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table: name, hex RGB, baseline, results and deltas."""
    layout = _layout(df)
    header = ['Name', 'RGB'] + [h for _, h, _ in layout]
    lines = [
        '| ' + ' | '.join(_md(h) for h in header) + ' |',
        '| --- | --- | ' + ' | '.join('---:' for _ in layout) + ' |',
    ]
    for _, row in df.iterrows():
        cells = [_md(str(row['name'])), f'#{hex_color(row["rgb"])}']
        cells += [_number(row[col], kind) for col, _, kind in layout]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


_LATEX_SPECIALS = {
    '\\': r'\textbackslash{}',
    '&': r'\&',
    '%': r'\%',
    '$': r'\$',
    '#': r'\#',
    '_': r'\_',
    '{': r'\{',
    '}': r'\}',
    '~': r'\textasciitilde{}',
    '^': r'\textasciicircum{}',
}


def latex_escape(text: str) -> str:
    """`text` with LaTeX special characters escaped."""
    return ''.join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def to_latex(df: pd.DataFrame, caption: str, label: str) -> str:
    r"""A booktabs ``table``: name, ``\swatch``, baseline, then each result's delta (grouped under Δ MSE).

    `caption` is inserted as LaTeX (not escaped); `label` must be a non-empty key without spaces or braces.
    """
    if not isinstance(label, str) or not label or any(ch in label for ch in ' {}\\%#'):
        raise ValueError(
            f'to_latex: label must be a non-empty key without spaces, braces, \\, % or #; got {label!r}'
        )
    deltas = [(col, h.removeprefix('Δ ')) for col, h, kind in _layout(df) if kind == 'delta']
    n = len(deltas)
    spec = 'l c S[table-format=1.3]' + ''.join(' S[table-format=+1.3, print-implicit-plus]' for _ in deltas)
    lines = [
        r'\begin{table}',
        r'  \centering',
        rf'  \caption{{{caption}}}',
        rf'  \label{{{label}}}',
        r'  \sisetup{round-mode=places, round-precision=3}',
        rf'  \begin{{tabular}}{{{spec}}}',
        r'    \toprule',
    ]
    if n:
        lines += [
            rf'    & & & \multicolumn{{{n}}}{{c}}{{$\Delta$ MSE}} \\',
            rf'    \cmidrule(lr){{4-{3 + n}}}',
        ]
    header = ['{Colour}', '', '{Baseline}'] + [f'{{{latex_escape(h)}}}' for _, h in deltas]
    lines += ['    ' + ' & '.join(header) + r' \\', r'    \midrule']
    for _, row in df.iterrows():
        name = str(row['name'])
        cells = [latex_escape(name[:1].upper() + name[1:]), rf'\swatch{{{hex_color(row["rgb"]).upper()}}}']
        cells += [f'{row["baseline"]:.6f}'] + [f'{row[col]:.6f}' for col, _ in deltas]
        lines.append('    ' + ' & '.join(cells) + r' \\')
    lines += [r'    \bottomrule', r'  \end{tabular}', r'\end{table}']
    return '\n'.join(lines)
