"""Execute project notebooks headless with a real Jupyter kernel: ``python -m utils.nbrun ex-2.10``.

* A notebook is named by its id: ``ex-2.10`` runs ``notebooks/ex-2.10-*.ipynb`` (``ex-2.10.1`` is a
  different notebook). ``--all`` runs every numbered notebook.
* Normal runs execute in place: outputs and figures are regenerated and the notebook is saved.
  Cell timing metadata is not recorded, so a re-run only changes what really changed.
* ``--smoke`` sets ``EX_COLOR_SMOKE=1`` (notebooks shorten their schedules) and sends everything a
  run writes to one temporary folder: figures (``EX_COLOR_FIGURES_DIR``), checkpoints
  (``EX_COLOR_RUNS_DIR``), wandb files (``EX_COLOR_WANDB_DIR``, ``WANDB_DIR``) and the executed copy, so the committed
  notebook, ``large-assets/``, ``runs/`` and ``wandb/`` stay untouched. Whatever the caller exported,
  a smoke run never logs to wandb (``WANDB_MODE=disabled``) and never leaves the machine
  (``EX_COLOR_BACKEND=local``). The folder is removed afterwards unless ``--keep`` (or ``out_dir=``)
  asks to keep it.
* In-place runs stage their figures (``EX_COLOR_FIGURES_STAGE``, under ``.nbrun-stage/``) and move
  them into ``large-assets/`` and save the notebook only once every cell has run and every figure
  the outputs show exists: a run that fails half-way leaves the committed notebook and figures as
  they were. The notebook is written atomically either way.
* What the kernel shows is relayed to the terminal as it arrives (`utils.progress.relay`): its
  printed text and logs on stdout, other displays as one line each, and progress bars, which the
  kernel draws as HTML updated in place, as one status line on stderr from their text form: redrawn
  in place on a terminal, a plain line every few seconds (and the last one) in a log.
* A run fails if any cell raises or if a figure in the outputs (an `<img>` or `<picture>`) points at a file that
  does not exist.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from utils.atomic import write_atomic
from utils.nb.paths import FIGURES_STAGE_ENV, commit_staged, staged_path
from utils.paths import RUNS_DIR_ENV, project_root
from utils.progress.relay import KernelRelay

STAGE_FOLDER = '.nbrun-stage'  # git-ignored; under the root so staged figures move by rename
BACKEND_ENV = 'EX_COLOR_BACKEND'  # mini.experiment.backend reads it; utils does not import mini

PICTURE_SRC = re.compile(r'(?:srcset|src|data-dark-src)="([^"?]+)(?:\?[^"]*)?"')


def find_notebook(nbid: str, folder: Path | None = None) -> Path:
    folder = folder or project_root() / 'notebooks'
    key = nbid if nbid.startswith('ex-') else f'ex-{nbid}'
    matches = sorted(folder.glob(f'{key}-*.ipynb'))
    if len(matches) != 1:
        available = ', '.join(
            p.name.split('-', 2)[0] + '-' + p.name.split('-', 2)[1] for p in all_notebooks(folder)
        )
        raise SystemExit(f'nbrun: no unique notebook for id {nbid!r} in {folder} (available: {available})')
    return matches[0]


def all_notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks in `folder`, in experiment order (``ex-2.9`` before ``ex-2.10``)."""
    folder = folder or project_root() / 'notebooks'
    return sorted(folder.glob('ex-*.ipynb'), key=_natural_key)


def _natural_key(path: Path) -> list[str | int]:
    # digit runs compare as numbers
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


def picture_files(nb: Any, cwd: Path) -> list[Path]:
    """Every file a figure output (`displayer_mpl`'s `<img data-dark-src>`, or a `<picture>`) refers
    to, resolved against the notebook's folder."""
    found = []
    for cell in nb.cells:
        for output in cell.get('outputs', []):
            html = output.get('data', {}).get('text/html', '')
            html = ''.join(html) if isinstance(html, list) else html
            if '<picture' in html or 'data-dark-src=' in html:
                found += [(cwd / m).resolve() for m in PICTURE_SRC.findall(html)]
    return found


def _make_client(nb: Any, cwd: Path, relay: KernelRelay | None):
    from nbclient import NotebookClient

    class EchoingClient(NotebookClient):
        """Relays every kernel message to the terminal as it arrives (`KernelRelay`).

        `process_message` and not `output`: nbclient applies a display update (how a progress bar
        moves) to the saved output without ever calling `output` for it.
        """

        def process_message(self, msg, cell, cell_index):
            if relay is not None:
                relay.message(msg)
            return super().process_message(msg, cell, cell_index)

    return EchoingClient(
        nb,
        timeout=1800,
        kernel_name='python3',
        # Every cell has finished (results, files and tracking runs are closed inside the cells), so the
        # kernel is stopped at once: a graceful shutdown spends ~0.6 s in torch's teardown, a sixth of a
        # re-run served by the caches. Its sharded workers end with it (parent-death signal).
        shutdown_kernel='immediate',
        resources={'metadata': {'path': str(cwd)}},
        record_timing=False,
    )


