"""The one sampler contract.

A sampler turns a batch of positives `(B, 3)` into K candidates per positive. A base sampler
overrides only `draw` (candidate ids for the corrupted side); the base class chooses the side,
filters known train positives and packs the result. Mixing samplers (MixKG, DeMix) override
`sample` to also name a partner per candidate and the candidate's weight: the loss scores
`weight * e(ids) + (1 - weight) * e(partner)` against soft labels, mixed by the training
step (one representation, whoever mixes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch

from demix_core.errors import ConfigError
from demix_core.kg import KG, KGIndex, corrupt
from demix_core.validation import check_finite_fields


@dataclass
class Negatives:
    ids: torch.Tensor  # (B, K) int64 candidate ids for the corrupted side
    head: torch.Tensor  # (B,) bool, True = the head is corrupted in that row
    labels: torch.Tensor | None = None  # (B, K) soft labels in [0, 1]; None = all 0
    mask: torch.Tensor | None = None  # (B, K) bool, candidates that enter the loss
    # Mixing: the loss scores weight * e(ids) + (1 - weight) * e(partner) (AdaMix, MixKG);
    # None = the candidates themselves.
    partner: torch.Tensor | None = None  # (B, K) int64 partner ids
    weight: float | torch.Tensor | None = None  # candidate's share: a float or (B, K)
    mpn: torch.Tensor | None = None  # (B, K) bool, a verdict: True = probable false negative
    stats: dict[str, float] = field(default_factory=dict)

    def embeddings(self, model) -> torch.Tensor:
        """What the loss scores in place of the corrupted side, `(B, K, De)`."""
        if self.partner is None:
            return model.ent(self.ids)
        weight = float(self.weight) if isinstance(self.weight, (int, float)) else self.weight
        return model.mixed_ent(self.ids, self.partner, weight)

    def triples(self, pos: torch.Tensor) -> torch.Tensor:
        """Candidate triples `(B, K, 3)`."""
        return corrupt(pos, self.ids, self.head)


@dataclass(frozen=True)
class NoOptions:
    pass


def make_options(cls: type, values: dict, sampler: str):
    """Build a sampler's frozen options dataclass; unknown keys are an error."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        hint = f" (known: {', '.join(sorted(known))})" if known else " (it takes no options)"
        raise ConfigError(f"sampler {sampler!r}: unknown option(s) {', '.join(unknown)}{hint}")
    check_finite_fields(values, f"sampler {sampler}")
    return cls(**values)


class Sampler:
    """Base class: uniform side alternation, filtering, packing. Subclasses override `draw`."""

    name = "base"
    Options: type = NoOptions
    needs_model = False  # True when `sample` scores candidates with the model
    can_be_base = True  # False for samplers whose draws another sampler cannot refine
    bases: tuple[str, ...] | None = None  # a refiner's allowed bases; None = any that can be

    def __init__(self, kg: KG, index: KGIndex, options=None, seed: int = 0, device="cpu"):
        self.kg, self.index, self.device = kg, index, torch.device(device)
        self.options = options if options is not None else self.Options()
        self.num_entities = kg.num_entities
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    # -- the one method a base sampler overrides ------------------------------------
    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        """Candidate ids `(B, K)` for the corrupted side of each positive."""
        raise NotImplementedError

    # -- shared machinery -----------------------------------------------------------
    def choose_side(self, pos: torch.Tensor, step: int) -> torch.Tensor:
        """`(B,)` bool: tail-batch on even steps, head-batch on odd ones (as the RotatE code)."""
        return torch.full((len(pos),), step % 2 == 1, dtype=torch.bool, device=pos.device)

    def filter(
        self, pos: torch.Tensor, head: torch.Tensor, cand: torch.Tensor, rounds: int = 8
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Redraw candidates that are known train positives; returns `(ids, mask)` where mask
        is False only for the (rare) ones still positive after `rounds` redraws."""
        for _ in range(rounds):
            bad = self.is_train_positive(pos, head, cand)
            if not bad.any():
                return cand, torch.ones_like(bad)
            rows = bad.any(1).nonzero().squeeze(1)
            fresh = self.draw(pos[rows], head[rows], cand.shape[1])
            cand = cand.clone()
            cand[rows] = torch.where(bad[rows], fresh, cand[rows])
        return cand, ~self.is_train_positive(pos, head, cand)

    def is_train_positive(self, pos, head, cand) -> torch.Tensor:
        tri = corrupt(pos, cand, head)
        return self.index.train.contains(tri[..., 0], tri[..., 1], tri[..., 2])

    def sample(
        self, model, pos: torch.Tensor, step: int, k: int, filtered: bool = False
    ) -> Negatives:
        head = self.choose_side(pos, step)
        ids = self.draw(pos, head, k)
        mask = None
        if filtered:
            ids, mask = self.filter(pos, head, ids)
        return Negatives(ids=ids, head=head, mask=mask)

    def corrupt_batch(
        self, pos: torch.Tensor, k: int, step: int = 0, model=None, filtered: bool = False
    ) -> torch.Tensor:
        """Candidate triples `(B, K, 3)`: the contract every sampler's test checks."""
        return self.sample(model, pos, step, k, filtered).triples(pos)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randint(self.num_entities, shape, generator=self.generator, device=self.device)


def check_positive(name: str, value: float, minimum: float = 1) -> None:
    """ConfigError on option `name` unless `value >= minimum`."""
    if value < minimum:
        flag = name.replace("_", "-")
        raise ConfigError(f"--{flag} must be >= {minimum}, got {value}", field=name)


class Pools:
    """Entity pools per key in CSR form (`offsets (n + 1,)`, `values (nnz,)`), drawn from
    uniformly with replacement. A key whose pool holds fewer than `min_size` ids draws from
    every entity instead: that pool is one more segment, `arange(E)`, after the others, so a
    draw is four tensor operations on `(B, K)` whatever the mix of keys."""

    def __init__(self, offsets, values, num_entities: int, min_size: int = 1, device="cpu"):
        counts = offsets[1:] - offsets[:-1]  # (n,)
        small = counts < min_size
        self.offsets = offsets.to(device)
        self.start = torch.where(small, len(values), offsets[:-1]).to(device)  # (n,)
        self.size = torch.where(small, num_entities, counts).to(device)  # (n,)
        self.values = torch.cat([values.long(), torch.arange(num_entities)]).to(device)

    def of(self, key: int) -> torch.Tensor:
        """The pool of one key as built `(m,)` (before the every-entity fallback)."""
        return self.values[self.offsets[key] : self.offsets[key + 1]]

    def draw(self, keys: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
        """`(B, K)` ids for `keys (B,)`. `randint % size` is off uniform by at most
        size / 2^31 (< 1e-5 for any pool here)."""
        at = torch.randint(1 << 31, (len(keys), k), generator=generator, device=keys.device)
        at.remainder_(self.size[keys][:, None]).add_(self.start[keys][:, None])
        return self.values[at]
