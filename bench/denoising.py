"""Does MPNE catch real false negatives? Trains DeMix on a KG whose truth is known and
compares MPNE's precision at flagging sampled false negatives with the base sampler's
false-negative rate (the precision of guessing).

    python bench/denoising.py --dataset synthetic:entities=2000,hidden=0.3 --model rotate --steps 1500 --mu 1

Reads the per-step diagnostics of `metrics.jsonl` after `--warmup` steps; the last stdout line
is one JSON object (`precision`, `recall`, `fn_rate`, `lift` = precision / fn_rate).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

from demix_core.cli import add_train_args  # noqa: E402
from demix_core.config import config_from_args  # noqa: E402
from demix_core.training import train  # noqa: E402


def summarize(metrics: Path, warmup: int) -> dict:
    rows = [json.loads(x) for x in metrics.read_text().splitlines()]
    rows = [r for r in rows if r["kind"] == "train" and r["step"] > warmup]

    def mean(key):
        vals = [r[key] for r in rows if key in r and not math.isnan(r[key])]
        return sum(vals) / len(vals) if vals else float("nan")

    p, fn = mean("mpne_precision"), mean("fn_rate")
    return {
        "records": len(rows),
        "precision": p,
        "recall": mean("mpne_recall"),
        "fn_rate": fn,
        "lift": p / fn if fn > 0 else float("nan"),
        "mpn_share": mean("n_mpn") / max(1e-9, mean("n_mpn") + mean("n_tn")),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_train_args(p)
    p.add_argument("--warmup", type=int, default=300, help="steps left out of the averages")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.sampler != "demix":
        args.sampler = "demix"
    config = config_from_args(args)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(config, Path(tmp))
        summary = summarize(Path(tmp) / "metrics.jsonl", args.warmup)
    summary.update(
        dataset=config.dataset,
        model=config.model,
        mu=config.sampler_options.get("mu", 1.0),
        steps=result["step"],
        test_mrr=result["mrr"],
    )
    print(
        json.dumps(summary) if args.json else "\n".join(f"{k:>12}: {v}" for k, v in summary.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
