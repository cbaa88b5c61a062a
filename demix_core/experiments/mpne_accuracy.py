"""`mpne-accuracy`: inject known false negatives and see how well MPNE finds them.

A fraction of a real KG's train triples is hidden (`umls:hide=0.3,seed=0`: true facts the
model never sees). DeMix trains on the rest; MPNE's precision and recall at spotting sampled
negatives that are known true facts (hidden + valid + test) are logged during training and,
on the final model, over mu. The base sampler's false-negative rate is the precision of
guessing. Also: the pattern cap P (32, 128, all) against precision, recall and step time.
"""

from __future__ import annotations

import torch

from demix_core.experiments.base import Context, fit, mean
from demix_core.experiments.figs import PALETTE

DATASETS = ("umls", "kinships", "fb15k-237")
HIDE = (0.1, 0.3)
MUS = (0.0, 0.5, 1.0, 3.0, 5.0)
CAPS = {"32": 32, "128": 128, "all": None}  # None: the largest pattern of the dataset
CAP_DATASETS = ("umls", "fb15k-237")
TAIL = 5  # training records averaged for the end-of-training figures


def _mu_curve(model, kg) -> list[dict]:
    from demix_core.lens import demix_lens, pr_curve

    g = torch.Generator().manual_seed(0)
    pos = kg.train[torch.randperm(len(kg.train), generator=g)[:512]]
    lens = demix_lens(model, kg, pos, mu=1.0, alpha=1.0, k=64, side="both", seed=0)
    keep = ~lens.is_train_positive
    fn_rate = float(lens.is_true[keep].double().mean())
    return [
        {"mu": mu, "precision": p, "recall": r, "n_mpn": n, "fn_rate": fn_rate}
        for mu, p, r, n in pr_curve(lens, MUS)
    ]


def largest_pattern(dataset: str) -> int:
    """The most train answers any (h, r, ?) or (?, r, t) pattern has: a cap that keeps all.
    (A huge constant instead would pad every row to it: B x cap ids, gigabytes.)"""
    from demix_core.data import load_dataset
    from demix_core.kg import KGIndex

    index = KGIndex.build(load_dataset(dataset))
    return int(max((p.offsets[1:] - p.offsets[:-1]).max() for p in (index.tails, index.heads)))


def _tail(history, key):
    return mean(h.get(key) for h in history[-TAIL:])


def _record(dataset, hide, cap, r) -> dict:
    return {
        "dataset": dataset,
        "hide": hide,
        "cap": cap,
        "precision": _tail(r["history"], "mpne_precision"),
        "recall": _tail(r["history"], "mpne_recall"),
        "fn_rate": _tail(r["history"], "fn_rate"),
        # the precision of guessing over the candidates MPNE's precision is measured on
        # (those that are not train positives; `training.truth_stats`)
        "guess": _tail(r["history"], "guess_precision"),
        "ms_per_step": 1000 * r["seconds"] / max(r["steps"], 1),
        "over_steps": [
            {
                k: h.get(k)
                for k in ("step", "mpne_precision", "mpne_recall", "fn_rate", "guess_precision")
            }
            for h in r["history"]
        ],
        "over_mu": r.get("inspect"),
        "test_mrr": r["test"]["mrr"],
    }


def run(ctx: Context) -> dict:
    runs = []
    seed = ctx.seeds[0]
    for dataset in ctx.take(DATASETS[:-1]) + ctx.large(DATASETS[-1:]):
        for hide in HIDE:
            name = f"{dataset}:hide={hide:g},seed=0"
            if (prior := ctx.kept(dataset=dataset, hide=hide, cap="32")) is not None:
                runs.append(prior)
                continue
            r = fit(ctx, name, "rotate", "demix", seed, {"mu": 1.0}, valid=False, inspect=_mu_curve)
            runs.append(_record(dataset, hide, "32", r))
    for dataset in ctx.take(CAP_DATASETS[:-1]) + ctx.large(CAP_DATASETS[-1:]):
        for cap, value in ctx.take(CAPS.items(), 2):
            if cap == "32":
                continue
            if (prior := ctx.kept(dataset=dataset, hide=0.3, cap=cap)) is not None:
                runs.append(prior)
                continue
            name = f"{dataset}:hide=0.3,seed=0"
            opts = {"mu": 1.0, "pattern_cap": value or largest_pattern(name)}
            r = fit(ctx, name, "rotate", "demix", seed, opts, valid=False)
            runs.append(_record(dataset, 0.3, cap, r))
    return {"runs": runs}


