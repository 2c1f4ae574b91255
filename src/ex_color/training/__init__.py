"""Training: one engine for one model or many members, the project's loop, the front door (`train`),
in-memory batches, tracking and the run cache.

`TrainingModule`, the seed's Lightning adapter, is loaded on first use: importing Lightning costs
about a second, and nothing else here needs it.
"""

from typing import TYPE_CHECKING, Any

from ex_color.model.stacked import StackedColorMLP
from ex_color.runtime import fast_cpu_math
from ex_color.training.batches import FixedBatches, RandomBatches
from ex_color.training.fit import FitResult, fit
from ex_color.training.front import train
from ex_color.training.loop import LoopCallback, TrainLoop
from ex_color.training.optim import MemberAdam
from ex_color.training.recipe import Recipe
from ex_color.training.results import MemberResult, RunResult
from ex_color.training.run import train_members
from ex_color.training.schedule import Schedule
from ex_color.training.settings import RunSettings
from ex_color.training.specs import MemberSpec, seeds
from ex_color.training.stacked_batches import StackedBatches
from ex_color.training.tracking import MemberWandbLogger
from ex_color.training.wandb_access import wandb_mode

if TYPE_CHECKING:
    from ex_color.training.module import TrainingModule


def __getattr__(name: str) -> Any:
    if name == 'TrainingModule':
        from ex_color.training.module import TrainingModule

        return TrainingModule
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'FitResult',
    'FixedBatches',
    'LoopCallback',
    'MemberAdam',
    'MemberResult',
    'MemberSpec',
    'MemberWandbLogger',
    'RandomBatches',
    'Recipe',
    'RunResult',
    'RunSettings',
    'Schedule',
    'StackedBatches',
    'StackedColorMLP',
    'TrainLoop',
    'TrainingModule',
    'fast_cpu_math',
    'fit',
    'seeds',
    'train',
    'train_members',
    'wandb_mode',
]
