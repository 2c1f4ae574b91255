"""Figures a paper can print: column-width text sizes, line contrast, the loss plot's legend, latent names.

Text sizes are read from the saved PDF's content streams (font size times the scale of the matrix the
text is placed with), and line colours from the saved SVG's strokes, so the checks measure what is
drawn. Contrast is computed here from the WCAG 2 formula, independently of `utils.plt.legibility`.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from ex_color.data import ColorCube
from ex_color.vis import latent_name, plot_cube_series, plot_latent_grid_3d_from_cube
from utils.nb.png import render_vector, save_figure
from utils.plt import COLUMN_STYLE, Theme, print_problems, shade_for_contrast, use_theme

COLUMN = Theme('light', width='column')


def wcag_contrast(a: str, b: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05) of two '#rrggbb' colours, L from linearised sRGB."""

    def lum(hex_color: str) -> float:
        c = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_wcag_reference_values():
    # black on white: (1 + 0.05) / (0 + 0.05) = 21; yellow: L = 0.2126 + 0.7152 = 0.9278 -> 1.05 / 0.9778
    assert wcag_contrast('#000000', '#ffffff') == pytest.approx(21)
    assert wcag_contrast('#ffff00', '#ffffff') == pytest.approx(1.05 / 0.9778, abs=1e-4)
    assert wcag_contrast('#00ffff', '#ffffff') == pytest.approx(1.05 / (0.7152 + 0.0722 + 0.05), abs=1e-4)


