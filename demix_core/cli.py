"""`python -m demix_core ...`: train, evaluate, datasets, negatives (audit), runs.

Errors caused by input print one line (`error: ...`) and exit 2, without a traceback.
Long work draws a progress bar on stderr; `--json` puts one JSON object on the last line of
stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from demix_core.errors import describe


class ProgressBar:
    """A one-line text progress bar on stderr (silent when stderr is not a terminal unless
    forced), refreshed at most 5 times a second."""

    def __init__(self, label: str, total: int, stream=None):
        self.label, self.total, self.stream = label, max(1, total), stream or sys.stderr
        self.start, self.last = time.perf_counter(), 0.0

    def update(self, done: int, extra: str = "") -> None:
        now = time.perf_counter()
        if now - self.last < 0.2 and done < self.total:
            return
        self.last = now
        frac = min(1.0, done / self.total)
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        bar = "#" * int(frac * 30)
        self.stream.write(
            f"\r{self.label} [{bar:<30}] {done}/{self.total} {frac:4.0%} eta {eta:5.0f}s {extra}"
        )
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def add_train_args(p: argparse.ArgumentParser) -> None:
    """The training flags, shared by `train`, `runs submit`, `runs sweep` and the benches."""
    from demix_core.models import SCORERS
    from demix_core.sampling import SAMPLERS
    from demix_core.sampling.options import add_sampler_flags

    p.add_argument(
        "--dataset", required=True, help="built-in name, synthetic[:k=v,...] or a folder"
    )
    p.add_argument("--model", default="rotate", choices=sorted(SCORERS))
    p.add_argument("--sampler", default="uniform", choices=sorted(SAMPLERS))
    for flag, kind in (
        ("dim", int),
        ("gamma", float),
        ("lr", float),
        ("batch-size", int),
        ("negatives", int),
        ("steps", int),
        ("adv-temperature", float),
        ("reg-weight", float),
        ("eval-every", int),
        ("early-stopping", int),
        ("log-every", int),
        ("checkpoint-every", int),
        ("seed", int),
        ("time-budget", float),
    ):
        p.add_argument(
            f"--{flag}", type=kind, default=None, help="(default: recommended per dataset)"
        )
    p.add_argument("--regularization", choices=["none", "n3", "l2"], default=None)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None)
    p.add_argument("--compile", choices=["auto", "on", "off"], default=None)
    p.add_argument("--subsampling", action="store_true", help="RotatE frequency weights")
    p.add_argument("--filter-negatives", action="store_true", help="redraw known train positives")
    p.add_argument("--no-measure-truth", action="store_true", help="skip false-negative counting")
    add_sampler_flags(p)


def _cmd_train(args) -> int:
    from demix_core.callbacks import ProgressCallback
    from demix_core.config import config_from_args
    from demix_core.data import load_dataset
    from demix_core.runs.files import prepare_out
    from demix_core.training import pick_device, train
    from demix_core.validation import check_memory

    config = config_from_args(args)
    kg = load_dataset(config.dataset)
    for w in kg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    check_memory(config, kg.num_entities, kg.num_relations, pick_device(config.device))
    out = Path(args.out)
    created = prepare_out(
        out, args.overwrite, warn=lambda w: print(f"warning: {w}", file=sys.stderr)
    )
    bar = ProgressCallback(ProgressBar("train", config.steps)) if not args.quiet else None
    try:
        result = train(config, out, callbacks=[bar] if bar else [], kg=kg)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # leave no empty folder of ours behind a run that never started
        raise
    _print_result(result, args.json)
    return 0


def _cmd_evaluate(args) -> int:
    from demix_core.checkpoint import check_matches, load_checkpoint, model_from_checkpoint
    from demix_core.compile import EVAL_WORK, decide, set_compile
    from demix_core.data import load_dataset
    from demix_core.evaluation import evaluate

    kg = load_dataset(args.dataset)
    data = load_checkpoint(args.checkpoint)
    check_matches(data, kg)
    import torch

    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")
    model = model_from_checkpoint(data).to(device)
    work = 2 * len(kg.split(args.split)) * kg.num_entities * model.entity.shape[1]
    set_compile(decide(args.compile, work, threshold=EVAL_WORK))
    bar = ProgressBar(f"evaluate {args.split}", 2 * len(kg.split(args.split)))
    t0 = time.perf_counter()
    metrics = evaluate(model, kg, args.split, progress=bar.update, per_relation=args.per_relation)
    metrics["seconds"] = time.perf_counter() - t0
    if args.per_relation and args.json:
        keep = ("per_relation", "per_category")
        flat = {k: v for k, v in metrics.items() if not isinstance(v, dict) or k in keep}
        print(json.dumps(_none_for_nan(flat)))
        return 0
    _print_result(metrics, args.json)
    if args.per_relation:
        print(_category_table(metrics["per_category"]))
    return 0


def _none_for_nan(x):
    if isinstance(x, dict):
        return {k: _none_for_nan(v) for k, v in x.items()}
    return None if isinstance(x, float) and x != x else x


def _category_table(per_category: dict) -> str:
    """MRR per relation category and side, with the number of queries of each."""
    lines = [f"{'category':>20}{'MRR both':>10}{'MRR tail':>10}{'MRR head':>10}{'queries':>9}"]
    for name, sides in per_category.items():
        mrr = "".join(f"{sides[s]['mrr']:>10.4f}" for s in ("both", "tail", "head"))
        lines.append(f"{name:>20}{mrr}{sides['both']['queries']:>9}")
    return "\n".join(lines)


def _cmd_datasets(args) -> int:
    from demix_core.data import BUILTIN, load_dataset

    rows = [load_dataset(name).stats() for name in BUILTIN]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'name':<11}{'entities':>10}{'relations':>10}{'train':>9}{'valid':>8}{'test':>8}")
    for r in rows:
        print(
            f"{r['name']:<11}{r['entities']:>10}{r['relations']:>10}{r['train']:>9}"
            f"{r['valid']:>8}{r['test']:>8}"
        )
    print("also: synthetic[:entities=2000,hidden=0.3,seed=0] (family tree with hidden truth)")
    return 0


def _print_result(result: dict, as_json: bool) -> None:
    flat = {k: v for k, v in result.items() if not isinstance(v, dict)}
    if as_json:
        print(json.dumps(flat))
        return
    for key, value in flat.items():
        print(f"{key:>20}: {value:.4f}" if isinstance(value, float) else f"{key:>20}: {value}")


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error format: one line, then exit 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m demix_core", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a KGE model")
    add_train_args(p)
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder that is not a run folder (its other files are kept)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser("evaluate", help="filtered ranking metrics of a checkpoint")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", choices=["test", "valid"], default="test")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    p.add_argument(
        "--per-relation",
        action="store_true",
        help="also MRR per relation, and per relation category (1-1, 1-N, N-1, N-N) and side",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("datasets", help="the built-in datasets and their sizes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_datasets)
    _optional_commands(sub)
    return parser


def _optional_commands(sub) -> None:
    """Sub-commands living beside the core: the sampler audit and the run store."""
    try:
        from demix_core.audit_cli import add_negatives_parser, run_negatives_command

        add_negatives_parser(sub)
        sub.choices["negatives"].set_defaults(func=run_negatives_command)
    except ImportError:
        pass
    from demix_core.experiments.cli import add_experiment_parser

    add_experiment_parser(sub)
    try:
        from demix_core.runs.cli import add_runs_parser, run_runs_command

        add_runs_parser(sub, add_train_args)
        sub.choices["runs"].set_defaults(func=run_runs_command)
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> int:
    """The CLI's one error boundary: any failure is one line `error: ...` and exit 2
    (`DEMIX_DEBUG=1` re-raises, for a traceback); a closed pipe (`runs list | head`) ends
    quietly with 141, as a shell tool killed by SIGPIPE would."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error, already printed on one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that left after the last write breaks the pipe here
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("DEMIX_DEBUG"):
            raise
        print(f"error: {describe(exc)}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into the closed pipe
    does not print its own BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
