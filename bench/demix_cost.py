"""Where the time of a DeMix step goes, next to its base sampler's step (issue 3's cost target).

    python bench/demix_cost.py --dataset fb15k-237 --model rotate --dim 200 --batch-size 512 \
        --negatives 128 --adv-temperature 1 --gamma 9 --lr 1e-3 --steps 40 --rounds 5

Takes the `train` command's flags; `--sampler` is the base sampler (default uniform) and the
DeMix run refines it with the DeMix flags given. Both runs are built side by side and timed
in alternating blocks of `--steps` steps (so drift on a shared machine hits both alike); each
step is split into its phases (batch, sample, forward, backward, optimizer) and the median
block is reported per phase. Three reference figures put the extra cost in proportion:
one read of the step's `B x K x De` candidate floats (the unit a memory-bound step is made
of), MPNE's no-grad scoring of the K candidates and P pattern positives, and the entity
gradient's sum for one row per candidate (base) against two (AdaMix's candidate + partner).
The last stdout line is one JSON object with --json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demix_core.process import prepare_training_process  # noqa: E402

prepare_training_process()  # this process trains: before torch is imported

import torch  # noqa: E402

from demix_core.cli import add_train_args  # noqa: E402
from demix_core.config import config_from_args  # noqa: E402
from demix_core.experiments.cost import PHASES, phase_times  # noqa: E402
from demix_core.kernels import mixed_rows, rows  # noqa: E402
from demix_core.run_state import TrainingRun  # noqa: E402
from demix_core.sampling.demix_steps import pattern_positives  # noqa: E402


def best_of(fn, repeat: int, sync) -> float:
    """Median ms of `fn()` over `repeat` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def references(run: TrainingRun, sync, repeat: int = 20) -> dict:
    """The memory-bound reference figures of the module docstring, in ms."""
    cfg, model = run.config, run.model
    pos, _ = run.batch(0)
    B, K, De = len(pos), cfg.negatives, model.entity.shape[1]
    gen = torch.Generator(device=run.device).manual_seed(0)
    cand = torch.randint(model.num_entities, (B, K), generator=gen, device=run.device)
    partner = torch.randint(model.num_entities, (B, K), generator=gen, device=run.device)
    grad = torch.randn(B, K, De, generator=gen, device=run.device)
    head = torch.zeros(B, dtype=torch.bool, device=run.device)
    cap = run.sampler.options.pattern_cap
    pat_ids, _ = pattern_positives(run.index, pos, head, cap, gen)
    both = torch.cat([cand, pat_ids], dim=1)
    table = model.entity.detach().clone().requires_grad_()

    def backward(make) -> float:  # the backward alone: the forward's graph is kept
        out = make()

        def once():
            table.grad = None
            out.backward(grad, retain_graph=True)

        return best_of(once, repeat, sync)

    return {
        "read_candidate_floats_ms": best_of(lambda: grad.sum(), repeat, sync),
        "mpne_scoring_ms": best_of(lambda: model.score_ids(pos, head, both), repeat, sync),
        "gradient_sum_one_row_ms": backward(lambda: rows(table, cand)),
        "gradient_sum_two_rows_ms": backward(lambda: mixed_rows(table, cand, partner, 0.5)),
    }


def measure(configs: dict, steps: int, rounds: int, warmup: int) -> dict:
    result, runs = phase_times(configs, steps, rounds, warmup)
    device = runs["demix"].device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    result["references"] = references(runs["demix"], sync)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_train_args(p)
    p.add_argument("--rounds", type=int, default=5, help="alternating timed blocks per run")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    base_name = args.sampler
    if base_name == "demix":
        p.error("--sampler is the base sampler here; DeMix is added on top of it")
    config = config_from_args(args)
    if args.compile is None:  # a benchmark measures the long-run setting
        config = config.replace(compile="on")
    args.sampler = "demix"
    args.base_sampler = base_name
    demix = config_from_args(args).replace(compile=config.compile)
    result = measure({"base": config, "demix": demix}, config.steps, args.rounds, args.warmup)
    result["base_sampler"] = base_name
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'ms per step':>12} {base_name:>9} {'demix':>9} {'extra':>9}")
    for phase in (*PHASES, "step"):
        b, d = result["base"][phase], result["demix"][phase]
        print(f"{phase:>12} {b:9.2f} {d:9.2f} {d - b:+9.2f}")
    print(f"DeMix step / {base_name} step: {result['ratio']:.2f}x")
    for key, value in result["references"].items():
        print(f"{key:>28}: {value:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
