"""Relation categories as in TransH (Wang et al., 2014): for each relation, the average
number of tails per head (`tph`, over its distinct heads) and of heads per tail (`hpt`, over
its distinct tails); a side with an average below 1.5 is "1", otherwise "N":

    tph < 1.5, hpt < 1.5 -> 1-1     tph >= 1.5, hpt < 1.5 -> 1-N
    tph < 1.5, hpt >= 1.5 -> N-1    tph >= 1.5, hpt >= 1.5 -> N-N

Counted over every known triple (train + valid + test), as TransH does. The category tells
where false negatives come from: corrupting the tail of a 1-N relation draws from a side with
many true answers, most of them missing from a sparse graph.
"""

from __future__ import annotations

import torch

CATEGORIES = ("1-1", "1-N", "N-1", "N-N")
THRESHOLD = 1.5


def relation_stats(triples: torch.Tensor, num_relations: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(tph, hpt), each `(R,)` float: tails per head and heads per tail of each relation
    over the distinct triples of `triples (N, 3)`; NaN for a relation with no triple."""
    triples = torch.unique(triples, dim=0)
    r = triples[:, 1]
    count = torch.bincount(r, minlength=num_relations).double()  # (R,) distinct triples

    def distinct(col: int) -> torch.Tensor:  # (R,) distinct (r, entity) pairs on one side
        pairs = torch.unique(triples[:, [1, col]], dim=0)
        return torch.bincount(pairs[:, 0], minlength=num_relations).double()

    heads, tails = distinct(0), distinct(2)
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    tph = torch.where(heads > 0, count / heads.clamp(min=1), nan)
    hpt = torch.where(tails > 0, count / tails.clamp(min=1), nan)
    return tph, hpt


def categorise(tph: float, hpt: float, threshold: float = THRESHOLD) -> str:
    """The TransH category of one relation's (tails per head, heads per tail)."""
    return f"{'N' if hpt >= threshold else '1'}-{'N' if tph >= threshold else '1'}"


def relation_categories(triples: torch.Tensor, num_relations: int) -> list[str]:
    """The category of every relation id (a relation with no triple counts as 1-1)."""
    tph, hpt = relation_stats(triples, num_relations)
    return [
        categorise(0.0 if t != t else t, 0.0 if h != h else h)
        for t, h in zip(tph.tolist(), hpt.tolist())
    ]


def kg_categories(kg) -> list[str]:
    """`relation_categories` of a KG over all its known triples (train + valid + test)."""
    return relation_categories(kg.all_true(), kg.num_relations)


def category_ids(categories: list[str]) -> torch.Tensor:
    """`(R,)` long: the index into CATEGORIES of each relation's category."""
    return torch.tensor([CATEGORIES.index(c) for c in categories], dtype=torch.long)
