"""The state of an analysis page as URL query parameters: what it is, how it is written, and
how a URL is read back, checked value by value.

Pure (no Streamlit): the pages hand `parse` the query parameters and get back the values that
are valid plus one short notice per value that is not (unknown choice, out of range, not a
number), which then falls back to its default. Values whose valid set depends on the data (a
run id, a checkpoint step, a relation name) are checked where that set is known, with `pick`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Field:
    """One shared value: its URL parameter, type, default and valid range or choices."""

    param: str  # the URL query parameter
    kind: str  # float | int | choice | bool | text
    default: object = None
    lo: float | None = None
    hi: float | None = None
    step: float | None = None  # a float is snapped to this grid (the slider's)
    choices: tuple = ()


# shared value name (as the lens pages' widgets call it) -> its field
FIELDS = {
    "run": Field("run", "text"),
    "step": Field("ckpt", "int", None, lo=0),
    "kind": Field("pos", "choice", "random", choices=("random", "relation", "entity")),
    "relation": Field("rel", "text"),
    "entity": Field("ent", "text"),
    "query": Field("find", "text", ""),
    "n": Field("n", "int", 128, 1, 2048),
    "seed": Field("seed", "int", 0, 0, 2**31 - 1),
    "k": Field("k", "int", 32, 1, 512),
    "side": Field("side", "choice", "tail", choices=("tail", "head", "both")),
    "base": Field("base", "text", "uniform"),
    "mu": Field("mu", "float", 1.0, 0.0, 6.0, 0.1),
    "alpha": Field("alpha", "float", 0.5, 0.0, 1.0, 0.05),
    "lambda": Field("lambda", "choice", "fixed", choices=("fixed", "beta")),
    "method": Field("proj", "choice", "PCA", choices=("PCA", "UMAP")),
    "view": Field("view", "choice", "one query", choices=("one query", "all queries")),
    "rows": Field("rows", "int", 3, 1, 40),
    "show": Field("show", "choice", "all", choices=("all", "MPN", "TN")),
    "relative": Field("relative", "bool", True),
    "beta": Field("beta", "float", 1.0, 0.0, 10.0, 0.5),
    "row": Field("q", "int", 0, 0),
    "closeup": Field("closeup", "bool", False),
    "dist": Field("dist", "choice", "heatmap", choices=("heatmap", "lines")),
    "cats": Field("cats", "bool", False),
    "triples": Field("triples", "bool", False),
    "lesson": Field("step", "int", 1, 1),
    "example": Field("ex", "text"),
}


def _read(field: Field, raw: str):
    """The typed value of `raw`, or raise ValueError with the reason."""
    if field.kind == "text":
        if not raw:
            raise ValueError("is empty")
        return raw
    if field.kind == "choice":
        if raw not in field.choices:
            raise ValueError(f"is not one of {', '.join(field.choices)}")
        return raw
    if field.kind == "bool":
        if raw.lower() not in ("1", "0", "true", "false"):
            raise ValueError("is not true or false")
        return raw.lower() in ("1", "true")
    try:
        number = float(raw) if field.kind == "float" else int(raw)
    except ValueError:
        raise ValueError("is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError("is not a finite number")
    if (field.lo is not None and number < field.lo) or (field.hi is not None and number > field.hi):
        raise ValueError(f"is outside [{_fmt(field.lo)}, {_fmt(field.hi)}]")
    if field.step:
        number = round(round(number / field.step) * field.step, 6)
    return number


def _fmt(x) -> str:
    return "..." if x is None else f"{x:g}"


def parse(
    params: Mapping[str, str | Sequence[str]],
    names: Sequence[str],
    fields: Mapping[str, Field] = FIELDS,
) -> tuple[dict, list[str]]:
    """The values of shared values `names` found in the query `params` (a name absent from
    the URL is absent from the result), and a notice for each one that could not be used."""
    values, notices = {}, []
    for name in names:
        field = fields.get(name)
        raw = None if field is None else params.get(field.param)
        if raw is None:
            continue
        if not isinstance(raw, str):  # a repeated parameter: the last one counts
            raw = list(raw)[-1] if len(raw) else ""
        try:
            values[name] = _read(field, raw.strip())
        except ValueError as e:
            default = "the default" if field.default is None else f"{field.default}"
            notices.append(f"`{field.param}={raw[:40]}` {e}; using {default}.")
    return values, notices


def pick(value, options: Sequence, what: str, default=None) -> tuple[object, str | None]:
    """`value` if it is one of `options`, else `default` (the first option if None) and a
    notice; `value` None (not asked for) falls back silently."""
    if not options:
        return None, None
    fallback = default if default is not None else options[0]
    if value is None or value in options:
        return (value if value is not None else fallback), None
    return fallback, f"{what} `{str(value)[:60]}` does not exist here; showing {fallback}."


def encode(values: Mapping[str, object], fields: Mapping[str, Field] = FIELDS) -> dict[str, str]:
    """Query parameters of `values` (None and empty text left out), in `fields` order."""
    out = {}
    for name, field in fields.items():
        value = values.get(name)
        if value is None or value == "":
            continue
        if field.kind == "bool":
            out[field.param] = "true" if value else "false"
        elif field.kind == "float":
            out[field.param] = f"{float(value):g}"
        else:
            out[field.param] = str(value)
    return out


def share_url(base: str, params: Mapping[str, str]) -> str:
    """`base` (the page's address, any query dropped) with `params` as its query."""
    base = base.split("?", 1)[0]
    return f"{base}?{urlencode(params)}" if params else base
