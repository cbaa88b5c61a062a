"""The documented checkpoint format, written atomically and read with `weights_only=True`.

`checkpoint.pt` is a dict: `model` (name), `gamma` (float), `entity_embedding (E, De)`,
`relation_embedding (R, Dr)`, `entities`, `relations` (names in index order), `config` (plain
data), `step`. Optimizer state for resuming lives in a separate `train_state.pt`, so the file
people download stays the plain embeddings.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import torch

from demix_core.errors import CheckpointError
from demix_core.models import SCORERS, KGEModel

REQUIRED = ("model", "gamma", "entity_embedding", "relation_embedding", "entities", "relations")


def atomic_save(obj, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over `path`; the
    folder above `path`'s folder must exist."""
    path = Path(path)
    # one level only: a run folder deleted while training must stay deleted, not be
    # recreated around a lone checkpoint (the trainer reports it instead)
    path.parent.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checkpoint_dict(model: KGEModel, kg, config: dict, step: int) -> dict:
    out = model.export()
    out.update(entities=list(kg.entities), relations=list(kg.relations), config=config, step=step)
    return out


def load_checkpoint(path: str | Path) -> dict:
    """Read and check a checkpoint; every failure is one readable `CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip, pickle refusal, ...
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a dict, found {type(data).__name__}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise CheckpointError(f"{path}: missing field(s) {', '.join(missing)}")
    _check_contract(data, path)
    return data


def _check_contract(data: dict, path: Path) -> None:
    """The checkpoint contract, field by field: a file that loads but breaks it (wrong
    shapes, types, NaN weights) would otherwise fail deep inside a model, or evaluate NaN
    embeddings as a perfect MRR."""
    model = data["model"]
    if not isinstance(model, str) or model not in SCORERS:
        raise CheckpointError(
            f"{path}: field 'model' must be one of {', '.join(SCORERS)}, got {model!r}"
        )
    gamma = data["gamma"]
    if isinstance(gamma, torch.Tensor) and gamma.numel() == 1:
        gamma = gamma.item()
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not math.isfinite(gamma):
        raise CheckpointError(f"{path}: field 'gamma' must be a finite number, got {gamma!r}")
    for name in ("entities", "relations"):
        names = data[name]
        if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
            raise CheckpointError(f"{path}: field {name!r} must be a list of names (strings)")
        if len(set(names)) != len(names):
            raise CheckpointError(f"{path}: field {name!r} repeats a name")
    for name, rows in (("entity_embedding", "entities"), ("relation_embedding", "relations")):
        t = data[name]
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise CheckpointError(f"{path}: field {name!r} must be a float tensor, got {kind}")
        if t.dim() != 2 or t.shape[0] != len(data[rows]) or t.shape[1] < 1:
            raise CheckpointError(
                f"{path}: field {name!r} must have shape ({len(data[rows])}, dim) for "
                f"{len(data[rows])} {rows}, got {tuple(t.shape)}"
            )
        if not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: field {name!r} holds NaN or infinite values")
    _check_widths(data, path)
    if not isinstance(data.get("config", {}), dict):
        raise CheckpointError(f"{path}: field 'config' must be a dict of settings")
    step = data.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{path}: field 'step' must be a whole number >= 0, got {step!r}")


def _check_widths(data: dict, path: Path) -> None:
    """Entity and relation widths must be the model's at one `dim` (KGEModel's rule)."""
    from demix_core.validation import embedding_widths

    ent, rel = data["entity_embedding"].shape[1], data["relation_embedding"].shape[1]
    per_dim = embedding_widths(data["model"], 1)[0]  # entity columns per unit of dim
    dim = ent // per_dim
    want = embedding_widths(data["model"], dim) if dim >= 1 else None
    if want != (ent, rel):
        raise CheckpointError(
            f"{path}: field 'relation_embedding' has width {rel} and 'entity_embedding' "
            f"width {ent}; a {data['model']} model of one dim needs widths {want}"
        )


def model_from_checkpoint(data: dict) -> KGEModel:
    return KGEModel.from_export(data)


def check_matches(data: dict, kg) -> None:
    """The checkpoint must have been trained on this dataset's id maps."""
    if list(data["entities"]) != list(kg.entities) or list(data["relations"]) != list(kg.relations):
        raise CheckpointError(
            f"checkpoint entities/relations ({len(data['entities'])}/{len(data['relations'])}) "
            f"do not match dataset {kg.name} ({kg.num_entities}/{kg.num_relations})"
        )
