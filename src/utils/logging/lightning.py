"""Lightning's console chatter: printed once, through our handler, and without its status lines.

Lightning reports what it found at every `Trainer` construction and fit ("GPU available: False,
used: False", "TPU available: …", "`Trainer.fit` stopped: `max_steps=20` reached.") at INFO, through
`rank_zero_info`, on one logger per package (`LIGHTNING_STATUS_LOGGERS`). On this project's CPU
machines none of it is news, and it used to fill every notebook page built from an executed run.

    config = SimpleLoggingConfig().info('notebook', 'ex_color')
    quiet_lightning(config).apply()   # adopt Lightning's loggers; its status lines at WARNING and up

Design decisions:
- The status lines are silenced by *level* on the rank-zero loggers, never by a filter on the message:
  Lightning's warnings (`rank_zero_warn` goes through `warnings`) and anything those loggers log at
  WARNING or above still print. Lightning never sets these loggers' levels itself (it sets
  `lightning`, `lightning.pytorch` and `lightning.fabric` to INFO on import), so a level set before
  Lightning is imported survives the import.
- `quiet_lightning(config)` puts the levels into a `SimpleLoggingConfig`, so they travel with it to
  worker processes and containers (`run.before_each(config.apply)`). `quieten_lightning()`, called by
  `TrainingModule` before a notebook builds its `L.Trainer`, sets the same levels only where nobody
  chose one (level NOTSET): a notebook that asks for `.info(*LIGHTNING_STATUS_LOGGERS)` keeps them.

Nothing here imports Lightning (importing it costs about a second), so a notebook can configure its
logging for Lightning before, or without, loading it. Deliberately not silenced: the model summary
(`enable_model_summary=False` is the Trainer's own switch) and Lightning's other INFO loggers.
"""

from __future__ import annotations

import logging
import warnings

from utils.logging.config import SimpleLoggingConfig, route_to_root

__all__ = ['LIGHTNING_LOGGERS', 'LIGHTNING_STATUS_LOGGERS', 'quiet_lightning', 'quieten_lightning']

LIGHTNING_LOGGERS = ('lightning', 'lightning.pytorch', 'lightning.fabric')
"""Loggers to which Lightning attaches console handlers of its own when imported."""

LIGHTNING_STATUS_LOGGERS = (
    'lightning.pytorch.utilities.rank_zero',
    'lightning.fabric.utilities.rank_zero',
    'lightning_utilities.core.rank_zero',
)
"""Where `rank_zero_info` logs, whichever of Lightning's packages was imported last (each repoints it)."""


class _DropAdverts(logging.Filter):
    """Lightning logs an advert for a hosted logger at every Trainer construction; it is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('💡 Tip')


def quiet_lightning(config: SimpleLoggingConfig) -> SimpleLoggingConfig:
    """`config`, set to print Lightning's messages once through its handler (`adopt`) and to drop
    Lightning's INFO status lines (their loggers at WARNING); returns `config`."""
    return config.adopt(*LIGHTNING_LOGGERS).warning(*LIGHTNING_STATUS_LOGGERS)


def quieten_lightning() -> None:
    """Where logging is configured (a root handler), route Lightning's own console handlers to it,
    so each of its messages prints once; silence its status lines where no level was chosen for
    them; drop its adverts."""
    if logging.getLogger().handlers:
        route_to_root(*LIGHTNING_LOGGERS)
    for name in LIGHTNING_STATUS_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    rank_zero = logging.getLogger('lightning.pytorch.utilities.rank_zero')
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    # Lightning 2.6 calls a pytree API that torch 2.13 deprecates; harmless and not ours to fix.
    warnings.filterwarnings('ignore', message=r'.*isinstance\(treespec, LeafSpec\)')
