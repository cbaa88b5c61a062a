"""Training throughput (positive triples per second) and peak memory of a training config.

    python bench/throughput.py --dataset fb15k-237 --model rotate --dim 200 --batch-size 512 \
        --negatives 128 --adv-temperature 1 --steps 30 --json

Takes the `train` command's flags. Runs `--warmup` steps first (compilation happens there and
is reported separately as `warmup_seconds`), then times `--steps` steps. The last stdout line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

import torch  # noqa: E402

from demix_core.cli import add_train_args  # noqa: E402
from demix_core.compile import decide, notices, set_compile  # noqa: E402
from demix_core.config import config_from_args  # noqa: E402
from demix_core.run_state import TrainingRun  # noqa: E402
from demix_core.training import make_loss_fn, train_step  # noqa: E402


def measure(config, warmup: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run = TrainingRun(config, Path(tmp), None)
    set_compile(decide(config.compile, float("inf"), threshold=0))
    loss_fn = make_loss_fn()
    sync = torch.cuda.synchronize if run.device.type == "cuda" else (lambda: None)
    t0 = time.perf_counter()
    for _ in range(warmup):
        train_step(run, loss_fn)
    sync()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(config.steps):
        train_step(run, loss_fn)
    sync()
    seconds = time.perf_counter() - t0
    batch = min(config.batch_size, len(run.train))
    return {
        "dataset": config.dataset,
        "model": config.model,
        "sampler": config.sampler,
        "device": str(run.device),
        "compiled": config.compile != "off" and not notices,
        "steps": config.steps,
        "step_ms": 1000 * seconds / config.steps,
        "pos_triples_per_second": config.steps * batch / seconds,
        "warmup_seconds": warm,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_cuda_mb": torch.cuda.max_memory_allocated() / 2**20
        if run.device.type == "cuda"
        else 0.0,
        "threads": torch.get_num_threads(),
        "notices": list(notices),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_train_args(p)
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    config = config_from_args(args)
    if args.compile is None:  # a benchmark measures the long-run setting
        config = config.replace(compile="on")
    result = measure(config, args.warmup)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
