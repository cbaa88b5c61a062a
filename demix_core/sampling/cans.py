"""CANS: commonsense-aware negative sampling (Niu et al., ACL 2022, part of CAKE).

CAKE turns entity concepts into commonsense `(C_h, r, C_t)` ("a person is born in a city")
and samples by the relation's cardinality: where a query has a single answer (1-1, or the
"1" side of 1-N / N-1), other entities of the right concept are hard negatives that are
almost surely false, so they are drawn from the commonsense; where a query has many answers
(the "N" side), entities of the right concept are likely false negatives, so they are drawn
from outside it. Our datasets carry no concepts, so the commonsense is read off the train
triples, per relation and side, as the relation's observed domain and range: `C_t(r)` = every
entity seen as a tail of `r`, `C_h(r)` = every head. A side is "1" when its mean number of
answers per query (tails per head, heads per tail, as Bernoulli's tph/hpt) is below
`cardinality_threshold` (1.5, TransH's and CAKE's cut).

CAKE then weighs the candidates by the model's score (self-adversarially); here that is the
loss's own self-adversarial weighting (`adv_temperature`), so the sampler needs no model.
A pool with fewer than two entities (e.g. a range that is every entity, seen from outside)
falls back to uniform candidates.

Pools are held as CSR over keys `2 * r + side` (side 1 = head corrupted): `offsets (2R + 1,)`,
`values (nnz,)` int64 (`base.Pools`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from demix_core.sampling.base import Pools, Sampler, check_positive
from demix_core.sampling.uniform import BernoulliSampler


@dataclass(frozen=True)
class CANSOptions:
    cardinality_threshold: float = 1.5  # a side with fewer mean answers per query is a "1" side

    def __post_init__(self) -> None:
        check_positive("cardinality_threshold", self.cardinality_threshold)


def commonsense_pools(train: torch.Tensor, E: int, R: int, threshold: float):
    """`(offsets (2R + 1,), values (nnz,) int32, one_side (2R,) bool)`: for key `2r + side`
    the entities a corrupted side draws from. `one_side[k]` True = inside the relation's
    domain/range (a "1" side), False = outside it (an "N" side)."""
    h, r, t = train.unbind(1)
    seen = torch.zeros(2 * R, E, dtype=torch.bool)  # (2R, E): key 2r = range, 2r + 1 = domain
    seen[2 * r, t] = True
    seen[2 * r + 1, h] = True
    per_answer = BernoulliSampler._mean_answers  # tails per head | heads per tail, (R,)
    per_query = torch.stack([per_answer(h, r, R), per_answer(t, r, R)], 1)  # (R, 2)
    one_side = (per_query < threshold).reshape(-1)  # (2R,)
    member = torch.where(one_side[:, None], seen, ~seen)  # (2R, E)
    counts = member.sum(1)
    offsets = torch.zeros(2 * R + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=offsets[1:])
    values = member.nonzero()[:, 1].to(torch.int32)  # row-major: grouped by key, sorted ids
    return offsets, values, one_side


class CANSSampler(Sampler):
    """Candidates from the relation's commonsense ("1" sides) or from outside it ("N" sides)."""

    name = "cans"
    Options = CANSOptions

    def __init__(self, kg, index, options=None, seed=0, device="cpu"):
        super().__init__(kg, index, options, seed, device)
        offsets, values, one_side = commonsense_pools(
            kg.train, kg.num_entities, kg.num_relations, self.options.cardinality_threshold
        )
        self.pools = Pools(offsets, values, kg.num_entities, min_size=2, device=self.device)
        self.one_side = one_side.to(self.device)

    def pool(self, r: int, head: bool) -> torch.Tensor:
        """The ids one side of relation `r` draws from `(n,)` (for tests and the docs)."""
        return self.pools.of(2 * r + int(head))

    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        return self.pools.draw(2 * pos[:, 1] + head.long(), k, self.generator)
