"""The model room: the colour autoencoder and what runs it.

* `ex_color.model.mlp`: `CNColorMLP`, the tiny MLP whose bottleneck lives on the unit hypersphere.
* `ex_color.model.inference`: `infer`, a plain forward pass with interventions and latent capture.

``from ex_color.model import CNColorMLP`` (the seed's import) keeps working.
"""

from ex_color.model.mlp import CNColorMLP, L2Norm

__all__ = ['CNColorMLP', 'L2Norm']
