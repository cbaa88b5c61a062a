"""What an experiment is, and the run helper every experiment trains through.

An experiment is a plain record of functions: `run(ctx) -> data` trains and measures (JSON-
ready numbers only), `table(data) -> rows`, `conclude(data) -> sentence` and
`figures(data) -> [go.Figure]` read those numbers, so a page or a report redraws everything
from `results.json` without training, and a re-run that says otherwise reads otherwise.
"""

from __future__ import annotations

import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BUDGETS = ("quick", "full", "smoke")  # smoke: a few steps of each path, for CI
SMALL = ("nations", "umls", "kinships")
# The quick budget's training settings on the three small KGs: 600 steps of 256 positives
# x 32 negatives at dim 64 (2-10 s a run on 2 cores); full = the recommended defaults.
QUICK_SMALL = {"steps": 600, "dim": 64, "negatives": 32, "batch_size": 256, "lr": 0.005}
# The quick budget on FB15k-237 / WN18RR: a few epochs at dim 100.
# compile "on": the compiled all-entity scoring evaluates FB15k-237 several times faster
QUICK_LARGE = {
    "steps": 3000,
    "dim": 100,
    "negatives": 64,
    "batch_size": 512,
    "eval_every": 1000,
    "compile": "on",
}
SMOKE = {"steps": 20, "dim": 8, "negatives": 8, "batch_size": 64, "eval_every": 10}


@dataclass
class Context:
    """What `run` gets: the budget, seeds, device, and where to say how far it is."""

    budget: str = "quick"
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "auto"
    progress: Callable[[str], None] = lambda message: None
    # finished runs by what they trained (`pool.run_key`): shared by the experiments of one
    # `experiment all`, so a run two experiments need trains once
    cache: dict = field(default_factory=dict)
    jobs: int = 1  # runs trained at once, each in its own process (`pool.fit_many`)
    scratch: Path | None = None  # where `pool` keeps the cached runs' checkpoints
    # `--keep FIELD=V1,V2`: rows of the previous results whose FIELD is one of the values are
    # kept as they are instead of re-trained (an experiment that supports it calls `kept`)
    keep: dict[str, set] = field(default_factory=dict)
    previous: list[dict] = field(default_factory=list)
    previous_created: str = ""  # when the previous results were made
    large_quick: dict = field(default_factory=dict)  # the experiment's QUICK_LARGE overrides

    def kept(self, **ident) -> dict | None:
        """The previous row with these identifying fields, when `keep` names one of them."""
        if not any(str(ident.get(f)) in values for f, values in self.keep.items()):
            return None
        for row in self.previous:
            if all(row.get(k) == v for k, v in ident.items()):
                self.progress(f"kept {' '.join(map(str, ident.values()))} from the last run")
                return {**row, "kept_from": row.get("kept_from") or self.previous_created}
        return None

    def settings(self, dataset: str) -> dict:
        """Training overrides of this budget for `dataset` (empty = recommended defaults)."""
        from demix_core.compile import forbidden

        off = {"compile": "off"} if forbidden() else {}  # what training will do: say so
        if self.budget == "full":
            return off
        if self.budget == "smoke":
            return {**SMOKE, **off}
        base = dataset.split(":")[0]
        if base in SMALL or base.startswith("synthetic"):
            return {**QUICK_SMALL, **off}
        return {**QUICK_LARGE, **self.large_quick, **off}

    def large(self, datasets) -> tuple:
        """FB15k-237 / WN18RR, or Nations at the smoke budget (same code path, seconds)."""
        return ("nations",) if self.budget == "smoke" else tuple(datasets)

    def take(self, values, n: int = 1) -> tuple:
        """`values`, or only the first `n` of them at the smoke budget."""
        return tuple(values)[:n] if self.budget == "smoke" else tuple(values)


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    question: str  # one line: what it answers
    estimate: dict  # budget -> estimated seconds on 2 CPU cores (measured, see docs/results)
    run: Callable[[Context], dict]
    table: Callable[[dict], list[dict]]
    conclude: Callable[[dict], str]
    figures: Callable[[dict], list]
    small: bool = True  # only the three small KGs / synthetic: the app may queue its quick budget
    keeps: bool = False  # `run` keeps earlier rows on request (`--keep`, Context.kept)
    # overrides of QUICK_LARGE on FB15k-237 / WN18RR at this experiment's quick budget
    large_quick: dict = field(default_factory=dict)


