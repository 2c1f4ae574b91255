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

Deliberately not done: hashes, alternative package indexes, platform-specific pins for a different
OS than the one running, and groups beyond "runtime" vs "named packages".
"""

from __future__ import annotations

import importlib.util
import logging
from importlib.metadata import Distribution, PackageNotFoundError, distribution, packages_distributions

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

log = logging.getLogger(__name__)

DEV_TOOLS = frozenset({'pytest', 'hypothesis', 'ruff'})
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
        dists = _runtime_closure(project_distribution())
    else:
        dists = {}
        for name in packages:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f'freeze: package names must be non-empty strings, got {name!r}')
            dists[canonicalize_name(name)] = _installed(name, needed_by='freeze() arguments')

    pins = {name: f'{dist.metadata["Name"]}=={public_version(dist.version)}' for name, dist in dists.items()}
    log.debug('Pinned %d distributions', len(pins))
    return sorted(pins.values(), key=str.lower)


def project_packages() -> list[str]:
    """Top-level import names shipped by the project's distribution, e.g. `['ex_color', 'infra', ...]`.

    Only names that are importable here are returned (private names such as editable-install finder
    modules are skipped), so the list can be passed to `modal.Image.add_local_python_source`.
    """
    dist_name = project_distribution().metadata['Name']
    owners = packages_distributions()
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


def project_distribution() -> Distribution:
    """The installed distribution that provides this `infra` package (the project itself)."""
    top = __name__.partition('.')[0]
    owners = packages_distributions().get(top, [])
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


def _runtime_closure(root: Distribution) -> dict[str, Distribution]:
    """Every distribution the root needs at runtime, keyed by canonical name (root excluded)."""
    root_name = canonicalize_name(root.metadata['Name'])
    found: dict[str, Distribution] = {}
    # (distribution, extras requested for it); extras matter because `foo[bar]` pulls bar's deps.
    pending: list[tuple[Distribution, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        dist, extras = pending.pop()
        parent = canonicalize_name(dist.metadata['Name'])
        if (parent, extras) in seen:
            continue
        seen.add((parent, extras))
        for req in _requirements(dist):
            if not _applies(req, extras):
                continue
            name = canonicalize_name(req.name)
            if name in DEV_TOOLS or name == root_name:
                continue
            child = found.get(name) or _installed(req.name, needed_by=f'{parent} ({req})')
            found[name] = child
            pending.append((child, frozenset(canonicalize_name(e) for e in req.extras)))
    return found


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
