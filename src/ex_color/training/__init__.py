"""Training: the Lightning system, in-memory batches, tracking and the `fit` entry point."""

from ex_color.runtime import fast_cpu_math
from ex_color.training.batches import FixedBatches, RandomBatches
from ex_color.training.fit import FitResult, fit
from ex_color.training.module import TrainingModule
from ex_color.training.tracking import wandb_mode

__all__ = [
    'FitResult',
    'FixedBatches',
    'RandomBatches',
    'TrainingModule',
    'fast_cpu_math',
    'fit',
    'wandb_mode',
]
