"""The notebook's own tracking run: what a notebook concluded, beside the runs of the members it trained.

A member's run (`ex_color.training.tracking`) records what trained that model and, where a loop
callback scores it while training, its verdict. What a notebook concludes comes after training: its
evaluation over seeds, its claims and its figures. `report.publish_results` hands them here, and one
tracking run per execution of the notebook holds them:

* **name** ``<nbid> · results``, **group** the notebook's experiment (the name `notebook.set_up`
  was given; its members' runs are grouped under that name with their run's label, e.g.
  ``<experiment> (seeds)``), job type ``notebook``;
* **config**: the notebook, its title and description, the seeds it scored and the machine
  (`report.environment`);
* **summary**: the number of seeds, how many passed, the pass rate and its Wilson interval, each
  headline metric's median with its bootstrap interval, the claims (as the results record holds
  them), every seed's metrics and verdict as a table (``by seed``), and every figure the notebook
  rendered since `set_up` (``figures/<file stem>``, the light PNG).

`set_up` starts the notebook's session (`begin`): which notebook, experiment and project, and it
forgets the figures rendered before. A call with no session (a script that publishes results without
`set_up`) records under the notebook's id with wandb's default project.

Design decisions:
- The run is written when the results are published, not held open from `set_up`: a notebook left
  open in a lab, or a cell re-run, never leaves a run half written, and a re-run makes a new run.
- The mode is the one every run takes (`training.wandb_access.tracking_mode`): offline by default,
  written under the ignored ``wandb/`` folder (``EX_COLOR_WANDB_DIR`` elsewhere); nothing at all when
  disabled (the tests, smoke runs). A run that fails while being written is finished as failed and
  the error propagates.

Deliberately not here: the record the README and `./go verify` read (`report.publish_results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ex_color.training.tracking import local_wandb_dir
from ex_color.training.wandb_access import tracking_mode
from utils.nb.displayer import forget_rendered_figures, rendered_figures
from utils.nb.paths import staged_path

__all__ = ['NotebookSession', 'begin', 'record_results', 'results_summary']

JOB_TYPE = 'notebook'
"""The job type of a notebook's run (members' runs have none)."""


@dataclass(frozen=True)
class NotebookSession:
    """Which notebook is running, under which experiment and project (`notebook.set_up`'s arguments)."""

    nbid: str
    experiment: str
    project: str


_session: list[NotebookSession] = []


def begin(nbid: str, experiment: str, project: str) -> NotebookSession:
    """Start the notebook's session: later results are recorded under it; earlier figures are forgotten."""
    session = NotebookSession(nbid, experiment, project)
    _session[:] = [session]
    forget_rendered_figures()
    return session


def results_summary(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A results record (`report.publish_results`'s payload) as run-summary values."""
    n, passed = int(payload['seeds']), int(payload['passed'])
    out: dict[str, Any] = {
        'seeds': n,
        'passed': passed,
        'pass rate': passed / n if n else float('nan'),
        'pass rate interval': list(payload['pass_interval']),
    }
    for metric, (value, low, high) in payload['medians'].items():
        out[f'median/{metric}'] = value
        out[f'median interval/{metric}'] = [low, high]
    out['claims'] = [dict(c) for c in payload['claims']]
    return out


def record_results(payload: Mapping[str, Any], by_seed: pd.DataFrame) -> str | None:
    """Write the notebook's run (see the module docstring); returns its local folder, or None when
    tracking is disabled."""
    mode = tracking_mode()
    if mode == 'disabled':
        return None
    import wandb

    nbid = str(payload['nbid'])
    session = _session[0] if _session and _session[0].nbid == nbid else None
    config = {
        'notebook': nbid,
        'title': payload['title'],
        'description': payload['description'],
        'seed list': [int(s) for s in by_seed.index] if by_seed.index.name == 'seed' else [],
        'environment': dict(payload['environment']),
    }
    directory = local_wandb_dir()
    directory.mkdir(parents=True, exist_ok=True)
    run = wandb.init(
        name=f'{nbid} · results',
        project=(session.project if session else None) or None,
        group=session.experiment if session else nbid,
        job_type=JOB_TYPE,
        config=config,
        dir=str(directory),
        mode=mode,
        reinit='create_new',
        settings=wandb.Settings(silent=True),
    )
    ok = False
    try:
        run.summary.update(results_summary(payload))
        table = by_seed.reset_index(drop=by_seed.index.name is None)  # the seed as a column
        logged: dict[str, Any] = {'by seed': wandb.Table(dataframe=table)}
        for figure in rendered_figures():
            light = figure.files['light']  # its bytes wait in the staging folder until the run succeeds
            logged[f'figures/{light.stem}'] = wandb.Image(str(staged_path(light)), caption=figure.alt_text)
        run.log(logged)
        ok = True
    finally:
        run.finish(exit_code=0 if ok else 1)
    return str(directory / 'wandb')
