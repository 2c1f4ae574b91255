"""Reading a dopesheet CSV into a validated, step-sorted table.

Format: a header row, then one row per keyframe. Reserved columns ``STEP`` (required), ``PHASE`` and
``ACTION`` (optional) are text; every other column is a numeric property with header
``name[:space[:interpolator]]`` (see ``mini.temporal.headers``). Empty cells mean "not keyed here".

Design decisions:
* Strict: every problem is a ``DopesheetError`` (a ``ValueError``) naming the file, the 1-based line
  and the column — a missing STEP column, malformed or duplicate headers, rows with the wrong number of
  cells, unresolvable or duplicate steps (``mini.temporal.steps``), non-numeric or non-finite values,
  and a property column with no values at all (the reference silently started such a property at 0).
* Cells are read with the ``csv`` module rather than pandas so line numbers are exact and nothing is
  type-guessed. Blank lines are skipped. ``ACTION`` is split on ``,`` without trimming (as the
  reference did); ``PHASE`` and ``ACTION`` are otherwise taken verbatim.
* Rows are sorted by resolved step; steps are unique, so the order is fully determined.

This module does not answer queries about the schedule; ``mini.temporal.dopesheet`` does.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from mini.temporal.headers import RESERVED_COLUMNS, DopesheetError, PropConfig, parse_header
from mini.temporal.steps import resolve_steps


@dataclass(frozen=True)
class SheetTable:
    """A parsed dopesheet: rows sorted by step, one entry per row in every list."""

    source: str
    """File the table was read from (for messages)."""
    configs: dict[str, PropConfig]
    """Property configs by bare name, in file order."""
    steps: list[int]
    """Resolved step of each row, strictly increasing."""
    lines: list[int]
    """CSV line each row came from."""
    phases: list[str]
    """PHASE cell of each row; '' where empty or where the column is absent."""
    actions: list[str]
    """ACTION cell of each row, unsplit; '' where empty or where the column is absent."""
    values: dict[str, list[float]]
    """Property values by bare name; NaN where the cell is empty."""
    headers: dict[str, str]
    """Each property's header cell as written in the file (for messages)."""


def read_sheet(text: str, source: str) -> SheetTable:
    """Parse CSV ``text``; ``source`` names the file in error messages."""
    reader = csv.reader(io.StringIO(text, newline=''))
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = row, reader.line_num
        else:
            rows.append(row)
            lines.append(reader.line_num)
    if header is None:
        raise DopesheetError(source, 1, 'STEP', 'file has no header row')
    if len(header) == 1:
        for sep, name in ((';', 'semicolon'), ('\t', 'tab')):
            if sep in header[0]:
                raise DopesheetError(
                    source,
                    header_line,
                    header[0][:40],
                    f'the file looks {name}-delimited; dopesheets are '
                    'comma-separated CSV (re-save it with commas)',
                )

    configs, columns = _parse_columns(header, header_line, source)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            # Name the first missing column, or the last column when there are surplus cells.
            column = header[len(row)] if len(row) < len(header) else header[-1]
            raise DopesheetError(
                source, line, column, f'row has {len(row)} cells but the header has {len(header)}'
            )
    if not rows:
        raise DopesheetError(source, header_line, 'STEP', 'dopesheet has no rows')

    step_col = columns['STEP']
    steps = resolve_steps([row[step_col] for row in rows], lines, source)

    def text_column(name: str) -> list[str]:
        return [row[columns[name]] for row in rows] if name in columns else [''] * len(rows)

    values: dict[str, list[float]] = {}
    for name, config in configs.items():
        header_text = header[columns[name]]
        values[name] = [
            _number(row[columns[name]], source, line, header_text)
            for row, line in zip(rows, lines, strict=True)
        ]
        if all(math.isnan(v) for v in values[name]):
            raise DopesheetError(source, header_line, header_text, f'property {config.name!r} has no values')
        if config.space == 'log':
            for v, line in zip(values[name], lines, strict=True):
                if v <= 0:  # NaN (an empty cell) compares False
                    raise DopesheetError(
                        source,
                        line,
                        header_text,
                        f'value {v:g} is not positive; a :log column needs values > 0',
                    )

    order = sorted(range(len(rows)), key=steps.__getitem__)
    return SheetTable(
        source=source,
        configs=configs,
        steps=[steps[i] for i in order],
        lines=[lines[i] for i in order],
        phases=[text_column('PHASE')[i] for i in order],
        actions=[text_column('ACTION')[i] for i in order],
        values={name: [column[i] for i in order] for name, column in values.items()},
        headers={name: header[columns[name]] for name in configs},
    )


def _parse_columns(header: list[str], line: int, source: str) -> tuple[dict[str, PropConfig], dict[str, int]]:
    """Property configs by bare name and column index by bare name (reserved names included)."""
    configs: dict[str, PropConfig] = {}
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        if text != text.strip():
            raise DopesheetError(
                source,
                line,
                text,
                f'header cell {text!r} has leading or trailing whitespace; write {text.strip()!r}',
            )
        if text in RESERVED_COLUMNS:
            name = text
        else:
            try:
                config = parse_header(text)
            except ValueError as e:
                raise DopesheetError(source, line, text, str(e)) from None
            name = config.name
            configs[name] = config
        if name in columns:
            raise DopesheetError(
                source, line, text, f'duplicate column {name!r} (also column {columns[name] + 1})'
            )
        columns[name] = index
    if 'STEP' not in columns:
        raise DopesheetError(source, line, 'STEP', 'header has no STEP column')
    return configs, columns


def _number(cell: str, source: str, line: int, column: str) -> float:
    text = cell.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DopesheetError(source, line, column, f'value {cell!r} is not a number') from None
    if not math.isfinite(value):
        raise DopesheetError(source, line, column, f'value {cell!r} is not a finite number')
    return value
