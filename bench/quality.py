"""Test MRR of the recommended defaults (`train` with only --dataset/--model/--sampler).

    python bench/quality.py                       # RotatE and TransE on nations, umls, kinships
    python bench/quality.py --pairs umls:rotate --json

Each run goes through the CLI exactly as a user would start it; prints one row per run
(test MRR, Hits@10, training seconds) and, with --markdown FILE, writes the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [f"{d}:{m}" for m in ("rotate", "transe", "hake") for d in ("nations", "umls", "kinships")]
# The targets of the project's core issue (test MRR, filtered, realistic ranks).
TARGETS = {
    "nations:rotate": 0.72,
    "umls:rotate": 0.88,
    "kinships:rotate": 0.80,
    "nations:transe": 0.42,
    "umls:transe": 0.69,
    "kinships:transe": 0.28,
    # issue 16: HAKE within 0.02 of RotatE's measured MRR (docs/defaults.md: 0.724/0.882/0.817)
    "nations:hake": 0.704,
    "umls:hake": 0.862,
    "kinships:hake": 0.797,
}


def run(dataset: str, model: str, sampler: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "demix_core",
            "train",
            "--dataset",
            dataset,
            "--model",
            model,
            "--sampler",
            sampler,
            "--out",
            out,
            "--json",
            "--quiet",
            *extra,
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1]}
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", default=",".join(PAIRS), help="dataset:model,...")
    p.add_argument("--sampler", default="uniform")
    p.add_argument("--markdown", default=None, help="write the table here")
    p.add_argument("--json", action="store_true")
    p.add_argument("extra", nargs="*", help="more train flags, after --")
    args = p.parse_args()
    rows = []
    for pair in args.pairs.split(","):
        dataset, model = pair.split(":")
        r = run(dataset, model, args.sampler, args.extra)
        row = {
            "pair": pair,
            "target": TARGETS.get(pair),
            **{k: r.get(k) for k in ("mrr", "hits@10", "steps", "train_seconds", "error")},
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.markdown:
        lines = [
            "| dataset | model | test MRR | target | Hits@10 | steps | train s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            d, m = r["pair"].split(":")
            if r.get("error"):
                lines.append(f"| {d} | {m} | error: {r['error']} | | | | |")
                continue
            lines.append(
                f"| {d} | {m} | {r['mrr']:.3f} | {r['target']} | {r['hits@10']:.3f} | "
                f"{r['steps']} | {r['train_seconds']:.0f} |"
            )
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
