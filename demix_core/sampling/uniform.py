"""Uniform and Bernoulli corruption (Bordes et al. 2013; Wang et al. 2014)."""

from __future__ import annotations

import torch

from demix_core.sampling.base import Sampler


class UniformSampler(Sampler):
    """Every entity equally likely as the replacement."""

    name = "uniform"

    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        return self.uniform((len(pos), k))


class BernoulliSampler(UniformSampler):
    """Uniform replacement, but the side is drawn per triple: the head is corrupted with
    probability tph / (tph + hpt) of its relation, so 1-to-N relations corrupt the head more
    (fewer false negatives)."""

    name = "bernoulli"

    def __init__(self, kg, index, options=None, seed=0, device="cpu"):
        super().__init__(kg, index, options, seed, device)
        train, R = kg.train, kg.num_relations
        tph = self._mean_answers(train[:, 0], train[:, 1], R)  # tails per head, (R,)
        hpt = self._mean_answers(train[:, 2], train[:, 1], R)  # heads per tail, (R,)
        self.p_head = (tph / (tph + hpt)).to(self.device)

    @staticmethod
    def _mean_answers(anchor: torch.Tensor, rel: torch.Tensor, R: int) -> torch.Tensor:
        pairs = torch.unique(anchor * R + rel)  # distinct (anchor, r)
        triples = torch.bincount(rel, minlength=R).double()
        groups = torch.bincount(pairs % R, minlength=R).double()
        return torch.where(groups > 0, triples / groups.clamp(min=1), 1.0)

    def choose_side(self, pos: torch.Tensor, step: int) -> torch.Tensor:
        u = torch.rand(len(pos), generator=self.generator, device=self.device, dtype=torch.float64)
        return u < self.p_head[pos[:, 1]]
