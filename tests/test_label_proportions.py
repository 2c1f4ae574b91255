"""LabelProportionCallback counts exactly the labels that were drawn while they were active."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from ex_color.callbacks import LabelProportionCallback
from ex_color.training import fit
from tests.training_helpers import data, module, short_dopesheet


def test_counts_match_an_independent_recount_of_the_same_draws():
    # The anchor weight is non-zero on every step of the short sheet, so 'red' is always active and
    # the callback must count exactly the red labels the loader drew: redraw them with the same seed.
    m = module(0)
    train, val = data(0, red_scale=0.5)
    steps = 20
    result = fit(m, train, val, run_name='t', max_steps=steps, wandb_mode='disabled', progress=False)
    replay_train, _ = data(0, red_scale=0.5)
    drawn = seen = 0
    while seen < steps:
        for _x, labels in replay_train:
            if seen == steps:
                break
            drawn += int(labels['red'].sum())
            seen += 1
    assert drawn > 0
    assert result.label_counts == {'_any': drawn, 'red': drawn}


def test_counts_nothing_while_no_label_is_active():
    sheet = short_dopesheet(
        'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0,0,0.2\n20,,,0.01,0,0,0.2\n'
    )
    m = module(0, sheet=sheet)
    train, val = data(0)
    result = fit(m, train, val, run_name='t', max_steps=12, wandb_mode='disabled', progress=False)
    assert result.label_counts == {}


def test_unlabelled_batches_are_an_error():
    class Plain(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 3)

        def training_step(self, batch, batch_idx):
            return self.layer(batch).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    cb = LabelProportionCallback(get_active_labels=lambda: {'red'})
    trainer = L.Trainer(
        max_steps=2,
        callbacks=[cb],
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    with pytest.raises(ValueError, match="isn't labelled"):
        # a Tensor is a map-style dataset; DataLoader's annotation asks for a `Dataset` subclass
        trainer.fit(Plain(), torch.utils.data.DataLoader(torch.rand(12, 3), batch_size=4))  # type: ignore[arg-type]