def guess(r: dict) -> float:
    """The precision of guessing of a row (rows made before `guess_precision` existed carry
    only the false-negative rate over all candidates, train positives included)."""
    return r["guess"] if r.get("guess") is not None else r["fn_rate"]


def lift(r: dict) -> float | None:
    return r["precision"] / guess(r) if guess(r) else None


def final_lift(r: dict) -> float | None:
    """Precision / guess at mu 1 on the final model (the lens, train positives left out)."""
    at = [p for p in r.get("over_mu") or [] if p["mu"] == 1.0]
    return at[0]["precision"] / at[0]["fn_rate"] if at and at[0]["fn_rate"] else None


def table(data: dict) -> list[dict]:
    rows = []
    for r in data["runs"]:
        rows.append(
            {
                "dataset": r["dataset"],
                "hidden": r["hide"],
                "P": r["cap"],
                "MPNE precision": r["precision"],
                "guess precision": guess(r),
                "precision / guess": lift(r),
                "final model, lens: precision / guess": final_lift(r),
                "recall": r["recall"],
                "ms/step": r["ms_per_step"],
            }
        )
    return rows


def conclude(data: dict) -> str:
    main = [r for r in data["runs"] if r["cap"] == "32"]
    parts = []
    for r in main:
        if r["hide"] == 0.3:
            end = final_lift(r)
            end = f", {end:.0f}x on the final model" if end is not None else ""
            parts.append(f"{r['dataset']} {lift(r):.0f}x (recall {r['recall']:.2f}{end})")
    caps = {}
    for r in data["runs"]:
        if r["hide"] == 0.3 and r["dataset"] in CAP_DATASETS:
            caps.setdefault(r["dataset"], {})[r["cap"]] = r
    cap_text = []
    for d, by in caps.items():
        if {"32", "all"} <= set(by):
            a, b = by["32"], by["all"]
            cap_text.append(
                f"{d}: P=all vs 32 recall {b['recall']:.2f} vs {a['recall']:.2f}, "
                f"{b['ms_per_step'] / a['ms_per_step']:.2f}x the step time"
            )
    if not parts:
        return "No run with 30% of train hidden."
    return (
        "With 30% of train hidden, MPNE at mu 1 flags true facts at this multiple of the "
        "precision of guessing (the base sampler's false-negative rate among candidates that "
        "are not train positives), at the end of training: "
        + ", ".join(parts)
        + ". "
        + ("; ".join(cap_text) + "." if cap_text else "")
    )


def figures(data: dict) -> list:
    import plotly.graph_objects as go

    over_mu = go.Figure()
    for i, r in enumerate(x for x in data["runs"] if x["cap"] == "32" and x["over_mu"]):
        color = PALETTE[i % len(PALETTE)]
        name = f"{r['dataset']} hide {r['hide']:g}"
        mus = [p["mu"] for p in r["over_mu"]]
        over_mu.add_scatter(
            x=mus,
            y=[p["precision"] for p in r["over_mu"]],
            name=f"{name} precision",
            line={"color": color},
        )
        over_mu.add_scatter(
            x=mus,
            y=[p["recall"] for p in r["over_mu"]],
            name=f"{name} recall",
            line={"color": color, "dash": "dot"},
        )
    over_mu.update_layout(
        title="MPNE precision and recall over mu (final model)", xaxis_title="mu", height=380
    )
    over_steps = go.Figure()
    for i, r in enumerate(x for x in data["runs"] if x["cap"] == "32"):
        color = PALETTE[i % len(PALETTE)]
        steps = [h["step"] for h in r["over_steps"]]
        lifts = [
            (h["mpne_precision"] / base)
            if h["mpne_precision"] is not None and (base := h.get("guess_precision", h["fn_rate"]))
            else None
            for h in r["over_steps"]
        ]
        over_steps.add_scatter(
            x=steps, y=lifts, name=f"{r['dataset']} hide {r['hide']:g}", line={"color": color}
        )
    over_steps.update_layout(
        title="MPNE precision / precision of guessing during training (mu 1)",
        xaxis_title="step",
        yaxis_title="x the precision of guessing",
        yaxis_type="log",
        height=380,
    )
    return [over_steps, over_mu]
