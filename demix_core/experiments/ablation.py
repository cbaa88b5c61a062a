"""`ablation`: DeMix against its base and against itself with one part switched off.

Three small KGs x RotatE and TransE x the seeds, equal steps. DeMix runs at the recommended
mu and alpha (`config.DEMIX_DEFAULTS`, picked on valid by `sensitivity`); the ablations change
one switch of the spec each. This is also the evidence for "DeMix >= its base on all six pairs".
"""

from __future__ import annotations

from demix_core.experiments.base import (
    SMALL,
    Context,
    demix_options,
    mean,
    scores,
    select,
    std,
)
from demix_core.experiments.figs import bars
from demix_core.experiments.pool import fit_many, job

VARIANTS = {
    "uniform+adv": ("uniform", {}),
    "DeMix": ("demix", {}),
    "no MPNE": ("demix", {"mpne": False}),
    "no AdaMix": ("demix", {"adamix": False}),
    "random partners": ("demix", {"partner": "random"}),
    "Beta lambda": ("demix", {"lambda_mode": "beta"}),
}
MODELS = ("rotate", "transe")


def run(ctx: Context) -> dict:
    plan = [
        (variant, job(dataset, model, sampler, seed, options))
        for dataset in ctx.take(SMALL)
        for model in ctx.take(MODELS)
        for seed in ctx.seeds
        for variant, (sampler, options) in ctx.take(VARIANTS.items(), 3)
    ]
    runs = []
    for (variant, j), r in zip(plan, fit_many(ctx, [j for _, j in plan]), strict=True):
        runs.append(
            {
                **{k: j[k] for k in ("dataset", "model", "seed")},
                "variant": variant,
                "options": demix_options(j["dataset"], j["model"], j["sampler"], j["options"]),
                **scores(r),
                "test_h10": r["test"]["hits@10"],
                "fn_rate": r["last"].get("fn_rate"),
                "mpne_precision": r["last"].get("mpne_precision"),
                "seconds": r["seconds"],
            }
        )
    return {"runs": runs}


def table(data: dict) -> list[dict]:
    rows = []
    pairs = list(dict.fromkeys((r["dataset"], r["model"]) for r in data["runs"]))
    for dataset, model in pairs:
        row = {"dataset": dataset, "model": model}
        for variant in VARIANTS:
            values = [
                r["test_mrr"] for r in select(data, dataset=dataset, model=model, variant=variant)
            ]
            row[variant] = f"{mean(values):.3f} ± {std(values):.3f}" if values else "-"
        demix = select(data, dataset=dataset, model=model, variant="DeMix")
        if demix:
            opts = demix[0]["options"]
            row["mu, alpha"] = f"{opts.get('mu', 1.0):g}, {opts.get('alpha', 0.5):g}"
        rows.append(row)
    return rows


def gaps(data: dict) -> list[tuple[str, str, float]]:
    """(dataset, model, mean DeMix test MRR - mean uniform+adv) per pair."""
    out = []
    pairs = list(dict.fromkeys((r["dataset"], r["model"]) for r in data["runs"]))
    for dataset, model in pairs:
        d = mean(r["test_mrr"] for r in select(data, dataset=dataset, model=model, variant="DeMix"))
        b = mean(
            r["test_mrr"] for r in select(data, dataset=dataset, model=model, variant="uniform+adv")
        )
        out.append((dataset, model, d - b))
    return out


def conclude(data: dict) -> str:
    g = gaps(data)
    ahead = [x for x in g if x[2] >= 0]
    behind = [f"{d} {m} ({v:+.3f})" for d, m, v in g if v < 0]
    parts = [
        f"At the recommended mu and alpha, DeMix's mean test MRR is at least its base's "
        f"(uniform + self-adversarial) in {len(ahead)} of {len(g)} pairs"
        + (f"; behind in {', '.join(behind)}" if behind else "")
        + "."
    ]
    # which switch costs most, averaged over pairs
    loss = {}
    present = dict.fromkeys(r["variant"] for r in data["runs"])
    for variant in present:
        if variant in ("DeMix", "uniform+adv"):
            continue
        diffs = []
        for dataset, model, _ in g:
            d = mean(
                r["test_mrr"] for r in select(data, dataset=dataset, model=model, variant="DeMix")
            )
            v = mean(
                r["test_mrr"] for r in select(data, dataset=dataset, model=model, variant=variant)
            )
            diffs.append(d - v)
        loss[variant] = mean(diffs)
    if not loss:
        return "".join(parts)
    worst = max(loss, key=loss.get)
    parts.append(
        " Removing a part costs on average: "
        + ", ".join(f"{k} {v:+.3f}" for k, v in loss.items())
        + f" (DeMix minus variant; the largest loss: {worst})."
    )
    return "".join(parts)


def figures(data: dict) -> list:
    figs = []
    for model in MODELS:
        rows = []
        for dataset in SMALL:
            for variant in VARIANTS:
                v = [
                    r["test_mrr"]
                    for r in select(data, dataset=dataset, model=model, variant=variant)
                ]
                if v:
                    rows.append(
                        {"dataset": dataset, "variant": variant, "mrr": mean(v), "sd": std(v)}
                    )
        if rows:
            figs.append(
                bars(rows, "dataset", "mrr", "variant", f"Ablation, {model}: test MRR", err="sd")
            )
    return figs
