"""`benchmarks` (the paper's main table): FB15k-237 and WN18RR, equal steps per sampler.

Quick budget: RotatE against every sampler and HAKE against uniform + self-adversarial and
DeMix, 2,000 steps at dim 100 (QUICK_LARGE's settings), so the absolute figures sit well below
the published ones, which are shown beside them for scale (RotatE, Sun et al. 2019; HAKE, Zhang
et al. 2020; self-adversarial sampling, full training). `--budget full`: all five models
against every sampler at the recommended defaults. DeMix over RW-SANS tests the paper's
"pluggable" claim.
"""

from __future__ import annotations

from demix_core.experiments.base import Context, mean_or_none
from demix_core.experiments.figs import bars
from demix_core.experiments.pool import fit_many, job

DATASETS = ("fb15k-237", "wn18rr")
SAMPLERS = {
    "uniform+adv": ("uniform", {}),
    "DeMix": ("demix", {}),
    "NSCaching": ("nscaching", {}),
    "RW-SANS": ("rw-sans", {}),
    "DeMix over RW-SANS": ("demix", {"base_sampler": "rw-sans"}),
    "CANS": ("cans", {}),
    "ESNS": ("esns", {}),
}
# Quick budget: RotatE against every sampler, HAKE (the paper's fifth model) against its base
# and DeMix; the full budget runs every model against every sampler.
QUICK_GRID = {"rotate": tuple(SAMPLERS), "hake": ("uniform+adv", "DeMix")}
MODELS = ("transe", "distmult", "complex", "rotate", "hake")
# (dataset, model) -> (MRR, Hits@10) published with self-adversarial sampling: RotatE (Sun et
# al., ICLR 2019) and HAKE (Zhang et al., AAAI 2020).
PUBLISHED = {
    ("fb15k-237", "rotate"): (0.338, 0.533),
    ("wn18rr", "rotate"): (0.476, 0.571),
    ("fb15k-237", "hake"): (0.346, 0.542),
    ("wn18rr", "hake"): (0.497, 0.582),
}


def run(ctx: Context) -> dict:
    grid = {m: tuple(SAMPLERS) for m in MODELS} if ctx.budget == "full" else QUICK_GRID
    seed = ctx.seeds[0]
    runs, plan = [], []  # plan: (index in runs, job) of the rows to train
    for dataset in ctx.large(DATASETS):
        for model, names in ctx.take(grid.items(), 2):
            for name in ctx.take(names, len(SAMPLERS)):
                sampler, options = SAMPLERS[name]
                ident = {"dataset": dataset, "model": model, "sampler": name}
                prior = ctx.kept(**ident)
                if prior is None:
                    plan.append(
                        (len(runs), job(dataset, model, sampler, seed, options, valid=False))
                    )
                runs.append(prior or ident)
    for (i, _), r in zip(plan, fit_many(ctx, [j for _, j in plan]), strict=True):
        runs[i] = {**runs[i], **scored_row(r)}
    return {"runs": runs, "published": {f"{d}|{m}": v for (d, m), v in PUBLISHED.items()}}


def scored_row(r: dict) -> dict:
    """A `fit` result as a table row: test MRR and Hits@1/3/10, steps, training seconds and
    DeMix's diagnostics at the end of training (None for the other samplers): how many
    flagged MPNs were known true facts, against guessing."""
    t = r["test"]
    hits = {k: t.get(k) for k in ("hits@1", "hits@3", "hits@10")}
    timing = {"steps": r["steps"], "train_seconds": r["seconds"]}
    return {"mrr": t["mrr"], **hits, **timing, **diagnostics(r["history"])}


def diagnostics(history: list[dict], last: int = 5) -> dict:
    """DeMix's end-of-training diagnostics, averaged over the `last` training records: the
    share of candidates MPNE flags, and the flags' precision against known true facts beside
    the precision of guessing (None for samplers without MPNE)."""
    recs = [h for h in history[-last:] if h.get("n_mpn") is not None]

    return {
        "mpn_share": mean_or_none(h["n_mpn"] / max(h["n_mpn"] + h["n_tn"], 1) for h in recs),
        "mpne_precision": mean_or_none(h.get("mpne_precision") for h in recs),
        "guess_precision": mean_or_none(h.get("guess_precision") for h in recs),
    }


def table(data: dict) -> list[dict]:
    rows = []
    for r in data["runs"]:
        pub = data["published"].get(f"{r['dataset']}|{r['model']}")
        rows.append(
            {
                "dataset": r["dataset"],
                "model": r["model"],
                "sampler": r["sampler"],
                "MRR": r["mrr"],
                "H@1": r["hits@1"],
                "H@3": r["hits@3"],
                "H@10": r["hits@10"],
                "steps": r["steps"],
                "train s": r["train_seconds"],
                "published MRR / H@10": f"{pub[0]:.3f} / {pub[1]:.3f}"
                if pub and r["sampler"] == "uniform+adv"
                else "",
            }
        )
    return rows


def conclude(data: dict) -> str:
    parts = []
    for d, m in dict.fromkeys((r["dataset"], r["model"]) for r in data["runs"]):
        by = {r["sampler"]: r for r in data["runs"] if r["dataset"] == d and r["model"] == m}
        best = max(by, key=lambda s: by[s]["mrr"])
        part = f"{d} {m}: best {best} ({by[best]['mrr']:.3f})"
        if "DeMix" in by and "uniform+adv" in by:
            gap = by["DeMix"]["mrr"] - by["uniform+adv"]["mrr"]
            slow = by["DeMix"]["train_seconds"] / max(by["uniform+adv"]["train_seconds"], 1e-9)
            part += f"; DeMix {gap:+.3f} over uniform+adv at {slow:.1f}x its training time"
            part += trailing_note(by["DeMix"]) if gap < 0 else ""
        if "DeMix over RW-SANS" in by and "RW-SANS" in by:
            plug = by["DeMix over RW-SANS"]["mrr"] - by["RW-SANS"]["mrr"]
            part += f", {plug:+.3f} over RW-SANS"
        parts.append(part)
    budget = "" if not data["runs"] else f" (equal {data['runs'][0]['steps']} steps)"
    return "; ".join(parts) + budget + "."


def trailing_note(row: dict) -> str:
    """Where DeMix trails: what MPNE was doing at the end of training."""
    if row.get("mpn_share") is None or row.get("mpne_precision") is None:
        return ""
    guess = row.get("guess_precision")
    vs = f", guessing {guess:.1%}" if guess is not None else ""
    return (
        f" (MPNE flagged {row['mpn_share']:.1%} of the candidates, {row['mpne_precision']:.1%} "
        f"of them known true facts{vs})"
    )


def figures(data: dict) -> list:
    rows = [
        {"dataset": f"{r['dataset']} {r['model']}", "sampler": r["sampler"], "mrr": r["mrr"]}
        for r in data["runs"]
    ]
    return [bars(rows, "dataset", "mrr", "sampler", "Test MRR at equal steps")]
