"""`convergence`: valid MRR against steps and against wall-clock seconds, base vs DeMix.

RotatE; the seeds on the three small KGs (bands = +-1 std), one seed on FB15k-237 and WN18RR.
DeMix runs at the recommended mu and alpha; a DeMix step costs more, so the seconds axis is
the fair one for "quality per second".
"""

from __future__ import annotations

from demix_core.experiments.base import (
    SMALL,
    Context,
    datasets,
    full_curve,
    mean,
    scores,
    select,
)
from demix_core.experiments.figs import curves
from demix_core.experiments.pool import fit_many, job

LARGE = ("fb15k-237", "wn18rr")
SAMPLERS = {"uniform+adv": "uniform", "DeMix": "demix"}


def run(ctx: Context) -> dict:
    plan = []
    for dataset in ctx.take(SMALL) + ctx.large(LARGE):
        large = dataset in LARGE or dataset in ctx.large(LARGE)
        seeds = ctx.seeds[:1] if large else ctx.seeds
        every = ctx.settings(dataset).get("eval_every") or (2000 if large else 100)
        for seed in seeds:
            for name, sampler in SAMPLERS.items():
                plan.append((name, job(dataset, "rotate", sampler, seed, eval_every=every)))
    # one run at a time: the seconds axis is what this experiment measures
    results = fit_many(ctx, [j for _, j in plan], timed=True)
    runs = [
        {
            "dataset": j["dataset"],
            "seed": j["seed"],
            "sampler": name,
            "curve": full_curve(r),
            **scores(r),
            "seconds": r["seconds"],
        }
        for (name, j), r in zip(plan, results, strict=True)
    ]
    return {"runs": runs}


def table(data: dict) -> list[dict]:
    rows = []
    for d in datasets(data):
        row = {"dataset": d}
        for s in SAMPLERS:
            sel = select(data, dataset=d, sampler=s)
            row[f"valid MRR {s}"] = mean(r["valid_mrr"] for r in sel)
            row[f"train s {s}"] = mean(r["seconds"] for r in sel)
        row["DeMix at base's seconds"] = at_seconds(data, d)
        rows.append(row)
    return rows


def at_seconds(data: dict, dataset: str) -> float | None:
    """DeMix's valid MRR (seed mean) at the last evaluation within the base's training time:
    quality at equal wall-clock, read off the curve."""
    budget = mean(r["seconds"] for r in select(data, dataset=dataset, sampler="uniform+adv"))
    values = []
    for r in select(data, dataset=dataset, sampler="DeMix"):
        within = [p["mrr"] for p in r["curve"] if p["seconds"] <= budget * 1.001]
        if within:
            values.append(within[-1])
    return mean(values) if values else None


def conclude(data: dict) -> str:
    steps_ahead, secs_ahead, n = [], [], 0
    for row in table(data):
        n += 1
        if row["valid MRR DeMix"] >= row["valid MRR uniform+adv"]:
            steps_ahead.append(row["dataset"])
        at = row["DeMix at base's seconds"]
        if at is not None and at >= row["valid MRR uniform+adv"]:
            secs_ahead.append(row["dataset"])
    return (
        f"At equal steps DeMix ends with the higher valid MRR on {len(steps_ahead)} of {n} "
        f"datasets ({', '.join(steps_ahead) or 'none'}); at the base's wall-clock time (its "
        f"steps cost more) on {len(secs_ahead)} of {n} ({', '.join(secs_ahead) or 'none'})."
    )


def figures(data: dict) -> list:
    figs = []
    for d in datasets(data):
        groups = {s: [r["curve"] for r in select(data, dataset=d, sampler=s)] for s in SAMPLERS}
        figs.append(curves(groups, "step", f"{d}: valid MRR against steps"))
        figs.append(curves(groups, "seconds", f"{d}: valid MRR against training seconds"))
    return figs
