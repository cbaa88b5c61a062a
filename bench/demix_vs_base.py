"""DeMix against its own base sampler (uniform + self-adversarial), equal step budgets.

    python bench/demix_vs_base.py --pairs umls:rotate,umls:transe --seeds 0,1,2 --markdown docs/demix_vs_base.md

For each dataset:model pair, mu and alpha are first picked on the *valid* split (seed 0,
grid --mus x --alphas); then uniform and DeMix(best mu, alpha) train with every seed and
report test MRR and Hits@10 as mean and spread. Every run uses the recommended defaults of
the pair (docs/defaults.md), overridable with --steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

from demix_core.checkpoint import load_checkpoint, model_from_checkpoint  # noqa: E402
from demix_core.config import make_config  # noqa: E402
from demix_core.data import load_dataset  # noqa: E402
from demix_core.evaluation import evaluate  # noqa: E402
from demix_core.training import train  # noqa: E402

PAIRS = [f"{d}:{m}" for m in ("rotate", "transe") for d in ("nations", "umls", "kinships")]


SETTINGS: dict = {}  # --set key=value overrides shared by every run


def run(dataset, model, sampler, seed, steps, options=None, split="test") -> dict:
    overrides = {"eval_every": 0, "compile": "off", "log_every": 100, **SETTINGS, "seed": seed}
    if steps:
        overrides["steps"] = steps
    cfg = make_config(dataset, model, sampler, sampler_options=options or {}, **overrides)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(cfg, Path(tmp))
        if split == "valid":  # pick hyper-parameters on valid, never on test
            trained = model_from_checkpoint(load_checkpoint(Path(tmp) / "checkpoint.pt"))
            result = evaluate(trained, load_dataset(dataset), "valid")
    return result


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", default=",".join(PAIRS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--mus", default="1,3")
    p.add_argument("--alphas", default="0.5,0.8")
    p.add_argument("--steps", type=int, default=0, help="0 = the recommended steps")
    p.add_argument("--set", action="append", default=[], help="config override key=value")
    p.add_argument("--markdown", default=None)
    args = p.parse_args()
    for item in args.set:
        key, _, value = item.partition("=")
        SETTINGS[key] = type(getattr(make_config("nations"), key))(value)
    seeds = [int(s) for s in args.seeds.split(",")]
    table = []
    for pair in args.pairs.split(","):
        dataset, model = pair.split(":")
        picks = []
        grid = [(float(m), float(a)) for m in args.mus.split(",") for a in args.alphas.split(",")]
        for mu, alpha in grid if len(grid) > 1 else []:  # one choice: nothing to select
            v = run(dataset, model, "demix", 0, args.steps, {"mu": mu, "alpha": alpha}, "valid")
            picks.append((v["mrr"], mu, alpha))
            select = {"pair": pair, "select": {"mu": mu, "alpha": alpha}, "valid_mrr": v["mrr"]}
            print(json.dumps(select), flush=True)
        _, mu, alpha = max(picks) if picks else (None, *grid[0])
        res = {"uniform": [], "demix": []}
        for seed in seeds:
            res["uniform"].append(run(dataset, model, "uniform", seed, args.steps))
            res["demix"].append(
                run(dataset, model, "demix", seed, args.steps, {"mu": mu, "alpha": alpha})
            )
            print(
                json.dumps(
                    {
                        "pair": pair,
                        "seed": seed,
                        "uniform": res["uniform"][-1]["mrr"],
                        "demix": res["demix"][-1]["mrr"],
                    }
                ),
                flush=True,
            )
        row = {"pair": pair, "mu": mu, "alpha": alpha, "steps": res["uniform"][0]["steps"]}
        for name, runs in res.items():
            row[f"{name}_mrr"] = [r["mrr"] for r in runs]
            row[f"{name}_h10"] = [r["hits@10"] for r in runs]
        table.append(row)
        print(json.dumps(row), flush=True)
    if args.markdown:
        lines = [
            "| dataset | model | mu | alpha | steps | uniform MRR | DeMix MRR | uniform H@10 | DeMix H@10 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in table:
            d, m = r["pair"].split(":")
            lines.append(
                f"| {d} | {m} | {r['mu']:g} | {r['alpha']:g} | {r['steps']} | {spread(r['uniform_mrr'])} | "
                f"{spread(r['demix_mrr'])} | {spread(r['uniform_h10'])} | {spread(r['demix_h10'])} |"
            )
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
