"""Pin the local Python environment so a remote image can reproduce it.

Design decisions:
- Pins come from the *installed* distributions' metadata (`importlib.metadata`), not from a lock file
  or a `uv` subprocess: what is installed is what ran locally, and reading metadata needs no tool,
  no network and no work at import time.
- `freeze(all=True)` starts from the project's own distribution (the one that ships this `infra`
  package) and walks `Requires-Dist` transitively. Markers are evaluated with `packaging.markers`
  for the running interpreter; requirements guarded by an `extra` are followed only when that extra
  was requested by the parent, so the project's `dev` and `modal` extras (pytest, hypothesis, ruff,
  modal) never enter the pins. Dev tools are also dropped by name in case a runtime dependency drags
  one in: an image for training has no use for a test runner.
- Local version labels are stripped (`torch 2.13.0+cpu` -> `torch==2.13.0`). A CPU-only build used
  on a laptop must not force a CPU-only wheel into a GPU image; the same public version from PyPI
  is the closest reproduction, and pip then resolves that build's own extra requirements (CUDA
  libraries, triton) which the CPU environment simply does not have.
- `project_packages()` asks the installed metadata which top-level import names belong to the
  project's distribution, so the answer does not depend on the working directory.
- `closure` is the one walker of the installed dependency graph. `infra.lock` uses it too, to write
  the lock file `./go setup` installs (runtime plus the dev and modal extras): a venv installed from
  the lock gives `freeze(all=True)` pins that are a subset of the lock, at the same versions (tested
  in tests/test_lock.py). The image pins the venv, not the lock, so a venv set up with the newest
  versions (`EX_COLOR_UNLOCKED=1`) still ships what actually ran.

Deliberately not done: hashes, alternative package indexes, platform-specific pins for a different
OS than the one running, and groups beyond "runtime" vs "named packages".
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Collection, Iterable, Mapping
from importlib.metadata import Distribution, PackageNotFoundError, distribution, packages_distributions
from typing import NamedTuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

log = logging.getLogger(__name__)

DEV_TOOLS = frozenset({'pytest', 'hypothesis', 'ruff'})
NOTEBOOK_ONLY = frozenset({
    'ipython', 'ipykernel', 'nbclient', 'nbformat', 'nbconvert', 'jinja2', 'tabulate', 'optuna', 'sqlalchemy'
})  # fmt: skip
"""Direct dependencies that only the notebook side uses (the kernel, the runner, the site, the tables'
Markdown, the search's study): a container that trains members never imports them, so
`image_requirements` leaves them, and whatever only they need, out of the image (a test trains a
shard with them blocked)."""
"""Canonical names that never belong in a runtime image, even when something depends on them."""


def freeze(*packages: str, all: bool = False) -> list[str]:  # noqa: A002 - matches the notebook API
    """Return sorted `name==version` pins for the given installed packages, or for the whole runtime.

    Args:
        packages: Distribution names to pin (e.g. `'torch', 'numpy'`). Only these are returned.
        all: Pin the project's runtime dependencies and everything they need, transitively.

    Raises:
        ValueError: if both or neither of `packages` and `all` are given, or a package is not installed.
    """
    if all and packages:
        raise ValueError(f'freeze: pass either package names or all=True, not both (got {packages!r})')
    if not all and not packages:
        raise ValueError('freeze: pass package names to pin, or all=True for the runtime dependencies')

    if all:
        root = project_distribution()
        root_name = canonicalize_name(root.metadata['Name'])
        # the project's own extras (ex-color[dev]) are not followed: only runtime requirements apply
        dists = closure(_requirements(root), requirer=root_name, drop=DEV_TOOLS | {root_name}).dists
    else:
        dists = {}
        for name in packages:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f'freeze: package names must be non-empty strings, got {name!r}')
            dists[canonicalize_name(name)] = _installed(name, needed_by='freeze() arguments')

    pins = {name: f'{dist.metadata["Name"]}=={public_version(dist.version)}' for name, dist in dists.items()}
    log.debug('Pinned %d distributions', len(pins))
    return sorted(pins.values(), key=str.lower)


def image_requirements() -> list[str]:
    """Pins for a remote training image: the runtime closure of `freeze(all=True)` less `NOTEBOOK_ONLY`
    and what only they need (a package they share with the rest, e.g. jinja2 for torch, stays)."""
    root = project_distribution()
    root_name = canonicalize_name(root.metadata['Name'])
    kept = [r for r in _requirements(root) if canonicalize_name(r.name) not in NOTEBOOK_ONLY]
    dists = closure(kept, requirer=root_name, drop=DEV_TOOLS | {root_name}).dists
    pins = [f'{dist.metadata["Name"]}=={public_version(dist.version)}' for dist in dists.values()]
    return sorted(pins, key=str.lower)


def project_packages() -> list[str]:
    """Top-level import names shipped by the project's distribution, e.g. `['ex_color', 'infra', ...]`.

    Only names that are importable here are returned (private names such as editable-install finder
    modules are skipped), so the list can be passed to `modal.Image.add_local_python_source`.
    """
    dist_name = project_distribution().metadata['Name']
    owners = _owners()
    names = {
        name
        for name, dists in owners.items()
        if not name.startswith(('_', '.'))
        and any(canonicalize_name(d) == canonicalize_name(dist_name) for d in dists)
    }
    found = sorted(name for name in names if importlib.util.find_spec(name) is not None)
    if not found:
        raise RuntimeError(
            f'project_packages: distribution {dist_name!r} lists no importable top-level packages; '
            'reinstall the project (./go setup)'
        )
    return found


@functools.cache
def _owners() -> Mapping[str, list[str]]:
    # Reading every installed distribution's metadata takes about a quarter of a second, and a
    # notebook's set-up cell asks twice (the project's distribution, then its packages): once a process.
    return packages_distributions()


def project_distribution() -> Distribution:
    """The installed distribution that provides this `infra` package (the project itself)."""
    top = __name__.partition('.')[0]
    owners = _owners().get(top, [])
    if not owners:
        raise RuntimeError(
            f'No installed distribution provides the {top!r} package; install the project first '
            "(./go setup, or pip install -e '.[dev,modal]')"
        )
    return distribution(owners[0])


def public_version(version: str) -> str:
    """Drop a PEP 440 local label: `'2.13.0+cpu'` -> `'2.13.0'`. Non-PEP 440 versions pass unchanged."""
    try:
        return Version(version).public
    except InvalidVersion:
        return version


class Closure(NamedTuple):
    """What a set of requirements needs, installed here: see `closure`."""

    dists: dict[str, Distribution]
    """Canonical name -> installed distribution, for every requirement reached (the roots included)."""
    via: dict[str, frozenset[str]]
    """Canonical name -> canonical names of the distributions (or the `requirer`) that asked for it."""


def closure(
    requirements: Iterable[Requirement], *, requirer: str, drop: Collection[str] = frozenset()
) -> Closure:
    """Follow `requirements` (those of `requirer`) and their `Requires-Dist` through installed metadata.

    Markers are evaluated for the running interpreter, the roots with no extra requested; `foo[bar]`
    follows bar's requirements of foo. Names in `drop` (canonical) are skipped along with what only they
    need. Shared by `freeze` (a Modal image's pins) and `infra.lock` (the lock `./go setup` installs),
    so the two walk the same graph.

    Raises:
        ValueError: if a requirement that applies here is not installed.
    """
    dropped = {canonicalize_name(d) for d in drop}
    found: dict[str, Distribution] = {}
    via: dict[str, set[str]] = {}
    pending = [(requirer, req) for req in requirements if _applies(req, frozenset())]
    # (name, extras) pairs already expanded; extras matter because `foo[bar]` pulls bar's deps.
    expanded: set[tuple[str, frozenset[str]]] = set()
    while pending:
        parent, req = pending.pop()
        name = canonicalize_name(req.name)
        if name in dropped:
            continue
        dist = found.get(name) or _installed(req.name, needed_by=f'{parent} ({req})')
        found[name] = dist
        via.setdefault(name, set()).add(parent)
        extras = frozenset(canonicalize_name(e) for e in req.extras)
        if (name, extras) in expanded:
            continue
        expanded.add((name, extras))
        pending += [(name, child) for child in _requirements(dist) if _applies(child, extras)]
    return Closure(found, {name: frozenset(parents) for name, parents in via.items()})


def _requirements(dist: Distribution) -> list[Requirement]:
    out = []
    for line in dist.requires or []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement as e:
            raise ValueError(f'{dist.metadata["Name"]}: invalid Requires-Dist entry {line!r}: {e}') from e
    return out


def _applies(req: Requirement, extras: frozenset[str]) -> bool:
    """Does `req` apply on this interpreter, given the extras requested for its parent?"""
    if req.marker is None:
        return True
    # An empty extra stands for "no extra": it satisfies markers without an `extra ==` clause only.
    return any(req.marker.evaluate({'extra': extra}) for extra in (*sorted(extras), ''))


def _installed(name: str, *, needed_by: str) -> Distribution:
    try:
        return distribution(name)
    except PackageNotFoundError as e:
        raise ValueError(f'freeze: package {name!r} (needed by {needed_by}) is not installed') from e
