"""The state of one training run: model, optimizer, sampler, data order and run folder.

`training` drives it step by step; the benchmarks build one to time steps without the loop.
"""

from __future__ import annotations

from pathlib import Path

import torch

from demix_core.checkpoint import atomic_save, checkpoint_dict
from demix_core.config import TrainConfig
from demix_core.data import load_dataset
from demix_core.errors import ConfigError, DemixError
from demix_core.evaluation import FilterIndex, evaluate
from demix_core.kg import KG, KGIndex
from demix_core.losses import subsampling_weights
from demix_core.models import KGEModel
from demix_core.sampling import build_sampler


class RunFolderGone(DemixError):
    """The run folder disappeared while training; nothing more is written."""


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class TrainingRun:
    """State of one training run (model, optimizer, sampler, files)."""

    def __init__(self, config: TrainConfig, out_dir: Path, kg: KG | None):
        self.config, self.out = config, Path(out_dir)
        self.kg = kg or load_dataset(config.dataset)
        self.device = pick_device(config.device)
        torch.manual_seed(config.seed)
        self.model = KGEModel(
            config.model, self.kg.num_entities, self.kg.num_relations, config.dim, config.gamma
        ).to(self.device)
        self.index = KGIndex.build(self.kg).to(self.device)
        self.sampler = build_sampler(
            config.sampler, self.kg, self.index, config.sampler_options, config.seed, self.device
        )
        # fused Adam: one pass over the (large, dense) embedding tables instead of several
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=True)
        self.train = self.kg.train.to(self.device)
        self.subsample = (
            subsampling_weights(self.kg.train, self.kg.num_entities, self.kg.num_relations).to(
                self.device
            )
            if config.subsampling
            else None
        )
        self.filter_index = None
        self.step, self.seconds, self.best = 0, 0.0, (-1.0, 0)
        self._order: tuple[int, torch.Tensor | None] = (-1, None)  # (epoch, permutation)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Positives of `step`: epochs of a seeded permutation, so a resumed run sees the
        same order without saving it."""
        n, b = len(self.train), min(self.config.batch_size, len(self.train))
        per_epoch = max(1, n // b)
        epoch, i = divmod(step, per_epoch)
        if self._order[0] != epoch:  # one permutation per epoch
            seed = (self.config.seed * 1_000_003 + epoch) % 2**64  # any 64-bit seed
            g = torch.Generator().manual_seed(seed)
            self._order = (epoch, torch.randperm(n, generator=g).to(self.device))
        idx = self._order[1][i * b : (i + 1) * b]
        return self.train[idx], (self.subsample[idx] if self.subsample is not None else None)

    def state(self) -> dict:
        return {
            "step": self.step,
            "seconds": self.seconds,
            "best": list(self.best),
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "sampler": self.sampler.state_dict(),
        }

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sampler.load_state_dict(state["sampler"])
        self.step, self.seconds = int(state["step"]), float(state["seconds"])
        self.best = (float(state["best"][0]), int(state["best"][1]))

    def check_folder(self) -> None:
        """Stop with a message when the run folder was deleted or moved while training:
        writing on would recreate a folder with part of a run in it."""
        if not self.out.is_dir():
            raise RunFolderGone(
                f"{self.out}: the run folder was deleted or moved while training, at step "
                f"{self.step}; the run stopped without writing anything more"
            )

    def save(self, callbacks, keep: bool = False) -> Path:
        self.check_folder()
        ckpt = checkpoint_dict(self.model, self.kg, self.config.to_dict(), self.step)
        path = self.out / "checkpoint.pt"
        atomic_save(ckpt, path)
        if keep:
            atomic_save(ckpt, self.out / "checkpoints" / f"step_{self.step:07d}.pt")
        atomic_save(self.state(), self.out / "train_state.pt")
        for cb in callbacks:
            cb.on_checkpoint(self.step, path)
        return path

    def evaluate(self, split: str) -> dict:
        if self.filter_index is None:
            self.filter_index = FilterIndex(self.kg, self.device)
        return evaluate(self.model, self.kg, split, filt=self.filter_index)
