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
  `infra.requirements.image_requirements()` and `project_packages()` from the notebook).
- Layers that survive a pin bump: torch (gigabytes) is installed in a layer of its own, first, so
  bumping any other pin rebuilds only the small layer after it (`layers()` lists them as data).
- ``torch_index``: the package index torch comes from. `CPU_TORCH_INDEX` gives the CPU build (a few
  hundred MB instead of the CUDA build's several GB) for functions that run on CPUs; None keeps
  PyPI's default build, which a GPU function needs.

Deliberately not done: apt packages, GPU-specific bases. Build a `modal.Image` by hand for those.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CPU_TORCH_INDEX = 'https://download.pytorch.org/whl/cpu'
"""PyTorch's index of CPU-only builds."""

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
    torch_index: str | None = None
    """Index URL torch's pin is installed from (`CPU_TORCH_INDEX` for CPU functions); None: PyPI's default."""

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
        if self.torch_index is not None:
            if not re.fullmatch(r'https://\S+', self.torch_index):
                raise ValueError(
                    f'PythonImage.torch_index: expected an https:// URL, got {self.torch_index!r}'
                )
            if self.pin('torch') is None:
                raise ValueError('PythonImage.torch_index: given, but the requirements pin no torch')

    def pin(self, package: str) -> str | None:
        """The pin for `package` (case-insensitive, `-`/`_` equivalent), or None."""
        wanted = _normalise(package)
        for pin in self.requirements:
            if _normalise(pin.partition('==')[0].partition('[')[0]) == wanted:
                return pin
        return None

    def layers(self) -> list[tuple[tuple[str, ...], str | None]]:
        """The pip layers in build order, as (pins, index URL or None): torch alone first (when
        pinned), then every other pin."""
        torch = self.pin('torch')
        rest = tuple(p for p in self.requirements if p != torch)
        out: list[tuple[tuple[str, ...], str | None]] = []
        if torch is not None:
            out.append(((torch,), self.torch_index))
        if rest:
            out.append((rest, None))
        return out

    def build(self) -> Any:
        """The equivalent `modal.Image` (lazy: nothing is built or uploaded until an app runs)."""
        import modal

        image = modal.Image.debian_slim(python_version=self.python_version)
        for pins, index in self.layers():
            image = image.pip_install(*pins, index_url=index) if index else image.pip_install(*pins)
        if self.local_packages:
            image = image.add_local_python_source(*self.local_packages)
        return image


def _normalise(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()
