"""Seed sweeps in one process: M independent `CNColorMLP`s trained side by side as stacked parameters."""

from ex_color.ensemble.batches import StackedBatches
from ex_color.ensemble.result import EnsembleResult
from ex_color.ensemble.stacked import StackedColorMLP
from ex_color.ensemble.terms import MemberTerm, per_member_loss, separate_stacked, weighted_term
from ex_color.ensemble.train import train_ensemble
from ex_color.ensemble.window import MemberWindow

__all__ = [
    'EnsembleResult',
    'MemberTerm',
    'MemberWindow',
    'StackedBatches',
    'StackedColorMLP',
    'per_member_loss',
    'separate_stacked',
    'train_ensemble',
    'weighted_term',
]
