"""The seed's import path for weight surgery: ``from ex_color.surgery import ablate``.

The model room (`ex_color.model`) is the one home: see `ex_color.model.surgery`.
"""

from ex_color.model.surgery import LatentLinks, ablate, ablation_mask, find_links, prune

__all__ = ['LatentLinks', 'ablate', 'ablation_mask', 'find_links', 'prune']
