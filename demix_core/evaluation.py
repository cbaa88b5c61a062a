"""Filtered link-prediction evaluation, batched and vectorised.

Each test triple is two queries, `(h, r, ?)` and `(?, r, t)`. All entities are scored at
once (`KGEModel.score_all`: a matrix product for bilinear models, a chunked fused distance
for TransE/RotatE); every other known true answer (train + valid + test) is removed through
a precomputed CSR index; the rank is the realistic one, the mean of the optimistic
(`1 + #greater`) and pessimistic (`1 + #greater + #tied`) ranks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from demix_core.kg import KG, PatternIndex

HITS = (1, 3, 10)


class FilterIndex:
    """Answers of every pattern over train + valid + test, for both sides."""

    def __init__(self, kg: KG, device: torch.device | str = "cpu"):
        E, R, true = kg.num_entities, kg.num_relations, kg.all_true()
        self.tails = PatternIndex(true, E, R, "tail").to(device)
        self.heads = PatternIndex(true, E, R, "head").to(device)


@torch.no_grad()
def rank_queries(
    model, triples: torch.Tensor, head: bool, filt: FilterIndex, batch_size: int = 256
) -> torch.Tensor:
    """Realistic filtered ranks `(N,)` (float) of one side of `triples (N, 3)`."""
    index = filt.heads if head else filt.tails
    target_col = 0 if head else 2
    ranks = []
    for i in range(0, len(triples), batch_size):
        pos = triples[i : i + batch_size]
        side = torch.full((len(pos),), head, dtype=torch.bool, device=pos.device)
        scores = model.score_all(pos, side)  # (B, E)
        target = pos[:, target_col]
        rows = torch.arange(len(pos), device=pos.device)
        target_score = scores[rows, target].clone()  # (B,)
        f_rows, f_ents = index.flat(index.key(pos))
        scores[f_rows, f_ents] = float("-inf")  # removes the target itself too
        greater = (scores > target_score[:, None]).sum(1)
        tied = (scores == target_score[:, None]).sum(1)
        ranks.append(1.0 + greater.double() + tied.double() / 2)
    return torch.cat(ranks) if ranks else torch.zeros(0, dtype=torch.float64)


def summarize(ranks: torch.Tensor) -> dict[str, float]:
    if len(ranks) == 0:
        return {
            "mrr": float("nan"),
            "mr": float("nan"),
            **{f"hits@{k}": float("nan") for k in HITS},
        }
    out = {"mrr": float((1.0 / ranks).mean()), "mr": float(ranks.mean())}
    for k in HITS:
        out[f"hits@{k}"] = float((ranks <= k).double().mean())
    return out


@torch.no_grad()
def evaluate(
    model,
    kg: KG,
    split: str = "test",
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
    per_relation: bool = False,
    filt: FilterIndex | None = None,
    limit: int | None = None,
) -> dict:
    """Filtered MRR, MR and Hits@1/3/10 over both sides (keys as in the CLI contract), plus
    `head` and `tail` sub-dicts and, on request, `per_relation` {name: metrics} and
    `per_category` {1-1 | 1-N | N-1 | N-N: {both, tail, head: metrics}} (`per_breakdown`)."""
    was_training = model.training
    model.eval()
    device = model.entity.device
    triples = kg.split(split)[:limit].to(device)
    filt = filt or FilterIndex(kg, device)
    sides = {}
    total = 2 * len(triples)
    done = 0
    for name, head in (("tail", False), ("head", True)):
        parts = []
        for i in range(0, len(triples), 4 * batch_size):
            chunk = triples[i : i + 4 * batch_size]
            parts.append(rank_queries(model, chunk, head, filt, batch_size))
            done += len(chunk)
            if progress:
                progress(done, total)
        sides[name] = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
    model.train(was_training)
    both = torch.cat([sides["tail"], sides["head"]])
    out = summarize(both)
    out["queries"] = len(both)
    out["tail"], out["head"] = summarize(sides["tail"]), summarize(sides["head"])
    if per_relation:
        out.update(per_breakdown(kg, triples[:, 1].cpu(), sides["tail"].cpu(), sides["head"].cpu()))
    return out


def per_breakdown(kg: KG, rel: torch.Tensor, tail: torch.Tensor, head: torch.Tensor) -> dict:
    """Metrics per relation (both sides) and per relation category (both, tail, head) from
    the ranks of each side `(N,)` of triples whose relation ids are `rel (N,)`. The category
    (TransH's, `relcat`) is counted over all known triples: predicting the tail of a 1-N
    relation is the hard side."""
    from demix_core.relcat import CATEGORIES, category_ids, kg_categories

    def metrics(ranks: torch.Tensor) -> dict:
        return {**summarize(ranks), "queries": len(ranks)}

    per_rel = {
        kg.relations[r]: metrics(torch.cat([tail[rel == r], head[rel == r]]))
        for r in rel.unique().tolist()
    }
    cat = category_ids(kg_categories(kg))[rel]  # (N,)
    per_cat = {}
    for i, name in enumerate(CATEGORIES):
        m = cat == i
        if m.any():
            per_cat[name] = {
                "both": metrics(torch.cat([tail[m], head[m]])),
                "tail": metrics(tail[m]),
                "head": metrics(head[m]),
            }
    return {"per_relation": per_rel, "per_category": per_cat}
