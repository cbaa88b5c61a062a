"""`adamix-map`: AdaMix's mixed points on one trained model, and numbers that show what the
mixing does: where partially positive and harder-negative triples score, against their own
candidates and against the known positives.

One DeMix RotatE run on UMLS (the budget's settings, the recommended mu, seed 0); the lens then
draws 256 positives x 32 candidates at alpha 0.5 (the spec's default, so the mixes are far
enough from their candidates to see) and maps three queries with PCA and UMAP.
"""

from __future__ import annotations

import numpy as np
import torch

from demix_core.experiments.base import Context, fit

DATASET, ALPHA, QUERIES = "umls", 0.5, 3


def _inspect(model, kg) -> dict:
    from demix_core.analysis import mix_layout
    from demix_core.config import recommended_demix
    from demix_core.lens import demix_lens
    from demix_core.projection import fit_projection

    mu = recommended_demix(DATASET, "rotate").get("mu", 1.0)
    g = torch.Generator().manual_seed(0)
    pos = kg.train[torch.randperm(len(kg.train), generator=g)[:256]]
    res = demix_lens(model, kg, pos, mu=mu, alpha=ALPHA, k=32, side="tail", seed=0)
    mpn, tn = res.is_mpn, ~res.is_mpn
    pat = res.pattern_scores[res.pattern_mask]

    def m(x, mask):
        return float(x[mask].mean()) if bool(mask.any()) else None

    # the MPN/TN rows with the most MPNs make the clearest maps
    rows = torch.argsort(-(mpn.sum(1) * 100 + tn.sum(1).clamp(max=99)))[:QUERIES].tolist()
    table = model.entity.detach().float().numpy()
    maps = {}
    for method in ("pca", "umap"):
        proj = fit_projection(table, method, seed=0)
        frame = mix_layout(res, proj, table, kg, rows)
        maps[method] = frame.to_dict(orient="list")
    return {
        "mu": mu,
        "alpha": ALPHA,
        "n_mpn": int(mpn.sum()),
        "n_tn": int(tn.sum()),
        "score_positive": float(pat.mean()),
        "score_mpn": m(res.cand_scores, mpn),
        "score_partially_positive": m(res.mixed_scores, mpn),
        "score_tn": m(res.cand_scores, tn),
        "score_harder_negative": m(res.mixed_scores, tn),
        "tn_mixed_above_candidate": m((res.mixed_scores > res.cand_scores).float(), tn),
        "mpn_mixed_above_candidate": m((res.mixed_scores > res.cand_scores).float(), mpn),
        "maps": maps,
    }


def run(ctx: Context) -> dict:
    r = fit(ctx, DATASET, "rotate", "demix", ctx.seeds[0], valid=False, inspect=_inspect)
    return {"dataset": DATASET, "test_mrr": r["test"]["mrr"], **r["inspect"]}


def table(data: dict) -> list[dict]:
    return [
        {
            "triples": "known positives (pattern answers)",
            "n": None,
            "mean score": data["score_positive"],
        },
        {"triples": "MPN candidates", "n": data["n_mpn"], "mean score": data["score_mpn"]},
        {
            "triples": "partially positive (MPN mixed)",
            "n": data["n_mpn"],
            "mean score": data["score_partially_positive"],
        },
        {"triples": "TN candidates", "n": data["n_tn"], "mean score": data["score_tn"]},
        {
            "triples": "harder negatives (TN mixed)",
            "n": data["n_tn"],
            "mean score": data["score_harder_negative"],
        },
    ]


def conclude(data: dict) -> str:
    tn_up = data["tn_mixed_above_candidate"]
    parts = [
        f"At alpha {data['alpha']:g}, mixing a true negative with a harder TN raises its score in "
        f"{tn_up:.0%} of cases (mean {data['score_tn']:.2f} -> {data['score_harder_negative']:.2f}): "
        "harder negatives, as AdaMix intends."
    ]
    if data["score_mpn"] is not None:
        parts.append(
            f" Partially positive triples score {data['score_partially_positive']:.2f} on average, "
            f"between their MPN candidates ({data['score_mpn']:.2f}) and the known positives "
            f"({data['score_positive']:.2f})"
            if min(data["score_mpn"], data["score_positive"])
            <= data["score_partially_positive"]
            <= max(data["score_mpn"], data["score_positive"])
            else f" Partially positive triples score {data['score_partially_positive']:.2f}, "
            f"outside the range of their MPN candidates ({data['score_mpn']:.2f}) and the "
            f"positives ({data['score_positive']:.2f})"
        )
        parts.append(f"; {data['n_mpn']} of {data['n_mpn'] + data['n_tn']} candidates were MPNs.")
    return "".join(parts)


def figures(data: dict) -> list:
    import pandas as pd

    from demix_core.lens_plots import projection_figure

    figs = []
    for method, cols in data["maps"].items():
        frame = pd.DataFrame(cols)
        for c in frame.columns:
            if c.endswith(("_x", "_y")):
                frame[c] = np.asarray(frame[c], dtype=float)
        title = f"{method.upper()}: {QUERIES} queries, candidates -> mixed points -> partners"
        figs.append(projection_figure(frame, None, title))
    return figs
