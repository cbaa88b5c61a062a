"""Ratios of one bench figure between variants, measured in the same run, alternating.

    python bench/alternate.py --rounds 3 --field step_ms \
        --variants "--sampler uniform" "--sampler cans" "--sampler esns" -- \
        bench/throughput.py --dataset fb15k-237 --model rotate --dim 200 --batch-size 512 \
        --negatives 128 --adv-temperature 1 --steps 30 --json

    python bench/alternate.py --rounds 3 --field seconds \
        --variants "--model rotate" "--model hake" -- \
        bench/evaluation.py --dataset fb15k-237 --dim 200 --json

Runs the bench script once per variant per round (variant order A, B, C, A, B, C, ...), so a
busy or throttled machine slows every variant alike; prints each variant's median of `--field`
(read from the script's last stdout line, a JSON object) and its ratio to the first variant.
Hosts differ (AVX2 vs AVX-512): compare ratios, not raw figures, across machines.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(script: list[str], variant: str, field: str) -> float:
    cmd = [sys.executable, *script, *shlex.split(variant)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{' '.join(cmd)}: failed: {tail}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])[field])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--field", required=True, help="JSON key of the figure, e.g. step_ms")
    p.add_argument("--variants", nargs="+", required=True, help="extra flags of each variant")
    p.add_argument("script", nargs=argparse.REMAINDER, help="-- then the bench script and flags")
    args = p.parse_args()
    script = args.script[1:] if args.script[:1] == ["--"] else args.script
    if not script:
        p.error("give the bench script after --")
    got: dict[str, list[float]] = {v: [] for v in args.variants}
    for _ in range(args.rounds):
        for v in args.variants:
            got[v].append(once(script, v, args.field))
            print(json.dumps({"variant": v, args.field: got[v][-1]}), flush=True)
    base = statistics.median(got[args.variants[0]])
    summary = {
        v: {"median": statistics.median(xs), "ratio": statistics.median(xs) / base, "all": xs}
        for v, xs in got.items()
    }
    print(json.dumps({"field": args.field, "variants": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
