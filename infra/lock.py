"""The lock file: the exact versions `./go setup` installs, written from the venv that ran the results.

Design decisions:
- The lock is a snapshot, not a resolution. `./go lock` (`python -m infra.lock`) reads the versions
  *installed* in the venv (`importlib.metadata`), starting from pyproject.toml's dependencies and the
  `LOCKED_EXTRAS`, and follows `Requires-Dist` with `infra.requirements.closure`, the same walker
  that pins Modal images. A resolver (`uv pip compile`, `pip-compile`) would pick the newest versions
  that fit, which are not necessarily the ones the committed results were produced with, and it is
  one more tool needing an index; a plain `pip freeze` would also record whatever was installed by
  hand (JupyterLab for `./go lab`, a debugger). Reading pyproject.toml rather than the installed
  project's metadata means a dependency just added to pyproject (and pip-installed) is locked
  without reinstalling the project first.
- Local version labels are dropped (`torch 2.13.0+cpu` -> `torch==2.13.0`), as `freeze` does:
  `==2.13.0` is satisfied by the CPU build `./go setup` installs first from this disk, and elsewhere
  by PyPI's build of the same version, whose CUDA libraries pip then adds.
- Markers are evaluated for the interpreter that writes the lock, recorded in its header
  (`# platform:`). `./go setup` installs the lock *with* dependency resolution, so on another
  platform pip adds that platform's own extra requirements (unpinned) instead of failing.
- Every pin says why it is there (`# via ex-color[dev], wandb`), so a lock diff can be reviewed.
- The `lab` extra (JupyterLab) is deliberately not locked: it views notebooks and produces no
  result, CI does not install it, and `./go lab` installs it constrained by the lock, so it can never
  move a locked version.

Deliberately not here: hashes (pip's hash mode needs every platform's wheels hashed, and the CPU torch
wheel on this disk has no PyPI hash), per-platform sections, and installing (that is `./go setup`).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tomllib
from importlib.metadata import Distribution
from pathlib import Path
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.requirements import closure, public_version

LOCKED_EXTRAS = ('dev', 'modal')
"""pyproject extras whose packages are pinned in the lock (besides the runtime dependencies)."""
UNLOCKED_EXTRAS = ('lab',)
"""pyproject extras deliberately left out of the lock; every extra must be in exactly one of the two."""


class Lock(NamedTuple):
    """A lock file as read back."""

    pins: dict[str, str]
    """Canonical distribution name -> pinned public version, e.g. `{'torch': '2.13.0'}`."""
    extras: tuple[str, ...]
    """The extras the lock was written for (its `# extras:` header line)."""
    platform: str
    """The interpreter and platform its markers were evaluated for (its `# platform:` header line)."""


def current_platform() -> str:
    """`'cpython 3.11 linux x86_64'`: what a lock written here is valid for."""
    major, minor = sys.version_info[:2]
    return f'{sys.implementation.name} {major}.{minor} {sys.platform} {platform.machine()}'


def project_requirements(pyproject: Path) -> dict[str, list[Requirement]]:
    """pyproject's requirements by who asks for them: `'ex-color'`, `'ex-color[dev]'`, ...

    Only the runtime dependencies and `LOCKED_EXTRAS` are returned.

    Raises:
        ValueError: if an extra is neither locked nor explicitly unlocked, or a locked extra is missing.
    """
    project = tomllib.loads(pyproject.read_text())['project']
    name: str = canonicalize_name(project['name'])
    extras = project.get('optional-dependencies', {})
    unsorted = set(extras) - set(LOCKED_EXTRAS) - set(UNLOCKED_EXTRAS)
    if unsorted:
        raise ValueError(
            f'{pyproject}: extras {sorted(unsorted)} are neither in infra.lock.LOCKED_EXTRAS nor in '
            'UNLOCKED_EXTRAS; add each to one of them'
        )
    missing = set(LOCKED_EXTRAS) - set(extras)
    if missing:
        raise ValueError(f'{pyproject}: infra.lock.LOCKED_EXTRAS names extras it lacks: {sorted(missing)}')
    groups: dict[str, list[Requirement]] = {name: [Requirement(r) for r in project.get('dependencies', [])]}
    for extra in LOCKED_EXTRAS:
        groups[f'{name}[{extra}]'] = [Requirement(r) for r in extras[extra]]
    return groups


def lock_text(pyproject: Path) -> str:
    """The lock file for pyproject.toml's locked requirements, at the versions installed here.

    Raises:
        ValueError: if a requirement is not installed, or its installed version does not satisfy
            pyproject's specifier (install it, e.g. `EX_COLOR_UNLOCKED=1 ./go setup`, then lock).
    """
    groups = project_requirements(pyproject)
    project_name = next(iter(groups))
    dists: dict[str, Distribution] = {}
    via: dict[str, frozenset[str]] = {}
    for requirer, requirements in groups.items():
        found = closure(requirements, requirer=requirer, drop={project_name})
        dists |= found.dists
        for name, parents in found.via.items():
            via[name] = via.get(name, frozenset()) | parents
        for req in requirements:
            dist = found.dists.get(canonicalize_name(req.name))
            if dist is not None and not req.specifier.contains(dist.version, prereleases=True):
                raise ValueError(
                    f'{pyproject}: {requirer} asks for {req}, but {dist.version} is installed; install '
                    'a matching version (EX_COLOR_UNLOCKED=1 ./go setup) before writing the lock'
                )
    lines = [
        "# The exact versions `./go setup` installs: the project's runtime dependencies and the extras",
        '# below, as installed in the venv that produced the committed results (torch without its',
        "# local label, so the CPU build on disk and PyPI's build both match). Written by `./go lock`",
        '# from installed metadata, not by a resolver: see infra/lock.py. Newest versions instead:',
        '# `./go setup --latest` (or EX_COLOR_UNLOCKED=1); then `./go lock` records them.',
        f'# extras: {", ".join(LOCKED_EXTRAS)}',
        f'# platform: {current_platform()}',
    ]
    for name in sorted(dists):
        pin = f'{dists[name].metadata["Name"]}=={public_version(dists[name].version)}'
        lines.append(f'{pin}  # via {", ".join(sorted(via[name]))}')
    return '\n'.join(lines) + '\n'


def read_lock(path: Path) -> Lock:
    """Parse a lock written by `lock_text` (pins, and the `extras` and `platform` header lines)."""
    pins: dict[str, str] = {}
    header: dict[str, str] = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        if raw.startswith('#'):
            key, _, value = raw.lstrip('# ').partition(':')
            if key in ('extras', 'platform'):
                header[key] = value.strip()
            continue
        line = raw.partition(' #')[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != '==':
            raise ValueError(f'{path}:{n}: expected an exact pin name==version, got {line!r}')
        pins[canonicalize_name(req.name)] = specs[0].version
    return Lock(
        pins=pins,
        extras=tuple(e.strip() for e in header.get('extras', '').split(',') if e.strip()),
        platform=header.get('platform', ''),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Write the lock file from the versions installed here.')
    parser.add_argument('pyproject', type=Path, nargs='?', default=Path('pyproject.toml'))
    parser.add_argument('lock', type=Path, nargs='?', default=Path('requirements.lock'))
    args = parser.parse_args(argv)
    text = lock_text(args.pyproject)
    old = args.lock.read_text() if args.lock.exists() else ''
    args.lock.write_text(text)
    count = sum(1 for line in text.splitlines() if line and not line.startswith('#'))
    print(f'{args.lock}: {count} pins' + (' (unchanged)' if text == old else ''), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
