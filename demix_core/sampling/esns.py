"""ESNS: entity-similarity-based negative sampling (Yao et al., PRICAI 2022).

ESNS's observation: entities with similar semantic contexts are the ones a model confuses, so
they make informative negatives. The context of an entity is read off the train triples: every
`(r, t, out)` of a triple `(e, r, t)` and every `(r, h, in)` of a triple `(h, r, e)`. Two
entities are as similar as the contexts they share, each shared context weighted by its
inverse entity frequency `log(E / n_c)` (a context held by nearly every entity, like a gender,
says little; one held by a single entity is never shared). Each entity keeps its `similar`
most similar others (positive similarity only, never itself); a corrupted side draws its K
candidates from the list of the entity it replaces, except a `uniform` share (half by
default) drawn from every entity: with the list alone a model never meets the other entities
as negatives and ranks them badly (FB15k-237 test MRR 0.007, docs/samplers.md; the share is
our choice, the paper's text was not available). An entity with no similar one falls back to
uniform candidates.

The paper pairs the sampler with a shift-based logistic loss; this is the sampler only (the
contract's loss is the project's), see docs/samplers.md. Similar lists are computed once, in
row blocks of the sparse product `C W C^T` (`C` the entity x context incidence), and held as
CSR: `offsets (E + 1,)`, `values (nnz,)` int64 (`base.Pools`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from demix_core.sampling.base import Pools, Sampler, check_positive
from demix_core.validation import check_number


@dataclass(frozen=True)
class ESNSOptions:
    similar: int = 50  # M: most similar entities kept per entity, the pool a side draws from
    uniform: float = 0.5  # share of the K candidates drawn from every entity instead

    def __post_init__(self) -> None:
        check_positive("similar", self.similar)
        check_number("uniform", self.uniform, 0.0, 1.0)


def context_matrix(train: torch.Tensor, E: int, R: int) -> sp.csr_matrix:
    """`(E, 2 R E)` float32: row e holds sqrt(idf) of each context of e, so that the row
    products are idf-weighted counts of shared contexts. Contexts held by one entity are
    dropped (they are never shared)."""
    h, r, t = (x.numpy().astype(np.int64) for x in train.unbind(1))
    rows = np.r_[h, t]
    cols = np.r_[r * E + t, R * E + r * E + h]  # (r, t, out) for heads, (r, h, in) for tails
    pairs = np.unique(rows * (2 * R * E) + cols)
    rows, cols = pairs // (2 * R * E), pairs % (2 * R * E)
    _, inverse, n_c = np.unique(cols, return_inverse=True, return_counts=True)
    held = n_c[inverse]  # (nnz,) entities holding each entry's context
    keep = held > 1
    weight = np.sqrt(np.log(E / held[keep])).astype(np.float32)
    return sp.csr_matrix((weight, (rows[keep], cols[keep])), shape=(E, 2 * R * E))


def similar_entities(train: torch.Tensor, E: int, R: int, m: int, block: int = 1024):
    """`(offsets (E + 1,), values (nnz,) int32)`: each entity's up to `m` most similar
    others, most similar first."""
    ctx = context_matrix(train, E, R)
    ctx_t = ctx.T.tocsr()
    m = min(m, max(E - 1, 1))
    ids, counts = [], []
    for start in range(0, E, block):
        stop = min(start + block, E)
        sim = torch.from_numpy((ctx[start:stop] @ ctx_t).toarray())  # (b, E)
        sim[torch.arange(stop - start), torch.arange(start, stop)] = 0.0  # never itself
        top, at = torch.topk(sim, m, dim=1, sorted=True)  # (b, m)
        keep = top > 0
        ids.append(at[keep].to(torch.int32))
        counts.append(keep.sum(1))
    offsets = torch.zeros(E + 1, dtype=torch.long)
    torch.cumsum(torch.cat(counts), 0, out=offsets[1:])
    return offsets, torch.cat(ids)


class ESNSSampler(Sampler):
    """Candidates among the entities most similar (by shared contexts) to the replaced one."""

    name = "esns"
    Options = ESNSOptions

    def __init__(self, kg, index, options=None, seed=0, device="cpu"):
        super().__init__(kg, index, options, seed, device)
        offsets, values = similar_entities(
            kg.train, kg.num_entities, kg.num_relations, self.options.similar
        )
        self.pools = Pools(offsets, values, kg.num_entities, device=self.device)

    def similar_to(self, e: int) -> torch.Tensor:
        """The similar list of one entity `(n,)`, most similar first."""
        return self.pools.of(e)

    def draw(self, pos: torch.Tensor, head: torch.Tensor, k: int) -> torch.Tensor:
        """`(B, K)`: the first `K - round(uniform K)` columns from the similar lists, the rest
        from every entity."""
        k_any = round(self.options.uniform * k)
        similar = self.pools.draw(
            torch.where(head, pos[:, 0], pos[:, 2]), k - k_any, self.generator
        )
        if not k_any:
            return similar
        return torch.cat([similar, self.uniform((len(pos), k_any))], dim=1)
