"""`python -m demix_core experiment NAME --budget quick|full [--seeds] [--device] [--out]`."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def add_experiment_parser(sub) -> None:
    p = sub.add_parser(
        "experiment", help="run one of the paper's experiments (writes docs/results/NAME)"
    )
    p.add_argument(
        "name", nargs="?", help="experiment name (see --list), or `all`: every one, in order"
    )
    p.add_argument("--list", action="store_true", help="list the experiments and their budgets")
    p.add_argument(
        "--budget", choices=["quick", "full", "smoke"], default="quick", help="smoke: CI's check"
    )
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--out", type=Path, default=None, help="folder (default docs/results/NAME)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--jobs",
        default="auto",
        help="runs trained at once, one process each (auto: 2 on a CPU with 2+ cores, else 1); "
        "experiments that measure seconds still train one run at a time",
    )
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="FIELD=V1,V2",
        help="keep the earlier results' rows whose FIELD is one of the values (e.g. "
        "sampler=NSCaching,RW-SANS) instead of re-training them; same budget and seeds only",
    )
    p.set_defaults(func=run_experiment_command)


def run_experiment_command(args) -> int:
    from demix_core.errors import ConfigError
    from demix_core.experiments import experiments, run

    if args.list or not args.name:
        print_list(experiments().values())
        return 0
    seeds = None
    if args.seeds:
        try:
            seeds = tuple(int(s) for s in args.seeds.split(","))
        except ValueError:
            raise ConfigError(f"--seeds: comma-separated integers, got {args.seeds!r}") from None
    keep = parse_keep(args.keep)
    jobs = parse_jobs(args.jobs, args.device)
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:7.1f}s] {message}", file=sys.stderr, flush=True)

    from demix_core.experiments import get

    if args.name == "all":
        return run_all(args, seeds, jobs, progress, t0)
    record = run(args.name, args.budget, seeds, args.device, args.out, progress, keep, jobs)
    print(get(args.name).conclude(record["data"]))
    print(f"{record['seconds']:.0f} s; written to {args.out or 'docs/results/' + args.name}")
    return 0


def print_list(exps) -> None:
    """Each experiment's estimated minutes: quick alone, quick inside `experiment all` (the
    runs an earlier experiment trained are free), full; and the quick totals."""
    exps = list(exps)
    print(f"{'name':<18}{'quick':>7}{'in all':>8}{'full':>7}  question")
    for exp in exps:
        q, a, f = (
            exp.estimate.get(b, exp.estimate["quick"]) / 60 for b in ("quick", "all", "full")
        )
        print(f"{exp.name:<18}{q:>6.0f}m{a:>7.0f}m{f:>6.0f}m  {exp.question}")
    alone = sum(exp.estimate["quick"] for exp in exps) / 3600
    shared = sum(exp.estimate.get("all", exp.estimate["quick"]) for exp in exps) / 3600
    print(
        f"(minutes on 2 CPU cores, --jobs auto, measured or derived as catalogue.toml says; "
        f"every quick budget one by one: {alone:.1f} h, as `experiment all --budget quick`: "
        f"{shared:.1f} h)"
    )


def run_all(args, seeds, jobs: int, progress, t0: float) -> int:
    """Every experiment in the Results page's order, sharing one cache of finished runs: a
    run two of them need (e.g. FB15k-237 DeMix seed 0 in convergence, benchmarks,
    seeds-large and sensitivity-large) trains once. `--out DIR` writes DIR/NAME for each."""
    from demix_core.errors import ConfigError
    from demix_core.experiments import experiments, run

    if args.keep:
        raise ConfigError("--keep: name one experiment (all re-runs every row)")
    cache: dict = {}
    for name in experiments():
        out = args.out / name if args.out else None
        progress(f"experiment {name}")
        record = run(name, args.budget, seeds, args.device, out, progress, None, jobs, cache)
        print(f"{name}: {record['seconds']:.0f} s")
    print(f"all: {time.perf_counter() - t0:.0f} s, {len(cache)} distinct runs")
    return 0


def parse_jobs(value: str, device: str) -> int:
    """`--jobs`: a positive integer, or auto (2 processes on a CPU with 2+ cores: one small
    run leaves two cores half idle; 1 on a GPU, which one process already keeps busy)."""
    import os

    from demix_core.errors import ConfigError

    if value == "auto":
        import torch

        gpu = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        return 1 if gpu else min(2, os.cpu_count() or 1)
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ConfigError(f"--jobs: a positive integer or auto, got {value!r}")
    return jobs


def parse_keep(values: list[str]) -> dict[str, set] | None:
    """`["sampler=A,B", "model=hake"]` -> {"sampler": {"A", "B"}, "model": {"hake"}}."""
    from demix_core.errors import ConfigError

    keep: dict[str, set] = {}
    for value in values:
        field, sep, items = value.partition("=")
        names = {v.strip() for v in items.split(",") if v.strip()}
        if not sep or not field.strip() or not names:
            raise ConfigError(f"--keep: expected FIELD=V1,V2, got {value!r}")
        keep.setdefault(field.strip(), set()).update(names)
    return keep or None
