"""What the AdaMix map says about one entity: its name, its score for the query shown, its
verdict there, and its nearest entities in embedding space. Pure (tensors and frames in and
out), so the page only reads the click and draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from demix_core.analysis import search_names
from demix_core.kg import KG
from demix_core.lens import LensResult
from demix_core.models import SCORERS


def nearest(table: np.ndarray, entity: int, n: int = 5) -> list[tuple[int, float]]:
    """The `n` entities closest to `entity` in Euclidean distance over the rows of
    `table (E, De)` (itself left out), closest first, with their distances."""
    d = np.linalg.norm(table - table[entity], axis=1)  # (E,)
    d[entity] = np.inf
    order = np.argsort(d, kind="stable")[:n]
    return [(int(i), float(d[i])) for i in order if np.isfinite(d[i])]


def verdict(result: LensResult, row: int, entity: int) -> str:
    """What the entity is for query `row`: a candidate with MPNE's verdict (and whether it is
    a known true fact), a known train answer of the query, or not drawn."""
    hits = (result.candidates[row] == entity).nonzero().flatten()
    if len(hits):
        k = int(hits[0])
        mpn = "MPN (probable false negative)" if result.is_mpn[row, k] else "TN (true negative)"
        if result.is_true[row, k]:
            return f"candidate, {mpn}; in fact a known true fact"
        return f"candidate, {mpn}"
    answers = result.pattern_ids[row][result.pattern_mask[row]]
    if (answers == entity).any():
        return "a known answer of the query (train)"
    return "not drawn for this query"


def entity_detail(
    result: LensResult, kg: KG, table: np.ndarray, row: int, entity: int, n: int = 5
) -> dict:
    """Name, score for query `row` (the model's score of the query completed by `entity`),
    verdict there, and the `n` nearest entities (`nearest`) as a frame."""
    emb = torch.as_tensor(table[entity], dtype=result.query.dtype)  # (De,)
    scorer = SCORERS[result.model_name]
    score = float(scorer.match(result.query[row][None, :], emb[None, :], result.gamma)[0])
    near = nearest(table, entity, n)
    return {
        "name": kg.entities[entity],
        "score": score,
        "tau": float(result.tau[row]),
        "verdict": verdict(result, row, entity),
        "nearest": pd.DataFrame(
            {"entity": [kg.entities[i] for i, _ in near], "distance": [d for _, d in near]}
        ),
    }


def find_entity(kg: KG, text: str) -> int | None:
    """The id of the best name match for `text` (`search_names` order), None if none."""
    if not text.strip():
        return None
    found = search_names(kg.entities, text, limit=1)
    return kg.entities.index(found[0]) if found else None


def clicked_entity(points: list[dict]) -> int | None:
    """The entity id of the first clicked point (every trace of the map carries entity ids
    as its `customdata`), None when nothing usable was clicked."""
    for p in points:
        data = p.get("customdata")
        if isinstance(data, list | tuple):
            data = data[0] if data else None
        if isinstance(data, int | float) and not isinstance(data, bool):
            return int(data)
    return None
