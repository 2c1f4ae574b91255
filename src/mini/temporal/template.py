"""A dopesheet with holes: a search space over some of its cells, and the sheet each point fills in.

`SheetTemplate.from_csv(path, space)` keeps the CSV text of a schedule and a `SearchSpace`: which cells
vary (each named by its CSV line and column, as dopesheet errors name them), in which range and on
which scale. `template.fill({'anchor_peak': 0.3, ...})` substitutes those cells and parses the result
as a new `Dopesheet`, so every check the reader makes (steps in order, values valid for their column)
applies to every point, and a bad point is refused by its file, line and column before any training.

Design decisions:
- Cells are addressed by (line, column) of the file, 1-based like editors and `DopesheetError`; the
  header is line 1. A parameter may name any cell, keyed or empty, of a property or of ``STEP``, or
  the same column on several lines (``line=(5, 6)``: a value held over a stretch, e.g. a peak
  learning rate), which all take the parameter's value.
- ``STEP`` cells take whole numbers (values are rounded; an absolute step is written without a '+').
- The filled sheet's source names the template and the point, e.g. ``ex-2.10-dopesheet.csv @ trial 7``.
- Values are checked against their parameter's range when filling: an optimiser proposing outside it
  is a bug, not a value to clamp.

Deliberately not done: relative steps as parameters (write the row absolutely in the template).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.headers import DopesheetError

__all__ = ['SearchParam', 'SearchSpace', 'SheetTemplate']


@dataclass(frozen=True)
class SearchParam:
    """One cell of the sheet that a search varies."""

    name: str
    """Name of the parameter (what an optimiser calls it)."""
    line: int | tuple[int, ...]
    """CSV line of the cell (the header is line 1), or several lines that take the same value."""
    column: str
    """Column of the cell, as in the header (``STEP`` or a property, e.g. ``reg-anchor``)."""
    low: float
    high: float
    log: bool = False
    """Sample on a log scale (needs low > 0)."""

    def __post_init__(self) -> None:
        where = f'SearchParam {self.name!r}'
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f'{where}: name must be an identifier, got {self.name!r}')
        lines = self.line if isinstance(self.line, tuple) else (self.line,)
        if not lines or any(isinstance(n, bool) or not isinstance(n, int) or n < 2 for n in lines):
            raise ValueError(
                f'{where}: line must be an int >= 2 (line 1 is the header) or a tuple of them, got {self.line!r}'
            )
        if len(set(lines)) != len(lines):
            raise ValueError(f'{where}: line names a line twice: {self.line!r}')
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in (self.low, self.high)):
            raise ValueError(f'{where}: low and high must be finite numbers, got {self.low!r}, {self.high!r}')
        if not self.low < self.high:
            raise ValueError(f'{where}: low must be < high, got low={self.low!r}, high={self.high!r}')
        if self.log and self.low <= 0:
            raise ValueError(f'{where}: a log scale needs low > 0, got low={self.low!r}')

    @property
    def lines(self) -> tuple[int, ...]:
        """Every line whose cell in `column` takes this parameter's value."""
        return self.line if isinstance(self.line, tuple) else (self.line,)

    @property
    def is_step(self) -> bool:
        return self.column == 'STEP'


@dataclass(frozen=True)
class SearchSpace:
    """The parameters of a search, by name."""

    params: tuple[SearchParam, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, 'params', tuple(self.params))
        names = [p.name for p in self.params]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f'SearchSpace: parameter names repeat: {dupes}')
        cells = [(line, p.column) for p in self.params for line in p.lines]
        same = sorted({c for c in cells if cells.count(c) > 1})
        if same:
            raise ValueError(f'SearchSpace: two parameters vary the same cell(s) {same}')
        if not self.params:
            raise ValueError('SearchSpace: give at least one parameter')

    def __iter__(self):
        return iter(self.params)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]


