"""Lightning's console chatter, printed once: the loggers it attaches handlers to, and how to quieten them.

Nothing here imports Lightning (importing it costs about a second), so a notebook can configure its
logging for Lightning before, or without, loading it.
"""

from __future__ import annotations

import logging
import warnings

from utils.logging.config import route_to_root

__all__ = ['LIGHTNING_LOGGERS', 'quieten_lightning']

LIGHTNING_LOGGERS = ('lightning', 'lightning.pytorch', 'lightning.fabric')
"""Loggers to which Lightning attaches console handlers of its own when imported."""


class _DropAdverts(logging.Filter):
    """Lightning logs an advert for a hosted logger at every Trainer construction; it is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('💡 Tip')


def quieten_lightning() -> None:
    """Where logging is configured (a root handler), route Lightning's own console handlers to it,
    so each of its messages prints once; drop its adverts."""
    if logging.getLogger().handlers:
        route_to_root(*LIGHTNING_LOGGERS)
    rank_zero = logging.getLogger('lightning.pytorch.utilities.rank_zero')
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    # Lightning 2.6 calls a pytree API that torch 2.13 deprecates; harmless and not ours to fix.
    warnings.filterwarnings('ignore', message=r'.*isinstance\(treespec, LeafSpec\)')
