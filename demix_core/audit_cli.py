"""The `negatives` command: `demix_core.audit` for a checkpoint, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from demix_core.audit import audit_samplers, json_ready
from demix_core.relcat import CATEGORIES
from demix_core.sampling import SAMPLERS, sampler_class


def add_negatives_parser(subparsers) -> argparse.ArgumentParser:
    """`negatives --checkpoint FILE --dataset NAME --samplers a,b ...` (sampler option flags
    such as `--cache-size` apply to every audited sampler that has that option)."""
    from demix_core.sampling.options import add_sampler_flags

    p = subparsers.add_parser("negatives", help="audit the negatives of several samplers")
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt of a trained model")
    p.add_argument("--dataset", required=True, help="the dataset the checkpoint was trained on")
    p.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated names")
    p.add_argument("--positives", type=int, default=500, help="train positives audited")
    p.add_argument("--negatives", type=int, default=64, help="candidates per positive (K)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--adv-temperature", type=float, default=1.0)
    p.add_argument("--warmup", type=int, default=10, help="sampler steps before measuring")
    p.add_argument("--filtered", action="store_true", help="redraw known train positives")
    p.add_argument("--json", action="store_true", help="one JSON object on the last line")
    add_sampler_flags(p)
    return p


def audit_checkpoint(path, dataset: str, samplers: list[str], **kwargs) -> dict:
    """Load a checkpoint (weights only), check it matches the dataset, audit it."""
    from types import SimpleNamespace

    from demix_core.checkpoint import check_matches, load_checkpoint, model_from_checkpoint
    from demix_core.data import load_dataset
    from demix_core.validation import check_memory

    kg = load_dataset(dataset)
    data = load_checkpoint(path)
    check_matches(data, kg)
    model = model_from_checkpoint(data).eval()
    plan = SimpleNamespace(  # the training rule, with the audited positives as the batch
        model=model.name,
        dim=model.dim,
        batch_size=min(kwargs.get("positives", 500), len(kg.train)),
        negatives=kwargs.get("negatives", 64),
    )
    check_memory(plan, kg.num_entities, kg.num_relations)
    return audit_samplers(model, kg, samplers, **kwargs)


def _check_numbers(args) -> None:
    """The audit's numbers: finite, in range, and its (P, K, De) scoring within memory (the
    training rule, with P positives as the batch)."""
    from demix_core.validation import check_number, check_seed

    check_number("positives", args.positives, 1, integer=True)
    check_number("negatives", args.negatives, 1, integer=True)
    check_number("warmup", args.warmup, 0, integer=True)
    check_number("adv_temperature", args.adv_temperature, 0)
    check_seed("seed", args.seed)


def run_negatives_command(args) -> int:
    from demix_core.sampling.options import sampler_options_from_args

    _check_numbers(args)
    names = [s.strip() for s in args.samplers.split(",") if s.strip()]
    for name in names:
        sampler_class(name, "samplers")
    result = audit_checkpoint(
        args.checkpoint,
        args.dataset,
        names,
        positives=args.positives,
        negatives=args.negatives,
        seed=args.seed,
        adv_temperature=args.adv_temperature,
        options={name: sampler_options_from_args(name, args) for name in names},
        filtered=args.filtered,
        warmup=args.warmup,
    )
    if args.json:
        rows = {k: {f: json_ready(v) for f, v in r.items()} for k, r in result["samplers"].items()}
        print(json.dumps({**result, "samplers": rows}))
    else:
        print(format_table(result))
    return 0


def format_table(result: dict) -> str:
    cols = ("fn_rate", "train_rate", "score_mean", "score_q10", "score_q50", "score_q90")
    cols += ("adv_entropy", "n_mpn", "mpne_precision", "mpne_recall")
    lines = ["sampler".ljust(10) + "".join(c.rjust(15) for c in cols)]
    for name, row in result["samplers"].items():
        cells = [row.get(c) for c in cols]
        text = ["-" if v is None else f"{v:.4g}" for v in cells]
        lines.append(name.ljust(10) + "".join(t.rjust(15) for t in text))
    lines += ["", "false-negative rate by relation category"]
    lines.append("sampler".ljust(10) + "".join(c.rjust(15) for c in CATEGORIES))
    for name, row in result["samplers"].items():
        rates = [row.get("by_category", {}).get(c, {}).get("fn_rate") for c in CATEGORIES]
        text = ["-" if v is None or v != v else f"{v:.4g}" for v in rates]
        lines.append(name.ljust(10) + "".join(t.rjust(15) for t in text))
    return "\n".join(lines)
