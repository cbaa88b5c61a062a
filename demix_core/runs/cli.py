"""`python -m demix_core runs ...`: submit, watch and control background runs.

The main CLI calls `add_runs_parser(subparsers, add_train_args)` to register the
tree and `run_runs_command(args)` to run it. `submit`, `sweep` and `resume` queue
work and make sure a detached queue server is running (`--no-start` only queues).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from demix_core.runs import tune_cli
from demix_core.runs.api import RunStore, default_home
from demix_core.runs.flags import checked_config
from demix_core.runs.sweep import parse_grid
from demix_core.validation import check_number

SHOW_KEYS = ("id", "name", "group", "status", "step", "steps", "progress", "pid", "metrics",
             "final", "error", "checkpoint_step", "dir")  # fmt: skip


def add_runs_parser(subparsers, add_train_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `runs` and its sub-commands on the main CLI's `subparsers`."""
    runs = subparsers.add_parser(
        "runs", help="background runs: submit, list, cancel, resume, sweep"
    )
    runs.add_argument("--home", type=Path, help="run store folder (default: $DEMIX_HOME or ./runs)")
    runs.add_argument("--cluster", metavar="tcp://HOST:PORT",
                      help="run on this dask scheduler (default: $DEMIX_CLUSTER; '' = here)")  # fmt: skip
    sub = runs.add_subparsers(dest="runs_command", required=True, metavar="COMMAND")

    p = sub.add_parser("submit", help="queue one training run")
    add_train_args(p)
    p.add_argument("--name", help="a label for the run (default: model-sampler on dataset)")
    _queue_flags(p)

    p = sub.add_parser("sweep", help="queue one run per point of a grid")
    add_train_args(p)
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2",
                   help="config field or sampler option and its values; repeat for a product")  # fmt: skip
    p.add_argument("--name", help="prefix of the runs' names")
    _queue_flags(p)

    p = sub.add_parser("list", help="all runs, newest first")
    p.add_argument("--group", help="only the runs of this sweep")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("show", help="one run: status, progress, latest metrics, folder")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("cancel", help="stop a run (it keeps its last checkpoint)")
    p.add_argument("id")
    p.add_argument("--wait", type=float, default=0.0, metavar="S",
                   help="wait up to S seconds for a running run to stop")  # fmt: skip

    p = sub.add_parser("resume", help="continue a stopped run from its last checkpoint")
    p.add_argument("id")
    p.add_argument("--steps", type=int, help="train up to this step (default: the run's steps)")
    p.add_argument("--no-start", action="store_true", help="queue only; start no server")

    p = sub.add_parser("delete", help="remove a run that is not running, with its folder")
    p.add_argument("id")

    tune_cli.add_parsers(sub, add_train_args)

    p = sub.add_parser("worker", help="serve the queue until it is empty")
    p.add_argument("--run", metavar="ID", help="train exactly this run in this process")
    p.add_argument(
        "--max-workers", type=int, help="concurrent runs (default: $DEMIX_MAX_WORKERS or 1)"
    )


def _queue_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-start", action="store_true", help="queue only; start no server")


def run_runs_command(args: argparse.Namespace) -> int:
    """Run a parsed `runs` command; return the exit code. `DemixError`s propagate."""
    if getattr(args, "wait", None) is not None:
        check_number("wait", args.wait, 0, 7 * 24 * 3600)
    if getattr(args, "steps", None) is not None and args.runs_command == "resume":
        check_number("steps", args.steps, 1, integer=True)
    if getattr(args, "max_workers", None) is not None:
        check_number("max_workers", args.max_workers, 1, 1024, integer=True)
    store = RunStore(args.home or default_home())
    return COMMANDS[args.runs_command](store, args)


def _submit(store: RunStore, args: argparse.Namespace) -> int:
    config = checked_config(args)
    run_id = store.submit(config, name=args.name, start=not args.no_start, cluster=args.cluster)
    print(json.dumps({"id": run_id}) if args.json else f"queued {run_id}")
    return 0


def _sweep(store: RunStore, args: argparse.Namespace) -> int:
    grid = parse_grid(args.grid)
    config, start = checked_config(args), not args.no_start
    group = store.sweep(config, grid, name=args.name, start=start, cluster=args.cluster)
    ids = [r["id"] for r in store.records(group)][::-1]
    if args.json:
        print(json.dumps({"group": group, "ids": ids}))
    else:
        print(f"queued sweep {group}: {len(ids)} runs")
    return 0


def _emit(args: argparse.Namespace, data, lines) -> int:
    """`data` as one JSON line with --json, else the readable `lines` (an iterable)."""
    print(json.dumps(data) if args.json else "\n".join(lines))
    return 0


def _list(store: RunStore, args: argparse.Namespace) -> int:
    runs = store.records(args.group)
    head = f"{'id':24} {'status':11} {'progress':>14}  name"
    rows = (
        f"{r['id']:24} {r['status']:11} {r['step']:>7}/{r['steps']:<6}  {r['name']}" for r in runs
    )
    return _emit(args, runs, [head, *rows])


def _show(store: RunStore, args: argparse.Namespace) -> int:
    run = store.get(args.id)
    return _emit(args, run, (f"{key:>15}: {run[key]}" for key in SHOW_KEYS))


def _cancel(store: RunStore, args: argparse.Namespace) -> int:
    status = store.cancel(args.id)
    deadline = time.monotonic() + args.wait
    while status in ("cancelling", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = store.get(args.id)["status"]
    print(f"{args.id}: {status}")
    return 0


def _resume(store: RunStore, args: argparse.Namespace) -> int:
    store.resume(args.id, steps=args.steps, start=not args.no_start, cluster=args.cluster)
    print(f"queued {args.id} to resume up to step {store.get(args.id)['steps']}")
    return 0


def _delete(store: RunStore, args: argparse.Namespace) -> int:
    store.delete(args.id)
    print(f"deleted {args.id}")
    return 0


def _worker(store: RunStore, args: argparse.Namespace) -> int:
    if args.run:
        from demix_core.runs.worker import run_one

        status = run_one(store.home, args.run)
        print(f"{args.run}: {status}")
        return 0 if status in ("done", "cancelled") else 1
    from demix_core.runs.queue import serve

    return serve(store.home, args.max_workers)


COMMANDS = {
    "submit": _submit,
    "sweep": _sweep,
    "list": _list,
    "show": _show,
    "cancel": _cancel,
    "resume": _resume,
    "delete": _delete,
    "worker": _worker,
    "tune": tune_cli.tune_command,
    "study": tune_cli.study_command,
}
