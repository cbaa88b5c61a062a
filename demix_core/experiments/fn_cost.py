"""`fn-cost` (the paper's Figure 1b, "normal vs leakage"): what false negatives cost.

Uniform + self-adversarial training three ways, same seeds: *normal*; *oracle-filtered* (the
known true facts absent from train are redrawn out of the negatives: valid + test on a real
KG, also the hidden facts on the synthetic one); *leakage* (each negative becomes a known true
fact of its pattern with probability LEAK, where the pattern has one). Valid MRR against steps.
The oracle bounds what any denoising sampler can gain. On a real KG the oracle also keeps the
evaluation's own facts out of the negatives, so its valid MRR is an upper bound, not a method.
"""

from __future__ import annotations

from demix_core.experiments.base import Context, datasets, full_curve, mean, scores
from demix_core.experiments.figs import curves
from demix_core.experiments.pool import fit_many, job

LEAK = 0.05
DATASETS = ("synthetic", "umls", "kinships", "fb15k-237")
MODES = {
    "oracle-filtered": ("oracle", {"oracle_mode": "filter"}),
    "normal": ("uniform", {}),
    "leakage": ("oracle", {"oracle_mode": "leak", "leak_rate": LEAK}),
}


def run(ctx: Context) -> dict:
    plan = []
    for dataset in ctx.take(DATASETS[:-1]) + ctx.large(DATASETS[-1:]):
        large = dataset == "fb15k-237"
        seeds = ctx.seeds[:1] if large and ctx.budget == "quick" else ctx.seeds
        every = ctx.settings(dataset).get("eval_every") or (1000 if large else 100)
        for seed in seeds:
            for mode, (sampler, options) in MODES.items():
                plan.append(
                    (mode, job(dataset, "rotate", sampler, seed, options, eval_every=every))
                )
    runs = [
        {
            "dataset": j["dataset"],
            "seed": j["seed"],
            "mode": mode,
            "curve": full_curve(r),
            **scores(r),
            "fn_rate": r["last"].get("fn_rate"),
        }
        for (mode, j), r in zip(plan, fit_many(ctx, [j for _, j in plan]), strict=True)
    ]
    return {"runs": runs, "leak_rate": LEAK}


def _mean(data, dataset, mode, key):
    return mean(r[key] for r in data["runs"] if r["dataset"] == dataset and r["mode"] == mode)


def table(data: dict) -> list[dict]:
    rows = []
    for d in datasets(data):
        row = {"dataset": d, "seeds": len({r["seed"] for r in data["runs"] if r["dataset"] == d})}
        for mode in MODES:
            row[f"valid MRR {mode}"] = _mean(data, d, mode, "valid_mrr")
        for mode in MODES:
            row[f"FN rate {mode}"] = _mean(data, d, mode, "fn_rate")
        rows.append(row)
    return rows


def ordered(data: dict, dataset: str) -> bool:
    """oracle-filtered >= normal >= leakage in final valid MRR (seed means)."""
    oracle, normal, leak = (_mean(data, dataset, m, "valid_mrr") for m in MODES)
    return oracle >= normal >= leak


def conclude(data: dict) -> str:
    good = [d for d in datasets(data) if ordered(data, d)]
    bad = [d for d in datasets(data) if not ordered(data, d)]
    gains = ", ".join(
        f"{d} {_mean(data, d, 'oracle-filtered', 'valid_mrr') - _mean(data, d, 'normal', 'valid_mrr'):+.3f}"
        for d in datasets(data)
    )
    costs = ", ".join(
        f"{d} {_mean(data, d, 'leakage', 'valid_mrr') - _mean(data, d, 'normal', 'valid_mrr'):+.3f}"
        for d in datasets(data)
    )
    text = (
        f"Oracle-filtered >= normal >= leakage in final valid MRR on {len(good)} of "
        f"{len(good) + len(bad)} datasets"
        + (f" (not on {', '.join(bad)})" if bad else "")
        + f". Removing the known false negatives gains {gains}; forcing them in at rate "
        f"{data['leak_rate']:g} costs {costs}: the first is the most any denoising sampler "
        f"can win at this budget."
    )
    return text


def figures(data: dict) -> list:
    figs = []
    for d in datasets(data):
        groups = {
            mode: [r["curve"] for r in data["runs"] if r["dataset"] == d and r["mode"] == mode]
            for mode in MODES
        }
        figs.append(curves(groups, "step", f"{d}: valid MRR, normal vs oracle vs leakage"))
    return figs
