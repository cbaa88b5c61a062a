"""The DeMix paper's experiments as one command each, with results the app redraws.

    python -m demix_core experiment --list
    python -m demix_core experiment sensitivity --budget quick

Each writes `results.json` (the numbers), `results.md` (table, conclusion, command) and
`figures.json` (Plotly specs) into `docs/results/NAME/` (or `--out`). The quick-budget results
are committed, so the Results page shows them without re-running anything.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import platform
import time
import tomllib
from pathlib import Path

from demix_core.errors import ConfigError
from demix_core.experiments.base import BUDGETS, Context, Experiment

RESULTS = Path(__file__).resolve().parent.parent.parent / "docs" / "results"


CATALOGUE = Path(__file__).resolve().parent / "catalogue.toml"


@functools.cache
def _registry() -> dict[str, Experiment]:
    """The experiments of `catalogue.toml`, each with its module's run / table / conclude /
    figures (module `name` with "-" as "_")."""
    entries = tomllib.loads(CATALOGUE.read_text())
    known = {}
    for name, entry in entries.items():
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        known[name] = Experiment(
            name=name,
            **entry,
            **{part: getattr(module, part) for part in ("run", "table", "conclude", "figures")},
        )
    return known


def experiments() -> dict[str, Experiment]:
    """Every experiment by name, in the order of the issue (and of the Results page)."""
    return _registry()


def get(name: str) -> Experiment:
    known = experiments()
    if name not in known:
        raise ConfigError(f"experiment: unknown name {name!r} (known: {', '.join(known)})")
    return known[name]


def command(name: str, budget: str, seeds=None) -> str:
    """The command that regenerates an experiment's committed results."""
    extra = f" --seeds {','.join(map(str, seeds))}" if seeds else ""
    return f"python -m demix_core experiment {name} --budget {budget}{extra}"


def run(
    name: str,
    budget: str = "quick",
    seeds: tuple[int, ...] | None = None,
    device: str = "auto",
    out: Path | None = None,
    progress=lambda message: None,
    keep: dict[str, set] | None = None,
    jobs: int = 1,
    cache: dict | None = None,
) -> dict:
    """Run one experiment and write its files; returns the saved record. `keep` (field ->
    values) keeps the matching rows of the results already in the output folder; `jobs` runs
    train at once; `cache`: finished runs shared with other experiments (`pool.fit_many`)."""
    exp = get(name)
    if budget not in BUDGETS:
        raise ConfigError(f"--budget must be one of {BUDGETS}, got {budget!r}")
    folder = Path(out) if out else RESULTS / name
    ctx = Context(budget=budget, device=device, progress=progress, large_quick=exp.large_quick)
    ctx.jobs = max(1, int(jobs))
    if cache is not None:
        ctx.cache = cache
    if seeds:
        ctx.seeds = tuple(seeds)
    elif budget == "smoke":
        ctx.seeds = (0,)
    if keep:
        _previous(exp, ctx, folder, keep)
    t0 = time.perf_counter()
    data = exp.run(ctx)
    record = {
        "name": name,
        "title": exp.title,
        "budget": budget,
        "seeds": list(ctx.seeds),
        "command": command(name, budget, seeds),
        "created": time.strftime("%Y-%m-%d %H:%M", time.gmtime()) + " UTC",
        "seconds": round(time.perf_counter() - t0, 1),
        "host": host(),
        "jobs": ctx.jobs,
        "settings": {
            "small KGs": ctx.settings("umls"),
            "FB15k-237, WN18RR": ctx.settings("fb15k-237"),
        },
        "data": data,
    }
    dates = sorted({r["kept_from"] for r in data.get("runs", []) if r.get("kept_from")})
    if dates:  # rows kept from earlier results carry the date they were made
        record["kept"] = {"fields": {f: sorted(v) for f, v in keep.items()}, "from": dates}
    save(record, folder)
    return record


def _previous(exp: Experiment, ctx: Context, folder: Path, keep: dict[str, set]) -> None:
    """Give `ctx` the earlier record's rows to keep; it must be of the same budget and seeds
    (otherwise its rows would not be comparable with the new ones)."""
    if not exp.keeps:
        raise ConfigError(f"--keep: experiment {exp.name!r} always re-runs every row")
    prior = load(folder.name, folder.parent)
    if prior is None:
        raise ConfigError(f"--keep: no earlier results in {folder} to keep rows from")
    if prior["budget"] != ctx.budget or tuple(prior["seeds"]) != tuple(ctx.seeds):
        raise ConfigError(
            f"--keep: {folder}/results.json is budget {prior['budget']} seeds {prior['seeds']}, "
            f"not {ctx.budget} {list(ctx.seeds)}; re-run every row instead"
        )
    ctx.keep, ctx.previous = keep, list(prior["data"].get("runs", []))
    ctx.previous_created = prior["created"]


