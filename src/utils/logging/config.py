"""`SimpleLoggingConfig`: a small, picklable, fluent logging setup for notebooks and remote workers.

    config = SimpleLoggingConfig().info('notebook', 'ex_color').error('matplotlib.axes')
    config.apply()   # or config()

Design decisions:
- The config is plain data (a base level, a stream name and a name → level dict), so it pickles and
  can be re-applied in a worker process (`run.before_each(config.apply)`).
- `apply()` is idempotent: it registers the TRACE level (5), removes any handler *it* installed
  earlier on the root logger, installs exactly one `NamedStreamHandler` with the `ConciseFormatter`,
  sets the root level to the base level and each listed logger's level. Handlers installed by others
  (pytest's capture, Jupyter's) are left alone. It does not use `logging.basicConfig`, which is a
  no-op once the root has any handler, so a second apply could never change stream or format.
- `adopt(*names)` routes libraries that print through a handler of their own (Lightning adds a plain
  `StreamHandler` and stops propagation when it is imported before logging is configured) through
  ours instead: apply() removes their plain stream handlers and lets them propagate, so each message
  is printed once, in our format.
- Builder methods mutate and return `self`; a logger named under two levels gets the last one.
- Level and stream names are validated when given, not at apply time.

Deliberately not done: no file handlers, no per-logger handlers, no colour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from utils.logging.formatter import ConciseFormatter, process_origin
from utils.logging.handler import STREAMS, NamedStreamHandler, StreamName

__all__ = ['TRACE', 'SimpleLoggingConfig', 'resolve_level', 'route_to_root']

TRACE = 5
"""Numeric level of TRACE, below DEBUG (10)."""

_NAMES = {'CRITICAL': logging.CRITICAL, 'ERROR': logging.ERROR, 'WARNING': logging.WARNING}
_NAMES |= {'INFO': logging.INFO, 'DEBUG': logging.DEBUG, 'TRACE': TRACE, 'NOTSET': logging.NOTSET}


def resolve_level(level: int | str) -> int:
    """A numeric level from an int or a (case-insensitive) level name such as 'info' or 'TRACE'."""
    if isinstance(level, bool):
        raise TypeError(f'logging level must be an int or level name, got {level!r}')
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f'logging level must be >= 0, got {level}')
        return level
    if isinstance(level, str) and level.upper() in _NAMES:
        return _NAMES[level.upper()]
    raise ValueError(f'unknown logging level {level!r}; expected an int or one of {sorted(_NAMES)}')


def route_to_root(*names: str) -> None:
    """Remove the named loggers' own plain console handlers and let them propagate, so their messages
    are printed once, by the root logger's handlers."""
    for name in names:
        logger = logging.getLogger(name)
        for own in list(logger.handlers):
            if type(own) is logging.StreamHandler:  # a library's plain console handler, not a file's
                logger.removeHandler(own)
        logger.propagate = True


@dataclass
class SimpleLoggingConfig:
    """Fluent, picklable logging configuration (see the module docstring)."""

    base: int = logging.WARNING
    """Root logger level: the threshold for every logger not listed in `levels`."""

    stream: StreamName = 'stdout'
    """Name of the `sys` stream the handler writes to: 'stdout' or 'stderr'."""

    levels: dict[str, int] = field(default_factory=dict)
    """Logger name → level, for loggers that should differ from `base`."""

    adopted: list[str] = field(default_factory=list)
    """Loggers whose own stream handlers are removed so that they print through ours (`adopt`)."""

    def __post_init__(self) -> None:
        self.base = resolve_level(self.base)
        if self.stream not in STREAMS:
            raise ValueError(f'SimpleLoggingConfig.stream: expected one of {STREAMS}, got {self.stream!r}')
        self.levels = {self._check_name(n): resolve_level(lv) for n, lv in dict(self.levels).items()}
        self.adopted = [self._check_name(n) for n in self.adopted]

    @staticmethod
    def _check_name(name: object) -> str:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f'SimpleLoggingConfig: invalid logger name {name!r}')
        return name

    def base_level(self, level: int | str) -> SimpleLoggingConfig:
        """Set the root logger level (default WARNING)."""
        self.base = resolve_level(level)
        return self

    def to_stream(self, stream: StreamName) -> SimpleLoggingConfig:
        """Write to 'stdout' (default) or 'stderr'."""
        if stream not in STREAMS:
            raise ValueError(f'SimpleLoggingConfig.to_stream: expected one of {STREAMS}, got {stream!r}')
        self.stream = stream
        return self

    def level(self, level: int | str, *names: str) -> SimpleLoggingConfig:
        """Set the level of each named logger."""
        lv = resolve_level(level)
        for name in names:
            self.levels[self._check_name(name)] = lv
        return self

    def adopt(self, *names: str) -> SimpleLoggingConfig:
        """Print these loggers' messages through our handler only (see the module docstring)."""
        for name in names:
            if self._check_name(name) not in self.adopted:
                self.adopted.append(name)
        return self

    def critical(self, *names: str) -> SimpleLoggingConfig:
        return self.level(logging.CRITICAL, *names)

    def error(self, *names: str) -> SimpleLoggingConfig:
        return self.level(logging.ERROR, *names)

    def warning(self, *names: str) -> SimpleLoggingConfig:
        return self.level(logging.WARNING, *names)

    def info(self, *names: str) -> SimpleLoggingConfig:
        return self.level(logging.INFO, *names)

    def debug(self, *names: str) -> SimpleLoggingConfig:
        return self.level(logging.DEBUG, *names)

    def trace(self, *names: str) -> SimpleLoggingConfig:
        return self.level(TRACE, *names)

    def apply(self) -> SimpleLoggingConfig:
        """Install the handler and levels (idempotent; see the module docstring). Returns self."""
        logging.addLevelName(TRACE, 'TRACE')
        process_origin(pin=True)
        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, NamedStreamHandler):
                root.removeHandler(handler)
                handler.close()
        handler = NamedStreamHandler(self.stream)
        handler.setFormatter(ConciseFormatter())
        root.addHandler(handler)
        root.setLevel(self.base)
        for name, lv in self.levels.items():
            logging.getLogger(name).setLevel(lv)
        route_to_root(*self.adopted)
        return self

    def __call__(self) -> SimpleLoggingConfig:
        return self.apply()
