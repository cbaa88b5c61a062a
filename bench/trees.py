"""Step time of two source trees (e.g. main and a branch), alternating blocks of steps
between two live training processes, so a busy machine slows both alike.

    git archive main | tar -x -C /tmp/main-tree
    python bench/trees.py /tmp/main-tree . --blocks 16 --steps 5 -- \
        --dataset fb15k-237 --model rotate --dim 200 --batch-size 512 --negatives 128 \
        --adv-temperature 1 --sampler demix

Each tree's process takes the training process settings its own code applies (a tree with
`demix_core/process.py` calls it; an older one applies them on `import demix_core`), builds
the run from the `train` flags after `--` (compiled unless `--compile` says otherwise, as
bench/throughput.py), runs five
untimed steps, then `--steps` steps whenever asked, A and B in turn. Prints one JSON line:
median wall and CPU ms per step of each tree, their ratios B / A, and the median of the
paired block ratios; CPU time is the steadier figure when other processes share the cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

WORKER = r"""
import json, os, sys, tempfile, time
tree, flags = sys.argv[1], sys.argv[2:]
sys.path.insert(0, tree)
import demix_core  # an older tree applies its process settings here, before torch
if os.path.exists(os.path.join(tree, "demix_core", "process.py")):
    from demix_core.process import prepare_training_process
    prepare_training_process()
import argparse
from pathlib import Path
from demix_core.cli import add_train_args
from demix_core.compile import decide, set_compile
from demix_core.config import config_from_args
from demix_core.training import make_loss_fn, train_step
try:
    from demix_core.run_state import TrainingRun
except ImportError:  # trees before run_state.py
    from demix_core.training import _Run as TrainingRun
p = argparse.ArgumentParser()
add_train_args(p)
config = config_from_args(p.parse_args(flags))
if "--compile" not in flags:  # a benchmark measures the long-run setting
    config = config.replace(compile="on")
with tempfile.TemporaryDirectory() as tmp:
    run = TrainingRun(config, Path(tmp), None)
set_compile(decide(config.compile, float("inf"), threshold=0))
loss_fn = make_loss_fn()
for _ in range(5):
    train_step(run, loss_fn)
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        train_step(run, loss_fn)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps([1000 * wall / n, 1000 * cpu / n]), flush=True)
"""


def main() -> int:
    cut = sys.argv.index("--") if "--" in sys.argv else len(sys.argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", help="tree A (the reference)")
    p.add_argument("b", help="tree B")
    p.add_argument("--blocks", type=int, default=16)
    p.add_argument("--steps", type=int, default=5, help="steps per block")
    args = p.parse_args(sys.argv[1:cut])
    flags = sys.argv[cut + 1 :]
    procs = {
        tree: subprocess.Popen(
            [sys.executable, "-c", WORKER, tree, *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
        )
        for tree in (args.a, args.b)
    }
    got: dict[str, list] = {tree: [] for tree in procs}
    try:
        for tree, proc in procs.items():
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"{tree}: the training process did not start")
        for i in range(args.blocks):
            for tree in list(procs)[:: 1 if i % 2 == 0 else -1]:  # A B, B A, ...
                procs[tree].stdin.write(f"{args.steps}\n")
                procs[tree].stdin.flush()
                got[tree].append(json.loads(procs[tree].stdout.readline()))
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()
    wall = {t: statistics.median(x[0] for x in v) for t, v in got.items()}
    cpu = {t: statistics.median(x[1] for x in v) for t, v in got.items()}
    paired = statistics.median(b[0] / a[0] for a, b in zip(got[args.a], got[args.b]))
    summary = {
        "wall_ms": wall,
        "cpu_ms": cpu,
        "wall_ratio": wall[args.b] / wall[args.a],
        "cpu_ratio": cpu[args.b] / cpu[args.a],
        "paired_wall_ratio": paired,
        "blocks": got,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
