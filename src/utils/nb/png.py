"""Deterministic PNG, PDF and SVG rendering and atomic file writes for notebook figures.

Design decisions:
- PNGs are rendered to bytes in memory at the figure's dpi, cropped to the tight bounding box (plus
  `savefig.pad_inches`) on the figure's own background, and encoded without text metadata (no software
  or time stamps), so the same figure gives byte-identical files across runs.
- Figures on an Agg canvas (pyplot with Agg or the inline backend) are drawn once and the pixel buffer
  is cropped, rather than going through `savefig(bbox_inches='tight')`, which draws twice.
- Files are written atomically: bytes go to a temporary file in the destination folder which is then
  `os.replace`d over the target, so a reader (or a crash) never sees a half-written PNG. An unchanged
  file is not rewritten at all.
- The cache-busting token is a short hash of the bytes: identical figures give identical HTML.
- PDF and SVG (`render_vector`) are saved at the figure's own size, uncropped: a figure drawn one paper
  column wide must stay exactly that wide, so that it prints at the size its fonts were chosen for
  (constrained layout already leaves only a small margin). They carry no creation date, and SVG ids
  come from a fixed salt, so an unchanged figure gives byte-identical files and is not rewritten.
- `save_figure` writes one figure in several formats beside one another (`<stem>.png`, `<stem>.pdf`,
  `<stem>.svg`), by the rules every notebook file follows (`utils.nb.paths`): a relative path is under
  the repository root, `EX_COLOR_FIGURES_DIR` redirects it (smoke runs), staging is honoured, and each
  file is written atomically. All formats are rendered before any file is written.

Deliberately not done here: no display, no theming; see `utils.nb.displayer`.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from utils.atomic import write_atomic
from utils.nb.paths import resolve_figure_path, staged_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
FIGURE_FORMATS = ('png', 'pdf', 'svg')
"""The file formats a figure can be saved in."""
VECTOR_FORMATS = ('pdf', 'svg')
_NO_DATES = {'pdf': {'CreationDate': None}, 'svg': {'Date': None}}


def render_png(fig: Figure) -> bytes:
    """Render `fig` at its own dpi to PNG bytes: tight bounding box, figure face colour, no metadata."""
    # imported here: a figure served from the cache is never drawn
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if not isinstance(fig.canvas, FigureCanvasAgg):
        # Other canvases (e.g. an interactive backend's) go through savefig, which draws twice.
        buf = io.BytesIO()
        fig.savefig(
            buf,
            format='png',
            dpi=fig.dpi,
            bbox_inches='tight',
            facecolor=fig.get_facecolor(),
            metadata={'Software': None},
        )
        return buf.getvalue()
    # savefig(bbox_inches='tight') draws the figure twice; drawing once and cropping the pixel buffer to
    # the tight box is equivalent for a fixed layout and halves the cost of marker-heavy figures.
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # [H, W, 4], row 0 at the top
    height, width = rgba.shape[:2]
    pad = float(mpl.rcParams['savefig.pad_inches'])
    box = fig.get_tightbbox(renderer).padded(pad)  # inches, origin bottom-left
    x0 = max(0, math.floor(box.x0 * fig.dpi))
    x1 = min(width, math.ceil(box.x1 * fig.dpi))
    y0 = max(0, math.floor(height - box.y1 * fig.dpi))
    y1 = min(height, math.ceil(height - box.y0 * fig.dpi))
    if x1 <= x0 or y1 <= y0:
        x0, x1, y0, y1 = 0, width, 0, height
    pixels = rgba[y0:y1, x0:x1]
    # An opaque figure is stored as RGB: a quarter less data to compress, and a smaller file.
    image = (
        Image.fromarray(np.ascontiguousarray(pixels[..., :3]), 'RGB')
        if np.all(pixels[..., 3] == 255)
        else Image.fromarray(np.ascontiguousarray(pixels), 'RGBA')
    )
    out = io.BytesIO()
    image.save(out, format='png', dpi=(fig.dpi, fig.dpi))
    return out.getvalue()


def content_token(data: bytes, length: int = 10) -> str:
    """Short, URL-safe hash of `data` for cache-busting query strings."""
    return hashlib.sha256(data).hexdigest()[:length]


def render_vector(fig: Figure, fmt: str) -> bytes:
    """Render `fig` as PDF or SVG bytes at its own size, on its face colour, without dates."""
    import matplotlib as mpl

    if fmt not in VECTOR_FORMATS:
        raise ValueError(f'render_vector: format must be one of {", ".join(VECTOR_FORMATS)}, got {fmt!r}')
    buf = io.BytesIO()
    with mpl.rc_context({'svg.hashsalt': 'ex-color'}):
        fig.savefig(buf, format=fmt, facecolor=fig.get_facecolor(), metadata=_NO_DATES[fmt])
    return buf.getvalue()


def check_formats(formats: Sequence[str], argument: str) -> tuple[str, ...]:
    """`formats` without repeats, each one of `FIGURE_FORMATS` (ValueError naming `argument`)."""
    if isinstance(formats, str):
        raise TypeError(f'{argument}: expected a sequence of formats such as ("png", "pdf"), got {formats!r}')
    out: list[str] = []
    for fmt in formats:
        if fmt not in FIGURE_FORMATS:
            raise ValueError(
                f'{argument}: unknown figure format {fmt!r}; expected some of {", ".join(FIGURE_FORMATS)}'
            )
        if fmt not in out:
            out.append(fmt)
    return tuple(out)


def render_formats(fig: Figure, formats: Sequence[str]) -> dict[str, bytes]:
    """`fig` rendered in each of `formats` ('png' cropped as `render_png`, vector at the figure's size)."""
    return {fmt: render_png(fig) if fmt == 'png' else render_vector(fig, fmt) for fmt in formats}


def save_figure(
    fig: Figure, path: str | os.PathLike[str], formats: Sequence[str] = ('png', 'pdf', 'svg')
) -> dict[str, Path]:
    """Write `fig` as `<stem>.<format>` for each of `formats`, atomically; return the final paths.

    `path` names the files: a suffix that is one of the formats is replaced by each in turn; any other
    name has them appended ('ex-2.10-loss' gives 'ex-2.10-loss.pdf'). Paths resolve as notebook figures
    do (see the module docstring).
    """
    given = Path(path)
    chosen = check_formats(formats, 'save_figure formats')
    if not chosen:
        raise ValueError('save_figure: formats is empty; give at least one of ' + ', '.join(FIGURE_FORMATS))
    stem = given.with_suffix('') if given.suffix[1:] in FIGURE_FORMATS else given
    data = render_formats(fig, chosen)
    finals = {fmt: resolve_figure_path(stem.with_name(f'{stem.name}.{fmt}')) for fmt in chosen}
    for fmt, final in finals.items():
        write_atomic(staged_path(final), data[fmt])
    return finals
