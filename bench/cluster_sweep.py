"""A 12-run Nations sweep (mu x alpha) on the local queue and on a 2-worker dask cluster on
this machine: per-run overhead of each path and whether their final metrics agree.

    .venv/bin/python bench/cluster_sweep.py [--steps 100]

Both paths run two trainings at a time (DEMIX_MAX_WORKERS=2 against two one-thread
workers) with one torch thread each, in temporary stores. Per run, overhead = wall time from
start to the end recorded in the store, minus the training seconds the run reports (so it
holds process start and imports on the local queue; streaming and the files' trip back on
the cluster; evaluation on both), and, over the sweep, each slot's wall time per run minus
its training (which adds the wait from dispatch to start). The cluster's start-up is shown
apart. The machine is shared: compare the two lines of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # two trainings share 2 cores on both paths
os.environ["DEMIX_MAX_WORKERS"] = "2"
os.environ.setdefault("DEMIX_NO_COMPILE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demix_core.config import make_config  # noqa: E402
from demix_core.runs import RunStore  # noqa: E402

GRID = {"mu": [0.5, 1.0, 3.0], "alpha": [0.25, 0.5, 0.75, 1.0]}
VOLATILE = ("train_seconds", "triples_per_second")


def sweep(home: Path, config, cluster: str) -> tuple[float, list[dict]]:
    store = RunStore(home)
    t = time.perf_counter()
    group = store.sweep(config, GRID, cluster=cluster)
    while any(r["status"] in ("queued", "running") for r in store.records(group)):
        time.sleep(0.2)
    wall = time.perf_counter() - t
    runs = sorted(store.records(group), key=lambda r: (r["params"]["mu"], r["params"]["alpha"]))
    bad = [r for r in runs if r["status"] != "done"]
    if bad:
        sys.exit(f"{len(bad)} runs did not finish: {bad[0]['status']}: {bad[0]['error']}")
    return wall, runs


def overheads(runs: list[dict]) -> list[float]:
    return [r["finished_at"] - r["started_at"] - r["final"]["train_seconds"] for r in runs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    config = make_config("nations", "rotate", "demix", steps=args.steps, eval_every=args.steps // 3,
                         dim=100, compile="off")  # fmt: skip
    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its shutdown chatter

    import dask

    with tempfile.TemporaryDirectory() as tmp, dask.config.set({"temporary-directory": tmp}):
        local_wall, local = sweep(Path(tmp) / "local", config, "")
        t = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", local_directory=tmp) as cluster:  # fmt: skip
            up = time.perf_counter() - t
            remote_wall, remote = sweep(Path(tmp) / "cluster", config, cluster.scheduler_address)
    same = all(
        {k: v for k, v in a["final"].items() if k not in VOLATILE}
        == {k: v for k, v in b["final"].items() if k not in VOLATILE}
        for a, b in zip(local, remote)
    )
    print(f"12-run Nations sweep (RotatE + DeMix, {args.steps} steps), two runs at a time")
    per_run = {}
    for name, wall, runs in (("local queue", local_wall, local), ("cluster", remote_wall, remote)):
        train = statistics.mean(r["final"]["train_seconds"] for r in runs)
        per_run[name] = wall / (len(runs) / 2) - train  # a slot's time per run, not training
        o = overheads(runs)
        print(f"  {name:12} sweep wall {wall:6.1f} s, training {train:5.1f} s per run; "
              f"overhead per run {per_run[name]:5.2f} s (start-to-end minus training: mean "
              f"{statistics.mean(o):.2f}, max {max(o):.2f})")  # fmt: skip
    print(f"  cluster start-up (scheduler + 2 workers): {up:.1f} s, not in the sweep wall")
    diff = per_run["cluster"] - per_run["local queue"]
    print(f"  cluster path minus local queue, overhead per run: {diff:+.2f} s")
    print(f"  final metrics identical on all 12 points: {same}")


if __name__ == "__main__":
    main()
