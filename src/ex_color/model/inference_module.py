"""`InferenceModule`: the seed's Lightning module for prediction with interventions applied and layer
outputs captured (``trainer.predict`` over a dataloader, then `read_captured`).

The plain way in, with no Trainer, is `ex_color.model.inference.infer` (also importable from here).
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from torch import Tensor, nn

from ex_color.model.capture import resolve_layer
from ex_color.model.inference import Inference, hooked, infer
from ex_color.model.intervention import InterventionConfig

__all__ = ['Inference', 'InferenceModule', 'infer']


class InferenceModule(L.LightningModule):
    """Prediction with interventions applied and layer outputs captured (read with `read_captured`)."""

    def __init__(
        self,
        model: nn.Module,
        interventions: Sequence[InterventionConfig] = (),
        capture_layers: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.interventions = list(interventions)
        self.capture_layers = list(capture_layers or [])
        for cfg in self.interventions:
            for layer in cfg.layer_affinities:
                resolve_layer(model, layer, needed_by='an intervention')
        for layer in self.capture_layers:
            resolve_layer(model, layer, needed_by='capture')
        self._buffers_out: dict[str, list[Tensor]] = {layer: [] for layer in self.capture_layers}

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def predict_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        # Hooks live for one batch only: nothing can outlive a predict run that raises.
        with hooked(self.model, self.interventions, self.capture_layers) as acts:
            y = self.model(batch)
        for layer in self.capture_layers:
            self._buffers_out[layer].append(acts[layer].detach().cpu())
        return y

    def read_captured(self, layer: str) -> Tensor:
        """All captured outputs of `layer` since the last read, as [N, D]; clears the buffer."""
        if layer not in self._buffers_out:
            raise KeyError(
                f'Layer {layer!r} was not registered for capture (capture_layers={self.capture_layers})'
            )
        batches, self._buffers_out[layer] = self._buffers_out[layer], []
        if not batches:
            return torch.empty(0)
        return torch.cat([b.reshape(len(b), -1) for b in batches])
