"""Figures of colour cubes and latent spaces: composable `draw_*(ax, …)` plus `plot_*` figure makers.

The names below load their module on first use (``from ex_color.vis import plot_colors`` works as
ever): matplotlib's pyplot costs about a third of a second to import, which a notebook whose figures
all come from the figure cache need not pay.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    'ex_color.vis.axis_format': (
        'Ticks',
        'axis_name',
        'continuous_ticks',
        'coordinate_label',
        'format_value',
        'index_ticks',
    ),
    'ex_color.vis.color_slices': ('draw_color_slice', 'plot_colors'),
    'ex_color.vis.cube_series': ('draw_cube_series', 'grid_variable', 'line_labels', 'plot_cube_series'),
    'ex_color.vis.latent_grid': (
        'ConeAnnotation',
        'draw_latent_panel',
        'latent_name',
        'plot_latent_grid_3d_from_cube',
    ),
    'mini.temporal.vis': ('plot_dopesheet',),
    'ex_color.vis.boxplot': ('draw_metric_box', 'plot_metric_boxes'),
    'ex_color.vis.results_figure': ('draw_full_saturation_slice', 'draw_hue_error', 'plot_results'),
    'ex_color.vis.similarity_scatter': (
        'SimilarityFit',
        'SimilarityPoints',
        'draw_error_vs_similarity',
        'fit_similarity',
        'plot_error_vs_similarity',
        'similarity_points',
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
