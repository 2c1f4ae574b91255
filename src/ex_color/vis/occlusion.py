"""Skip drawing markers that are completely hidden behind nearer ones (latent-space scatter plots).

A latent panel draws thousands of large opaque dots, back to front, so most are painted over: with
8000 unit vectors only ~1/6 remain visible. Drawing only the possibly-visible ones keeps rendering fast
without changing a single output pixel.

Design decisions:
- The test runs at draw time, in display pixels, so it uses the final layout and dpi.
- It is conservative: a dot is dropped only if every grid cell its disc (grown by a safety margin)
  touches lies entirely inside the opaque core (shrunk by the same margin) of some dot drawn later.
  The margin (2 px) covers antialiasing and pixel snapping, so the rendered image is identical with
  and without culling (tested). Coverage is computed on a grid of cells a quarter of the radius wide;
  which cells a dot covers or touches is precomputed for 4 x 4 sub-cell positions of its centre, taking
  the worst case over each, so the per-dot work is table look-ups (tens of ms for 8000 dots).
- It applies only to opaque, equal-sized, round markers drawn in offset order; `DepthCulledDots`
  draws everything when colours are translucent.

Deliberately not done here: no depth sorting (callers pass dots already sorted back to front).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import PathCollection

_MARGIN_PX = 2.0


def _offset_masks(
    core: float, reach: float, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate cell offsets and, per sub-cell bin of a centre's position, which are inside/touched.

    Lengths are in cells. A centre at fractional position f in bin (bx, by) covers offset cell
    [ox, ox + 1] x [oy, oy + 1] *wholly* if its farthest corner is within `core` for every f in the bin
    (the farthest distance is convex in f, so checking the bin's corners suffices), and *touches* it if
    the cell comes within `reach` of some f in the bin (rectangle-to-rectangle distance).
    """
    span = int(math.ceil(reach)) + 1
    oy, ox = (a.ravel().astype(np.float64) for a in np.mgrid[-span : span + 1, -span : span + 1])
    lo = np.arange(bins) / bins  # bin lower edges, per axis
    hi = lo + 1 / bins
    # Farthest-corner distance over the bin, per axis: max over f in {lo, hi} of max(|ox - f|, |ox + 1 - f|).
    far_x = np.maximum(np.abs(ox[None, :] - lo[:, None]), np.abs(ox[None, :] + 1 - lo[:, None]))
    far_x = np.maximum(
        far_x, np.maximum(np.abs(ox[None, :] - hi[:, None]), np.abs(ox[None, :] + 1 - hi[:, None]))
    )
    far_y = np.maximum(np.abs(oy[None, :] - lo[:, None]), np.abs(oy[None, :] + 1 - lo[:, None]))
    far_y = np.maximum(
        far_y, np.maximum(np.abs(oy[None, :] - hi[:, None]), np.abs(oy[None, :] + 1 - hi[:, None]))
    )
    near_x = np.maximum(0, np.maximum(ox[None, :] - hi[:, None], lo[:, None] - (ox[None, :] + 1)))
    near_y = np.maximum(0, np.maximum(oy[None, :] - hi[:, None], lo[:, None] - (oy[None, :] + 1)))
    inside = far_x[:, None, :] ** 2 + far_y[None, :, :] ** 2 <= core**2  # [bins_x, bins_y, K]
    touched = near_x[:, None, :] ** 2 + near_y[None, :, :] ** 2 <= reach**2
    used = touched.any(axis=(0, 1))  # offsets no bin can reach are dropped
    return ox[used].astype(np.int64), oy[used].astype(np.int64), inside[..., used], touched[..., used]


def possibly_visible(
    xy: np.ndarray, radius: float, margin: float = _MARGIN_PX, cells_per_radius: int = 4, bins: int = 4
) -> np.ndarray:
    """Mask of dots (centres `xy` [N, 2] in pixels, drawn in index order) that may show in the image."""
    n = len(xy)
    if n < 2 or radius - margin <= 0:
        return np.ones(n, dtype=bool)
    cell = max(1.0, radius / cells_per_radius)
    core, reach = (radius - margin) / cell, (radius + margin) / cell
    ox, oy, inside_by_bin, touched_by_bin = _offset_masks(core, reach, bins)
    pad = int(math.ceil(reach)) + 2
    g = (xy - xy.min(axis=0)) / cell + pad  # cell coordinates, every candidate cell inside the grid
    base = np.floor(g).astype(np.int64)  # [N, 2]
    b = np.minimum(((g - base) * bins).astype(np.int64), bins - 1)  # sub-cell bin per axis
    width = int(base[:, 0].max()) + 2 * pad
    flat = (base[:, 1:] + oy) * width + (base[:, :1] + ox)  # [N, K]
    inside = inside_by_bin[b[:, 0], b[:, 1]]  # [N, K]
    touched = touched_by_bin[b[:, 0], b[:, 1]]
    rank = np.arange(n)
    top = np.full((int(base[:, 1].max()) + 2 * pad) * width, -1, dtype=np.int64)
    np.maximum.at(top, flat[inside], np.broadcast_to(rank[:, None], flat.shape)[inside])
    # Visible if some touched cell is not wholly covered by a dot drawn later (higher rank).
    return (touched & (top[flat] <= rank[:, None])).any(axis=1)


class DepthCulledDots(PathCollection):
    """A single-marker `PathCollection` that skips dots hidden behind later ones when drawing."""

    def __init__(self, *args, radius_points: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.radius_points = radius_points
        """Outer radius of each dot (marker plus edge), in points."""

    def draw(self, renderer) -> None:
        # [N, 4] RGBA arrays at run time (the stubs widen them to any colour spec)
        face, edge = np.asarray(self.get_facecolor()), np.asarray(self.get_edgecolor())
        opaque = (len(face) == 0 or np.all(face[:, 3] == 1)) and (len(edge) == 0 or np.all(edge[:, 3] == 1))
        offsets = np.asarray(self.get_offsets())
        if not self.get_visible() or not opaque or len(offsets) < 2:
            return super().draw(renderer)
        xy = self.get_offset_transform().transform(offsets)
        keep = possibly_visible(xy, renderer.points_to_pixels(self.radius_points))
        if keep.all():
            return super().draw(renderer)
        sub = PathCollection(
            self.get_paths(),
            sizes=self.get_sizes(),
            offsets=offsets[keep],
            offset_transform=self.get_offset_transform(),
            facecolors=face[keep] if len(face) == len(offsets) else face,
            edgecolors=edge[keep] if len(edge) == len(offsets) else edge,
            linewidths=self.get_linewidth(),
            zorder=self.get_zorder(),
        )
        sub.set_figure(self.figure)
        sub.set_clip_path(self.get_clip_path())
        sub.set_clip_box(self.get_clip_box())
        sub.set_transform(self.get_transform())
        sub.draw(renderer)
        self.stale = False
