"""``Dopesheet``: a keyframe table of training hyper-parameters, read from CSV and queried by step.

Rows are keyframes at (possibly relative) steps; columns are properties. Parsing and validation live in
``mini.temporal.reader`` (strict: every bad cell is a ``ValueError`` naming file, line and column);
this module answers queries on the validated, step-sorted table.

Design decisions:
* Everything a lookup needs (phase boundaries, the key of every keyed cell and its successor) is
  computed once at construction; ``ds[step]`` is a bisect plus a dict lookup, never a table scan.
* ``len(ds)`` is the last step + 1; ``ds[step]`` for a step outside ``[0, len)`` is an ``IndexError``.
* ``get_initial_values()`` gives each property its first keyed value **in step order**, even when that
  key is after step 0: a property first keyed at step 750 holds that value from step 0 (the reference's
  back-fill, kept because the published Ex 2.10 schedule depends on it — ``reg-separate`` is 0.01 from
  the first step).
* A missing PHASE is the empty string (falsy), not NaN.

The dopesheet is immutable after construction. It does not interpolate; ``Timeline`` does.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import pairwise
from operator import index as as_index
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mini.temporal.frame import Frame, Keyframe
from mini.temporal.headers import DopesheetError, PropConfig
from mini.temporal.reader import SheetTable, read_sheet

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler


class Dopesheet:
    """A validated keyframe table; build it with ``Dopesheet.from_csv(path)``."""

    def __init__(self, table: SheetTable) -> None:
        self._table = table
        self._row_at = {step: i for i, step in enumerate(table.steps)}
        self._phase_starts = [s for s, p in zip(table.steps, table.phases, strict=True) if p]
        self._phase_names = [p for p in table.phases if p]
        self._keyframes = {name: _keyframes(name, table.steps, table.values[name]) for name in table.configs}
        self._keyed_at: list[dict[str, Keyframe]] = [{} for _ in table.steps]
        for name, keys in self._keyframes.items():
            for key in keys:
                self._keyed_at[self._row_at[key.t]][name] = key

    @classmethod
    def from_csv(cls, path: str | Path | TextIO) -> Dopesheet:
        """Read and validate a dopesheet CSV: a path, or an open text file (pandas' convention).

        Files are UTF-8 (a byte-order mark is accepted); any other encoding, like any bad cell, raises
        ``DopesheetError`` naming file, line and column.
        """
        if hasattr(path, 'read'):
            text = path.read()
            if isinstance(text, bytes):
                raise TypeError(f'Dopesheet.from_csv: {path!r} is open in binary mode; open it as text')
            return cls.from_text(text.removeprefix('\ufeff'), source=str(getattr(path, 'name', '<file>')))
        path = Path(path)
        data = path.read_bytes()
        try:
            text = data.decode('utf-8-sig')
        except UnicodeDecodeError as e:
            before = data[: e.start]
            line = before.count(b'\n') + 1
            cell = before[before.rfind(b'\n') + 1 :].count(b',')
            header = data.split(b'\n', 1)[0].decode('utf-8-sig', errors='replace').split(',')
            column = header[cell].strip() if cell < len(header) else f'cell {cell + 1}'
            raise DopesheetError(
                str(path),
                line,
                column,
                f'byte 0x{data[e.start]:02x} is not UTF-8; dopesheets are UTF-8 text '
                '(re-save the file as UTF-8)',
            ) from None
        return cls.from_text(text, source=str(path))

    @classmethod
    def from_text(cls, text: str, source: str = '<text>') -> Dopesheet:
        """Parse CSV text; ``source`` names it in error messages."""
        return cls(read_sheet(text, source))

    @property
    def source(self) -> str:
        """The file the dopesheet was read from."""
        return self._table.source

    @property
    def props(self) -> list[str]:
        """Property names (bare, without ``:space:interpolator``), in file order."""
        return list(self._table.configs)

    @property
    def phases(self) -> set[str]:
        """Distinct non-empty PHASE values."""
        return set(self._phase_names)

    @property
    def steps(self) -> list[int]:
        """Resolved steps of the rows, ascending."""
        return list(self._table.steps)

    def __len__(self) -> int:
        return self._table.steps[-1] + 1

    def __repr__(self) -> str:
        return f'Dopesheet({self.source!r}, len={len(self)}, props={self.props})'

    def get_prop_config(self, name: str) -> PropConfig:
        """Parsed header of property ``name``; raises ``KeyError`` for an unknown property."""
        try:
            return self._table.configs[name]
        except KeyError:
            raise KeyError(f'{self.source}: no property {name!r}; properties: {self.props}') from None

    def error_at(self, name: str, step: int, problem: str) -> DopesheetError:
        """A `DopesheetError` locating the key of property `name` at `step` (its line and column)."""
        self.get_prop_config(name)
        row = self._row_at[step]
        return DopesheetError(self.source, self._table.lines[row], self._table.headers[name], problem)

    def keyframes(self, name: str) -> list[Keyframe]:
        """All keys of property ``name`` in step order."""
        self.get_prop_config(name)
        return list(self._keyframes[name])

    def get_initial_values(self) -> dict[str, float]:
        """Each property's first keyed value in step order (back-filled to step 0; see module docs)."""
        return {name: keys[0].value for name, keys in self._keyframes.items()}

    def __getitem__(self, step: int) -> Frame:
        if isinstance(step, bool):
            raise TypeError('dopesheet steps are integers, not bool')
        step = as_index(step)
        if not 0 <= step < len(self):
            raise IndexError(f'step {step} is outside this dopesheet (0 to {len(self) - 1}): {self.source}')
        i = bisect_right(self._phase_starts, step) - 1
        phase = self._phase_names[i] if i >= 0 else ''
        is_start = i >= 0 and self._phase_starts[i] == step
        if i + 1 < len(self._phase_starts):
            is_end = step == self._phase_starts[i + 1] - 1
        else:
            is_end = step == len(self) - 1
        row = self._row_at.get(step)
        if row is None:
            return Frame(step, phase, is_start, is_end)
        action_text = self._table.actions[row]
        actions = action_text.split(',') if action_text else []
        return Frame(step, phase, is_start, is_end, actions, dict(self._keyed_at[row]))

    def as_df(self) -> pd.DataFrame:
        """The resolved table: STEP (int), PHASE, ACTION, then properties by bare name; NaN where empty."""
        import numpy as np
        import pandas as pd

        t = self._table

        def text(cells: list[str]) -> pd.Series:
            if not any(cells):
                # All empty: a float column of NaN, as a CSV reader would produce.
                return pd.Series([np.nan] * len(cells), dtype='float64')
            return pd.Series([c if c else np.nan for c in cells], dtype='object')

        columns: dict[str, pd.Series] = {
            'STEP': pd.Series(t.steps, dtype='int64'),
            'PHASE': text(t.phases),
            'ACTION': text(t.actions),
        }
        for name in t.configs:
            columns[name] = pd.Series(t.values[name], dtype='float64')
        return pd.DataFrame(columns)

    def to_markdown(self) -> str:
        """Pipe-format markdown table of ``as_df()`` with empty cells blank (pandas/tabulate layout)."""
        from tabulate import tabulate

        # tabulate reads DataFrames natively; types-tabulate's signature leaves them out
        rendered = tabulate(self.as_df(), headers='keys', tablefmt='pipe', showindex=False)  # type: ignore[arg-type]
        return _blank_nan_cells(rendered)

    def to_dict(self) -> dict[str, dict[int, float]]:
        """``{header: {step: value}}`` for experiment trackers; headers re-serialised, empty cells dropped."""
        return {
            config.header: {key.t: key.value for key in self._keyframes[name]}
            for name, config in self._table.configs.items()
        }

    def styled(self) -> Styler:
        """``as_df()`` styled for notebooks: no wrapping, blank empty cells, up to 6 decimals per column."""
        df = self.as_df()
        formats = {name: _cell_formatter(df[name].dropna().tolist()) for name in self.props}
        formats['PHASE'] = formats['ACTION'] = lambda v: '' if _is_missing(v) else str(v)
        return (
            df.style.hide(axis='index')
            .format(formats)
            .set_properties(subset=None, **{'white-space': 'nowrap'})
        )


def _keyframes(name: str, steps: list[int], values: list[float]) -> list[Keyframe]:
    keyed = [(t, v) for t, v in zip(steps, values, strict=True) if not math.isnan(v)]
    keys = []
    for (t, v), following in zip(keyed, [*keyed[1:], None], strict=True):
        next_t, next_v = following if following is not None else (None, None)
        keys.append(Keyframe(name, t, v, next_t, next_v))
    return keys


def _blank_nan_cells(table: str) -> str:
    """Replace cells reading ``nan`` with spaces, keeping the column widths tabulate chose for them."""
    lines = table.split('\n')
    # The separator line marks every column boundary; all lines share these positions.
    bounds = [i for i, ch in enumerate(lines[1]) if ch == '|']
    out = lines[:2]
    for line in lines[2:]:
        chars = list(line)
        for left, right in pairwise(bounds):
            if line[left + 1 : right].strip() == 'nan':
                chars[left + 1 : right] = ' ' * (right - left - 1)
        out.append(''.join(chars))
    return '\n'.join(out)


def _is_missing(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _cell_formatter(values: list[float]):
    decimals = max((_decimals(v) for v in values), default=0)

    def fmt(v: float) -> str:
        if _is_missing(v):
            return ''
        if v != 0 and abs(v) < 10**-decimals:
            # Too small for the column's fixed decimals (e.g. a 1e-8 warm-up start): keep it visible.
            return f'{v:.3g}'
        return f'{v:.{decimals}f}'

    return fmt


def _decimals(value: float, limit: int = 6) -> int:
    """Decimal places needed to show ``value`` exactly, capped at ``limit``."""
    for d in range(limit + 1):
        if abs(round(value, d) - value) < 1e-12:
            return d
    return limit
