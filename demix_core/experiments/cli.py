"""`python -m demix_core experiment NAME --budget quick|full [--seeds] [--device] [--out]`."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def add_experiment_parser(sub) -> None:
    p = sub.add_parser(
        "experiment", help="run one of the paper's experiments (writes docs/results/NAME)"
    )
    p.add_argument("name", nargs="?", help="experiment name (see --list)")
    p.add_argument("--list", action="store_true", help="list the experiments and their budgets")
    p.add_argument(
        "--budget", choices=["quick", "full", "smoke"], default="quick", help="smoke: CI's check"
    )
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--out", type=Path, default=None, help="folder (default docs/results/NAME)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
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
        print(f"{'name':<18}{'quick':>7}{'full':>7}  question")
        for exp in experiments().values():
            q, f = (exp.estimate[b] / 60 for b in ("quick", "full"))
            print(f"{exp.name:<18}{q:>6.0f}m{f:>6.0f}m  {exp.question}")
        total = sum(exp.estimate["quick"] for exp in experiments().values()) / 3600
        print(f"(estimated minutes on 2 CPU cores; every quick budget together: {total:.1f} h)")
        return 0
    seeds = None
    if args.seeds:
        try:
            seeds = tuple(int(s) for s in args.seeds.split(","))
        except ValueError:
            raise ConfigError(f"--seeds: comma-separated integers, got {args.seeds!r}") from None
    keep = parse_keep(args.keep)
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:7.1f}s] {message}", file=sys.stderr, flush=True)

    record = run(args.name, args.budget, seeds, args.device, args.out, progress, keep)
    from demix_core.experiments import get

    print(get(args.name).conclude(record["data"]))
    print(f"{record['seconds']:.0f} s; written to {args.out or 'docs/results/' + args.name}")
    return 0


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
