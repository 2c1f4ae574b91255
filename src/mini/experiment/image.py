"""A declarative recipe for the container image that remote functions run in.

Design decisions:
- `modal.Image` objects are opaque until Modal builds them (their pip list lives in a closure), so a
  notebook cannot show, and a test cannot check, what the image will contain. `PythonImage` keeps
  the ingredients as plain data and builds the Modal image from them on demand; assigning it to
  `Experiment.image` records both. Assigning a ready-made `modal.Image` still works.
- The recipe is Debian slim + `pip install` of exact pins + the project's local Python packages,
  which is what the notebooks need; the Python version defaults to the local interpreter's
  `major.minor` so pickled functions and objects unpickle under the same Python.
- The pins are passed in, not computed here: `mini` knows nothing about the project (use
  `infra.requirements.freeze(all=True)` and `project_packages()` from the notebook).

Deliberately not done: apt packages, GPU-specific bases, extra indexes. Build a `modal.Image` by
hand for those.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_PIN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[^=\s]+$')
_MODULE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def _local_python() -> str:
    return f'{sys.version_info.major}.{sys.version_info.minor}'


@dataclass(frozen=True)
class PythonImage:
    """Debian slim + pinned pip requirements + local Python packages."""

    requirements: Sequence[str]
    """Exact pins `name==version`, e.g. from `infra.requirements.freeze(all=True)`."""
    local_packages: Sequence[str] = ()
    """Top-level import names whose local source is added to the image, e.g. `['mini', 'utils']`."""
    python_version: str = field(default_factory=_local_python)
    """Python `major.minor` in the image; defaults to this interpreter's."""

    def __post_init__(self):
        if isinstance(self.requirements, str):
            raise TypeError('PythonImage.requirements: expected a sequence of pins, got a single string')
        if isinstance(self.local_packages, str):
            raise TypeError('PythonImage.local_packages: expected a sequence of names, got a single string')
        object.__setattr__(self, 'requirements', tuple(self.requirements))
        object.__setattr__(self, 'local_packages', tuple(self.local_packages))
        for pin in self.requirements:
            if not isinstance(pin, str) or not _PIN.match(pin):
                raise ValueError(
                    f'PythonImage.requirements: {pin!r} is not an exact pin of the form name==version'
                )
        for name in self.local_packages:
            if not isinstance(name, str) or not _MODULE.match(name):
                raise ValueError(f'PythonImage.local_packages: {name!r} is not a top-level module name')
        if not re.fullmatch(r'3\.\d+', self.python_version):
            raise ValueError(f'PythonImage.python_version: expected "3.N", got {self.python_version!r}')

    def pin(self, package: str) -> str | None:
        """The pin for `package` (case-insensitive, `-`/`_` equivalent), or None."""
        wanted = _normalise(package)
        for pin in self.requirements:
            if _normalise(pin.partition('==')[0].partition('[')[0]) == wanted:
                return pin
        return None

    def build(self) -> Any:
        """The equivalent `modal.Image` (lazy: nothing is built or uploaded until an app runs)."""
        import modal

        image = modal.Image.debian_slim(python_version=self.python_version)
        if self.requirements:
            image = image.pip_install(*self.requirements)
        if self.local_packages:
            image = image.add_local_python_source(*self.local_packages)
        return image


def _normalise(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()
