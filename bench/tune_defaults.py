"""Pick a recommended-defaults row on *valid*: train each grid point as a user would (`train`
with the dataset's recommended defaults plus the point's flags, early stopping on valid) and
report the valid MRR of the model that is tested (with early stopping the best validation,
restored; without it the last model, validated after training) and its test MRR; the pick is
the valid argmax (test is only reported).

    python bench/tune_defaults.py --pair nations:hake --grid gamma=6,12
    python bench/tune_defaults.py --pair kinships:hake --grid gamma=6,12 --grid lr=0.001,0.002
    python bench/tune_defaults.py --pair fb15k-237:hake --grid gamma=6,9,12 \
        --set steps=2000 --set dim=100 --set batch_size=512 --set negatives=64 \
        --set eval_every=0 --set compile=on

`--set FLAG=V` fixes a flag for every point (e.g. the experiments' quick large-KG budget,
`demix_core/experiments/base.py` QUICK_LARGE with 2,000 steps). Prints one JSON row per
point, then a markdown table with the pick marked.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demix_core.runs.files import read_metric_records  # noqa: E402


def train(dataset: str, model: str, sampler: str, flags: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "demix_core", "train", "--dataset", dataset]
        cmd += ["--model", model, "--sampler", sampler, "--out", out, "--json", "--quiet"]
        for key, value in flags.items():
            cmd += [f"--{key.replace('_', '-')}", value]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
        test = json.loads(proc.stdout.strip().splitlines()[-1])
        records, _ = read_metric_records(Path(out) / "metrics.jsonl")
        evals = [r for r in records if r.get("kind") == "eval" and r.get("split") == "valid"]
        best = max(evals, key=lambda e: e["mrr"]) if evals else {}
        early = json.loads((Path(out) / "config.json").read_text())["early_stopping"]
        if not (early and evals):
            # no early stopping: the tested model is the last one, which training never
            # validates (it validates before the last step only), so validate it here
            best = {"mrr": valid_mrr(Path(out) / "checkpoint.pt", dataset), "step": test["step"]}
    return {
        "valid_mrr": best.get("mrr"),
        "best_step": best.get("step"),
        "test_mrr": test["mrr"],
        "hits@10": test["hits@10"],
        "steps": test["step"],
        "train_seconds": test["train_seconds"],
    }


def valid_mrr(checkpoint: Path, dataset: str) -> float:
    cmd = [sys.executable, "-m", "demix_core", "evaluate", "--checkpoint", str(checkpoint)]
    cmd += ["--dataset", dataset, "--split", "valid", "--json"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["mrr"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pair", required=True, help="dataset:model")
    p.add_argument("--sampler", default="uniform")
    p.add_argument("--grid", action="append", default=[], help="FLAG=V1,V2 (train flag name)")
    p.add_argument("--set", action="append", default=[], help="FLAG=V for every point")
    args = p.parse_args()
    dataset, model = args.pair.split(":")
    fixed = dict(spec.partition("=")[::2] for spec in args.set)
    grid = {}
    for spec in args.grid:
        key, _, values = spec.partition("=")
        grid[key] = [v for v in values.split(",") if v]
    rows = []
    for point in itertools.product(*grid.values()):
        flags = dict(zip(grid, point, strict=True))
        run = train(dataset, model, args.sampler, {**fixed, **flags})
        row = {"pair": args.pair, "flags": flags, "fixed": fixed, **run}
        rows.append(row)
        print(json.dumps(row), flush=True)
    ok = [r for r in rows if r.get("valid_mrr") is not None]
    pick = max(ok, key=lambda r: r["valid_mrr"]) if ok else None
    cols = [
        *grid,
        "valid MRR of the tested model (step)",
        "test MRR",
        "Hits@10",
        "steps",
        "train s",
    ]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        if r.get("error"):
            print(f"| {' | '.join(r['flags'][k] for k in grid)} | error: {r['error']} |")
            continue
        mark = " **pick**" if r is pick else ""
        print(
            f"| {' | '.join(r['flags'][k] for k in grid)} | {r['valid_mrr']:.3f} ({r['best_step']}){mark}"
            f" | {r['test_mrr']:.3f} | {r['hits@10']:.3f} | {r['steps']} | "
            f"{r['train_seconds']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
