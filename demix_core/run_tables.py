"""Pure tables and labels of runs for the app's pages (no Streamlit here): a run is a
`RunStore.records()` dict; the pages add widgets and caching on top."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from demix_core.errors import DemixError


def label(run: dict) -> str:
    if run["status"] == "example":
        return f"{run['name']} · read-only example"
    return f"{run['name']} · {run['status']} · {run['id'][-6:]}"


def short(run: dict) -> str:
    return f"{run['name']} ({run['id'][-6:]})"


def duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def timing(run: dict, now: float | None = None) -> tuple[float | None, float | None]:
    """(elapsed, remaining) seconds: remaining from the run's own pace (training seconds
    per step, which survives resumes), elapsed in wall time since it started."""
    now = now or time.time()
    if not run.get("started_at"):
        return None, None
    elapsed = (run.get("finished_at") or now) - run["started_at"]
    if run["status"] != "running":
        return elapsed, None
    trained = (run.get("metrics") or {}).get("seconds") or elapsed
    done = run["step"]
    return elapsed, (trained / done * (run["steps"] - done) if done else None)


def runs_table(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        elapsed, remaining = timing(r)
        m, f = r.get("metrics") or {}, r.get("final") or {}
        rows.append(
            {
                "name": r["name"],
                "status": r["status"],
                "progress": r["progress"],
                "step": f"{r['step']}/{r['steps']}",
                "elapsed": duration(elapsed),
                "remaining": duration(remaining),
                "valid MRR": m.get("valid_mrr"),
                "test MRR": f.get("mrr"),
                "sampler": r["sampler"],
                "dataset": Path(str(r["dataset"])).name,
                "id": r["id"],
            }
        )
    return pd.DataFrame(rows)


def sampler_settings(sampler: str, options: dict) -> dict:
    """Every option of a run's sampler, defaults filled in (what the run really used)."""
    from demix_core.sampling.registry import make_sampler_options  # torch: load late

    try:
        return asdict(make_sampler_options(sampler, options))
    except DemixError:
        return dict(options)


def settings_table(runs: list[dict]) -> pd.DataFrame:
    """Settings and last metrics of each run, one row per run."""
    rows = []
    for r in runs:
        cfg, m, f = r["config"], r["metrics"], r["final"]
        opts = sampler_settings(r["sampler"], cfg.get("sampler_options") or {})
        rows.append(
            {
                "run": short(r),
                "status": r["status"],
                "dataset": Path(str(r["dataset"])).name,
                "model": r["model"],
                "sampler": r["sampler"],
                "base": opts.get("base_sampler"),
                "mu": opts.get("mu"),
                "alpha": opts.get("alpha"),
                "steps": r["step"],
                "last valid MRR": m.get("valid_mrr"),
                "test MRR": f.get("mrr"),
                "test Hits@1": f.get("hits@1"),
                "test Hits@3": f.get("hits@3"),
                "test Hits@10": f.get("hits@10"),
                "training s": f.get("train_seconds", m.get("seconds")),
                "dim": cfg["dim"],
                "negatives": cfg["negatives"],
                "lr": cfg["lr"],
            }
        )
    return pd.DataFrame(rows)
