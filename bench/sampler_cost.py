"""Training-step time of several samplers on one config, in alternating blocks, in one process.

    python bench/sampler_cost.py --samplers uniform,cans,esns --dataset fb15k-237 \
        --model rotate --dim 200 --batch-size 512 --negatives 128 --adv-temperature 1 \
        --steps 10 --rounds 5 --json

Takes the `train` command's flags (`--steps` = steps per block). One run per sampler is built
side by side (same model shape, one compiled loss); after `--warmup` steps each, blocks of
`--steps` steps go round-robin over the samplers `--rounds` times, so a busy machine slows
every sampler alike. Prints each sampler's median block step time, the median time of its
`sample` phase, and the step-time ratio to the first sampler. The last stdout line is one
JSON object with --json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

from demix_core.cli import add_train_args  # noqa: E402
from demix_core.compile import set_compile  # noqa: E402
from demix_core.config import config_from_args  # noqa: E402
from demix_core.run_state import TrainingRun  # noqa: E402
from demix_core.training import make_loss_fn, train_step  # noqa: E402


def block(run, loss_fn, steps: int) -> tuple[float, float]:
    """(ms per step, ms per step in the sampler) over `steps` steps."""
    marks = {"t": 0.0, "sample": 0.0}

    def lap(phase: str) -> None:
        now = time.perf_counter()
        if phase == "sample":
            marks["sample"] += now - marks["t"]
        marks["t"] = now

    t0 = time.perf_counter()
    for _ in range(steps):
        marks["t"] = time.perf_counter()
        train_step(run, loss_fn, lap)
    total = time.perf_counter() - t0
    return 1000 * total / steps, 1000 * marks["sample"] / steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_train_args(p)
    p.add_argument("--samplers", required=True, help="comma-separated; the first is the base")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per sampler first")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    names = args.samplers.split(",")
    runs = {}
    for name in names:
        args.sampler = name
        config = config_from_args(args)
        with tempfile.TemporaryDirectory() as tmp:
            runs[name] = TrainingRun(config, Path(tmp), None)
    set_compile(config.compile != "off")
    loss_fn = make_loss_fn()
    for run in runs.values():
        block(run, loss_fn, args.warmup)
    steps = {n: [] for n in names}
    samples = {n: [] for n in names}
    for _ in range(args.rounds):
        for name, run in runs.items():
            step_ms, sample_ms = block(run, loss_fn, config.steps)
            steps[name].append(step_ms)
            samples[name].append(sample_ms)
    base = statistics.median(steps[names[0]])
    result = {
        name: {
            "step_ms": statistics.median(steps[name]),
            "sample_ms": statistics.median(samples[name]),
            "ratio": statistics.median(steps[name]) / base,
            "blocks_ms": steps[name],
        }
        for name in names
    }
    out = {"dataset": config.dataset, "model": config.model, "samplers": result}
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