def _remove_orphaned_stages(stage_root: Path) -> None:
    """Remove the staging folders of runs that were killed (their process no longer exists)."""
    for folder in stage_root.iterdir():
        pid = folder.name.split('-', 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # alive, another user's
            pass


def kernelspec_metadata(name: str) -> dict[str, str]:
    """`metadata.kernelspec` as JupyterLab writes it for ipykernel's kernel `name` (the spec ipykernel
    installs, which nbclient runs and JupyterLab reads back)."""
    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    if name != KERNEL_NAME:
        raise ValueError(
            f"kernelspec_metadata: only ipykernel's {KERNEL_NAME!r} kernel is known, got {name!r}"
        )
    spec = get_kernel_dict()
    return {'display_name': spec['display_name'], 'language': spec['language'], 'name': name}


def run_notebook(path: Path, *, smoke: bool = False, echo: bool = True, out_dir: Path | None = None) -> Path:
    """Execute `path`; return where the executed notebook was written."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cwd = path.parent
    env_backup = dict(os.environ)
    stage: Path | None = None
    if smoke:
        os.environ['EX_COLOR_SMOKE'] = '1'
        out_dir = out_dir or Path(tempfile.mkdtemp(prefix='ex-color-smoke-'))
        os.environ['EX_COLOR_FIGURES_DIR'] = str(out_dir / 'figures')
        os.environ[RUNS_DIR_ENV] = str(out_dir / 'runs')
        os.environ['EX_COLOR_WANDB_DIR'] = os.environ['WANDB_DIR'] = str(out_dir)
        os.environ['WANDB_MODE'] = 'disabled'
        os.environ[BACKEND_ENV] = 'local'
    else:
        stage_root = project_root() / STAGE_FOLDER
        stage_root.mkdir(exist_ok=True)
        _remove_orphaned_stages(stage_root)
        stage = Path(tempfile.mkdtemp(prefix=f'{os.getpid()}-{path.stem[:20]}-', dir=stage_root))
        os.environ[FIGURES_STAGE_ENV] = str(stage)
    os.environ.setdefault('MPLBACKEND', 'Agg')
    start = time.monotonic()
    try:
        try:
            shown = path.relative_to(project_root()) if path.is_relative_to(project_root()) else path
            print(f'==> executing {shown}{" (smoke)" if smoke else ""}', flush=True)
            relay = KernelRelay() if echo else None
            try:
                _make_client(nb, cwd, relay).execute()
            finally:
                if relay is not None:
                    relay.close()  # a cell that raised mid-bar leaves its last state, then the error
            # JupyterLab writes the kernel's own spec into metadata.kernelspec when it connects; writing
            # the same here keeps a notebook this runner saved unmodified when `./go lab` opens it
            nb.metadata['kernelspec'] = kernelspec_metadata('python3')
        finally:
            os.environ.clear()
            os.environ.update(env_backup)
        pictures = picture_files(nb, cwd)
        missing = [p for p in pictures if not p.exists() and not (stage and staged_path(p, stage).exists())]
        if missing:
            raise SystemExit(
                f'nbrun: {path.name} shows figures that were not written: {[str(m) for m in missing]}'
                + ('' if smoke else '; nothing was saved')
            )
        target = (out_dir / path.name) if smoke and out_dir else path
        if stage is not None:
            commit_staged(stage)
        # atomically: a run killed while saving leaves the old notebook, never a truncated one
        text = nbformat.writes(nb)
        write_atomic(target, (text if text.endswith('\n') else text + '\n').encode('utf-8'))
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
    elapsed = time.monotonic() - start
    print(f'==> {path.name} done in {elapsed:.1f} s; saved to {target}', flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='./go run', description='Execute notebooks headless.')
    parser.add_argument('ids', nargs='*', default=['ex-2.10'], help='notebook ids, e.g. ex-2.10 ex-2.9')
    parser.add_argument('--all', action='store_true', help='run every notebook')
    parser.add_argument(
        '--smoke', action='store_true', help='short schedules; figures and output to a temp folder'
    )
    parser.add_argument('--quiet', action='store_true', help='do not echo kernel output')
    parser.add_argument('--keep', action='store_true', help="with --smoke: keep the run's temp folder")
    args = parser.parse_args(argv)
    if args.keep and not args.smoke:
        parser.error('--keep applies to --smoke runs only (a normal run writes in place)')
    paths = all_notebooks() if args.all else [find_notebook(i) for i in args.ids]
    for path in paths:
        if args.smoke and not args.keep:
            with tempfile.TemporaryDirectory(prefix='ex-color-smoke-') as tmp:
                run_notebook(path, smoke=True, echo=not args.quiet, out_dir=Path(tmp))
            print(f'==> removed {tmp} (--keep keeps it)', flush=True)
        else:
            run_notebook(path, smoke=args.smoke, echo=not args.quiet)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
