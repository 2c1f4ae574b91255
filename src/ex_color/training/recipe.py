"""`Recipe`: what is trained, as one frozen value.

A recipe is everything that decides a member's weights besides the member's own spec (seed, its
schedule or data settings: `MemberSpec`) and the run's settings (`RunSettings`): the model's shape,
the regularisers, the data factory and the schedule. Each experiment declares one
(``ex_2_10.RECIPE``); a child experiment derives its own with `with_`
(``ex_2_10.RECIPE.with_(regularizers=...)``), and nothing unpacks a recipe into loose arguments.

The schedule is a loaded `Dopesheet`, not a path: the library never opens the notebooks' folder
(a notebook loads the CSV beside it, ``recipe.with_(dopesheet=Dopesheet.from_csv(...))``).
`dopesheet_file` names that CSV so the declaration says where its schedule lives.

`describe()` is the recipe as plain values: what the run cache keys on (with the source of the
library that trains it), and what wandb records.

Deliberately not here: training (`ex_color.training.front.train`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ex_color.loss import RegularizerConfig
from mini.temporal.dopesheet import Dopesheet

__all__ = ['Recipe', 'describe_callable', 'describe_regularizer']


def describe_regularizer(reg: RegularizerConfig) -> dict[str, Any]:
    """A regulariser as plain values: name, term (its class and settings), labels, layers, phases."""
    term = reg.compute_loss_term
    return {
        'name': reg.name,
        'term': f'{type(term).__module__}.{type(term).__qualname__}({term.extra_repr()})',
        'labels': dict(reg.label_affinities) if reg.label_affinities is not None else None,
        'layers': list(reg.layer_affinities),
        'phases': sorted(reg.phases),
    }


_PROJECT_PACKAGES = ('ex_color.', 'mini.', 'utils.')


def describe_callable(fn: Callable[..., Any]) -> str:
    """A function by where it lives and what is bound to it (``functools.partial``). A function that
    is not the project's (one defined in a notebook) is described by its source too, so that editing
    it changes the description (and the run cache's key)."""
    if isinstance(fn, functools.partial):
        bound = ', '.join([*map(repr, fn.args), *(f'{k}={v!r}' for k, v in sorted(fn.keywords.items()))])
        return f'partial({describe_callable(fn.func)}, {bound})'
    module = getattr(fn, '__module__', None) or type(fn).__module__
    name = getattr(fn, '__qualname__', None) or type(fn).__qualname__
    if module.startswith(_PROJECT_PACKAGES):
        return f'{module}.{name}'
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        raise ValueError(
            f'{module}.{name}: its source cannot be read, so a changed function could not be told from '
            'this one; define it in a module or a notebook cell'
        ) from None
    return f'{module}.{name}\n{source}'


@dataclass(frozen=True)
class Recipe:
    """What is trained: model shape, regularisers, data factory and schedule."""

    name: str
    """The experiment's name: the run's name in wandb and in logs."""
    regularizers: tuple[RegularizerConfig, ...]
    """The scheduled terms, in order (their names are the dopesheet's columns)."""
    make_data: Callable[..., tuple[Iterable[Any], Iterable[Any] | None]]
    """``make_data(seed, **member.data) -> (training batches, validation batches or None)``."""
    k_bottleneck: int
    """Latent dimensions of `CNColorMLP`."""
    n_nonlinear: int
    """Nonlinear layers on each side of the bottleneck."""
    dopesheet: Dopesheet | None = None
    """The schedule, loaded (None until the notebook or caller loads `dopesheet_file`)."""
    dopesheet_file: str | None = None
    """The schedule's CSV file name, beside the experiment's notebook."""
    project: str = 'ex-color'
    """The wandb project."""
    unscheduled: tuple[str, ...] = ()
    """Regularisers with no dopesheet column (weight 1.0 throughout), named explicitly."""
    ignore_columns: tuple[str, ...] = ()
    """Dopesheet columns that no regulariser reads, named explicitly."""
    parent: str | None = field(default=None, compare=False)
    """The recipe this one was derived from (`with_`), for the record."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError('Recipe.name must not be empty')
        for attr in ('regularizers', 'unscheduled', 'ignore_columns'):
            value = getattr(self, attr)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise TypeError(f'Recipe.{attr} must be a sequence, got {type(value).__name__}')
            object.__setattr__(self, attr, tuple(value))
        for i, reg in enumerate(self.regularizers):
            if not isinstance(reg, RegularizerConfig):
                raise TypeError(
                    f'Recipe.regularizers[{i}] must be a RegularizerConfig, got {type(reg).__name__}'
                )
        names = [r.name for r in self.regularizers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f'Recipe.regularizers: names must be unique; repeated: {dupes}')
        if not callable(self.make_data):
            raise TypeError(f'Recipe.make_data must be callable, got {type(self.make_data).__name__}')
        for attr in ('k_bottleneck', 'n_nonlinear'):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'Recipe.{attr} must be an int >= 1, got {value!r}')
        if self.dopesheet is not None and not isinstance(self.dopesheet, Dopesheet):
            raise TypeError(
                f'Recipe.dopesheet must be a Dopesheet or None, got {type(self.dopesheet).__name__}'
            )

    def with_(self, **changes: Any) -> Recipe:
        """A recipe that differs from this one in the named fields (an unknown field is an error)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f'Recipe.with_: no field named {unknown[0]!r}; the fields are {sorted(known)}')
        changes.setdefault('parent', self.name)
        return dataclasses.replace(self, **changes)

    def schedule(self) -> Dopesheet:
        """The loaded dopesheet; an error naming the recipe (and its file) when it is not loaded."""
        if self.dopesheet is None:
            where = f' (its file: {self.dopesheet_file})' if self.dopesheet_file else ''
            raise ValueError(
                f'recipe {self.name!r} has no dopesheet{where}: load it, e.g. '
                'recipe.with_(dopesheet=Dopesheet.from_csv(path))'
            )
        return self.dopesheet

    def describe(self) -> dict[str, Any]:
        """The recipe as plain values (what decides the weights, and the name)."""
        return {
            'name': self.name,
            'regularizers': [describe_regularizer(r) for r in self.regularizers],
            'make_data': describe_callable(self.make_data),
            'k_bottleneck': self.k_bottleneck,
            'n_nonlinear': self.n_nonlinear,
            'dopesheet': self.dopesheet.to_dict() if self.dopesheet is not None else None,
            'unscheduled': list(self.unscheduled),
            'ignore_columns': list(self.ignore_columns),
        }

    def data_parameters(self) -> Mapping[str, inspect.Parameter]:
        """The keyword arguments `make_data` takes besides the seed (what `MemberSpec.data` may set)."""
        params = list(inspect.signature(self.make_data).parameters.values())
        return {p.name: p for p in params[1:]}