def pdf_text_sizes(pdf: bytes) -> list[float]:
    """Printed size of every text run: `Tf` size times sqrt|det| of the `cm` matrix before its `BT`."""
    sizes = []
    for stream in re.findall(rb'stream\r?\n(.*?)\r?\nendstream', pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # an embedded font program, not page content
        for a, b, c, d, size in re.findall(
            rb'([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) [-\d.]+ [-\d.]+ cm\s+BT\s+/F\d+ ([\d.]+) Tf', content
        ):
            scale = abs(float(a) * float(d) - float(b) * float(c)) ** 0.5
            sizes.append(float(size) * scale)
    return sizes


def loss_cube() -> ColorCube:
    """The error figure's cube at the test set's sizes, with the ablated model's shape: a peak at red."""
    unit = np.linspace(0, 1, 24)
    cube = ColorCube.from_hsv(np.linspace(-1 / 12, 1 + 1 / 12, 150), unit, unit)
    h, s, v = np.meshgrid(*cube.coordinates, indexing='ij')
    return cube.assign(MSE=0.3 * np.exp(-np.abs((h + 0.5) % 1 - 0.5) / 0.04) * s**2 * v**3)


def hero(cube: ColorCube, theme: Theme) -> Figure:
    """The hero plot as the notebooks draw it (hue at 5 value levels, saturation, value)."""
    return plot_cube_series(
        cube.permute('hsv')[:, -1:, :: (cube.shape[2] // -5)],
        cube.permute('svh')[:, -1:, :: -(cube.shape[0] // -3)],
        cube.permute('vsh')[:, -1:, :: -(cube.shape[0] // -3)],
        title='Reconstruction error · ablated · median seed · seed 40, the median of 200 by the error at red',
        var='MSE',
        theme=theme,
    )


def latents(theme: Theme) -> Figure:
    rgb = ColorCube.from_rgb(*(np.linspace(0, 1, 8),) * 3)
    lat = np.random.default_rng(0).normal(size=(*rgb.shape, 5))
    lat /= np.linalg.norm(lat, axis=-1, keepdims=True)
    dims = [(1, 0, 2), (2, 0, 1), (3, 0, 1), (4, 1, 2), (3, 2, 4), (4, 3, 0)]
    return plot_latent_grid_3d_from_cube(
        rgb.assign(latents=lat, recon=rgb['color']),
        'recon',
        'color',
        dims=dims,
        title='Latents · x',
        theme=theme,
    )


@pytest.mark.parametrize('draw', [hero, latents], ids=['loss', 'latents'])
def test_a_column_figure_keeps_its_text_at_7_pt_or_more_when_saved(draw, tmp_path):
    with use_theme('base', 'light', COLUMN_STYLE):
        fig = draw(loss_cube(), COLUMN) if draw is hero else draw(COLUMN)
        files = save_figure(fig, tmp_path / 'column', ('pdf',))
    assert fig.get_size_inches()[0] == pytest.approx(3.35)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts and min(float(t.get_fontsize()) for t in texts) >= 7
    plt.close(fig)
    pdf = files['pdf'].read_bytes()
    (box,) = re.findall(rb'/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]', pdf)
    assert float(box[0]) == pytest.approx(3.35 * 72)  # saved at the column's width, not cropped or scaled
    sizes = pdf_text_sizes(pdf)
    assert len(sizes) >= len(texts) - 2  # every label is in the file (ticks outside the view are not)
    assert min(sizes) >= 7


def test_print_problems_names_small_text_overflow_and_width():
    with use_theme('base', 'light', COLUMN_STYLE):
        fig = plt.figure(figsize=(3.35, 2))
        fig.text(0.1, 0.5, 'tiny', fontsize=6)
        fig.text(0.1, 0.2, 'fine', fontsize=7)
        fig.text(0.98, 0.8, 'this runs off the edge of the figure')
        fig.text(0.1, 0.8, r'$e_1$')
        problems = print_problems(fig)
        plt.close(fig)
        assert len(problems) == 3
        assert "'tiny' is set in 6 pt" in problems[0]
        assert 'mathtext' in problems[1] and 'past the edge' in problems[2]
        fig = plt.figure(figsize=(4, 2))
        assert print_problems(fig) == ['the figure is 4.00 in wide, not 3.35 in']
        plt.close(fig)


def strokes(svg: str) -> dict[str, list[tuple[str, float]]]:
    """Every stroked path of an SVG: its path data -> [(colour, width)] in drawing order."""
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for d, style in re.findall(r'<path d="([^"]+)"[^>]*?style="([^"]*stroke: #[0-9a-f]{6}[^"]*)"', svg):
        color = re.search(r'stroke: (#[0-9a-f]{6})', style)
        width = re.search(r'stroke-width: ([\d.]+)', style)
        if color and width and 'stroke-opacity' not in style:
            out[d].append((color.group(1), float(width.group(1))))
    return out


@pytest.mark.parametrize(
    ('styles', 'background'), [(('base', 'light'), '#ffffff'), (('base', 'dark'), '#212121')]
)
def test_every_drawn_line_has_a_rim_with_3_to_1_contrast(styles, background):
    # Dark: axes #1118 over figure #333 -> 0x11 * 0x88/255 + 0x33 * (1 - 0x88/255) = 32.9 -> #212121.
    theme = Theme(styles[1])
    with use_theme(*styles):
        fig = hero(loss_cube(), theme)
        svg = render_vector(fig, 'svg').decode()
    plt.close(fig)
    cores = rims = faint = 0
    for drawn in strokes(svg).values():
        if len(drawn) != 2:
            continue  # axes, ticks, and the legend's handles drawn once per entry
        (rim, rim_width), (core, core_width) = drawn
        assert rim_width > core_width
        # the rim is what makes the line visible; the core keeps the true colour
        assert wcag_contrast(rim, background) >= 3.0, (rim, core)
        cores += 1
        rims += rim != core
        faint += wcag_contrast(core, background) < 3.0
    assert cores > 600, 'the hue panel alone has 5 lines of 149 segments'
    assert faint > 20 and rims >= faint, 'there are faint colours (yellow, cyan) and each got a darker rim'
    if theme.name == 'light':
        # yellow and cyan themselves are still drawn, as the lines' cores (about 1.1:1 and 1.25:1 on white)
        colours = {core for drawn in strokes(svg).values() if len(drawn) == 2 for core, _ in drawn[1:]}
        assert min(wcag_contrast(c, background) for c in colours) < 1.3


def test_shade_for_contrast_is_the_least_change_that_reaches_the_ratio():
    yellow = shade_for_contrast('#ffff00', 'white', 3.0)
    hex_yellow = '#' + ''.join(f'{round(c * 255):02x}' for c in yellow)
    assert 3.0 <= wcag_contrast(hex_yellow, '#ffffff') <= 3.2
    assert yellow[0] == pytest.approx(yellow[1]) and yellow[2] == 0  # still a yellow, only darker
    assert shade_for_contrast('#ff0000', 'white', 3.0) == (1.0, 0.0, 0.0)  # 3.99:1 already
    with pytest.raises(ValueError, match='no shade'):
        shade_for_contrast('#777777', '#777777', 5.0)  # mid grey allows at most about 4.7:1


def test_the_loss_plot_has_a_legend_for_its_stacked_curves():
    with use_theme('base', 'light'):
        fig = hero(loss_cube(), Theme('light'))
    hue, sat, val = fig.axes
    legend = hue.get_legend()
    assert legend is not None
    # Levels 23, 18, 13, 8, 3 of 24 values in [0, 1]: v = 23/23, 18/23, 13/23, 8/23, 3/23.
    assert [t.get_text() for t in legend.get_texts()] == ['1', '0.78', '0.57', '0.35', '0.13']
    assert legend.get_title().get_text() == 'Value (saturation 1)'
    # each entry is drawn in its line's colour at the peak (red, darker with value)
    reds = [np.asarray(h.get_color())[:3] for h in legend.legend_handles]  # type: ignore[union-attr]
    np.testing.assert_allclose([r[0] for r in reds], [1, 18 / 23, 13 / 23, 8 / 23, 3 / 23], atol=1e-6)
    # the peak is at the sampled hue nearest red (0.0028 of a turn): green = 6 * 0.0028 * v < 0.02
    assert all(r[1] < 0.02 and r[2] == 0 for r in reds)
    # one line of constant hue per saturation/value panel: their colour names them, no legend
    assert sat.get_legend() is None and val.get_legend() is None
    plt.close(fig)


def test_column_stacks_the_hue_panel_above_the_others():
    with use_theme('base', 'light', COLUMN_STYLE):
        fig = hero(loss_cube(), COLUMN)
    hue, sat, val = (ax.get_position() for ax in fig.axes)
    assert hue.y0 > sat.y1 and sat.y0 == pytest.approx(val.y0) and sat.x1 < val.x0
    assert [ax.get_ylabel() for ax in fig.axes] == ['MSE', 'MSE', '']
    plt.close(fig)


def test_latent_panels_name_their_dimensions():
    assert [latent_name(i) for i in (0, 1, 4, 12)] == ['e₀', 'e₁', 'e₄', 'e₁₂']
    fig = latents(Theme('light'))
    labels = [(ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) for ax in fig.axes]
    assert labels[0] == ('e₁', 'e₀', 'e₁, e₀ · depth e₂')
    assert labels[5] == ('e₄', 'e₃', 'e₄, e₃ · depth e₀')
    assert not any('(' in title for _, _, title in labels)
    assert tuple(fig.get_size_inches()) == pytest.approx((18, 12))  # full width: 6 in panels, as before
    plt.close(fig)


def test_theme_width():
    assert Theme('light') == Theme('light', width='full') != COLUMN
    assert repr(COLUMN) == "Theme('light', width='column')" and repr(Theme('dark')) == "Theme('dark')"
    assert COLUMN.figsize((12, 3), 0.5) == (3.35, 1.675)  # 3.35 * 0.5
    assert Theme('dark').figsize((12, 3), 0.5) == (12, 3)
    with pytest.raises(ValueError, match="'half'"):
        Theme('light', width='half')  # type: ignore[arg-type]
