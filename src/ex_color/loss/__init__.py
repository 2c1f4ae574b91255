"""Regularisers (activation-space loss terms) and their configuration.

Every regulariser is an `nn.Module` whose `forward` maps a layer's activations [B, D] to a per-sample
loss [B]; batch reduction, label weighting and scheduling belong to the training module, configured
by `RegularizerConfig`.
"""

from ex_color.loss.anchor import Anchor, AngularAnchor, AntiAnchor
from ex_color.loss.config import PHASES, RegularizerConfig
from ex_color.loss.separate import Separate
from ex_color.loss.subspace import AxisAlignedSubspace, Planarity
from ex_color.loss.unitarity import Unitarity

__all__ = [
    'PHASES',
    'Anchor',
    'AngularAnchor',
    'AntiAnchor',
    'AxisAlignedSubspace',
    'Planarity',
    'RegularizerConfig',
    'Separate',
    'Unitarity',
]
