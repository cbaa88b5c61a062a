"""A synthetic family-tree KG with hidden ground truth.

People are born in generations to couples; the graph is closed under its rules
(`child_of` = inverse of `parent_of`, siblings share a parent, `spouse_of` is symmetric,
`grandparent_of` = parent of a parent, `grandchild_of` its inverse). A chosen fraction of the
true facts is held out of train: a fifth of them become valid, a fifth test, the rest are only
known as `hidden`. Every held-out fact is a true triple, so a sampled "negative" that is one of
them is a false negative, counted exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from demix_core.errors import DatasetError
from demix_core.kg import KG
from demix_core.textio import parse_fields
from demix_core.validation import MAX_SEED

RELATIONS = ("parent_of", "child_of", "sibling_of", "spouse_of", "grandparent_of", "grandchild_of")
_DEFAULTS = {"entities": 2000, "hidden": 0.3, "seed": 0}
# Building the graph is a Python loop over people, minutes and gigabytes at a million
# (docs/performance.md), so the bound is the Train form's 200,000 (a typo such as entities=100000000
# would otherwise run for hours and exhaust memory).
MIN_ENTITIES, MAX_ENTITIES = 16, 200_000


def parse_synthetic_spec(spec: str) -> dict:
    """`entities=2000,hidden=0.3,seed=0` -> kwargs; errors name the field."""
    return parse_fields(spec, _DEFAULTS, "synthetic")


def _family_facts(n: int, rng: np.random.Generator) -> np.ndarray:
    """All true `(h, r, t)` facts of a random family forest over `n` people."""
    parents_of: list[tuple[int, int] | None] = []
    spouse = np.full(n, -1)
    generation = list(range(min(n, max(8, n // 8))))  # founders
    parents_of.extend([None] * len(generation))
    while len(parents_of) < n:
        order = rng.permutation(generation)
        couples = order[: len(order) // 2 * 2].reshape(-1, 2)
        children: list[int] = []
        for a, b in couples:
            spouse[a], spouse[b] = b, a
            for _ in range(rng.integers(1, 5)):
                if len(parents_of) >= n:
                    break
                children.append(len(parents_of))
                parents_of.append((int(a), int(b)))
        if not children:  # a lone founder left: give the rest of the people new founders
            children = list(range(len(parents_of), min(n, len(parents_of) + 8)))
            parents_of.extend([None] * len(children))
        generation = children
    pairs = np.array([(p, c) for c, ps in enumerate(parents_of) if ps for p in ps]).reshape(-1, 2)
    facts = [np.c_[pairs[:, 0], np.zeros(len(pairs), int), pairs[:, 1]]]
    facts.append(np.c_[pairs[:, 1], np.ones(len(pairs), int), pairs[:, 0]])
    by_parent: dict[int, list[int]] = {}
    for p, c in pairs:
        by_parent.setdefault(int(p), []).append(int(c))
    sib = {(a, b) for kids in by_parent.values() for a in kids for b in kids if a != b}
    if sib:
        s = np.array(sorted(sib))
        facts.append(np.c_[s[:, 0], np.full(len(s), 2), s[:, 1]])
    married = np.flatnonzero(spouse >= 0)
    facts.append(np.c_[married, np.full(len(married), 3), spouse[married]])
    grand = {
        (g, c)
        for c, ps in enumerate(parents_of)
        if ps
        for p in ps
        if parents_of[p]
        for g in parents_of[p]
    }
    if grand:
        g = np.array(sorted(grand))
        facts.append(np.c_[g[:, 0], np.full(len(g), 4), g[:, 1]])
        facts.append(np.c_[g[:, 1], np.full(len(g), 5), g[:, 0]])
    return np.unique(np.concatenate(facts).astype(np.int64), axis=0)


def synthetic_kg(entities: int = 2000, hidden: float = 0.3, seed: int = 0) -> KG:
    """Family-tree KG over `entities` people with a fraction `hidden` of true facts held out."""
    if not MIN_ENTITIES <= entities <= MAX_ENTITIES:
        raise DatasetError(
            f"synthetic: entities must be between {MIN_ENTITIES} and {MAX_ENTITIES:,}, "
            f"got {entities}"
        )
    if not 0.0 < hidden < 1.0:  # also refuses NaN
        raise DatasetError(f"synthetic: hidden must be in (0, 1), got {hidden}")
    if not 0 <= seed <= MAX_SEED:
        raise DatasetError(f"synthetic: seed must be between 0 and 2**64 - 1, got {seed}")
    rng = np.random.default_rng(seed)
    facts = _family_facts(entities, rng)
    held = rng.random(len(facts)) < hidden
    held_idx = rng.permutation(np.flatnonzero(held))
    fifth = len(held_idx) // 5
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    return KG(
        name=f"synthetic:entities={entities},hidden={hidden},seed={seed}",
        entities=[f"person_{i}" for i in range(entities)],
        relations=list(RELATIONS),
        train=to_t(facts[~held]),
        valid=to_t(facts[held_idx[:fifth]]),
        test=to_t(facts[held_idx[fifth : 2 * fifth]]),
        hidden=to_t(facts[held_idx[2 * fifth :]]),
    )
