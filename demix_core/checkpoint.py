"""The documented checkpoint format, written atomically and read with `weights_only=True`.

`checkpoint.pt` is a dict: `model` (name), `gamma` (float), `entity_embedding (E, De)`,
`relation_embedding (R, Dr)`, `entities`, `relations` (names in index order), `config` (plain
data), `step`. Optimizer state for resuming lives in a separate `train_state.pt`, so the file
people download stays the plain embeddings.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from demix_core.errors import CheckpointError
from demix_core.models import SCORERS, KGEModel

REQUIRED = ("model", "gamma", "entity_embedding", "relation_embedding", "entities", "relations")


def atomic_save(obj, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    if data["model"] not in SCORERS:
        raise CheckpointError(f"{path}: unknown model {data['model']!r}")
    ent, rel = data["entity_embedding"], data["relation_embedding"]
    if ent.shape[0] != len(data["entities"]) or rel.shape[0] != len(data["relations"]):
        raise CheckpointError(f"{path}: embedding rows do not match the entity/relation lists")
    return data


def model_from_checkpoint(data: dict) -> KGEModel:
    return KGEModel.from_export(data)


def check_matches(data: dict, kg) -> None:
    """The checkpoint must have been trained on this dataset's id maps."""
    if list(data["entities"]) != list(kg.entities) or list(data["relations"]) != list(kg.relations):
        raise CheckpointError(
            f"checkpoint entities/relations ({len(data['entities'])}/{len(data['relations'])}) "
            f"do not match dataset {kg.name} ({kg.num_entities}/{kg.num_relations})"
        )
