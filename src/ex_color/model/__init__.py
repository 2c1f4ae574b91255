"""The model room: the colour autoencoder, its stacked form, and what reads, edits and cuts it.

* `mlp`: `CNColorMLP`, the tiny MLP whose bottleneck lives on the unit hypersphere.
* `stacked`: `StackedColorMLP`, many members as one batched network, and `StackedEdits`.
* `capture`: the one capture contract (`capture`, `rewrite`, `resolve_layer`).
* `edits`: the one edit contract, edits of the unit latents that work on one model (`erased`) and on
  a stack: `AblateDims`, `ProjectOut`, `LeaceEdit`; `intervention.Suppression` is one too.
* `intervention`: the seed's gated interventions (`InterventionConfig`, `Suppression`, `BoundedFalloff`).
* `surgery`: weight surgery (`ablate`, `prune`, `ablation_mask`).
* `inference`: `infer`, a plain forward pass with interventions and capture; `inference_module`:
  `InferenceModule`, the same as a Lightning module.

The seed's import paths keep working: ``from ex_color.model import CNColorMLP`` here, and
``ex_color.surgery`` and ``ex_color.inference``, which re-export from this room.
"""

from ex_color.model.mlp import CNColorMLP, L2Norm

__all__ = ['CNColorMLP', 'L2Norm']
