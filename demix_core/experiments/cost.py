"""`cost`: what a DeMix step costs, phase by phase against its base sampler's step, and the
question a user cares about: quality at equal wall-clock (both trained for the same seconds).

The phase timer (`phase_times`) is shared with `bench/demix_cost.py`, which adds memory-bound
reference figures.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from demix_core.experiments.base import SMALL, Context, datasets, fit, mean, scores, select, spread
from demix_core.experiments.figs import bars

PHASES = ("batch", "sample", "forward", "backward", "optimizer")
STEP_CONFIG = {  # README's speed configuration (FB15k-237 RotatE)
    "dim": 200,
    "batch_size": 512,
    "negatives": 128,
    "adv_temperature": 1.0,
    "gamma": 9.0,
    "lr": 1e-3,
}
SECONDS = {"smoke": 0.5, "quick": 8.0, "full": 60.0}  # equal wall-clock budget per small-KG run


class Laps:
    """`lap(phase)` callback for `training.train_step`: seconds per phase, summed over steps."""

    def __init__(self, sync):
        self.sync, self.seconds = sync, defaultdict(float)
        self.t = time.perf_counter()

    def start(self) -> None:
        self.sync()
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        self.sync()
        now = time.perf_counter()
        self.seconds[phase] += now - self.t
        self.t = now


def phase_times(configs: dict, steps: int, rounds: int, warmup: int) -> tuple[dict, dict]:
    """Median ms per phase and per step of each config, timed in alternating blocks of
    `steps` steps (so drift on a shared machine hits every config alike); configs are named
    "base" and "demix" (the ratio is demix / base). Returns (result, the built runs)."""
    import torch

    from demix_core.compile import decide, set_compile
    from demix_core.run_state import TrainingRun
    from demix_core.training import make_loss_fn, train_step

    runs = {}
    for name, config in configs.items():
        with tempfile.TemporaryDirectory() as tmp:
            runs[name] = TrainingRun(config, Path(tmp), None)
    device = next(iter(runs.values())).device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    set_compile(decide(next(iter(configs.values())).compile, float("inf"), threshold=0))
    loss_fn = make_loss_fn()
    for run in runs.values():
        for _ in range(warmup):
            train_step(run, loss_fn)
    blocks = {name: defaultdict(list) for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            laps = Laps(sync)
            laps.start()
            for _ in range(steps):
                train_step(run, loss_fn, laps)
            for phase in PHASES:
                blocks[name][phase].append(1000 * laps.seconds[phase] / steps)
    result = {}
    for name in runs:
        per_phase = {p: statistics.median(blocks[name][p]) for p in PHASES}
        totals = [sum(blocks[name][p][i] for p in PHASES) for i in range(rounds)]
        result[name] = {**per_phase, "step": statistics.median(totals)}
    result["ratio"] = result["demix"]["step"] / result["base"]["step"]
    result["device"] = str(device)
    result["threads"] = torch.get_num_threads()
    return result, runs


def run(ctx: Context) -> dict:
    from demix_core.config import make_config

    ctx.progress("time the phases of a step: FB15k-237 RotatE, uniform vs DeMix")
    smoke = ctx.budget == "smoke"
    step_config = ctx.settings("fb15k-237") if smoke else STEP_CONFIG
    common = {**step_config, "device": ctx.device, "compile": "off" if smoke else "on", "steps": 1}
    configs = {
        "base": make_config("fb15k-237", "rotate", "uniform", **common),
        "demix": make_config("fb15k-237", "rotate", "demix", **common),
    }
    steps, rounds, warmup = {"smoke": (2, 1, 1), "quick": (20, 3, 3)}.get(ctx.budget, (40, 5, 5))
    phases, _ = phase_times(configs, steps, rounds, warmup)
    seconds = SECONDS[ctx.budget]
    runs = []
    for dataset in ctx.take(SMALL):
        for seed in ctx.seeds:
            for name, sampler in (("uniform+adv", "uniform"), ("DeMix", "demix")):
                r = fit(ctx, dataset, "rotate", sampler, seed, time_budget=seconds, steps=100_000)
                runs.append(
                    {
                        "dataset": dataset,
                        "seed": seed,
                        "sampler": name,
                        "steps": r["test"]["steps"],
                        **scores(r),
                    }
                )
    return {"phases": phases, "seconds": seconds, "runs": runs}


def _sel(data, dataset, sampler, key):
    return [r[key] for r in select(data, dataset=dataset, sampler=sampler)]


def table(data: dict) -> list[dict]:
    rows = [
        {
            "what": f"ms per step: {phase}",
            "uniform+adv": data["phases"]["base"][phase],
            "DeMix": data["phases"]["demix"][phase],
        }
        for phase in (*PHASES, "step")
    ]
    for d in datasets(data):
        rows.append(
            {
                "what": f"{d}: test MRR after {data['seconds']:g} s",
                "uniform+adv": spread(_sel(data, d, "uniform+adv", "test_mrr")),
                "DeMix": spread(_sel(data, d, "DeMix", "test_mrr")),
            }
        )
        rows.append(
            {
                "what": f"{d}: steps in {data['seconds']:g} s",
                "uniform+adv": mean(_sel(data, d, "uniform+adv", "steps")),
                "DeMix": mean(_sel(data, d, "DeMix", "steps")),
            }
        )
    return rows


def conclude(data: dict) -> str:
    ph = data["phases"]
    extra = {p: ph["demix"][p] - ph["base"][p] for p in PHASES}
    top = max(extra, key=extra.get)
    small = datasets(data)
    ahead = [
        d
        for d in small
        if mean(_sel(data, d, "DeMix", "test_mrr"))
        >= mean(_sel(data, d, "uniform+adv", "test_mrr"))
    ]
    return (
        f"A DeMix step costs {ph['ratio']:.2f}x its base's on FB15k-237 RotatE "
        f"({ph['demix']['step']:.0f} vs {ph['base']['step']:.0f} ms on {ph['device']}; most of the "
        f"extra in the {top} phase, +{extra[top]:.1f} ms). Given the same {data['seconds']:g} "
        f"seconds, DeMix's test MRR is at least the base's on {len(ahead)} of {len(small)} "
        f"small KGs ({', '.join(ahead) or 'none'})."
    )


def figures(data: dict) -> list:
    rows = [
        {"phase": p, "sampler": s, "ms": data["phases"][k][p]}
        for k, s in (("base", "uniform+adv"), ("demix", "DeMix"))
        for p in PHASES
    ]
    eq = [
        {"dataset": d, "sampler": s, "mrr": mean(_sel(data, d, s, "test_mrr"))}
        for d in datasets(data)
        for s in ("uniform+adv", "DeMix")
    ]
    return [
        bars(rows, "phase", "ms", "sampler", "ms per step, phase by phase (FB15k-237 RotatE)"),
        bars(eq, "dataset", "mrr", "sampler", f"Test MRR after {data['seconds']:g} s of training"),
    ]
