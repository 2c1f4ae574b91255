"""Figures of colour cubes and latent spaces: composable `draw_*(ax, …)` plus `plot_*` figure makers."""

from ex_color.vis.axis_format import Ticks, axis_name, continuous_ticks, format_value, index_ticks
from ex_color.vis.color_slices import draw_color_slice, plot_colors
from ex_color.vis.cube_series import draw_cube_series, grid_variable, plot_cube_series
from ex_color.vis.latent_grid import ConeAnnotation, draw_latent_panel, plot_latent_grid_3d_from_cube
from mini.temporal.vis import plot_dopesheet

__all__ = [
    'ConeAnnotation',
    'Ticks',
    'axis_name',
    'continuous_ticks',
    'draw_color_slice',
    'draw_cube_series',
    'draw_latent_panel',
    'format_value',
    'grid_variable',
    'index_ticks',
    'plot_colors',
    'plot_cube_series',
    'plot_dopesheet',
    'plot_latent_grid_3d_from_cube',
]

from ex_color.vis.boxplot import draw_metric_box, plot_metric_boxes
from ex_color.vis.results_figure import draw_full_saturation_slice, draw_hue_error, plot_results
from ex_color.vis.similarity_scatter import (
    SimilarityFit,
    SimilarityPoints,
    draw_error_vs_similarity,
    fit_similarity,
    plot_error_vs_similarity,
    similarity_points,
)

__all__ += [
    'SimilarityFit',
    'SimilarityPoints',
    'draw_error_vs_similarity',
    'draw_full_saturation_slice',
    'draw_hue_error',
    'draw_metric_box',
    'fit_similarity',
    'plot_error_vs_similarity',
    'plot_metric_boxes',
    'plot_results',
    'similarity_points',
]
