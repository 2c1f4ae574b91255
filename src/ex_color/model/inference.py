"""`infer`: run the model over colours, with interventions applied and a layer's output captured.

It runs the model in eval mode under `torch.inference_mode`, on one torch thread
(`ex_color.runtime.fast_cpu_math`), on the whole tensor at once, and returns reconstruction and
latents. No Trainer is built; `ex_color.model.inference_module.InferenceModule` is the same as a Lightning module,
for the seed's ``trainer.predict`` over a dataloader.

Interventions rewrite a layer's output; capture hooks are registered *after* the interventions, so
captured latents are post-intervention. All hooks live only for the duration of one call and are
removed in a ``finally`` block.

Cost: `infer` with latent capture costs what one plain forward pass of the model costs on one
thread, within a few per cent. Measured on the 69,120-colour hd cube on a 2-core VM, interleaved in
one process (`benchmarks/inference_speed.py`): 12-19 ms both, medians, ratio 1.02-1.06; the forward
pass itself is nearly all of it (GELU about half, the linear layers most of the rest). What `infer`
adds is fixed, 0.1-0.15 ms per call (measured on a single colour): registering, firing and removing
the hooks (~60 µs), `fast_cpu_math` (2-20 µs) and a check of the modules' modes (~12 µs). The dtype
and device conversion, ``.cpu()`` and the reshapes are no-ops for a float32 CPU tensor (the same
storage comes back). `model.eval()` and the restore are called only when some module is in training
mode.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import NamedTuple

import torch
from torch import Tensor, nn

from ex_color.model.capture import capture, rewrite
from ex_color.model.intervention import InterventionConfig
from ex_color.runtime import fast_cpu_math

__all__ = ['Inference', 'hooked', 'infer']


class Inference(NamedTuple):
    """Result of `infer`."""

    recon: Tensor
    """Model output, same shape as the input colours ([..., 3])."""
    latents: Tensor
    """Captured layer output flattened to [N, D]; empty [N, 0] when nothing was captured."""


@contextmanager
def hooked(
    model: nn.Module, interventions: Sequence[InterventionConfig], layers: Sequence[str]
) -> Iterator[dict[str, Tensor]]:
    """Apply `interventions` and capture `layers`' outputs (post-intervention) for one block."""
    with ExitStack() as stack:
        edits = [(layer, cfg.apply) for cfg in interventions for layer in cfg.layer_affinities]
        stack.enter_context(rewrite(model, edits))
        yield stack.enter_context(capture(model, layers))


def infer(
    model: nn.Module,
    colors: Tensor,
    *,
    interventions: Sequence[InterventionConfig] = (),
    layer: str | None = 'bottleneck',
) -> Inference:
    """Run `model` (in eval mode) over `colors` [..., 3]; return reconstruction and `layer`'s output."""
    if colors.shape[-1] != 3:
        raise ValueError(f'colors must have a last axis of 3, got shape {tuple(colors.shape)}')
    flat = colors.reshape(-1, 3)
    layers = [layer] if layer else []
    was_training = model.training
    # A model whose modules are all in eval mode already (the usual case) is left alone: eval() and
    # train(False) each walk the module tree, ~90 µs together for CNColorMLP (measured), about half
    # of infer's fixed cost. The end state is the same either way: every module in `was_training`.
    switch_mode = any(m.training for m in model.modules())
    if switch_mode:
        model.eval()
    try:
        with torch.inference_mode(), fast_cpu_math(), hooked(model, interventions, layers) as acts:
            param = next(model.parameters(), None)
            # For a float32 CPU tensor on a CPU model, .to() and .cpu() return the same tensor (no copy).
            x = flat.to(param.device, param.dtype) if param is not None else flat
            y = model(x).cpu()
        latents = acts[layer].reshape(len(flat), -1).cpu() if layer else flat.new_zeros((len(flat), 0))
    finally:
        if switch_mode:
            model.train(was_training)
    return Inference(y.reshape(colors.shape), latents)
