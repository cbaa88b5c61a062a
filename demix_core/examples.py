"""The example runs shipped in `assets/examples/`: small trained RotatE checkpoints that every
run picker offers, read-only, so the lens pages and the lesson work on a fresh clone with no
training. `scripts/make_examples.py` regenerates them (seeded).

`ExampleShelf` reads them with the same calls the app makes on a `RunStore` (`records`,
`get`, `checkpoint_steps`, `load_checkpoint`, `read_metrics`), but has no way to write: an
example cannot be resumed, cancelled or deleted. Its run ids start with `example-`, which a
store id (a timestamp) never does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from demix_core.runs import files

if TYPE_CHECKING:
    import pandas as pd

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "examples"
PREFIX = "example-"
# key -> (dataset spec, label, training steps); the steps reach a useful model in seconds
DATASETS = {
    "nations": ("nations", "Nations", 600),
    "umls": ("umls", "UMLS", 900),
    "kinships": ("kinships", "Kinships", 1500),
    "synthetic": ("synthetic:entities=500,hidden=0.3", "a synthetic family KG", 900),
}
SAMPLERS = {"uniform": "uniform (self-adv.)", "demix": "DeMix over uniform"}


def example_id(dataset_key: str, sampler: str) -> str:
    return f"{PREFIX}{dataset_key}-{sampler}"


def is_example(run_id: str) -> bool:
    return str(run_id).startswith(PREFIX)


class ExampleShelf:
    """The read-only examples under `home` (default `$DEMIX_EXAMPLES`, else `assets/examples/`;
    an empty folder there turns the examples off)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home or os.environ.get("DEMIX_EXAMPLES") or EXAMPLES_DIR).resolve()

    def run_dir(self, run_id: str) -> Path:
        return self.home / run_id

    def ids(self) -> list[str]:
        """Example ids in the order of `DATASETS` x `SAMPLERS` that exist on disk."""
        wanted = [example_id(d, s) for d in DATASETS for s in SAMPLERS]
        return [i for i in wanted if (self.run_dir(i) / "example.json").is_file()]

    def records(self) -> list[dict]:
        return [self.get(i) for i in self.ids()]

    def get(self, run_id: str) -> dict:
        """A run record shaped like `RunStore.get`'s, with status `example`."""
        from demix_core.runs.db import StoreError

        folder = self.run_dir(run_id)
        if not is_example(run_id) or not (folder / "example.json").is_file():
            raise StoreError(f"no example {run_id!r} in {self.home}")
        meta = json.loads((folder / "example.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        steps = self.checkpoint_steps(run_id)
        return {
            "id": run_id,
            "name": meta["name"],
            "group": None,
            "config": config,
            "status": "example",
            "step": steps[-1] if steps else 0,
            "steps": meta["steps"],
            "progress": 1.0,
            "metrics": {},
            "final": meta["final"],
            "error": None,
            "params": {},
            "dataset": config["dataset"],
            "model": config["model"],
            "sampler": config["sampler"],
            "created_at": None,
            "started_at": None,
            "finished_at": None,
            "dir": str(folder),
        }

    def checkpoint_steps(self, run_id: str) -> list[int]:
        return files.checkpoint_steps(self.run_dir(run_id))

    def load_checkpoint(self, run_id: str, step: int | None = None) -> dict:
        """The checkpoint at `step` (default: the last one), loaded with `weights_only=True`."""
        from demix_core.checkpoint import load_checkpoint

        step = step if step is not None else self.checkpoint_steps(run_id)[-1]
        return load_checkpoint(files.checkpoint_path(self.run_dir(run_id), step))

    def read_metrics(self, run_id: str, offset: int = 0) -> tuple[pd.DataFrame, int]:
        return files.read_metrics(self.run_dir(run_id) / files.METRICS, offset)
