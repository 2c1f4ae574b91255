"""A stream handler that looks its stream up by name at every emit.

`logging.StreamHandler` keeps a reference to the stream object it was given, so a handler created
before Jupyter or pytest replaces `sys.stdout` keeps writing to the old, possibly closed, stream.
`NamedStreamHandler('stdout')` reads `sys.stdout` (or `sys.stderr`) each time it emits.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

__all__ = ['STREAMS', 'NamedStreamHandler', 'StreamName']

StreamName = Literal['stdout', 'stderr']
STREAMS: tuple[StreamName, ...] = ('stdout', 'stderr')


class NamedStreamHandler(logging.Handler):
    """Writes formatted records to `sys.<stream_name>`, resolved at emit time."""

    def __init__(self, stream_name: StreamName = 'stdout', level: int = logging.NOTSET):
        if stream_name not in STREAMS:
            raise ValueError(f'NamedStreamHandler: stream_name must be one of {STREAMS}, got {stream_name!r}')
        super().__init__(level)
        self.stream_name = stream_name

    @property
    def stream(self):
        return getattr(sys, self.stream_name)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self.stream
            stream.write(self.format(record) + '\n')
            stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} sys.{self.stream_name} ({logging.getLevelName(self.level)})>'
