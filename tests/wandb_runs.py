"""Reading an offline wandb run back from its own log file (``run-*.wandb``), as a tracker would.

The log is LevelDB's log format with wandb's file header (``:W&B``, magic 0xBEE1, version 0): 32 KiB
blocks of chunks, each a header (CRC-32 of type and data, length, type: full, first, middle, last)
and data; a chunk never straddles a block, whose last few bytes may be zero padding. Each record is
a `wandb.proto` `Record`. wandb 0.31 ships no Python reader of its own, so the tests carry one.

`offline` (a fixture, in ``conftest.py``) points every wandb folder at a temporary one.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2


@dataclass
class OfflineRun:
    name: str = ''
    group: str = ''
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    finished: bool = False


def _records(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    if len(raw) < 7 or raw[:7] == bytes(7):  # wandb's service has not written the header yet
        return []
    assert raw[:7] == struct.pack('<4sHB', b':W&B', 0xBEE1, 0), (
        f'{path}: not a wandb log ({len(raw)} bytes, starting {raw[:16]!r})'
    )
    block, pos, pending, out = 32768, 7, b'', []
    while pos + 7 <= len(raw):
        if block - pos % block < 7:  # too little room for a chunk header: the block's padding
            pos += block - pos % block
            continue
        crc, length, kind = struct.unpack('<IHB', raw[pos : pos + 7])
        if (crc, length, kind) == (0, 0, 0):  # zeros to the block's end
            pos += block - pos % block
            continue
        data = raw[pos + 7 : pos + 7 + length]
        if len(data) < length:  # the last chunk is still being written: read again later
            break
        assert crc == zlib.crc32(data, zlib.crc32(bytes([kind]))), (path, pos)
        pos += 7 + length
        if kind == 1:
            out.append(data)
        elif kind == 2:
            pending = data
        elif kind == 3:
            pending += data
        else:
            assert kind == 4, (path, pos, kind)
            out.append(pending + data)
    return out


def _apply(target: dict[str, Any], items: Any) -> None:
    for item in items:
        path = list(item.nested_key) or [item.key]
        here = target
        for key in path[:-1]:
            here = here.setdefault(key, {})
        here[path[-1]] = json.loads(item.value_json)


def read_run(folder: Path, patience: float = 20.0) -> OfflineRun:
    """The run's name, group, config and final summary, from its log (waiting for its exit record:
    wandb's service may still be writing when `finish` returns)."""
    (log,) = folder.glob('run-*.wandb')
    deadline = time.monotonic() + patience
    while True:
        run = OfflineRun()
        for payload in _records(log):
            # the module re-exports the generated classes by a star import, which mypy cannot follow
            record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
            record.ParseFromString(payload)
            kind = record.WhichOneof('record_type')
            if kind == 'run':
                run.name, run.group = record.run.display_name, record.run.run_group
                _apply(run.config, record.run.config.update)
            elif kind == 'config':
                _apply(run.config, record.config.update)
            elif kind == 'summary':
                _apply(run.summary, record.summary.update)
            elif kind == 'exit':
                run.finished = True
        if run.finished or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def runs_by_name(folder: Path) -> dict[str, OfflineRun]:
    runs = [read_run(f) for f in sorted((folder / 'wandb').glob('offline-run-*'))]
    assert all(r.finished for r in runs), 'a run was not finished'
    by_name = {r.name: r for r in runs}
    assert len(by_name) == len(runs), f'two runs share a name: {[r.name for r in runs]}'
    return by_name
