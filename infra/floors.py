"""The declared floors: the lowest version pyproject.toml allows for each direct dependency, checked.

`./go test --oldest` builds `.venv-oldest` with uv's `--resolution lowest-direct`, constrained by
`python -m infra.floors pins` (every direct dependency pinned to its floor; what they pull in at its
newest), then runs `python -m infra.floors check` there and the `OLDEST_TESTS` subset of the suite. A
floor is honest when that venv holds exactly the floor and the subset passes on it.

Design decisions:
- Every direct requirement (the runtime dependencies and the `LOCKED_EXTRAS`, the ones `./go setup`
  installs) must have a `>=` bound. Without one, "lowest" means the first release ever published, a
  floor nobody declared; that is an error naming the requirement, not a silent pass.
- The floors are pinned, not only preferred: lowest-direct alone lifted lightning from 2.4.0 to 2.5.2
  to fit a newer fsspec, and the floor would have gone untested. Pinned, floors that cannot be
  installed together are a resolver error instead. A floor that is yanked or has no wheel for this
  Python is raised to the oldest release that installs (scipy 1.11.0 is yanked: the floor is 1.11.1).
- A floor is compared with the installed version as a PEP 440 version, so `wandb>=0.19` is met by
  `0.19.0` and `torch>=2.13` by the CPU build `2.13.0+cpu`. Anything but equality (torch aside) fails
  `check`: the venv is then not the one the floors describe.
- torch is `HELD`: `./go test --oldest`, like `./go setup`, installs the lock's torch (a CPU build on
  this machine's disk) before the resolver runs, because torch's oldest allowed release would be a
  multi-GB CUDA download. Its floor is still read, and must be met, but is not required to be equal.
- `OLDEST_TESTS` is the subset run on the oldest versions: the unit tests of what the floors were
  raised for (multi-member training and its wandb tracking, the Modal function spec) and of the
  libraries each dependency serves (schedules, evaluation, search, figures), chosen by timing
  (`--durations`) to stay well under five minutes on two cores: 465 tests in 71-100 s on a shared
  2-core machine. The notebooks, the site, the lab and the linters are left to `./go test`.

Deliberately not here: installing (that is `./go test --oldest`), and upper bounds (pyproject has
none; the newest versions are what `./go setup --latest` tests).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NamedTuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra.lock import LOCKED_EXTRAS

HELD = frozenset({'torch'})
"""Canonical names installed before the resolver runs, so they may sit above their floor."""

OLDEST_TESTS = (
    # training, one model and many members at once, and its wandb tracking (offline, local shards)
    'tests/test_training_module.py',
    'tests/test_training_stack.py',
    'tests/test_training_terms.py',
    'tests/test_training_schedule.py',
    'tests/test_training_tracking.py',
    'tests/test_wandb_record.py',
    'tests/test_wandb_notebook_record.py',
    'tests/test_training_remote.py',
    'tests/test_model_cn_color_mlp.py',
    'tests/test_loss_config.py',
    'tests/test_loss_regularizers.py',
    'tests/test_loss_separate.py',
    'tests/test_data_colors.py',
    'tests/test_data_cube_dataset.py',
    'tests/test_inference_capture.py',
    'tests/test_intervention.py',
    'tests/test_erasure.py',
    # the experiment front door and the Modal function spec it builds (nothing is sent to Modal)
    'tests/test_experiment_declaration.py',
    'tests/test_experiment_local.py',
    'tests/test_experiment_modal_spec.py',
    # schedules
    'tests/test_temporal_dopesheet.py',
    'tests/test_temporal_steps.py',
    'tests/test_temporal_template.py',
    'tests/test_temporal_timeline.py',
    'tests/test_temporal_timing.py',
    # evaluation, statistics and tables (numpy, pandas, scipy, tabulate)
    'tests/test_evaluation_results.py',
    'tests/test_evaluation_seeds.py',
    'tests/test_evaluation_similarity.py',
    'tests/test_evaluation_stacked.py',
    'tests/test_evaluation_tables.py',
    'tests/test_intervals.py',
    # the schedule search on an Optuna study file (optuna, sqlalchemy)
    'tests/test_search.py',
    'tests/test_search_choice.py',
    'tests/test_racing.py',
    # figures and notebook display (matplotlib, pillow, ipython)
    'tests/test_vis_seed_figures.py',
    'tests/test_vis_color_slices.py',
    'tests/test_timeline_vis.py',
    'tests/test_nb_displayer.py',
    'tests/test_logging.py',
)
"""Test files `./go test --oldest` runs on the oldest versions (paths from the project root)."""


class Floor(NamedTuple):
    """One direct requirement's lowest allowed version."""

    name: str
    """Canonical distribution name, e.g. `'wandb'`."""
    requirement: str
    """The requirement as pyproject writes it, e.g. `'wandb>=0.19.10'`."""
    floor: Version
    """The version of its `>=` bound."""
    group: str
    """Where pyproject declares it: `'dependencies'` or `'optional-dependencies.dev'` and the like."""


