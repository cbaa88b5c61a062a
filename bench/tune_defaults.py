"""Pick a recommended-defaults row on *valid*: train each grid point as a user would (`train`
with the dataset's recommended defaults plus the point's flags, early stopping on valid) and
report best valid MRR and test MRR; the pick is the valid argmax (test is only reported).

    python bench/tune_defaults.py --pair nations:hake --grid gamma=6,12
    python bench/tune_defaults.py --pair kinships:hake --grid gamma=6,12 --grid lr=0.001,0.002

Prints one JSON row per point, then a markdown table with the pick marked.
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
    return {
        "valid_mrr": best.get("mrr"),
        "best_step": best.get("step"),
        "test_mrr": test["mrr"],
        "hits@10": test["hits@10"],
        "steps": test["step"],
        "train_seconds": test["train_seconds"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pair", required=True, help="dataset:model")
    p.add_argument("--sampler", default="uniform")
    p.add_argument("--grid", action="append", default=[], help="FLAG=V1,V2 (train flag name)")
    args = p.parse_args()
    dataset, model = args.pair.split(":")
    grid = {}
    for spec in args.grid:
        key, _, values = spec.partition("=")
        grid[key] = [v for v in values.split(",") if v]
    rows = []
    for point in itertools.product(*grid.values()):
        flags = dict(zip(grid, point, strict=True))
        row = {"pair": args.pair, "flags": flags, **train(dataset, model, args.sampler, flags)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    ok = [r for r in rows if r.get("valid_mrr") is not None]
    pick = max(ok, key=lambda r: r["valid_mrr"]) if ok else None
    cols = [*grid, "best valid MRR (step)", "test MRR", "Hits@10", "steps", "train s"]
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
