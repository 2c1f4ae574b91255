"""Inference-time interventions on activations: suppression of a concept direction and its falloffs.

Interventions are `nn.Module`s applied to a layer's output; `InterventionConfig` says where.
"""

from ex_color.model.intervention.config import InterventionConfig
from ex_color.model.intervention.falloff import BoundedFalloff
from ex_color.model.intervention.suppression import Suppression

__all__ = ['BoundedFalloff', 'InterventionConfig', 'Suppression']
