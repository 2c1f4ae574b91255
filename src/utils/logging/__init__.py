"""Logging setup for notebooks and workers: a fluent config and a concise one-line formatter."""

from utils.logging.config import TRACE, SimpleLoggingConfig, resolve_level, route_to_root
from utils.logging.formatter import ConciseFormatter, short_name
from utils.logging.handler import NamedStreamHandler

__all__ = [
    'TRACE',
    'ConciseFormatter',
    'NamedStreamHandler',
    'SimpleLoggingConfig',
    'resolve_level',
    'route_to_root',
    'short_name',
]