def host() -> dict:
    """What the figures were measured on (hosts of one kind differ: see README)."""
    import torch

    flags = ""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pass
    width = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "other"
    return {
        "cpus": os.cpu_count(),
        "vector": width,
        "machine": platform.machine(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def save(record: dict, folder: Path) -> None:
    """Write results.json, results.md and figures.json atomically (a reader never sees a
    half-written file)."""
    exp = get(record["name"])
    folder.mkdir(parents=True, exist_ok=True)
    figs = [json.loads(f.to_json()) for f in exp.figures(record["data"])]
    files = {
        "results.json": json.dumps(record, indent=1, sort_keys=True),
        "figures.json": json.dumps(figs),
        "results.md": markdown(record),
    }
    for fname, text in files.items():
        tmp = folder / f".{fname}.tmp"
        tmp.write_text(text)
        os.replace(tmp, folder / fname)


def load(name: str, root: Path | None = None) -> dict | None:
    """The saved record of an experiment, or None when it has not been run."""
    path = (Path(root) if root else RESULTS) / name / "results.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "data" in record else None


def markdown(record: dict) -> str:
    exp = get(record["name"])
    rows = exp.table(record["data"])
    lines = [f"# {exp.title}", "", exp.question, "", "```", record["command"], "```", ""]
    lines += [f"**Conclusion.** {exp.conclude(record['data'])}", ""]
    lines += markdown_table(rows)
    h = record["host"]
    for where, values in record.get("settings", {}).items():
        given = ", ".join(f"{k} {v}" for k, v in values.items()) or "the recommended defaults"
        lines += ["", f"Training on {where}: {given} (the rest: recommended defaults)."]
    lines += [
        "",
        f"Budget `{record['budget']}`, seeds {record['seeds']}, {record['seconds']:.0f} s on "
        f"{h['cpus']} CPUs ({h['vector']}, torch {h['torch']}"
        + (f", {h['cuda']}" if h.get("cuda") else "")
        + f"), {record['created']}"
        + (
            f"; up to {record['jobs']} runs side by side, one process each (training "
            "seconds are of that setting)."
            if record.get("jobs", 1) > 1
            else "."
        ),
    ]
    if note := record_note(record):
        lines += ["", note]
    return "\n".join(lines) + "\n"


def record_note(record: dict) -> str | None:
    """How the record was made when not by one plain run of its command: merged from runs
    side by side (`merge`), or rows a `--keep` run took from earlier results (None: neither)."""
    parts = [record["merged"]["note"]] if record.get("merged") else []
    if k := record.get("kept"):
        which = "; ".join(f"{f} in {', '.join(v)}" for f, v in k["fields"].items())
        parts.append(
            f"Rows with {which} were kept from the run(s) of {', '.join(k['from'])} (same "
            "budget and seeds), not re-trained; the command above re-runs them all."
        )
    return " ".join(parts) or None


def merge(records: list[dict], note: str) -> dict:
    """One record from runs of the same experiment and budget on disjoint seeds (made side by
    side, e.g. one process per seed on one GPU: bench/gpu_check.sh): the rows in seed order,
    the seeds together, the longest wall-clock, and `note` saying how it was made."""
    if not records:
        raise ConfigError("merge: no records")
    first = records[0]
    seeds: list[int] = []
    for r in records:
        if (r["name"], r["budget"]) != (first["name"], first["budget"]):
            raise ConfigError(
                f"merge: {r['name']} {r['budget']} is not {first['name']} {first['budget']}"
            )
        if set(r["seeds"]) & set(seeds):
            raise ConfigError(f"merge: seed(s) {sorted(set(r['seeds']) & set(seeds))} twice")
        seeds += r["seeds"]
    rows = [row for r in records for row in r["data"]["runs"]]
    where = {d: i for i, d in enumerate(dict.fromkeys(row.get("dataset") for row in rows))}
    runs = sorted(rows, key=lambda row: (where[row.get("dataset")], row.get("seed", 0)))
    default = tuple(sorted(seeds)) == Context().seeds
    return {
        **first,
        "seeds": sorted(seeds),
        "command": command(first["name"], first["budget"], None if default else sorted(seeds)),
        "seconds": max(r["seconds"] for r in records),
        "created": max(r["created"] for r in records),
        "data": {**first["data"], "runs": runs},
        "merged": {"from": len(records), "note": note},
    }


def markdown_table(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_cell(r.get(c)) for c in cols) + " |")
    return out


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
