"""NSCaching (Zhang et al., ICDE 2019): negatives drawn from a per-pattern cache of hard ones.

Each pattern `(h, r, ?)` keeps N1 candidate tails and each `(?, r, t)` N1 candidate heads.
A step draws its negatives uniformly from the cache rows of its positives, then refreshes those
rows: the N1 cached ids plus N2 fresh uniform ones are scored by the model and N1 of them kept,
either sampled without replacement with probability proportional to softmax(score) or the top
N1. Known train positives and repeated ids are never kept, so the cache stays a set of negatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch

from demix_core.sampling.base import Negatives, check_positive
from demix_core.sampling.uniform import BernoulliSampler
from demix_core.validation import check_choice

CACHE_UPDATES = ("sample", "top")


@dataclass(frozen=True)
class NSCachingOptions:
    cache_size: int = 50  # N1: candidates cached per pattern (clamped to the entity count)
    cache_candidates: int = 50  # N2: fresh uniform candidates scored at each refresh
    cache_update: str = "sample"  # "sample": N1 drawn ~ softmax(score); "top": the best N1

    def __post_init__(self) -> None:
        check_positive("cache_size", self.cache_size)
        check_positive("cache_candidates", self.cache_candidates)
        check_choice("cache_update", self.cache_update, CACHE_UPDATES)


def repeated(ids: torch.Tensor) -> torch.Tensor:
    """`(B, M)` bool: True at every occurrence of an id after its first one in the row."""
    ordered, order = ids.sort(dim=1, stable=True)  # stable: the first occurrence sorts first
    dup = torch.zeros_like(ids, dtype=torch.bool)
    dup[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    return torch.zeros_like(dup).scatter_(1, order, dup)


def gumbel(shape: tuple[int, ...], generator: torch.Generator, device) -> torch.Tensor:
    """Gumbel(0, 1) noise: top-k of `score + noise` samples k without replacement ~ softmax."""
    u = torch.rand(shape, generator=generator, device=device, dtype=torch.float64)
    return -torch.log(-torch.log(u.clamp(min=1e-300)))


class PatternCache:
    """Candidate ids per pattern key, rows allocated on first use (no Python dict).

    `keys (P,)` sorted int64 pattern keys (anchor * R + r), `ids (P, N1)` int32 entity ids."""

    def __init__(self, width: int, device: torch.device):
        self.keys = torch.empty(0, dtype=torch.long, device=device)
        self.ids = torch.empty(0, width, dtype=torch.int32, device=device)

    def rows(self, keys: torch.Tensor, fresh: Callable[[int], torch.Tensor]) -> torch.Tensor:
        """Row of each key `(B,)`; unseen keys get new rows filled with `fresh(n) (n, N1)`."""
        new = torch.unique(keys)
        if len(self.keys):
            at = torch.searchsorted(self.keys, new).clamp(max=len(self.keys) - 1)
            new = new[self.keys[at] != new]
        if len(new):
            keys_all = torch.cat([self.keys, new])
            order = torch.argsort(keys_all)
            self.keys = keys_all[order]
            self.ids = torch.cat([self.ids, fresh(len(new)).to(torch.int32)])[order]
        return torch.searchsorted(self.keys, keys)

    def state(self) -> dict:
        return {"keys": self.keys.cpu(), "ids": self.ids.cpu()}

    def load(self, state: dict) -> None:
        self.keys = state["keys"].to(self.keys.device)
        self.ids = state["ids"].to(self.keys.device)


class NSCachingSampler(BernoulliSampler):
    """Negatives from a cache of high-scoring candidates; the side is chosen as Bernoulli's."""

    name = "nscaching"
    Options = NSCachingOptions
    needs_model = True  # without a model, `sample` draws from the cache but never refreshes it

    def __init__(self, kg, index, options=None, seed: int = 0, device="cpu"):
        super().__init__(kg, index, options, seed, device)
        E = self.num_entities
        self.n1 = self._clamp("cache_size", self.options.cache_size, E)
        self.n2 = self._clamp("cache_candidates", self.options.cache_candidates, E)
        self.caches = {
            False: PatternCache(self.n1, self.device),
            True: PatternCache(self.n1, self.device),
        }

    @staticmethod
    def _clamp(flag: str, value: int, entities: int) -> int:
        if value > entities:
            name = flag.replace("_", "-")
            warnings.warn(
                f"nscaching: --{name} {value} > {entities} entities; using {entities}", stacklevel=3
            )
        return min(value, entities)

    def _keys(self, pos: torch.Tensor, head: bool) -> torch.Tensor:
        """Pattern keys `(B,)`: `t * R + r` for `(?, r, t)`, `h * R + r` for `(h, r, ?)`."""
        anchor = pos[:, 2] if head else pos[:, 0]
        return anchor * self.kg.num_relations + pos[:, 1]

    def _fresh(self, n: int) -> torch.Tensor:
        return self.uniform((n, self.n1))

    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        out = torch.empty(len(pos), k, dtype=torch.long, device=pos.device)
        for side, cache in self.caches.items():
            sel = (head == side).nonzero().squeeze(1)
            if len(sel) == 0:
                continue
            rows = cache.rows(self._keys(pos[sel], side), self._fresh)  # (b,)
            col = torch.randint(
                self.n1, (len(sel), k), generator=self.generator, device=self.device
            )
            out[sel] = cache.ids[rows].gather(1, col).long()  # (b, K)
        return out

    def sample(
        self, model, pos: torch.Tensor, step: int, k: int, filtered: bool = False
    ) -> Negatives:
        neg = super().sample(model, pos, step, k, filtered)
        if model is not None:
            self.refresh(model, pos, neg.head)
        return neg

    @torch.no_grad()
    def refresh(self, model, pos: torch.Tensor, head: torch.Tensor) -> None:
        """Refresh the cache rows of the batch's patterns from cache ∪ N2 uniform candidates."""
        R = self.kg.num_relations
        for side, cache in self.caches.items():
            keys = torch.unique(self._keys(pos[head == side], side))  # (n,)
            if len(keys) == 0:
                continue
            rows = cache.rows(keys, self._fresh)
            cand = torch.cat([cache.ids[rows].long(), self.uniform((len(keys), self.n2))], 1)
            anchor, rel = keys // R, keys % R
            query = torch.stack([anchor, rel, anchor], 1)  # (n, 3): the kept end is the anchor
            side_flag = torch.full((len(keys),), side, dtype=torch.bool, device=keys.device)
            score = model.score_candidates(query, side_flag, cand).double()  # (n, N1 + N2)
            bad = self.is_train_positive(query, side_flag, cand) | repeated(cand)
            score = score.masked_fill(bad, -torch.inf)
            if self.options.cache_update == "sample":
                score = score + gumbel(tuple(score.shape), self.generator, self.device)
            keep = score.topk(self.n1, dim=1).indices  # (n, N1)
            cache.ids[rows] = cand.gather(1, keep).to(torch.int32)

    def cached(self, pos: torch.Tensor, head: bool) -> torch.Tensor:
        """Current cache rows `(B, N1)` of the positives' patterns on one side (for the app)."""
        cache = self.caches[head]
        rows = cache.rows(self._keys(pos, head), self._fresh)  # may reallocate cache.ids
        return cache.ids[rows].long()

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.get_state(),
            "head_cache": self.caches[True].state(),
            "tail_cache": self.caches[False].state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.caches[True].load(state["head_cache"])
        self.caches[False].load(state["tail_cache"])
