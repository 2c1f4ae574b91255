"""Training runs that the resume tests start in fresh processes (``python -m tests.resume_runs ...``).

Each run trains, optionally stops early and saves a checkpoint, or resumes from one, and saves its
final state dict. The test compares the files bitwise; running each side in its own process is what
makes "resume in a new process" real (no generator or cache survives in memory).

Set-ups:

* ``ex210``: the project's Ex 2.10 run for seed 0 (`train_model`, in-memory batches, the project's loop);
* ``members``: a 4-member run through `train_members` (seeds, two label-rate scales);
* ``sharded``: the same 4 members split over 2 worker processes;
* ``seed``: the seed notebook's own `train()` set-up: `CubeDataset` in a `DataLoader` with
  `RandomSampler(replacement=True)` and `stochastic_labels`, a bare `L.Trainer` with
  `ModelCheckpoint` saving at epoch boundaries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, exact_labels, redness, stochastic_labels
from ex_color.experiments import ex_2_10
from ex_color.experiments.common import train_model
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import MemberSpec, TrainingModule, train_members
from ex_color.training.checkpointing import save_state
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import notebook_dopesheet


def _dopesheet() -> Dopesheet:
    return notebook_dopesheet(ex_2_10.DOPESHEET)


def _ex210(args: argparse.Namespace) -> dict[str, torch.Tensor]:
    result = train_model(
        dopesheet=_dopesheet(),
        regularizers=ex_2_10.regularizers(),
        make_data=ex_2_10.make_data,
        k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N,
        seed=0,
        run_name='resume-test',
        project='',
        max_steps=args.stop,
        wandb_mode='disabled',
        progress=False,
        save_checkpoint_to=args.save,
        resume_from=args.resume,
    )
    return result.module.model.state_dict()


def _members(args: argparse.Namespace, workers: int = 1) -> dict[str, torch.Tensor]:
    specs = [
        MemberSpec(seed=s, data={'label_scale': scale})
        for s, scale in ((0, 1.0), (1, 0.5), (2, 1.0), (3, 0.5))
    ]
    result = train_members(
        specs,
        dopesheet=_dopesheet(),
        regularizers=ex_2_10.regularizers(),
        make_data=ex_2_10.make_data,
        k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N,
        run_name='resume-test',
        max_steps=args.stop,
        wandb_mode='disabled',
        progress=False,
        workers=workers,
        save_checkpoint_to=args.save,
        resume_from=args.resume,
    )
    return {f'{m.name}/{k}': v for m in result.members for k, v in m.state.items()}


def _sharded(args: argparse.Namespace) -> dict[str, torch.Tensor]:
    return _members(args, workers=2)


def seed_loaders() -> tuple[DataLoader, DataLoader]:
    """The seed notebook's `prep_data()` and `prep_val_data()`, with ``num_workers=0``."""
    axis = np.linspace(0, 1, 10)
    cube = ColorCube.from_rgb(r=axis, g=axis, b=axis)
    cube = cube.assign(red=redness(cube['color']) ** 8 * 0.08)
    dataset = CubeDataset(cube)
    train = DataLoader(
        dataset,
        batch_size=64,
        num_workers=0,
        sampler=RandomSampler(dataset, num_samples=len(dataset), replacement=True),
        collate_fn=stochastic_labels,
    )
    axis = np.linspace(0, 1, 4)
    val_cube = ColorCube.from_rgb(r=axis, g=axis, b=axis)
    val_cube = val_cube.assign(red=redness(val_cube['color']) == 1)
    val = DataLoader(CubeDataset(val_cube), num_workers=0, collate_fn=exact_labels)
    return train, val


def seed_train(
    *,
    max_steps: int | None = None,
    callbacks: Sequence[L.Callback] = (),
    ckpt_path: str | None = None,
    root: Path,
) -> CNColorMLP:
    """The seed's `train()` cell for seed 0, as written, but with wandb off and files under `root`."""
    from ex_color.callbacks import LabelProportionCallback
    from utils.progress.lightning import LightningProgress

    dopesheet = _dopesheet()
    set_deterministic_mode(0)
    train_loader, val_loader = seed_loaders()
    model = CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N)
    training_module = TrainingModule(model, dopesheet, torch.nn.MSELoss(), ex_2_10.regularizers())
    trainer = L.Trainer(
        max_steps=max_steps or len(dopesheet),
        callbacks=[
            LightningProgress(),
            LabelProportionCallback(prefix='labels', get_active_labels=lambda: training_module.active_labels),
            *callbacks,
        ],
        enable_checkpointing=bool(callbacks),
        enable_model_summary=False,
        check_val_every_n_epoch=10,
        logger=False,
        log_every_n_steps=min(50, len(train_loader)),
        default_root_dir=root,
        accelerator='cpu',
    )
    trainer.fit(training_module, train_loader, val_loader, ckpt_path=ckpt_path)
    return model


def _seed(args: argparse.Namespace) -> dict[str, torch.Tensor]:
    from lightning.pytorch.callbacks import ModelCheckpoint

    callbacks = []
    if args.save:
        # One checkpoint per epoch boundary (16 steps), all kept: the test picks the one it resumes from.
        callbacks.append(ModelCheckpoint(dirpath=args.save, every_n_epochs=1, save_top_k=-1))
    torch.set_num_threads(1)
    model = seed_train(callbacks=callbacks, ckpt_path=args.resume, root=args.root)
    return model.state_dict()


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument('setup', choices=['ex210', 'members', 'sharded', 'seed'])
    p.add_argument('--stop', type=int, default=None, help='max_steps (stop early)')
    p.add_argument('--save', type=Path, default=None, help='checkpoint to save (a folder for seed)')
    p.add_argument('--resume', type=str, default=None, help='checkpoint to resume from')
    p.add_argument('--root', type=Path, required=True, help='folder for Lightning files')
    p.add_argument('--out', type=Path, required=True, help='where to save the final state dict')
    args = p.parse_args(argv)
    run = {'ex210': _ex210, 'members': _members, 'sharded': _sharded, 'seed': _seed}[args.setup]
    state = run(args)
    save_state({k: v.detach().cpu() for k, v in state.items()}, args.out)


if __name__ == '__main__':
    main(sys.argv[1:])
