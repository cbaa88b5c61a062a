"""`RunStore`: the one handle the CLI and the app use on a run store.

Reads (`list_runs`, `get`, `group_table`) first `reap()` crashed workers, so a run
whose worker was SIGKILLed shows as `interrupted` to whoever looks next. Writes that
add work (`submit`, `sweep`, `resume`) end with `ensure_server()` unless `start=False`.
One SQLite connection per thread, so a handle cached by Streamlit is safe to share.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from demix_core.runs import db, files, queue, sweep
from demix_core.runs.cluster import resolve as resolve_cluster

if TYPE_CHECKING:
    import pandas as pd

    from demix_core.config import TrainConfig

LIST_COLUMNS = (
    "id, name, group_id, config, status, created_at, started_at, finished_at, step, steps, "
    "metrics, final, error, pid, heartbeat, params, checkpoint_step, cancel_requested, cluster"
)


def default_home() -> Path:
    """`$DEMIX_HOME`, else `./runs` (git-ignored)."""
    return Path(os.environ.get("DEMIX_HOME") or "runs")


def new_id(prefix: str = "") -> str:
    """Sortable id: creation time plus 40 random bits (a 1000-run sweep in one second
    collides with odds below one in a million)."""
    return f"{prefix}{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(5)}"


class RunStore:
    """Catalogue (SQLite) plus one folder per run under `home`."""

    def __init__(self, home: str | os.PathLike | None = None) -> None:
        self.home = Path(home if home is not None else default_home()).resolve()
        self._local = threading.local()
        self._local.conn = db.connect(self.home)  # create/migrate now: a bad store fails here

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.home)
        return conn

    def run_dir(self, run_id: str) -> Path:
        return self.home / run_id

    # --- adding and controlling work -------------------------------------------------

    def submit(
        self,
        config: TrainConfig,
        name: str | None = None,
        start: bool = True,
        cluster: str | None = None,
        group: str | None = None,
        params: dict | None = None,
    ) -> str:
        """Queue one run of `config` (in `group`, with its `params`, when given: a study's
        trial); return its id. `cluster`: see `cluster.resolve` (None: `$DEMIX_CLUSTER`)."""
        runs = [(config, name or default_name(config), params or {})]
        (run_id,) = self._insert(runs, group, start, cluster)
        return run_id

    def sweep(
        self,
        config: TrainConfig,
        grid: dict[str, list],
        name: str | None = None,
        start: bool = True,
        cluster: str | None = None,
    ) -> str:
        """Queue one run per point of `grid` (field -> values) over `config`; return the group id."""
        points = sweep.expand(config, grid)  # validates every point before anything is queued
        base = name or default_name(config)
        group = new_id("g")
        runs = [(cfg, f"{base} {sweep.label(params)}", params) for cfg, params in points]
        self._insert(runs, group=group, start=start, cluster=cluster)
        return group

    def _insert(self, runs: list, group: str | None, start: bool, cluster: str | None) -> list:
        """Write each run's folder, then all catalogue rows in one transaction."""
        address = resolve_cluster(cluster)  # before anything is written
        rows, t = [], db.now()
        for config, name, params in runs:
            run_id, cfg = new_id(), config.to_dict()
            files.write_json_atomic(self.run_dir(run_id) / "config.json", cfg)
            rows.append(
                (run_id, name, group, json.dumps(cfg), t, cfg["steps"], json.dumps(params), address)
            )
        with db.write(self.conn):
            self.conn.executemany(
                "INSERT INTO runs (id, name, group_id, config, created_at, steps, params, cluster) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        if start:
            self.ensure_server()
        return [r[0] for r in rows]

    def cancel(self, run_id: str) -> str:
        """Cancel a queued run now, or ask a running one to stop; return the new status."""
        with db.write(self.conn):
            status = self._status(run_id)
            if status == "running":
                self.conn.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
                return "cancelling"
            if status not in ("queued", "interrupted"):
                raise db.StoreError(f"run {run_id} is already {status}")
            self.conn.execute(
                "UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ?",
                (db.now(), run_id),
            )
        return "cancelled"

    def resume(
        self, run_id: str, steps: int | None = None, start: bool = True, cluster: str | None = None
    ) -> None:
        """Queue a stopped run to continue from its last checkpoint up to `steps`: here, or on
        `cluster` (None: `$DEMIX_CLUSTER`), wherever it ran before."""
        address = resolve_cluster(cluster)
        self.reap()
        with db.write(self.conn):
            run = self._get(run_id)
            steps = steps or run["steps"]
            if run["status"] in db.ACTIVE:
                raise db.StoreError(f"run {run_id} is {run['status']}; nothing to resume")
            if run["status"] == "done" and steps <= run["step"]:
                raise db.StoreError(
                    f"run {run_id} is done at step {run['step']}; ask for more --steps"
                )
            if steps < run["step"]:
                raise db.StoreError(f"run {run_id} is at step {run['step']}, past {steps}")
            config = {**run["config"], "steps": steps}
            files.write_json_atomic(self.run_dir(run_id) / "config.json", config)
            self.conn.execute(
                "UPDATE runs SET status = 'queued', resume = 1, cancel_requested = 0, error = NULL, "
                "config = ?, steps = ?, finished_at = NULL, final = '{}', cluster = ? WHERE id = ?",
                (json.dumps(config), steps, address, run_id),
            )
        if start:
            self.ensure_server()

    def delete(self, run_id: str) -> None:
        """Remove a run that is not running, with its folder."""
        with db.write(self.conn):
            if self._status(run_id) == "running":
                raise db.StoreError(f"run {run_id} is running; cancel it first")
            self.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def reap(self) -> list[str]:
        """Mark runs whose worker died or hung as interrupted; return their ids."""
        return queue.reap(self.conn)

    def ensure_server(self, max_workers: int | None = None) -> int:
        """Pid of the detached queue server, started if none is alive."""
        return queue.ensure_server(self.conn, self.home, max_workers)

    def server_pid(self) -> int | None:
        return queue.server_pid(self.conn)

    # --- reading ---------------------------------------------------------------------

    def records(self, group: str | None = None) -> list[dict]:
        """All runs (newest first) as dicts: catalogue columns, JSON parsed, plus `_enrich`'s."""
        self.reap()
        where, args = ("WHERE group_id = ?", (group,)) if group else ("", ())
        rows = self.conn.execute(
            f"SELECT {LIST_COLUMNS} FROM runs {where} ORDER BY created_at DESC, rowid DESC", args
        ).fetchall()
        return [_enrich(db.decode(r)) for r in rows]

    def list_runs(self, group: str | None = None) -> pd.DataFrame:
        """`records()` as a DataFrame, one row per run (JSON columns hold dicts)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records(group), columns=_columns())

    def get(self, run_id: str) -> dict:
        """One run: catalogue fields plus `progress` (0..1) and `dir` (its folder)."""
        self.reap()
        return self._get(run_id)

    def _get(self, run_id: str) -> dict:
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise db.StoreError(f"no run {run_id!r} in {self.home}")
        return {**_enrich(db.decode(row)), "dir": str(self.run_dir(run_id))}

    def _status(self, run_id: str) -> str:
        return self._get(run_id)["status"]

    def read_metrics(self, run_id: str, offset: int = 0) -> tuple[pd.DataFrame, int]:
        """Metrics records appended since byte `offset`, and the offset for the next call."""
        return files.read_metrics(self.run_dir(run_id) / files.METRICS, offset)

    def checkpoint_steps(self, run_id: str) -> list[int]:
        return files.checkpoint_steps(self.run_dir(run_id))

    def load_checkpoint(self, run_id: str, step: int | None = None) -> dict:
        """The latest checkpoint (or the one at `step`), loaded with `weights_only=True`."""
        from demix_core.checkpoint import load_checkpoint

        return load_checkpoint(files.checkpoint_path(self.run_dir(run_id), step))

    def group_table(self, group: str) -> pd.DataFrame:
        """One row per run of sweep `group`: id, name, status, step, grid values, final metrics."""
        return sweep.table(self.records(group)[::-1])  # in the order queued


def default_name(config: TrainConfig) -> str:
    return f"{config.model}-{config.sampler} on {Path(config.dataset).name or config.dataset}"


def _enrich(run: dict) -> dict:
    """Add `group`, `progress` (0..1) and the config's dataset/model/sampler."""
    run["group"] = run.pop("group_id", None)
    run["progress"] = min(1.0, run["step"] / run["steps"]) if run["steps"] else 0.0
    for key in ("dataset", "model", "sampler"):
        run[key] = run["config"].get(key)
    return run


def _columns() -> list[str]:
    names = [c.strip() for c in LIST_COLUMNS.split(",")]
    return ["group" if c == "group_id" else c for c in names] + [
        "progress",
        "dataset",
        "model",
        "sampler",
    ]
