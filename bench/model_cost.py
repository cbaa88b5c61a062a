"""Two models' training steps side by side in one process, as a ratio (issue 16's HAKE cost).

    python bench/model_cost.py --dataset umls --models rotate,hake
    python bench/model_cost.py --dataset fb15k-237 --models rotate,hake --steps 5

Each model trains with the dataset's recommended row (`make_config`, uniform sampler), both
built before timing and timed in alternating blocks of `--steps` steps, so a busy shared
machine slows both alike; each step is split into its phases (batch, sample, forward,
backward, optimizer) and the median block is reported. `--compile on` (the default) is what
the rows use on the small KGs and FB15k-237; the first `--warmup` steps (compilation) are not
timed. The last stdout line is one JSON object with --json.
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

from demix_core.compile import notices, set_compile  # noqa: E402
from demix_core.config import make_config  # noqa: E402
from demix_core.run_state import TrainingRun  # noqa: E402
from demix_core.training import make_loss_fn, train_step  # noqa: E402


def block(run, loss_fn, steps: int) -> dict[str, float]:
    """Milliseconds per step of each phase over `steps` steps."""
    total: dict[str, float] = {}
    for _ in range(steps):
        last = time.perf_counter()

        def lap(phase: str) -> None:
            nonlocal last
            now = time.perf_counter()
            total[phase] = total.get(phase, 0.0) + now - last
            last = now

        train_step(run, loss_fn, lap)
    return {k: 1000 * v / steps for k, v in total.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--models", default="rotate,hake", help="two or more, the first the base")
    p.add_argument("--compile", choices=("on", "off"), default="on")
    p.add_argument("--steps", type=int, default=20, help="steps per timed block")
    p.add_argument("--rounds", type=int, default=3, help="alternating timed blocks per model")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    models = args.models.split(",")
    set_compile(args.compile == "on")
    loss_fn = make_loss_fn()
    runs = {}
    for m in models:
        config = make_config(args.dataset, m, "uniform", compile=args.compile)
        with tempfile.TemporaryDirectory() as tmp:
            runs[m] = TrainingRun(config, Path(tmp), None)
        for _ in range(args.warmup):
            train_step(runs[m], loss_fn)
    blocks: dict[str, list[dict]] = {m: [] for m in models}
    for _ in range(args.rounds):
        for m in models:
            blocks[m].append(block(runs[m], loss_fn, args.steps))
    out = {"dataset": args.dataset, "compile": args.compile, "notices": list(notices)}
    for m in models:
        phases = {k: statistics.median(b[k] for b in blocks[m]) for k in blocks[m][0]}
        out[m] = {"step_ms": statistics.median(sum(b.values()) for b in blocks[m]), **phases}
    base = out[models[0]]["step_ms"]
    out["ratio"] = {m: out[m]["step_ms"] / base for m in models}
    if not args.json:
        for m in models:
            cells = "  ".join(f"{k} {v:.1f}" for k, v in out[m].items())
            print(f"{m:>8}: {cells}  (x{out['ratio'][m]:.2f})")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
