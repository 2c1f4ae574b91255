"""The four Ex 2.10 figures, called as the seed notebook calls them, rendered light and dark.

Synthetic data at the seed's sizes (hsv 4x8x24, hd 120x24x24, rgb 20^3 with 5-D latents). Checks the
files and their backgrounds; prints the total render time (`pytest -s`) but never asserts it.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np

from ex_color.data import ColorCube, arange_cyclic
from ex_color.vis import plot_colors, plot_cube_series, plot_latent_grid_3d_from_cube
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.vis import plot_dopesheet
from utils.nb import FIGURES_DIR_ENV, displayer_mpl

REPO = Path(__file__).resolve().parents[1]
LUMA = np.array([0.2126, 0.7152, 0.0722])
TAGS = ['no intervention', 'no subspace']
DIMS = [(1, 0, 2), (2, 0, 1), (3, 0, 1), (4, 1, 2), (3, 2, 4), (4, 3, 0)]


def with_fake_outputs(cube: ColorCube, rng: np.random.Generator) -> ColorCube:
    x = cube['color']
    recon = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1)
    lat = rng.normal(size=(*cube.shape, 5))
    lat /= np.linalg.norm(lat, axis=-1, keepdims=True)
    # MSE with the seed's trailing singleton axis, to check it is accepted.
    return cube.assign(recon=recon, MSE=((recon - x) ** 2).mean(-1)[..., None], latents=lat)


def mean_luminance(path: Path) -> float:
    return float(np.mean(mpimg.imread(path)[..., :3] @ LUMA))


def border_luminance(path: Path) -> float:
    img = mpimg.imread(path)[..., :3]
    border = np.concatenate([img[:3].reshape(-1, 3), img[-3:].reshape(-1, 3), img[:, :3].reshape(-1, 3)])
    return float(np.mean(border @ LUMA))


def test_seed_figures_render_in_both_themes(tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path))
    rng = np.random.default_rng(0)
    hsv = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 24), s=np.linspace(0, 1, 4), v=np.linspace(0, 1, 8)
    )
    hsv = with_fake_outputs(hsv.permute('svh'), rng)
    hd = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 240), s=np.linspace(0, 1, 48), v=np.linspace(0, 1, 48)
    )
    hd = with_fake_outputs(hd[::2, ::2, ::2], rng)
    rgb = with_fake_outputs(ColorCube.from_rgb(*(np.linspace(0, 1, 20),) * 3), rng)
    dopesheet = Dopesheet.from_csv(REPO / 'notebooks' / 'ex-2.10-dopesheet.csv')

    start, start_cpu = time.perf_counter(), time.process_time()
    with displayer_mpl('large-assets/ex-2.10-dopesheet.png', alt_text='Schedule "{title}"') as show:
        show(lambda theme: plot_dopesheet(dopesheet, theme))
    with displayer_mpl('large-assets/ex-2.10-pred-colors-x.png', alt_text='Slices "{title}"') as show:
        show(
            lambda: plot_colors(
                hsv, title=f'Predicted colors · {" · ".join(TAGS)}', colors='recon', colors_compare='color'
            )
        )
    assert show.result is not None
    assert show.result.alt_text == 'Slices "Predicted colors · no intervention · no subspace · V vs H by S"'
    with displayer_mpl('large-assets/ex-2.10-loss-colors-x.png', alt_text='Loss "{title}"') as show:
        show(
            lambda: plot_cube_series(
                hd.permute('hsv')[:, -1:, :: (hd.shape[2] // -5)],
                hd.permute('svh')[:, -1:, :: -(hd.shape[0] // -3)],
                hd.permute('vsh')[:, -1:, :: -(hd.shape[0] // -3)],
                title=f'Reconstruction error · {" · ".join(TAGS)}',
                var='MSE',
                figsize=(12, 3),
            )
        )
    with displayer_mpl('large-assets/ex-2.10-latents-x.png', alt_text='Latents "{title}"') as show:
        show(
            lambda theme: plot_latent_grid_3d_from_cube(
                rgb,
                colors='recon',
                colors_compare='color',
                latents='latents',
                title=f'Latents · {" · ".join(TAGS)}',
                dims=DIMS,
                dot_radius=10,
                theme=theme,
            )
        )
    assert show.result is not None
    assert show.result.alt_text == 'Latents "Latents · no intervention · no subspace"'
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f'\nfour seed figures, light + dark: {elapsed:.2f} s wall, {cpu:.2f} s CPU')

    stems = ['ex-2.10-dopesheet', 'ex-2.10-pred-colors-x', 'ex-2.10-loss-colors-x', 'ex-2.10-latents-x']
    for stem in stems:
        assert border_luminance(tmp_path / f'{stem}.png') > 0.7, stem
        assert border_luminance(tmp_path / f'{stem}.dark.png') < 0.3, stem
    # The schedule figure is mostly background, so its whole-image mean follows the theme too.
    assert mean_luminance(tmp_path / 'ex-2.10-dopesheet.png') > 0.7
    assert mean_luminance(tmp_path / 'ex-2.10-dopesheet.dark.png') < 0.3
    assert plt.get_fignums() == []
