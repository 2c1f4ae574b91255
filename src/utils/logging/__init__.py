"""Logging setup for notebooks and workers: a fluent config and a concise one-line formatter."""

from utils.logging.config import TRACE, SimpleLoggingConfig, resolve_level
from utils.logging.formatter import ConciseFormatter, abbreviate
from utils.logging.handler import NamedStreamHandler

__all__ = [
    'TRACE',
    'ConciseFormatter',
    'NamedStreamHandler',
    'SimpleLoggingConfig',
    'abbreviate',
    'resolve_level',
]
