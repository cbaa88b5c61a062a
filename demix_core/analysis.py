"""Pure functions behind the lens pages (MPNE, AdaMix, samplers side by side).

Everything here takes tensors, a `KG` or a `LensResult` and returns pandas frames, numpy
arrays or plain numbers, so the pages only read widgets and draw, and every function can be
cached by the app (keyed by run, step and parameters) and tested without Streamlit.

Projections (PCA/UMAP) live in `demix_core.projection`; `mix_layout` places a lens result
on one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from demix_core.demix import fn_precision_recall
from demix_core.errors import ConfigError
from demix_core.kg import KG, corrupt
from demix_core.lens import LensResult, pr_curve
from demix_core.projection import Projection

POSITIVE_KINDS = ("random", "relation", "entity")
XY_COLUMNS = ["c_x", "c_y", "p_x", "p_y", "m_x", "m_y"]  # candidate, partner, mixed point
ID_COLUMNS = ["candidate_id", "partner_id"]  # entity ids behind the map's points
ROOT = Path(__file__).resolve().parent.parent


class PositivesSpec(NamedTuple):
    """Which train positives to look at: a seeded random sample, or (a seeded sample of at
    most `n` of) those of one relation or one entity, named as in the dataset."""

    kind: str = "random"  # random | relation | entity
    name: str = ""  # the relation or entity name, for those kinds
    n: int = 128  # at most this many positives
    seed: int = 0


def select_positives(kg: KG, spec: PositivesSpec) -> Tensor:
    """Train triples `(B, 3)` of `spec`. The random kind draws exactly the sample the sampler
    audit draws (`audit_positives`), so the pages and the CLI audit agree."""
    if spec.kind not in POSITIVE_KINDS:
        raise ConfigError(f"positives: kind must be one of {POSITIVE_KINDS}, got {spec.kind!r}")
    if spec.n < 1:
        raise ConfigError(f"positives: n must be >= 1, got {spec.n}")
    train = kg.train
    if spec.kind == "relation":
        if spec.name not in kg.relations:
            raise ConfigError(f"positives: no relation named {spec.name!r} in {kg.name}")
        train = train[train[:, 1] == kg.relations.index(spec.name)]
    elif spec.kind == "entity":
        if spec.name not in kg.entities:
            raise ConfigError(f"positives: no entity named {spec.name!r} in {kg.name}")
        e = kg.entities.index(spec.name)
        train = train[(train[:, 0] == e) | (train[:, 2] == e)]
    if len(train) == 0:
        raise ConfigError(f"positives: {spec.kind} {spec.name!r} has no train triple")
    g = torch.Generator().manual_seed(spec.seed)
    return train[torch.randperm(len(train), generator=g)[: spec.n]]


def search_names(names: list[str], query: str, limit: int = 50) -> list[str]:
    """Names containing `query` (case-insensitive), those starting with it first."""
    q = query.strip().lower()
    if not q:
        return list(names[:limit])
    hits = [n for n in names if q in n.lower()]
    return sorted(hits, key=lambda n: (not n.lower().startswith(q), len(n), n))[:limit]


# --------------------------------------------------------------------------- MPNE


def summary(result: LensResult) -> dict:
    """Counts and MPNE quality of a lens result. MPN/TN count every candidate drawn;
    precision and recall leave out candidates that are train positives (as `pr_curve`)."""
    pr = fn_precision_recall(result.is_mpn, result.is_true, ~result.is_train_positive)
    return {
        "candidates": result.is_mpn.numel(),
        "n_mpn": int(result.is_mpn.sum()),
        "n_train_mpn": int((result.is_mpn & result.is_train_positive).sum()),
        "n_tn": int((~result.is_mpn).sum()),
        "n_train_positive": int(result.is_train_positive.sum()),
        "n_true": pr["n_true"],
        "n_true_mpn": int((result.is_mpn & result.is_true).sum()),
        "precision": pr["precision"],
        "recall": pr["recall"],
        "mean_tau": float(result.tau.mean()),
        "soft_label_mpn": float(result.mixed_label[result.is_mpn].mean())
        if result.is_mpn.any()
        else math.nan,
    }


def score_frame(result: LensResult) -> pd.DataFrame:
    """Long frame for the score distributions: one row per pattern positive and candidate,
    columns group (pattern positive | MPN | TN), score, margin (= score - tau of its row, so
    every row's threshold sits at 0) and known_fn (the candidate is a known true fact)."""
    tau = result.tau[:, None]  # (B, 1)
    pat = result.pattern_mask
    cand_group = np.where(result.is_mpn.numpy(), "MPN", "TN").ravel()
    return pd.DataFrame(
        {
            "group": np.concatenate([np.full(int(pat.sum()), "pattern positive"), cand_group]),
            "score": torch.cat([result.pattern_scores[pat], result.cand_scores.ravel()]).numpy(),
            "margin": torch.cat(
                [(result.pattern_scores - tau)[pat], (result.cand_scores - tau).ravel()]
            ).numpy(),
            "known_fn": np.concatenate(
                [np.zeros(int(pat.sum()), bool), result.is_true.numpy().ravel()]
            ),
        }
    )


def pr_frame(result: LensResult, mus) -> pd.DataFrame:
    """MPNE precision / recall at spotting known false negatives for each mu in `mus`."""
    return pd.DataFrame(pr_curve(result, mus), columns=["mu", "precision", "recall", "n_mpn"])


def names_of(names: list[str], ids: Tensor) -> np.ndarray:
    return np.asarray(names, dtype=object)[ids.numpy()]


def truth_label(is_true: Tensor, is_train: Tensor) -> np.ndarray:
    """'known true' (a valid/test/hidden fact: a real false negative), 'train positive', or
    'not known true' (the best guess for a real negative)."""
    out = np.full(is_true.shape, "not known true", dtype=object)
    out[is_train.numpy()] = "train positive"
    out[is_true.numpy()] = "known true"
    return out


def query_labels(kg: KG, pos: Tensor, head: Tensor) -> np.ndarray:
    """`(h, r, ?)` or `(?, r, t)` per row."""
    h, r, t = (
        names_of(n, pos[:, i]) for i, n in ((0, kg.entities), (1, kg.relations), (2, kg.entities))
    )
    hd = head.numpy()
    return np.array(
        [f"(?, {r[i]}, {t[i]})" if hd[i] else f"({h[i]}, {r[i]}, ?)" for i in range(len(hd))]
    )


def triples_table(result: LensResult, kg: KG, rows=None) -> pd.DataFrame:
    """One row per candidate triple (of `rows`, default all), highest margin first: its
    query and the positive's answer, the candidate triple with names, its score, threshold,
    verdict, known truth and AdaMix partner."""
    rows = torch.arange(len(result.tau)) if rows is None else torch.as_tensor(rows)
    pos, head, cand = result.positives[rows], result.head[rows], result.candidates[rows]
    K = cand.shape[1]
    h, r, t = corrupt(pos, cand, head).reshape(-1, 3).unbind(-1)  # (n,) each
    tau = result.tau[rows][:, None].expand(-1, K)
    frame = pd.DataFrame(
        {
            "row": rows[:, None].expand(-1, K).ravel().numpy(),
            "query": np.repeat(query_labels(kg, pos, head), K),
            "answer": np.repeat(names_of(kg.entities, torch.where(head, pos[:, 0], pos[:, 2])), K),
            "head": names_of(kg.entities, h),
            "relation": names_of(kg.relations, r),
            "tail": names_of(kg.entities, t),
            "score": result.cand_scores[rows].ravel().numpy(),
            "tau": tau.ravel().numpy(),
            "verdict": np.where(result.is_mpn[rows].ravel().numpy(), "MPN", "TN"),
            "known truth": truth_label(
                result.is_true[rows], result.is_train_positive[rows]
            ).ravel(),
            "partner": names_of(kg.entities, result.partner_ids[rows].ravel()),
            "soft label": result.mixed_label[rows].ravel().numpy(),
            "mixed score": result.mixed_scores[rows].ravel().numpy(),
        }
    )
    frame.insert(frame.columns.get_loc("tau") + 1, "margin", frame["score"] - frame["tau"])
    return frame.sort_values(["margin"], ascending=False, kind="stable").reset_index(drop=True)


def pattern_choices(result: LensResult) -> pd.DataFrame:
    """Per row: MPN count, known false negatives and how many of those MPNE caught, for
    picking a pattern to study. Ordered by what does not move with mu (known false
    negatives, then train answers), so a pick survives a slider move."""
    keep = ~result.is_train_positive
    frame = pd.DataFrame(
        {
            "row": np.arange(len(result.tau)),
            "n_mpn": result.is_mpn.sum(1).numpy(),
            "n_true": (result.is_true & keep).sum(1).numpy(),
            "n_caught": (result.is_true & result.is_mpn & keep).sum(1).numpy(),
            "n_positives": result.pattern_mask.sum(1).numpy(),
        }
    )
    return frame.sort_values(["n_true", "n_positives"], ascending=False, kind="stable")


def pattern_detail(result: LensResult, kg: KG, row: int) -> dict:
    """The case study of one row: its query, its train answers with scores, its candidates
    (via `triples_table`) and the statistics of the threshold."""
    mask = result.pattern_mask[row]
    x = result.pattern_scores[row][mask]
    positives = pd.DataFrame(
        {"answer": names_of(kg.entities, result.pattern_ids[row][mask]), "score": x.numpy()}
    ).sort_values("score", ascending=False, kind="stable")
    query = query_labels(kg, result.positives[row : row + 1], result.head[row : row + 1])[0]
    return {
        "query": query,
        "side": "head" if bool(result.head[row]) else "tail",  # the corrupted side
        "positives": positives,
        "candidates": triples_table(result, kg, [row]),
        "tau": float(result.tau[row]),
        "mean": float(x.mean()),
        "min": float(x.min()),
        "mu": result.mu,
    }


# --------------------------------------------------------------------------- AdaMix map


def mix_layout(
    result: LensResult, proj: Projection, table: np.ndarray, kg: KG, rows
) -> pd.DataFrame:
    """One row per candidate of `rows`: positions of the candidate, its partner and the mixed
    point, with names, verdict, scores, partner label and soft label for hover text."""
    rows = torch.as_tensor(rows, dtype=torch.long)
    cand, partner = result.candidates[rows].ravel(), result.partner_ids[rows].ravel()
    mixed = result.mixed_emb[rows].reshape(len(cand), -1).numpy()
    c_xy, p_xy = proj.entities(cand.numpy(), table), proj.entities(partner.numpy(), table)
    m_xy = proj.transform(mixed)
    K = result.candidates.shape[1]
    return pd.DataFrame(
        {
            "row": rows[:, None].expand(-1, K).ravel().numpy(),
            "query": np.repeat(query_labels(kg, result.positives[rows], result.head[rows]), K),
            "candidate": names_of(kg.entities, cand),
            "partner": names_of(kg.entities, partner),
            "candidate_id": cand.numpy(),
            "partner_id": partner.numpy(),
            "verdict": np.where(result.is_mpn[rows].ravel().numpy(), "MPN", "TN"),
            "known truth": truth_label(
                result.is_true[rows], result.is_train_positive[rows]
            ).ravel(),
            "score": result.cand_scores[rows].ravel().numpy(),
            "mixed score": result.mixed_scores[rows].ravel().numpy(),
            "partner label": result.partner_label[rows].ravel().numpy(),
            "soft label": result.mixed_label[rows].ravel().numpy(),
            **dict(zip(XY_COLUMNS, np.hstack([c_xy, p_xy, m_xy]).T)),
        }
    )