def fit(
    ctx: Context,
    dataset: str,
    model: str,
    sampler: str,
    seed: int,
    options: dict | None = None,
    *,
    eval_every: int = 0,
    valid: bool = True,
    kg=None,
    inspect: Callable | None = None,
    keep: Path | None = None,
    **overrides,
) -> dict:
    """Train one run in a scratch folder; returns JSON-ready numbers: `test` and `valid`
    metrics (valid measured on the final model), the `curve` of valid MRR against steps and
    training seconds (when `eval_every`), the `last` training record (false-negative rate,
    MPNE diagnostics) with the `history` of such records, and `seconds` of training.
    `inspect(model, kg) -> dict`, if given, looks at the trained model: `out["inspect"]`;
    `keep`: where to copy the final checkpoint (else it goes with the scratch folder)."""
    from demix_core.checkpoint import load_checkpoint, model_from_checkpoint
    from demix_core.data import load_dataset
    from demix_core.training import train

    cfg = train_config(ctx, dataset, model, sampler, seed, options, eval_every, **overrides)
    kg = kg or load_dataset(dataset)
    log = _Recorder()
    label = f"{dataset} {model} {sampler} {options or ''} seed {seed}"
    ctx.progress(f"train {label}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(cfg, Path(tmp), callbacks=[log], kg=kg)
        out = {"test": _flat(result), "curve": log.curve, "last": log.last, "steps": cfg.steps}
        out["history"] = log.history
        if valid or inspect:
            trained = model_from_checkpoint(load_checkpoint(Path(tmp) / "checkpoint.pt"))
        if valid:
            out["valid"] = valid_metrics(trained, kg)
        if inspect:
            out["inspect"] = inspect(trained, kg)
        if keep is not None:
            shutil.copyfile(Path(tmp) / "checkpoint.pt", keep)
    out["seconds"] = float(result.get("train_seconds", time.perf_counter() - t0))
    return out


def valid_metrics(trained, kg) -> dict:
    """A trained model's valid metrics, JSON-ready (what `fit` reports as `valid`)."""
    from demix_core.evaluation import evaluate

    return _flat(evaluate(trained, kg, "valid"))


def train_config(ctx, dataset, model, sampler, seed, options=None, eval_every=0, **overrides):
    """The TrainConfig `fit` trains: the budget's settings for `dataset` under `overrides`,
    no early stopping (every run trains its steps), the recommended defaults for the rest."""
    from demix_core.config import make_config

    settings = {**ctx.settings(dataset), **overrides}
    settings.update(eval_every=eval_every, early_stopping=0, seed=seed, device=ctx.device)
    settings.setdefault("log_every", 50)
    return make_config(dataset, model, sampler, sampler_options=options or {}, **settings)


class _Recorder:
    """Training callback keeping the valid curve and the last training record."""

    def __init__(self):
        self.curve: list[dict] = []
        self.last: dict = {}
        self.history: list[dict] = []

    def on_step(self, step: int, record: dict) -> None:
        self.last = _flat(record)
        self.history.append(self.last)

    def on_eval(self, step: int, record: dict) -> None:
        self.curve.append({"step": step, "seconds": record["seconds"], "mrr": record["mrr"]})

    def on_checkpoint(self, step, path) -> None:
        pass

    def should_stop(self) -> bool:
        return False


def demix_options(dataset: str, model: str, sampler: str, options: dict | None = None) -> dict:
    """The DeMix options a run trained with: the recommended mu and alpha under the `options`
    given ({} for the other samplers), for the tables to say which DeMix they show."""
    from demix_core.config import recommended_demix

    return {**recommended_demix(dataset, model), **(options or {})} if sampler == "demix" else {}


def scores(r: dict) -> dict:
    """The final model's `valid_mrr` and `test_mrr` of a `fit` result (what tables key on)."""
    return {"valid_mrr": r["valid"]["mrr"], "test_mrr": r["test"]["mrr"]}


def full_curve(r: dict) -> list[dict]:
    """A `fit` result's valid-MRR curve with its end: the final model at the last step."""
    return r["curve"] + [{"step": r["steps"], "seconds": r["seconds"], "mrr": r["valid"]["mrr"]}]


def _flat(record: dict) -> dict:
    """Numbers and strings only; NaN becomes None (JSON has no NaN)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, bool | str):
            out[key] = value
        elif isinstance(value, int | float):
            out[key] = None if isinstance(value, float) and math.isnan(value) else value
    return out


def select(data: dict, **where) -> list[dict]:
    """The result rows (`data["runs"]`) whose fields equal `where`'s values."""
    return [r for r in data["runs"] if all(r[k] == v for k, v in where.items())]


def datasets(data: dict) -> list[str]:
    """The datasets of the result rows, in the order they were run."""
    return list(dict.fromkeys(r["dataset"] for r in data["runs"]))


def mean_or_none(values) -> float | None:
    """`mean` of the values that are not None; None when there are none (JSON-ready)."""
    m = mean(values)
    return None if math.isnan(m) else m


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else float("nan")


def std(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.stdev(values) if len(values) > 1 else 0.0


def spread(values) -> str:
    """`0.812 ± 0.010` (or one value)."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{mean(values):.3f}" + (f" ± {std(values):.3f}" if len(values) > 1 else "")
