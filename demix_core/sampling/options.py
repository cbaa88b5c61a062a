"""Command-line flags for every sampler's options, generated from their dataclasses, so a
sampler added to the registry gets its flags without touching the CLI."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields

from demix_core.sampling.registry import SAMPLERS, sampler_class


def _option_fields():
    seen = {}
    for cls in SAMPLERS.values():
        for f in fields(cls.Options):
            if f.name != "base_options":
                seen.setdefault(f.name, f)
    return seen


def add_sampler_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sampler options (used by the samplers that have them)")
    for name, f in _option_fields().items():
        flag = name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            if default:
                group.add_argument(
                    f"--no-{flag}",
                    dest=name,
                    action="store_false",
                    default=None,
                    help=f"turn {name} off",
                )
            else:
                group.add_argument(f"--{flag}", dest=name, action="store_true", default=None)
            continue
        kind = type(default) if default is not None else str
        group.add_argument(
            f"--{flag}", dest=name, type=kind, default=None, help=f"(default {default})"
        )


def sampler_options_from_args(sampler: str, args) -> dict:
    """Options explicitly given on the command line for `sampler` (and DeMix's base)."""
    cls = sampler_class(sampler)
    mine = {f.name for f in fields(cls.Options)}
    given = {k: getattr(args, k) for k in _option_fields() if getattr(args, k, None) is not None}
    options = {k: v for k, v in given.items() if k in mine}
    if "base_options" in mine:
        base = sampler_class(options.get("base_sampler", "uniform"), "base_sampler")
        base_names = {f.name for f in fields(base.Options)}
        base_opts = {k: v for k, v in given.items() if k in base_names and k not in mine}
        if base_opts:
            options["base_options"] = base_opts
    return options
