"""Pure frames behind the Samplers views: every sampler's candidates for the same positives
(`audit.draw_candidates`), summarised, scored and broken down per relation category."""

from __future__ import annotations

import numpy as np
import pandas as pd
from torch import Tensor

from demix_core.analysis import names_of, truth_label
from demix_core.kg import KG, corrupt
from demix_core.lens_plots import bin_edges


def sampler_candidates(
    model, kg: KG, positives: Tensor, samplers: list[str], k: int, seed: int, warmup: int = 10
) -> dict:
    """`audit.draw_candidates` for given positives `(B, 3)`: every sampler, seeded alike,
    corrupts each positive at two consecutive steps after `warmup` steps on them (so samplers
    that alternate sides show both). A mixing sampler is scored on the mixtures its loss
    sees (`Negatives.embeddings`), its truth judged on the candidate ids."""
    from demix_core.audit import draw_candidates

    return draw_candidates(model, kg, positives, samplers, k, seed, warmup=warmup)


def sampler_summary(cands: dict, adv_temperature: float = 1.0) -> pd.DataFrame:
    """The audit figures (`audit.summarise`) of each sampler, one row per sampler."""
    from demix_core.audit import summarise

    rows = [{"sampler": n, **summarise(c, adv_temperature)} for n, c in cands.items()]
    return pd.DataFrame(rows)


def sampler_scores(cands: dict) -> pd.DataFrame:
    """Long frame: sampler, score, known_fn for every candidate that enters the loss."""
    parts = [
        pd.DataFrame(
            {
                "sampler": name,
                "score": c.scores[c.mask].numpy(),
                "known_fn": c.is_true[c.mask].numpy(),
            }
        )
        for name, c in cands.items()
    ]
    return pd.concat(parts, ignore_index=True)


def sampler_extremes(summary: pd.DataFrame) -> dict[str, tuple[str, float]]:
    """The samplers at the ends of `sampler_summary`, as (sampler, value), each over the
    samplers where it is defined (absent where none is): the most and the fewest known
    false negatives (`fn_rate`), the hardest candidates (highest median score) and the
    most peaked self-adversarial weights (lowest entropy). Ties: the first in order."""
    picks = {
        "most_fn": ("fn_rate", "idxmax"),
        "fewest_fn": ("fn_rate", "idxmin"),
        "hardest": ("score_q50", "idxmax"),
        "peaked": ("adv_entropy", "idxmin"),
    }
    out = {}
    for name, (column, pick) in picks.items():
        values = summary.set_index("sampler")[column].dropna()
        if len(values):
            best = getattr(values, pick)()
            out[name] = (best, float(values[best]))
    return out


def score_bins(scores: pd.DataFrame, bins: int = 40) -> pd.DataFrame:
    """`sampler_scores` counted into `bins` equal score bins shared by every sampler (the
    range of all scores; numpy's convention: [left, right), the last bin closed), so a chart
    gets bins x samplers numbers instead of every candidate's score.

    Long frame, one row per sampler and bin, samplers in their order of appearance: sampler,
    left, right, mid, candidates (in the bin), share (% of the sampler's candidates: samplers
    that keep different numbers compare) and known_fn (the bin's known true facts)."""
    edges = bin_edges(scores["score"].to_numpy(), bins)  # (bins + 1,)
    parts = []
    for name, part in scores.groupby("sampler", sort=False):
        values = part["score"].to_numpy()
        counts, _ = np.histogram(values, edges)  # (bins,)
        fn, _ = np.histogram(values[part["known_fn"].to_numpy()], edges)
        parts.append(
            pd.DataFrame(
                {
                    "sampler": name,
                    "left": edges[:-1],
                    "right": edges[1:],
                    "mid": (edges[:-1] + edges[1:]) / 2,
                    "candidates": counts,
                    "share": 100.0 * counts / max(len(values), 1),
                    "known_fn": fn,
                }
            )
        )
    columns = ["sampler", "left", "right", "mid", "candidates", "share", "known_fn"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def sampler_table(cands: dict, kg: KG) -> pd.DataFrame:
    """Every candidate of every sampler with names, score, DeMix verdict where there is one,
    and known truth; highest score first within each sampler."""
    parts = []
    for name, c in cands.items():
        h, r, t = corrupt(c.pos, c.ids, c.head)[c.mask].unbind(-1)  # (n,) each
        verdict = np.where(c.mpn[c.mask].numpy(), "MPN", "TN") if c.mpn is not None else ""
        parts.append(
            pd.DataFrame(
                {
                    "sampler": name,
                    "head": names_of(kg.entities, h),
                    "relation": names_of(kg.relations, r),
                    "tail": names_of(kg.entities, t),
                    "corrupted": np.where(
                        c.head[:, None].expand_as(c.ids)[c.mask].numpy(), "head", "tail"
                    ),
                    "score": c.scores[c.mask].numpy(),
                    "verdict": verdict,
                    "known truth": truth_label(c.is_true[c.mask], c.is_train[c.mask]),
                }
            ).sort_values("score", ascending=False, kind="stable")
        )
    return pd.concat(parts, ignore_index=True)


def sampler_categories(cands: dict, kg: KG) -> pd.DataFrame:
    """Long frame: sampler, relation category (1-1, 1-N, N-1, N-N), candidates and the share
    of them that are known true facts (`audit.fn_by_category`)."""
    from demix_core.audit import fn_by_category
    from demix_core.relcat import kg_categories

    cats = kg_categories(kg)
    rows = [
        {"sampler": name, "category": cat, **part}
        for name, c in cands.items()
        for cat, part in fn_by_category(c, cats).items()
    ]
    return pd.DataFrame(rows)
