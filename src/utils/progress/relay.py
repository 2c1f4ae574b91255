"""`KernelRelay`: what a headless kernel shows, printed in the terminal as it arrives.

A notebook executed headless (`utils.nbrun`, behind `./go run`) draws its progress as an HTML
display that a terminal never sees, updated in place through a display id. The relay reads the
kernel's messages as they arrive and prints:

* a **live display** (one shown with a display id, then updated: progress bars) as one status line
  on stderr, from its text/plain form (`ProgressState.summary` for the project's bars): redrawn in
  place when stderr is a terminal, a plain line every `every` seconds (and the last one) when it is
  a log (`utils.progress.terminal.live_line`);
* stream text (print, logging) on stdout or stderr as the kernel wrote it; on a terminal the status
  line is cleared first and drawn again below it, so it stays at the bottom;
* any other display once, as a line: a figure (a `<picture>`) as ``[figure] <its alt text>``, an
  image as ``[image] …`` (a live preview of a figure is not: its `<picture>` follows), anything else
  as its text/markdown or text/plain, cut to `DISPLAY_CHARS`.

A live display ends (its last state stays on screen or in the log) when another live display starts,
when its cell finishes, or on `close()`. One status line at a time: a second live display in the
same cell ends the first.

Deliberately not here: running the kernel or saving the notebook (`utils.nbrun`).
"""

from __future__ import annotations

import sys
from typing import IO, Any

from utils.progress.terminal import PLAIN_EVERY, LiveLine, live_line

__all__ = ['DISPLAY_CHARS', 'KernelRelay']

DISPLAY_CHARS = 200
"""A plain display (a table's text form, say) is cut to this many characters: a headline, not a dump."""

_DISPLAYS = ('display_data', 'update_display_data', 'execute_result')


def _text(data: Any) -> str:
    return ''.join(data) if isinstance(data, list) else str(data or '')


class KernelRelay:
    """Print a kernel's iopub messages in a terminal (see the module docstring).

    `out` and `err` default to the `sys.stdout` and `sys.stderr` of the moment each is written to.
    """

    def __init__(
        self, out: IO[str] | None = None, err: IO[str] | None = None, *, every: float = PLAIN_EVERY
    ) -> None:
        self._out, self._err, self.every = out, err, every
        self._live: LiveLine | None = None
        self._live_id: str | None = None

    @property
    def out(self) -> IO[str]:
        return self._out or sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._err or sys.stderr

    def message(self, msg: dict[str, Any]) -> None:
        """Relay one iopub message (as `jupyter_client` delivers it)."""
        kind = msg.get('msg_type') or msg.get('header', {}).get('msg_type')
        content = msg.get('content', {})
        if kind == 'stream':
            self._print(_text(content.get('text')), self.err if content.get('name') == 'stderr' else self.out)
        elif kind in _DISPLAYS:
            self._display(kind, content)
        elif kind == 'status' and content.get('execution_state') == 'idle':
            self.close()  # the cell is done: its bar's last state stays

    def close(self) -> None:
        """End the status line, leaving its last state on screen (or in the log)."""
        if self._live is not None:
            self._live.end()
        self._live, self._live_id = None, None

    def _display(self, kind: str, content: dict[str, Any]) -> None:
        data = content.get('data', {})
        display_id = (content.get('transient') or {}).get('display_id')
        plain = _text(data.get('text/plain'))
        if '<picture' in _text(data.get('text/html')):
            if display_id is not None and display_id == self._live_id:
                self.close()
            self._print(f'[figure] {plain[:120]}\n', self.out)
        elif any(key.startswith('image/') for key in data):
            if display_id is None:  # a live figure preview is announced when its <picture> replaces it
                self._print(f'[image] {plain[:120]}\n', self.out)
        elif display_id is not None and (kind == 'update_display_data' or plain.strip()):
            live = self._live
            if live is None or display_id != self._live_id:
                self.close()
                live = self._live = live_line(self._err, every=self.every)
                self._live_id = display_id
            live.show(plain)
        else:
            text = _text(data.get('text/markdown')) or plain
            if text:
                self._print(text[:DISPLAY_CHARS] + '\n', self.out)

    def _print(self, text: str, stream: IO[str]) -> None:
        if not text:
            return
        if self._live is not None:
            self._live.clear()
        stream.write(text)
        stream.flush()
        if self._live is not None and text.endswith('\n'):  # else the line would overwrite the text
            self._live.redraw()
