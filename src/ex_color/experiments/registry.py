"""The list of experiments: one line per notebook, read by the tests and the README generator.

An experiment is a notebook under ``notebooks/`` and, when it has code of its own, one folder under
``ex_color/experiments/`` (its declaration, analysis, prose and figures). Adding one (say Ex 2.13) is
that folder, that notebook, one test file and one `Experiment` line here: the tests then smoke-run
the notebook and check that it writes the figures and files listed.

Design decisions:
- Figures are listed by file stem (``ex-<id>-<kind>-<tags>``, as `experiments.figures.asset_path`
  names them); a smoke run must write every one (light and dark), so a renamed figure cannot leave a
  broken image in the committed notebook.
- Shared rooms (`experiments.common`, `notebook`, `report`, `figures`) are not experiments; only
  what two or more notebooks use lives there.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ['EXPERIMENTS', 'Experiment', 'experiment']


@dataclass(frozen=True)
class Experiment:
    """One numbered experiment."""

    id: str
    """``'2.10.1'``: the number notebooks, figures and the README use."""
    notebook: str
    """Its notebook's file name under ``notebooks/``."""
    package: str | None
    """The module holding its own code (its folder), or None when the notebook uses only shared code."""
    title: str
    """The notebook's ``nbname`` (a test holds them equal)."""
    figures: tuple[str, ...] = ()
    """Stems of the figures a run writes under ``large-assets/`` (each as light and dark PNGs)."""
    outputs: tuple[str, ...] = ()
    """Files a run writes beside the notebook, besides its figures."""
    headline: str | None = None
    """``'module:function'`` giving the headline configuration, ``f(n_seeds, first_seed=0) -> (recipe,
    member specs)``, that `./go verify` retrains; None where none is declared yet."""


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        '2.9',
        'ex-2.9-delete-only-red-5d.ipynb',
        None,
        'Ablate red (only), 5D',
        figures=(
            'ex-2.9-dopesheet',
            'ex-2.9-pred-colors-no-intervention',
            'ex-2.9-loss-colors-no-intervention',
            'ex-2.9-latents-no-intervention',
            'ex-2.9-pred-colors-ablated-no-intervention',
            'ex-2.9-loss-colors-ablated-no-intervention',
            'ex-2.9-latents-ablated-no-intervention',
            'ex-2.9-seeds',
            'ex-2.9-training-history',
        ),
    ),
    Experiment(
        '2.10',
        'ex-2.10-delete-only-red-5d-no-subspace.ipynb',
        'ex_color.experiments.ex_2_10',
        'Ablate red (only), 5D, fewer labels',
        figures=(
            'ex-2.10-dopesheet',
            'ex-2.10-pred-colors-no-intervention-no-subspace',
            'ex-2.10-loss-colors-no-intervention-no-subspace',
            'ex-2.10-latents-no-intervention-no-subspace',
            'ex-2.10-pred-colors-ablated-no-intervention-no-subspace',
            'ex-2.10-loss-colors-ablated-no-intervention-no-subspace',
            'ex-2.10-latents-ablated-no-intervention-no-subspace',
            'ex-2.10-loss-colors-ablated-unitarity',
            'ex-2.10-seeds',
            'ex-2.10-failures',
            'ex-2.10-loss-colors-ablated-median-seed',
            'ex-2.10-training-history',
        ),
        headline='ex_color.experiments.ex_2_10:headline',
    ),
    Experiment(
        '2.10.1',
        'ex-2.10.1-sweep.ipynb',
        'ex_color.experiments.ex_2_10_1',
        'Ex 2.10 swept over seeds',
        figures=(),
    ),
    Experiment(
        '2.10.2',
        'ex-2.10.2-schedule-search.ipynb',
        'ex_color.experiments.ex_2_10_2',
        'Schedule search',
        figures=(
            'ex-2.10.2-search-progress',
            'ex-2.10.2-search-front',
            'ex-2.10.2-dopesheet',
            'ex-2.10.2-seeds',
        ),
        outputs=('ex-2.10.2-dopesheet.csv',),
    ),
    Experiment(
        '2.11',
        'ex-2.11-label-coverage.ipynb',
        'ex_color.experiments.ex_2_11',
        'Label coverage',
        figures=('ex-2.11-label-coverage',),
    ),
    Experiment(
        '2.12',
        'ex-2.12-relearning.ipynb',
        'ex_color.experiments.ex_2_12',
        'Relearning',
        figures=(
            'ex-2.12-seeds-after-deletion',
            'ex-2.12-relearning',
        ),
    ),
    Experiment(
        '2.13',
        'ex-2.13-racing-for-reliability.ipynb',
        'ex_color.experiments.ex_2_13',
        'Anchoring that holds',
        figures=(
            'ex-2.13-failure-modes',
            'ex-2.13-race',
            'ex-2.13-dopesheet',
            'ex-2.13-seeds',
            'ex-2.13-failure-modes-chosen',
        ),
        outputs=('ex-2.13-dopesheet.csv', 'ex-2.13-recipe.json'),
        headline='ex_color.experiments.ex_2_13:headline',
    ),
)


def experiment(id: str) -> Experiment:
    """The experiment numbered `id` (``'2.10.1'``, or ``'ex-2.10.1'``)."""
    key = id.removeprefix('ex-')
    for e in EXPERIMENTS:
        if e.id == key:
            return e
    raise KeyError(f'no experiment {id!r}; the registry has {", ".join(e.id for e in EXPERIMENTS)}')