class SheetTemplate:
    """A dopesheet's CSV text plus the cells a `SearchSpace` fills in."""

    def __init__(self, text: str, space: SearchSpace | Sequence[SearchParam], source: str = '<text>') -> None:
        self.space = space if isinstance(space, SearchSpace) else SearchSpace(tuple(space))
        self.source = source
        self.csv = text
        """The template's CSV text, as given."""
        self.base = Dopesheet.from_text(text, source)  # the template itself must be a valid sheet
        self._rows = list(csv.reader(io.StringIO(text)))
        header = [h.strip() for h in self._rows[0]]
        self._column_at = {}
        for name in header:
            bare = name.split(':', 1)[0]
            self._column_at[bare] = header.index(name)
        for p in self.space:
            if max(p.lines) > len(self._rows):
                raise ValueError(
                    f'{source}: SearchParam {p.name!r} names line {max(p.lines)}; the file has {len(self._rows)}'
                )
            if p.column not in self._column_at:
                raise ValueError(
                    f'{source}: SearchParam {p.name!r} names column {p.column!r}; the columns are {list(self._column_at)}'
                )
            for line in p.lines if p.is_step else ():
                if self._rows[line - 1][self._column_at['STEP']].strip().startswith('+'):
                    raise ValueError(
                        f'{source}, line {line}: SearchParam {p.name!r} varies a relative step; '
                        'write that row with an absolute step in the template'
                    )

    @classmethod
    def from_csv(cls, path: str | Path, space: SearchSpace | Sequence[SearchParam]) -> SheetTemplate:
        path = Path(path)
        return cls(path.read_text(encoding='utf-8-sig'), space, source=str(path))

    def current(self) -> dict[str, float | None]:
        """The template's own value of each parameter's cell (None for an empty cell); a parameter over
        several lines whose cells differ is an error (the template is not a point of its space)."""
        out: dict[str, float | None] = {}
        for p in self.space:
            col = self._column_at[p.column]
            cells = {
                (self._rows[line - 1][col].strip() if col < len(self._rows[line - 1]) else '')
                for line in p.lines
            }
            if len(cells) > 1:
                raise ValueError(
                    f'{self.source}: SearchParam {p.name!r} spans lines {p.lines} of {p.column!r}, whose cells '
                    f'differ: {sorted(cells)}'
                )
            cell = cells.pop()
            out[p.name] = float(cell) if cell else None
        return out

    def text(self, values: Mapping[str, float]) -> str:
        """The CSV text with every parameter's cell replaced by its value in `values`."""
        missing = [n for n in self.space.names if n not in values]
        extra = sorted(set(values) - set(self.space.names))
        if missing or extra:
            raise KeyError(
                f'{self.source}: values need exactly {self.space.names}; missing {missing}, unknown {extra}'
            )
        rows = [list(r) for r in self._rows]
        for p in self.space:
            v = values[p.name]
            if not isinstance(v, int | float) or not math.isfinite(v) or not p.low <= v <= p.high:
                raise ValueError(f'{self.source}: {p.name}={v!r} is outside its range [{p.low}, {p.high}]')
            col = self._column_at[p.column]
            for line in p.lines:
                row = rows[line - 1]
                row.extend([''] * (col + 1 - len(row)))
                row[col] = str(round(v)) if p.is_step else repr(float(v))
        out = io.StringIO()
        csv.writer(out, lineterminator='\n').writerows(rows)
        return out.getvalue()

    def fill(self, values: Mapping[str, float], label: str = 'point') -> Dopesheet:
        """The dopesheet at `values`; a point that makes an invalid sheet raises `DopesheetError`.

        Besides the reader's checks, the absolute steps must stay in the file's row order: the reader
        would sort the rows, silently turning a transition moved past the next keyframe into another
        schedule.
        """
        text = self.text(values)
        source = f'{self.source} @ {label}'
        step_col = self._column_at['STEP']
        previous: tuple[int, float] | None = None
        for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cell = row[step_col].strip() if line > 1 and step_col < len(row) else ''
            if not cell or cell.startswith('+'):
                continue
            step = float(cell)
            if previous is not None and step <= previous[1]:
                varied = {line for p in self.space if p.is_step for line in p.lines}
                blame = previous[0] if previous[0] in varied and line not in varied else line
                raise DopesheetError(
                    source,
                    blame,
                    'STEP',
                    f'step {previous[1]:g} (line {previous[0]}) is not before step {step:g} (line {line}); '
                    'a point of the search must keep the rows in order',
                )
            previous = (line, step)
        return Dopesheet.from_text(text, source)
