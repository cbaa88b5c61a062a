"""`runs tune` (start a study) and `runs study GROUP` (show, drive or resume one)."""

from __future__ import annotations

import argparse
import json

from demix_core.runs import study as study_lib
from demix_core.runs import tune
from demix_core.runs.flags import checked_config


def add_parsers(sub, add_train_args) -> None:
    p = sub.add_parser("tune", help="tune config values with Optuna; each trial is a run")
    add_train_args(p)
    p.add_argument("--param", action="append", required=True, metavar="NAME=LOW:HIGH[:log]",
                   help="a config field or sampler option and its range; repeat per value")  # fmt: skip
    p.add_argument("--trials", type=int, default=20, help="how many trials (default 20)")
    p.add_argument("--objective", default="valid_mrr", choices=tune.OBJECTIVES,
                   help="maximised; the best validation value of each trial")  # fmt: skip
    p.add_argument("--pruning", action="store_true",
                   help="cancel trials below the median of finished ones at the same step")  # fmt: skip
    p.add_argument("--parallel", type=int, default=1,
                   help="trials at a time (1: the same trials for the same --seed)")  # fmt: skip
    p.add_argument("--name", help="a label for the study")
    _driver_flags(p)

    p = sub.add_parser("study", help="a study's trials and best settings; --resume drives it on")
    p.add_argument("group")
    p.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)  # the detached driver
    p.add_argument("--resume", action="store_true", help="start its driver if none is running")
    _driver_flags(p, start=False)


def _driver_flags(p: argparse.ArgumentParser, start: bool = True) -> None:
    p.add_argument("--foreground", action="store_true", help="drive the study here until it ends")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    if start:
        p.add_argument("--no-start", action="store_true", help="write the study; start nothing")


def tune_command(store, args) -> int:

    params = [tune.parse_param(spec) for spec in args.param]
    study = tune.create(store, checked_config(args), params, args.trials, args.objective,
                        args.pruning, args.parallel, args.name, args.cluster)  # fmt: skip
    if not args.json:
        print(f"study {study.group}: {study.trials} trials of {', '.join(p.name for p in params)}")
    if args.foreground:
        return _show(store, study.group, args, drive=True)
    if not args.no_start:
        tune.start(store, study.group)
    if args.json:
        print(json.dumps({"group": study.group}))
    return 0


def study_command(store, args) -> int:
    if args.drive or args.foreground:
        return _show(store, args.group, args, drive=True)
    if args.resume and not tune.is_driven(store.home, args.group):
        tune.Study.load(store.home, args.group)  # an unknown group is an error, not a driver
        tune.start(store, args.group)
    return _show(store, args.group, args)


def _show(store, group: str, args, drive: bool = False) -> int:
    echo = (lambda line: None) if args.json else print
    summary = study_lib.drive(store, group, echo) if drive else study_lib.summary(store, group)
    if args.json:
        print(json.dumps(summary))
        return 0
    told = sum(r["state"] != "RUNNING" for r in summary["rows"])
    state = "its driver is running" if summary["driven"] else "no driver running"
    print(f"{group} {summary['name']}: {told} of {summary['trials']} trials told, {state}")
    for r in summary["rows"]:
        value = f"{r['value']:.4f}" if r["value"] is not None else "-"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in r["params"].items())
        print(f"#{r['number']:<3} {r['state']:9} {value:>7}  {shown}  ({r['run']})")
    best = summary["best"]
    if best:
        shown = " ".join(f"--{k.replace('_', '-')} {v:.4g}" for k, v in best["params"].items())
        print(f"best: trial {best['number']}, {summary['objective']} {best['value']:.4f}: {shown}")
    return 0
