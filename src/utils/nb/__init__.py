"""Notebook display helpers: themed light/dark figure files shown as an HTML `<picture>`."""

from utils.atomic import write_atomic
from utils.nb.displayer import FORMATS_ENV, WIDTH_ENV, FigureHTML, FigureShow, RenderedFigure, displayer_mpl
from utils.nb.paths import FIGURES_DIR_ENV, figure_root, resolve_figure_path
from utils.nb.png import content_token, render_png, save_figure
from utils.paths import find_repo_root

__all__ = [
    'FIGURES_DIR_ENV',
    'FORMATS_ENV',
    'WIDTH_ENV',
    'FigureHTML',
    'FigureShow',
    'RenderedFigure',
    'content_token',
    'displayer_mpl',
    'figure_root',
    'find_repo_root',
    'render_png',
    'resolve_figure_path',
    'save_figure',
    'write_atomic',
]
