"""Sweeps: a grid of config values expanded into one config per point, and its results table.

Grid keys name `TrainConfig` fields (`seed`, `sampler`, `lr`); a key that is not a
field is an option of the sampler (`mu`, `alpha` -> `sampler_options["mu"]`; the
dotted `sampler_options.mu` says the same). Values given as strings (the CLI) take
the type of the base value (the config's, else the sampler option's default). Every
point is checked (`TrainConfig.from_dict`, the sampler's option names) before any
run is queued, so a typo never leaves half a sweep behind.
"""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import TYPE_CHECKING

from demix_core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from demix_core.config import TrainConfig

OPTIONS = "sampler_options"
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def parse_grid(specs: list[str]) -> dict[str, list[str]]:
    """`["mu=0.5,1,3", "seed=0,1"]` -> `{"mu": ["0.5", "1", "3"], "seed": ["0", "1"]}`."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not items:
            raise ConfigError(f"--grid {spec!r}: expected NAME=V1,V2,...")
        if key.strip() in grid:
            raise ConfigError(f"--grid {key.strip()!r} given twice")
        grid[key.strip()] = items
    return grid


def expand(config: TrainConfig, grid: dict[str, list]) -> list[tuple[TrainConfig, dict]]:
    """One `(config, {key: value})` per point of the Cartesian product of `grid`."""
    if not grid or any(len(v) == 0 for v in grid.values()):
        raise ConfigError("a sweep needs at least one grid key with at least one value")
    base = config.to_dict()
    keys = list(grid)
    # fields first, so that a swept `sampler` decides what its options are
    order = [k for k in keys if k in base] + [k for k in keys if k not in base]
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values))
        cfg = {**base, OPTIONS: dict(base.get(OPTIONS) or {})}
        params = {key: _assign(cfg, key, point[key]) for key in order}
        _check_options(cfg)
        points.append((type(config).from_dict(cfg), {k: params[k] for k in keys}))
    return points


def _assign(cfg: dict, key: str, raw: object) -> object:
    """Set `key` (field, option or `sampler_options.option`) in `cfg`; return the value set."""
    name = key.removeprefix(f"{OPTIONS}.")
    if key in cfg and key != OPTIONS:
        cfg[key] = value = coerce(raw, cfg[key], key)
    elif "." not in name:
        like = cfg[OPTIONS].get(name, _option_default(cfg["sampler"], name))
        cfg[OPTIONS][name] = value = coerce(raw, like, key)
    else:
        raise ConfigError(f"grid key {key!r}: not a config field or a sampler option")
    return value


def _option_default(sampler: str, name: str) -> object:
    from demix_core.sampling.registry import sampler_class

    cls = sampler_class(sampler).Options
    return next((f.default for f in fields(cls) if f.name == name), None)


def _check_options(cfg: dict) -> None:
    from demix_core.sampling.base import make_options
    from demix_core.sampling.registry import sampler_class

    make_options(sampler_class(cfg["sampler"]).Options, cfg[OPTIONS], cfg["sampler"])


def coerce(raw: object, like: object, key: str) -> object:
    """A CLI string as the type of `like` (the base value); non-strings pass through."""
    if not isinstance(raw, str) or isinstance(like, str):
        return raw
    try:
        if isinstance(like, bool):
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError(raw)
            return raw.lower() in _TRUE
        if isinstance(like, int):
            return int(raw)
        if isinstance(like, float):
            return float(raw)
    except ValueError:
        raise ConfigError(f"grid {key}={raw!r}: expected {type(like).__name__}") from None
    for parse in (int, float):  # no base value to follow: read numbers as numbers
        try:
            return parse(raw)
        except ValueError:
            pass
    return raw


def label(params: dict) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in params.items()) + "]"


def table(records: list[dict]) -> pd.DataFrame:
    """Sweep results, in `records` order: id, name, status, step, grid values, final metrics."""
    import pandas as pd

    rows = [
        {
            "id": r["id"],
            "name": r["name"],
            "status": r["status"],
            "step": r["step"],
            **r["params"],
            **r["final"],
        }
        for r in records
    ]
    return pd.DataFrame.from_records(rows)
