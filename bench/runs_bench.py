"""Run-store timings the app depends on; prints one line per figure with its target.

    .venv/bin/python bench/runs_bench.py

Uses a temporary store and starts no process (`start=False`): it measures the store,
not training. Figures are medians over repeats.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demix_core.config import make_config  # noqa: E402
from demix_core.runs import RunStore  # noqa: E402

NATIONS = str(Path(__file__).resolve().parents[1] / "assets" / "datasets" / "nations")


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_poll(store: RunStore, config) -> tuple[float, float]:
    """ms to read the records appended since the last poll, to a log of 20k lines, and
    ms for the status poll (`get`, which also reaps)."""
    run_id = store.submit(config, start=False)
    path = store.run_dir(run_id) / "metrics.jsonl"
    record = {"kind": "train", "loss": 0.5, "seconds": 1.0, "triples_per_second": 1e5}
    with open(path, "w") as f:
        f.writelines(json.dumps({**record, "step": s}) + "\n" for s in range(20_000))
    _, offset = store.read_metrics(run_id)
    step = 20_000

    def poll() -> None:
        nonlocal offset, step
        with open(path, "a") as f:  # what a worker writes between two polls
            f.writelines(json.dumps({**record, "step": step + i}) + "\n" for i in range(5))
        step += 5
        df, offset = store.read_metrics(run_id, offset)
        assert len(df) == 5

    return median_seconds(poll, 200) * 1e3, median_seconds(lambda: store.get(run_id), 200) * 1e3


def main() -> None:
    config = make_config(NATIONS, "transe", "demix", steps=50, compile="off")
    grid = {"mu": ["0.5", "1", "3"], "alpha": ["0.2", "0.5", "0.8"]}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "poll")
        poll_ms, get_ms = bench_poll(store, config)
        sweep_s = median_seconds(lambda: store.sweep(config, grid, start=False), 5)
        store = RunStore(Path(tmp) / "list")
        store.sweep(config, {"seed": list(range(1000))}, start=False)
        list_ms = median_seconds(store.list_runs, 20) * 1e3
        records_ms = median_seconds(store.records, 20) * 1e3
    print(f"poll new metrics (5 new of 20k lines): {poll_ms:7.2f} ms   target < 20 ms")
    print(f"poll run status (get):                {get_ms:7.2f} ms")
    print(f"queue a 9-run sweep (3 x 3 grid):     {sweep_s:7.3f} s    target < 1 s")
    print(f"list 1000 runs (DataFrame):           {list_ms:7.2f} ms   target < 100 ms")
    print(f"list 1000 runs (dicts, CLI --json):   {records_ms:7.2f} ms")


if __name__ == "__main__":
    main()
