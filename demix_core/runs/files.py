"""A run's folder: atomic JSON writes, incremental metrics reads, checkpoint look-ups.

Layout written by `demix_core.training.train` (plus `worker.log`/`error.log` from the
worker):
    <home>/<run id>/config.json          the run's TrainConfig as JSON
                    metrics.jsonl        one JSON object per line, each with "step" and "kind"
                    checkpoint.pt        latest weights
                    checkpoints/step_XXXXXXX.pt
                    train_state.pt       optimizer etc., for resume
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from demix_core.errors import CheckpointError, ConfigError

if TYPE_CHECKING:
    import pandas as pd

METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.pt"
TRAIN_STATE = "train_state.pt"
CHECKPOINT_DIR = "checkpoints"
_STEP_FILE = re.compile(r"step_(\d+)\.pt")


def user_cache_dir() -> Path:
    """Where DeMix Lab keeps what it can rebuild (dataset statistics, the PyKEEN bench's
    venv): `$XDG_CACHE_HOME/demix-lab`, `~/.cache/demix-lab` by default."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "demix-lab"


def write_json_atomic(path: Path, obj: object) -> None:
    """Write `obj` as JSON so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_metric_records(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Records appended to `path` since byte `offset`, and the offset to pass next time.

    Only complete lines are consumed, so a line being written is read on the next
    call. A file shorter than `offset` was rewritten (a run restarted from scratch):
    reading starts again at 0, and the caller should replace what it holds.
    """
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return [], 0
    with f:
        if os.fstat(f.fileno()).st_size < offset:
            offset = 0
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    records = [json.loads(line) for line in data[:end].splitlines() if line.strip()]
    return records, offset + end


def read_metrics(path: Path, offset: int = 0) -> tuple[pd.DataFrame, int]:
    """`read_metric_records` as a DataFrame (one row per record, columns = union of keys)."""
    import pandas as pd

    records, new_offset = read_metric_records(path, offset)
    return pd.DataFrame.from_records(records), new_offset


def keep_metrics_up_to(path: Path, step: int) -> None:
    """Drop records logged after `step` (the checkpoint a resume restarts from)."""
    records, _ = read_metric_records(path)
    kept = [r for r in records if int(r.get("step", 0)) <= step]
    if len(kept) == len(records):
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(tmp, path)


def checkpoint_steps(run_dir: Path) -> list[int]:
    """Steps of the periodic checkpoints in `run_dir`, ascending."""
    folder = run_dir / CHECKPOINT_DIR
    if not folder.is_dir():
        return []
    matches = (_STEP_FILE.fullmatch(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in matches if m)


def checkpoint_path(run_dir: Path, step: int | None = None) -> Path:
    """The latest checkpoint (`step=None`) or the periodic one saved at `step`."""
    if step is None:
        return run_dir / CHECKPOINT
    return run_dir / CHECKPOINT_DIR / f"step_{step:07d}.pt"


def saved_step(run_dir: Path) -> int:
    """The step `train_state.pt` would resume from; CheckpointError if it cannot be read."""
    import torch

    path = run_dir / TRAIN_STATE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return int(state["step"])
    except Exception as e:  # torch raises RuntimeError/EOFError/UnpicklingError/KeyError/...
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(
            f"{path}: cannot resume, the training state is truncated or corrupt ({detail})"
        ) from None


# Files a run folder may hold, all written by DeMix Lab (training, the worker, the server).
RUN_FILES = ("config.json", METRICS, CHECKPOINT, TRAIN_STATE, "worker.log", "error.log")


def _ours(entry: Path) -> bool:
    """Whether `entry` of a folder is a file DeMix Lab writes into a run folder."""
    leftovers = tuple(f".{name}." for name in RUN_FILES)  # an interrupted atomic write
    if entry.name in RUN_FILES or entry.name.startswith(leftovers):
        return entry.is_file()
    if entry.name == CHECKPOINT_DIR and entry.is_dir():
        return all(_STEP_FILE.fullmatch(p.name) and p.is_file() for p in entry.iterdir())
    return False


def is_run_folder(folder: Path) -> bool:
    """A folder DeMix Lab wrote: a readable config.json and nothing but run files."""
    try:
        json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return all(_ours(p) for p in folder.iterdir())


def prepare_out(out: Path, overwrite: bool = False, warn=lambda text: None) -> bool:
    """Make `out` ready for a fresh run; True if it was created here.

    A missing folder is created; an empty one or one of our run folders is reused, its
    earlier run files removed. Any other non-empty folder is refused unless `overwrite`,
    and even then only the files a run writes are replaced: nothing else is deleted. The
    folder must be writable, which is checked now rather than after training."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: is a file, not a folder; choose a folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(out.iterdir())
    if entries and not is_run_folder(out):
        if not overwrite:
            shown = ", ".join(p.name for p in entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise ConfigError(
                f"--out {out}: the folder is not empty and is not a DeMix run folder (it holds "
                f"{shown}); choose another folder, or pass --overwrite to write the run files "
                "there (other files are kept)"
            )
        warn(f"{out} is not a run folder; replacing only the files a run writes")
    elif entries:
        warn(f"{out} holds an earlier run; replacing its run files")
    _remove_run_files(out)
    fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")  # PermissionError if read-only
    os.close(fd)
    os.unlink(probe)
    return created


def _remove_run_files(out: Path) -> None:
    for name in RUN_FILES:
        if (out / name).is_file():
            (out / name).unlink()
    folder = out / CHECKPOINT_DIR
    if folder.is_dir():
        for p in folder.iterdir():
            if _STEP_FILE.fullmatch(p.name) and p.is_file():
                p.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
