"""A knowledge graph in memory and its vectorised known-triple indexes.

A knowledge graph is held as three `[N, 3]` int64 tensors of `(head, relation, tail)` ids;
`demix_core.data` loads one from files, `demix_core.synthetic` makes one with hidden truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from demix_core.errors import DatasetError

SPLITS = ("train", "valid", "test")
Side = str  # "head" or "tail": which end of the triple is corrupted / predicted


@dataclass
class KG:
    """A knowledge graph with its splits; `hidden` holds true facts never shown in any split's
    role as training data (the synthetic KG's held-out truth; empty for real benchmarks)."""

    name: str
    entities: list[str]
    relations: list[str]
    train: torch.Tensor  # (N_train, 3) int64
    valid: torch.Tensor  # (N_valid, 3)
    test: torch.Tensor  # (N_test, 3)
    hidden: torch.Tensor = field(default_factory=lambda: torch.empty(0, 3, dtype=torch.long))
    warnings: list[str] = field(default_factory=list)
    unseen: dict[str, int] = field(default_factory=dict)

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    def split(self, name: str) -> torch.Tensor:
        if name not in SPLITS:
            raise DatasetError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return getattr(self, name)

    def all_true(self) -> torch.Tensor:
        """Filter set of the standard protocol: train + valid + test, `(N, 3)`."""
        return torch.cat([self.train, self.valid, self.test])

    def truth(self) -> torch.Tensor:
        """True facts that are absent from train: what a sampled 'negative' may really be.
        Used only to *measure* false negatives, never by a training step."""
        return torch.cat([self.valid, self.test, self.hidden]).unique(dim=0)

    def stats(self) -> dict:
        return {
            "name": self.name,
            "entities": self.num_entities,
            "relations": self.num_relations,
            "train": len(self.train),
            "valid": len(self.valid),
            "test": len(self.test),
            "hidden": len(self.hidden),
            "unseen_valid": self.unseen.get("valid", 0),
            "unseen_test": self.unseen.get("test", 0),
        }


# --------------------------------------------------------------------------- indexes


class TripleIndex:
    """Membership of triples in a set, as sorted int64 keys (`searchsorted`, no Python set)."""

    def __init__(self, triples: torch.Tensor, num_entities: int, num_relations: int):
        self.E, self.R = num_entities, num_relations
        self.keys = self.encode(triples[:, 0], triples[:, 1], triples[:, 2]).unique()  # sorted

    def encode(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (h * self.R + r) * self.E + t

    def contains(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Bool tensor of the broadcast shape of `h, r, t`."""
        keys = self.encode(h, r, t)
        if self.keys.device != keys.device:
            self.keys = self.keys.to(keys.device)
        if len(self.keys) == 0:
            return torch.zeros_like(keys, dtype=torch.bool)
        pos = torch.searchsorted(self.keys, keys).clamp_(max=len(self.keys) - 1)
        return self.keys[pos] == keys


class PatternIndex:
    """CSR index of the answers of each pattern: `(h, r, ?)` for side 'tail', `(?, r, t)` for
    side 'head'. Pattern key = anchor * R + r; `offsets[(E*R)+1]`, `values[N]` sorted per row."""

    def __init__(self, triples: torch.Tensor, num_entities: int, num_relations: int, side: Side):
        if side not in ("head", "tail"):
            raise ValueError(f"side must be 'head' or 'tail', not {side!r}")
        self.side, self.E, self.R = side, num_entities, num_relations
        triples = triples.unique(dim=0)
        anchor, answer = (
            (triples[:, 0], triples[:, 2]) if side == "tail" else (triples[:, 2], triples[:, 0])
        )
        key = anchor * num_relations + triples[:, 1]
        order = torch.argsort(key * num_entities + answer)
        self.values = answer[order].contiguous()
        counts = torch.bincount(key, minlength=num_entities * num_relations)
        self.offsets = torch.zeros(len(counts) + 1, dtype=torch.long)
        self.offsets[1:] = counts.cumsum(0)

    def to(self, device: torch.device | str) -> PatternIndex:
        self.values, self.offsets = self.values.to(device), self.offsets.to(device)
        return self

    def key(self, triples: torch.Tensor) -> torch.Tensor:
        """Pattern keys of `(B, 3)` triples, for this index's side."""
        anchor = triples[:, 0] if self.side == "tail" else triples[:, 2]
        return anchor * self.R + triples[:, 1]

    def count(self, keys: torch.Tensor) -> torch.Tensor:
        return self.offsets[keys + 1] - self.offsets[keys]

    def gather(
        self, keys: torch.Tensor, cap: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Answers of each pattern, padded to `cap`: ids `(B, cap)` and mask `(B, cap)`.

        Patterns with more than `cap` answers get a uniform sample of `cap` distinct ones by
        systematic sampling (random start, stride n/cap): every answer is kept with
        probability cap/n, with no per-row Python loop."""
        start, n = self.offsets[keys], self.count(keys)  # (B,)
        j = torch.arange(cap, device=keys.device)
        over = n > cap
        stride = n.clamp(min=1).double() / cap
        u = torch.rand(len(keys), generator=generator, device=keys.device, dtype=torch.float64)
        sampled = ((u * stride)[:, None] + j[None, :] * stride[:, None]).floor().long()
        pos = torch.where(over[:, None], sampled.clamp(max=(n - 1).clamp(min=0)[:, None]), j)
        mask = j[None, :] < n[:, None]
        idx = (start[:, None] + pos).clamp(max=max(len(self.values) - 1, 0))
        ids = torch.where(mask, self.values[idx], torch.zeros_like(idx))
        return ids, mask

    def flat(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All answers of every pattern as (row, answer) pairs, for building filter masks."""
        n = self.count(keys)
        rows = torch.repeat_interleave(torch.arange(len(keys), device=keys.device), n)
        first = torch.repeat_interleave(self.offsets[keys], n)
        within = torch.arange(len(rows), device=keys.device) - torch.repeat_interleave(
            n.cumsum(0) - n, n
        )
        return rows, self.values[first + within]


@dataclass
class KGIndex:
    """The indexes a training run needs, built once per dataset."""

    train: TripleIndex
    truth: TripleIndex  # valid + test + hidden: measurement only
    tails: PatternIndex  # (h, r, ?) -> train tails
    heads: PatternIndex  # (?, r, t) -> train heads

    @classmethod
    def build(cls, kg: KG) -> KGIndex:
        E, R = kg.num_entities, kg.num_relations
        return cls(
            train=TripleIndex(kg.train, E, R),
            truth=TripleIndex(kg.truth(), E, R),
            tails=PatternIndex(kg.train, E, R, "tail"),
            heads=PatternIndex(kg.train, E, R, "head"),
        )

    def pattern(self, side: Side) -> PatternIndex:
        return self.tails if side == "tail" else self.heads

    def to(self, device: torch.device | str) -> KGIndex:
        self.tails.to(device)
        self.heads.to(device)
        self.train.keys = self.train.keys.to(device)
        self.truth.keys = self.truth.keys.to(device)
        return self


def corrupt(pos: torch.Tensor, cand: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
    """Candidate triples `(B, K, 3)` from positives `(B, 3)`, candidate ids `(B, K)` and the
    corrupted side per row `head (B,)` (True = head replaced)."""
    B, K = cand.shape
    out = pos[:, None, :].expand(B, K, 3).clone()
    col = torch.where(head, 0, 2)[:, None].expand(B, K)  # (B, K)
    out.scatter_(2, col[..., None], cand[..., None])
    return out
