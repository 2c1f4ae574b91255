"""Lightning's status lines ("GPU available: …") stay out of a seed-style fit under the project's
logging config; its warnings still print.

Each case runs in a fresh interpreter: which of Lightning's packages is imported when, and what the
logging config did before that, is exactly what decides whether the lines appear.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIT = """
from lightning.pytorch.loggers import CSVLogger
from tests.training_helpers import data, module

def trainer():
    # log_every_n_steps above the epoch's 4 batches: Lightning warns, a warning that must still show
    return L.Trainer(
        max_steps=5, logger=CSVLogger({tmp!r}), log_every_n_steps=50, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, accelerator='cpu',
    )
"""

STATUS = ('GPU available', 'TPU available', 'stopped: `max_steps=5` reached')
WARNING = 'smaller than the logging interval'


def run(setup: str, tmp: Path, body: str) -> str:
    """Run `setup` (logging, imports), the `FIT` helpers, then `body`, in a fresh interpreter."""
    script = '\n'.join(textwrap.dedent(part) for part in (setup, FIT.format(tmp=str(tmp)), body))
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def test_a_notebook_fit_under_set_up_prints_no_status_lines_and_keeps_warnings(tmp_path):
    # The seed notebook's order: set_up's logging, then the module, then its L.Trainer.
    out = run(
        """
        import logging
        from ex_color.experiments.notebook import set_up
        set_up('t', 'quiet-test', 'quiet-test')
        import lightning as L
        """,
        tmp_path,
        """
        m = module(0)
        train, val = data(0)
        trainer().fit(m, train, val)
        logging.getLogger('lightning.pytorch.utilities.rank_zero').warning('a warning on the rank-zero logger')
        """,
    )
    assert not [s for s in STATUS if s in out], out
    assert WARNING in out, out
    assert 'W ' in out and 'lightning.pytorch: a warning on the rank-zero logger' in out, out
    assert 'ex_color.training: Starting phase: Train' in out, out  # our INFO lines are untouched


def test_quiet_lightning_config_silences_a_trainer_built_before_any_module(tmp_path):
    # No TrainingModule has run `quieten_lightning` yet: the config alone must do it, applied before
    # Lightning is imported (Lightning sets its package loggers to INFO on import).
    out = run(
        """
        import logging
        from utils.logging import SimpleLoggingConfig
        from utils.logging.lightning import quiet_lightning
        quiet_lightning(SimpleLoggingConfig().info('ex_color')).apply()
        import lightning as L
        """,
        tmp_path,
        """
        t = trainer()
        train, val = data(0)
        t.fit(module(0), train, val)
        logging.getLogger('lightning.fabric.utilities.rank_zero').error('an error on the fabric logger')
        """,
    )
    assert not [s for s in STATUS if s in out], out
    assert WARNING in out, out
    assert 'E ' in out and 'lightning.fabric: an error on the fabric logger' in out, out
