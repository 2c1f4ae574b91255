"""Deterministic PNG rendering and atomic file writes for notebook figures.

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

Deliberately not done here: no display, no theming; see `utils.nb.displayer`.
"""

from __future__ import annotations

import hashlib
import io
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


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
