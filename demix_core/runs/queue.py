"""The queue: one detached server per store starts a worker process per run.

`ensure_server` spawns `python -m demix_core runs worker --home H` unless a live
server already holds the `server` row; the spawn and the row update happen in one
write transaction, so two submitters never start two servers. The server claims
queued runs oldest first while fewer than `max_workers` runs are running, starts
`runs worker --run ID` for each (own session, so it outlives the app or terminal),
and leaves when nothing is queued and its workers are gone; it gives up the row in
the same transaction that saw the queue empty, so a run queued a moment later
finds no server and starts a new one.

`reap` is the crash detector that every reader calls: a running run whose worker
pid is gone, or whose heartbeat is older than `STALE_S`, becomes `interrupted`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from demix_core.runs import db

STALE_S = 10.0  # a heartbeat older than this means the worker is hung or gone
START_GRACE_S = 60.0  # a claimed run whose worker has not yet beaten once (importing torch)
POLL_S = 0.5


def max_workers_default() -> int:
    return max(1, int(os.environ.get("DEMIX_MAX_WORKERS", "1")))


def _cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "demix_core", "runs", "--home", str(home), "worker", *args]


def _spawn(argv: list[str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: survives the caller, killable as one
            close_fds=True,
        )


def reap(conn: sqlite3.Connection) -> list[str]:
    """Mark running runs whose worker died or stopped beating as interrupted; return their ids."""
    t = db.now()
    rows = conn.execute(
        "SELECT id, pid, heartbeat, started_at FROM runs WHERE status = 'running'"
    ).fetchall()
    stale = [r["id"] for r in rows if _why_stale(r, t)]
    if not stale:
        return []
    reaped = []
    with db.write(conn):
        for run_id in stale:  # re-check under the lock: the worker may have finished meanwhile
            row = conn.execute(
                "SELECT id, pid, heartbeat, started_at FROM runs WHERE id = ? AND status = 'running'",
                (run_id,),
            ).fetchone()
            why = row and _why_stale(row, t)
            if why:
                _mark_stopped(conn, run_id, "interrupted", why)
                reaped.append(run_id)
    return reaped


def _why_stale(row: sqlite3.Row, t: float) -> str | None:
    if row["pid"] and not db.pid_alive(row["pid"]):
        return f"worker process {row['pid']} is gone"
    if row["heartbeat"] is not None and t - row["heartbeat"] > STALE_S:
        return f"worker process {row['pid']} stopped reporting ({t - row['heartbeat']:.0f} s)"
    if row["heartbeat"] is None and t - (row["started_at"] or t) > START_GRACE_S:
        return f"worker did not start within {START_GRACE_S:.0f} s"
    return None


def _mark_stopped(conn: sqlite3.Connection, run_id: str, status: str, error: str) -> None:
    conn.execute(
        "UPDATE runs SET status = ?, error = ?, pid = NULL, finished_at = ? WHERE id = ?",
        (status, error, db.now(), run_id),
    )


def server_pid(conn: sqlite3.Connection) -> int | None:
    """Pid of the live queue server, if any."""
    row = conn.execute("SELECT pid, heartbeat FROM server WHERE id = 1").fetchone()
    if row and db.pid_alive(row["pid"]) and db.now() - row["heartbeat"] <= STALE_S:
        return row["pid"]
    return None


def ensure_server(conn: sqlite3.Connection, home: Path, max_workers: int | None = None) -> int:
    """Pid of the queue server for `home`, spawning a detached one if none is alive."""
    with db.write(conn):
        pid = server_pid(conn)
        if pid is None:
            n = max_workers or max_workers_default()
            proc = _spawn(_cli(home, "--max-workers", str(n)), home / "queue.log")
            pid = proc.pid
            conn.execute("INSERT OR REPLACE INTO server VALUES (1, ?, ?)", (pid, db.now()))
    return pid


def serve(home: Path, max_workers: int | None = None) -> int:
    """Serve the queue of `home` until it is empty; 0, or 1 if another server holds it."""
    conn = db.connect(home)
    me = os.getpid()
    with db.write(conn):
        holder = server_pid(conn)
        if holder not in (None, me):
            return 1
        conn.execute("INSERT OR REPLACE INTO server VALUES (1, ?, ?)", (me, db.now()))
    limit = max_workers or max_workers_default()
    children: dict[str, subprocess.Popen] = {}
    from demix_core.runs.dispatch import Dispatcher  # imports dask only when a run needs it

    cluster = Dispatcher(conn, home)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            conn.execute("UPDATE server SET heartbeat = ? WHERE pid = ?", (db.now(), me))
            _collect(conn, children)
            reap(conn)
            while (run_id := _claim_next(conn, limit)) is not None:
                children[run_id] = _start_worker(conn, home, run_id)
            cluster.poll()
            if not children and not cluster.busy() and _release_if_idle(conn, me):
                return 0
            time.sleep(POLL_S)
    finally:
        cluster.close()
        conn.execute("DELETE FROM server WHERE pid = ?", (me,))


def _claim_next(conn: sqlite3.Connection, limit: int) -> str | None:
    """The oldest queued local run, claimed, if fewer than `limit` local runs are running
    (cluster runs are the Dispatcher's: the cluster has its own limits)."""
    with db.write(conn):
        (running,) = conn.execute(
            "SELECT COUNT(*) FROM runs WHERE status = 'running' AND cluster IS NULL"
        ).fetchone()
        row = conn.execute(
            "SELECT id FROM runs WHERE status = 'queued' AND cluster IS NULL "
            "ORDER BY created_at, rowid LIMIT 1"
        ).fetchone()
        if running >= limit or row is None:
            return None
        conn.execute(
            "UPDATE runs SET status = 'running', started_at = ?, pid = NULL, heartbeat = NULL, "
            "error = NULL, finished_at = NULL WHERE id = ?",
            (db.now(), row["id"]),
        )
    return row["id"]


def _start_worker(conn: sqlite3.Connection, home: Path, run_id: str) -> subprocess.Popen:
    proc = _spawn(_cli(home, "--run", run_id), home / run_id / "worker.log")
    conn.execute(
        "UPDATE runs SET pid = ? WHERE id = ? AND status = 'running' AND pid IS NULL",
        (proc.pid, run_id),
    )
    return proc


def _collect(conn: sqlite3.Connection, children: dict[str, subprocess.Popen]) -> None:
    """Reap finished workers; a worker that died without reporting leaves its run stopped."""
    for run_id, proc in list(children.items()):
        rc = proc.poll()
        if rc is None:
            continue
        del children[run_id]
        status = "interrupted" if rc <= 0 else "failed"
        why = f"killed by signal {-rc}" if rc < 0 else f"exited with code {rc}"
        with db.write(conn):
            conn.execute(
                "UPDATE runs SET status = ?, error = ?, pid = NULL, finished_at = ? "
                "WHERE id = ? AND status = 'running' AND (pid = ? OR pid IS NULL)",
                (
                    status,
                    f"worker process {proc.pid} {why}; see worker.log",
                    db.now(),
                    run_id,
                    proc.pid,
                ),
            )


def _release_if_idle(conn: sqlite3.Connection, me: int) -> bool:
    with db.write(conn):
        (queued,) = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'queued'").fetchone()
        if queued:
            return False
        conn.execute("DELETE FROM server WHERE pid = ?", (me,))
    return True
