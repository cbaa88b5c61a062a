"""Train exactly one run in this process, reporting to the catalogue as it goes.

A daemon thread, on its own SQLite connection, writes a heartbeat with the latest
step and metrics every `HEARTBEAT_S` and polls the cancel flag every `CANCEL_POLL_S`;
the training callback's `should_stop` only reads an Event, so a step never waits
on the database. The worker also stops (saving its checkpoint) on SIGTERM, and when
it finds that it no longer owns the run (reaped as interrupted while it hung).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from demix_core.config import TrainConfig
from demix_core.errors import DemixError
from demix_core.runs import db, files
from demix_core.training import Callback, TrainingDiverged, train

HEARTBEAT_S = 2.0
CANCEL_POLL_S = 0.5

TrainFn = Callable[..., dict]


class RunCallback(Callback):
    """Keeps the latest step/metrics in memory and tells training when to stop."""

    def __init__(self) -> None:
        self.step = 0
        self.metrics: dict = {}
        self.checkpoint_step: int | None = None
        self.stop = threading.Event()
        self.reason: str | None = None  # why stop was set: "cancel", "terminate", "lost"

    def on_step(self, step: int, record: dict) -> None:
        self.step = step
        self.metrics.update({k: v for k, v in record.items() if k not in ("step", "kind")})

    def on_eval(self, step: int, record: dict) -> None:
        split = record.get("split", "valid")
        skip = ("step", "kind", "split")
        self.metrics.update({f"{split}_{k}": v for k, v in record.items() if k not in skip})

    def on_checkpoint(self, step: int, path: Path) -> None:
        self.checkpoint_step = step

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.reason = reason
            self.stop.set()


class _Heartbeat(threading.Thread):
    def __init__(self, home: Path, run_id: str, cb: RunCallback) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.home, self.run_id, self.cb = home, run_id, cb
        self.done = threading.Event()

    def run(self) -> None:
        conn = db.connect(self.home)
        last_beat = 0.0
        while not self.done.wait(CANCEL_POLL_S):
            try:
                self._poll(conn)
                if db.now() - last_beat >= HEARTBEAT_S:
                    beat(conn, self.run_id, self.cb)
                    last_beat = db.now()
            except sqlite3.OperationalError:
                pass  # a busy store only delays this beat; the next poll retries
        conn.close()

    def _poll(self, conn: sqlite3.Connection) -> None:
        row = conn.execute(
            "SELECT status, pid, cancel_requested FROM runs WHERE id = ?", (self.run_id,)
        ).fetchone()
        if row is None or row["status"] != "running" or row["pid"] != os.getpid():
            self.cb.request_stop("lost")
        elif row["cancel_requested"]:
            self.cb.request_stop("cancel")


def beat(conn: sqlite3.Connection, run_id: str, cb: RunCallback) -> None:
    conn.execute(
        "UPDATE runs SET heartbeat = ?, step = ?, metrics = ?, "
        "checkpoint_step = COALESCE(?, checkpoint_step) "
        "WHERE id = ? AND pid = ? AND status = 'running'",
        (db.now(), cb.step, json.dumps(cb.metrics), cb.checkpoint_step, run_id, os.getpid()),
    )


def claim(conn: sqlite3.Connection, run_id: str) -> dict:
    """Take the run for this process: queued, or claimed by the server for us."""
    me = os.getpid()
    with db.write(conn):
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise db.StoreError(f"no run {run_id!r}")
        mine = row["status"] == "running" and row["heartbeat"] is None and row["pid"] in (None, me)
        if row["status"] != "queued" and not mine:
            raise db.StoreError(f"run {run_id} is {row['status']}, not waiting for a worker")
        conn.execute(
            "UPDATE runs SET status = 'running', pid = ?, heartbeat = ?, error = NULL, "
            "started_at = COALESCE(started_at, ?) WHERE id = ?",
            (me, db.now(), db.now(), run_id),
        )
    return db.decode(row)


def run_one(home: Path, run_id: str, train_fn: TrainFn = train) -> str:
    """Train run `run_id` of the store at `home` here; return its final status."""
    conn = db.connect(home)
    row = claim(conn, run_id)
    cb = RunCallback()
    cb.step, cb.metrics = row["step"], row["metrics"]  # a resumed run keeps its latest values
    heartbeat = _Heartbeat(home, run_id, cb)
    heartbeat.start()
    previous = signal.signal(signal.SIGTERM, lambda *_: cb.request_stop("terminate"))
    run_dir = home / run_id
    try:
        status, error, final = _train(train_fn, row, run_dir, cb)
    finally:
        signal.signal(signal.SIGTERM, previous)
        heartbeat.done.set()
        heartbeat.join()
    with db.write(conn):
        beat(conn, run_id, cb)
        conn.execute(
            "UPDATE runs SET status = ?, error = ?, final = ?, pid = NULL, finished_at = ?, "
            "resume = 0 WHERE id = ? AND pid = ? AND status = 'running'",
            (status, error, json.dumps(final), db.now(), run_id, os.getpid()),
        )
    conn.close()
    return status


def _train(train_fn: TrainFn, row: dict, run_dir: Path, cb: RunCallback) -> tuple:
    """(status, error text, final metrics) of one training call; never raises for bad runs."""
    if not run_dir.is_dir():  # training would recreate it with part of a run in it
        return "failed", f"the run folder {run_dir} is gone (deleted or moved); not trained", {}
    try:
        config = TrainConfig.from_dict(row["config"])
        resume = bool(row["resume"]) and (run_dir / files.TRAIN_STATE).is_file()
        if resume:  # records logged after the saved state would repeat once resumed
            files.keep_metrics_up_to(run_dir / files.METRICS, files.saved_step(run_dir))
        else:  # a fresh start must not append to the log of an earlier attempt
            (run_dir / files.METRICS).unlink(missing_ok=True)
        result = train_fn(config, run_dir, callbacks=(cb,), resume=resume)
    except (TrainingDiverged, DemixError) as e:
        return "failed", str(e), {}
    except Exception as e:
        if not run_dir.is_dir():
            return "failed", f"{type(e).__name__}: {e} (the run folder is gone)", {}
        (run_dir / "error.log").write_text(traceback.format_exc())
        return "failed", f"{type(e).__name__}: {e} (traceback in error.log)", {}
    cb.step = int(result.get("step", cb.step))
    if result.get("status") == "done":
        final = {k: v for k, v in result.items() if k not in ("status", "step")}
        return "done", None, final
    if cb.reason == "cancel":
        return "cancelled", None, {}
    return "interrupted", f"stopped ({cb.reason or 'by training'}) at step {cb.step}", {}
