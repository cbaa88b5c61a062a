"""MixKG (Che et al. 2022): harder negatives synthesised by mixing hard ones.

Per positive, a pool of uniform candidates is scored by the model (no gradient); the `hard`
best-scoring distinct ones are kept, and each of the K negatives is a convex combination
`lambda * e(a) + (1 - lambda) * e(b)` of a random pair of them (a != b when hard > 1), with
`lambda ~ U(0, 1)` or `Beta(mix_beta, mix_beta)`. The mixture is scored in place of an entity;
gradients flow into both embeddings. `ids` holds `a`, the first of each pair (so the sampler
still answers the id contract, `corrupt_batch`), `partner` holds `b` and `weight` lambda: the
training step mixes them as it does AdaMix's pairs. The label of every mixture is 0. The pool
never holds the pattern's train answers (`exclude_train`, on by default): a selection of the
best-scoring candidates would otherwise favour them, the positive itself first.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from demix_core.demix import beta_lambda
from demix_core.errors import ConfigError
from demix_core.sampling.base import Negatives, Sampler, check_positive
from demix_core.sampling.nscaching import repeated
from demix_core.validation import check_choice

MIX_LAMBDAS = ("uniform", "beta")


@dataclass(frozen=True)
class MixKGOptions:
    pool: int = 0  # uniform candidates scored per positive; 0 = 2 * K
    hard: int = 0  # hardest pool members that are mixed; 0 = K (at most the pool)
    mix_lambda: str = "uniform"  # "uniform": lambda ~ U(0, 1); "beta": ~ Beta(mix_beta, mix_beta)
    mix_beta: float = 1.0  # concentration of the Beta draw
    exclude_train: bool = True  # keep the pattern's train answers out of the pool even when
    # unfiltered: picking the best-scoring candidates would otherwise pick them first

    def __post_init__(self) -> None:
        check_positive("pool", self.pool, 0)
        check_positive("hard", self.hard, 0)
        if self.pool and self.hard > self.pool:
            raise ConfigError(
                f"--hard must be <= --pool, got {self.hard} > {self.pool}", field="hard"
            )
        check_choice("mix_lambda", self.mix_lambda, MIX_LAMBDAS)
        if self.mix_beta <= 0:
            raise ConfigError(f"--mix-beta must be > 0, got {self.mix_beta}", field="mix_beta")


class MixKGSampler(Sampler):
    """Uniform pool -> the hardest by score -> K mixtures of random hard pairs."""

    name = "mixkg"
    Options = MixKGOptions
    needs_model = True
    can_be_base = False  # it mixes: a refiner could not read its candidates alone

    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        return self.uniform((len(pos), k))

    def sizes(self, k: int) -> tuple[int, int]:
        """(pool, hard) for K negatives per positive."""
        pool = self.options.pool or 2 * k
        return pool, min(self.options.hard or k, pool)

    def sample(
        self, model, pos: torch.Tensor, step: int, k: int, filtered: bool = False
    ) -> Negatives:
        if model is None:
            raise ValueError("mixkg scores its pool with the model: pass one to sample()")
        pool_n, hard_n = self.sizes(k)
        filtered = filtered or self.options.exclude_train
        pool = super().sample(model, pos, step, pool_n, filtered)  # ids (B, pool)
        head, ok = pool.head, pool.mask
        with torch.no_grad():
            score = model.score_candidates(pos, head, pool.ids).float()  # (B, pool)
        bad = repeated(pool.ids) if ok is None else repeated(pool.ids) | ~ok
        top = score.masked_fill(bad, -torch.inf).topk(hard_n, dim=1).indices  # (B, hard)
        hard_ids = pool.ids.gather(1, top)  # (B, hard)
        a, b = self.pairs(len(pos), k, hard_n)  # (B, K) columns of hard_ids
        first, second = hard_ids.gather(1, a), hard_ids.gather(1, b)  # (B, K)
        lam = self.mix_weights((len(pos), k))  # (B, K): lam * e(first) + (1 - lam) * e(second)
        mask = None
        if ok is not None:
            hard_ok = ok.gather(1, top)
            mask = hard_ok.gather(1, a) & hard_ok.gather(1, b)
        labels = torch.zeros(len(pos), k, dtype=model.entity.dtype, device=first.device)
        stats = {"hard_score_mean": float(score.gather(1, top).mean())}
        return Negatives(first, head, labels, mask, partner=second, weight=lam, stats=stats)

    def pairs(self, B: int, k: int, hard: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Two different columns in [0, hard) per negative (the same one when hard == 1)."""
        a = torch.randint(hard, (B, k), generator=self.generator, device=self.device)
        if hard == 1:
            return a, a
        b = torch.randint(hard - 1, (B, k), generator=self.generator, device=self.device)
        return a, b + (b >= a).long()  # skip over a

    def mix_weights(self, shape: tuple[int, int]) -> torch.Tensor:
        if self.options.mix_lambda == "beta":
            return beta_lambda(shape, self.options.mix_beta, self.generator).to(self.device)
        return torch.rand(shape, generator=self.generator, device=self.device)