class Installed(NamedTuple):
    """A floor beside the version installed for it."""

    floor: Floor
    version: Version | None
    """The installed version, or None when the distribution is not installed."""

    @property
    def verdict(self) -> str:
        """`'at floor'`, `'held'` (a `HELD` name the requirement allows), `'above floor'`, `'below floor'`
        or `'missing'`."""
        if self.version is None:
            return 'missing'
        if self.floor.name in HELD and Requirement(self.floor.requirement).specifier.contains(
            self.version, prereleases=True
        ):
            return 'held'
        if self.version == self.floor.floor:
            return 'at floor'
        return 'above floor' if self.version > self.floor.floor else 'below floor'

    @property
    def ok(self) -> bool:
        return self.verdict in ('at floor', 'held')


def floors(pyproject: Path, extras: tuple[str, ...] = LOCKED_EXTRAS) -> list[Floor]:
    """The `>=` bound of every requirement in pyproject's dependencies and the given extras.

    Raises:
        ValueError: naming the file and requirement, if a requirement has no `>=` bound, more than one,
            or an extra is missing.
    """
    project = tomllib.loads(pyproject.read_text())['project']
    groups = {'dependencies': project.get('dependencies', [])}
    optional = project.get('optional-dependencies', {})
    for extra in extras:
        if extra not in optional:
            raise ValueError(f'{pyproject}: [project.optional-dependencies] has no extra {extra!r}')
        groups[f'optional-dependencies.{extra}'] = optional[extra]
    found: list[Floor] = []
    for group, requirements in groups.items():
        for text in requirements:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({'extra': ''}):
                continue
            lower = [s for s in req.specifier if s.operator == '>=']
            if len(lower) != 1:
                raise ValueError(
                    f'{pyproject}: {group} requirement {text!r} needs exactly one >= bound, the lowest '
                    'version it is tested with (./go test --oldest installs it)'
                )
            found.append(Floor(canonicalize_name(req.name), text, Version(lower[0].version), group))
    return found


def compare(declared: list[Floor], installed: Mapping[str, str]) -> list[Installed]:
    """Each floor beside its installed version, from `installed` (canonical name -> version)."""
    return [Installed(f, Version(installed[f.name]) if f.name in installed else None) for f in declared]


def installed_versions(declared: list[Floor]) -> dict[str, str]:
    """The versions installed in this interpreter's environment for the given floors' distributions."""
    found: dict[str, str] = {}
    for f in declared:
        try:
            found[f.name] = version(f.name)
        except PackageNotFoundError:
            pass
    return found


def pins(declared: list[Floor]) -> list[str]:
    """`name==floor` for every floor but the `HELD` ones: constraints that install exactly the floors."""
    return [f'{f.name}=={f.floor}' for f in declared if f.name not in HELD]


def report(rows: list[Installed]) -> str:
    """A table of each requirement's floor, installed version and verdict, with a header line."""
    table = [('name', 'floor', 'installed', 'verdict')]
    table += [(r.floor.name, str(r.floor.floor), str(r.version or '-'), r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return '\n'.join(
        '  '.join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + '  ' + row[3]
        for row in table
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pyproject.toml's floors: pin them, check them, test them.")
    sub = parser.add_subparsers(dest='command', required=True)
    for name, text in [
        ('pins', 'print name==floor for every direct dependency but torch, one a line'),
        ('check', 'compare the versions installed here with the floors; exit 1 unless all are at theirs'),
    ]:
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument('pyproject', type=Path, nargs='?', default=Path('pyproject.toml'))
    sub.add_parser('tests', help='print the test files ./go test --oldest runs, one a line')
    args = parser.parse_args(argv)
    if args.command == 'tests':
        print('\n'.join(OLDEST_TESTS))
        return 0
    declared = floors(args.pyproject)
    if args.command == 'pins':
        print('\n'.join(pins(declared)))
        return 0
    rows = compare(declared, installed_versions(declared))
    print(report(rows))
    bad = [r for r in rows if not r.ok]
    if bad:
        print(
            f'infra.floors: {len(bad)} of the direct dependencies in {sys.prefix} are not at the floor '
            f'{args.pyproject} declares: '
            + ', '.join(f'{r.floor.name} {r.version or "missing"} (floor {r.floor.floor})' for r in bad)
            + '. Install the floor, or raise it to the lowest version that installs and passes the tests',
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
