"""Datasets: loading TSV splits and id maps into a `kg.KG` (built-ins, folders, synthetic).

A knowledge graph is held as three `[N, 3]` int64 tensors of `(head, relation, tail)` ids.
Entities and relations are indexed over all three splits (as the RotatE code does), so a
valid/test triple with an entity train never has is kept and counted, not dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from demix_core.errors import DatasetError
from demix_core.kg import KG, SPLITS
from demix_core.textio import iter_triples, parse_fields

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "datasets"
BUILTIN = ("nations", "umls", "kinships", "wn18rr", "fb15k-237")


# --------------------------------------------------------------------------- loading


def _split_file(folder: Path, split: str) -> Path:
    for suffix in (".txt", ".txt.gz", ".tsv", ".tsv.gz"):
        path = folder / f"{split}{suffix}"
        if path.exists():
            return path
    raise DatasetError(f"{folder}: no {split}.txt or {split}.txt.gz found")


def read_triples(path: Path) -> list[tuple[str, str, str]]:
    """Read `head<TAB>relation<TAB>tail` lines (plain or gzip, unpacked as a stream under
    `textio.MAX_UNPACKED`); errors name the file and line."""
    return list(iter_triples(path))  # an empty split is refused there


def load_folder(folder: Path, name: str | None = None) -> KG:
    """Load a folder of `train`/`valid`/`test` TSV splits (`.txt` or `.txt.gz`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder")
    raw = {split: read_triples(_split_file(folder, split)) for split in SPLITS}
    ent: dict[str, int] = {}
    rel: dict[str, int] = {}
    for split in SPLITS:  # train first, so train entities get the low ids
        for h, r, t in raw[split]:
            ent.setdefault(h, len(ent))
            rel.setdefault(r, len(rel))
            ent.setdefault(t, len(ent))
    tensors, warnings = {}, []
    for split in SPLITS:
        ids = np.array([(ent[h], rel[r], ent[t]) for h, r, t in raw[split]], dtype=np.int64)
        unique = np.unique(ids, axis=0)
        if len(unique) < len(ids):
            warnings.append(f"{split}: dropped {len(ids) - len(unique)} duplicate triples")
            _, first = np.unique(ids, axis=0, return_index=True)
            ids = ids[np.sort(first)]
        tensors[split] = torch.from_numpy(ids)
    train = tensors["train"]
    seen_e = torch.zeros(len(ent), dtype=torch.bool)
    seen_e[train[:, 0]] = True
    seen_e[train[:, 2]] = True
    seen_r = torch.zeros(len(rel), dtype=torch.bool)
    seen_r[train[:, 1]] = True
    unseen = {}
    for split in ("valid", "test"):
        x = tensors[split]
        bad = ~(seen_e[x[:, 0]] & seen_e[x[:, 2]] & seen_r[x[:, 1]])
        unseen[split] = int(bad.sum())
        if unseen[split]:
            warnings.append(
                f"{split}: {unseen[split]} triples have an entity or relation that train never "
                "has; kept and ranked as usual (their embeddings stay at initialisation)"
            )
    return KG(
        name=name or folder.name,
        entities=list(ent),
        relations=list(rel),
        train=train,
        valid=tensors["valid"],
        test=tensors["test"],
        warnings=warnings,
        unseen=unseen,
    )


_SYNTH = re.compile(r"^synthetic(?::(.*))?$")
_HIDE = re.compile(r"^(" + "|".join(re.escape(b) for b in BUILTIN) + r"):(.+)$", re.IGNORECASE)


def load_dataset(name_or_path: str | Path) -> KG:
    """A built-in name (`umls`), a built-in with part of train held out as known truth
    (`umls:hide=0.3,seed=0`), `synthetic[:entities=2000,hidden=0.3,seed=0]`, or a folder."""
    key = str(name_or_path)
    match = _SYNTH.match(key)
    if match:
        from demix_core.synthetic import parse_synthetic_spec, synthetic_kg

        return synthetic_kg(**parse_synthetic_spec(match.group(1) or ""))
    match = _HIDE.match(key)
    if match:
        return hide_train(_load_cached(match.group(1).lower()), **parse_hide_spec(match.group(2)))
    return _load_cached(key)


def parse_hide_spec(spec: str) -> dict:
    """`hide=0.3,seed=0` -> kwargs; errors name the field."""
    out = parse_fields(spec, {"hide": None, "seed": 0}, "dataset spec")
    if out["hide"] is None or not 0.0 < out["hide"] < 1.0:
        raise DatasetError(f"dataset spec: hide must be in (0, 1), got {out['hide']}")
    return out


def hide_train(kg: KG, hide: float, seed: int = 0) -> KG:
    """`kg` with a seeded fraction `hide` of its train triples moved to `hidden`: true facts
    the model never sees, so a sampled negative that is one of them is a known false negative
    (the synthetic KG's hidden-truth path, on a real graph). Valid and test are unchanged."""
    g = torch.Generator().manual_seed(seed)
    held = torch.rand(len(kg.train), generator=g) < hide  # (N_train,)
    return KG(
        name=f"{kg.name}:hide={hide:g},seed={seed}",
        entities=kg.entities,
        relations=kg.relations,
        train=kg.train[~held],
        valid=kg.valid,
        test=kg.test,
        hidden=torch.cat([kg.hidden, kg.train[held]]),
        warnings=list(kg.warnings),
        unseen=dict(kg.unseen),
    )


@lru_cache(maxsize=8)
def _load_cached(key: str) -> KG:
    if key.lower() in BUILTIN:
        return load_folder(ASSETS / key.lower(), name=key.lower())
    path = Path(key)
    if not path.exists():
        raise DatasetError(
            f"unknown dataset {key!r}: not a built-in ({', '.join(BUILTIN)}), "
            "not 'synthetic[:...]', and no such folder"
        )
    return load_folder(path)
