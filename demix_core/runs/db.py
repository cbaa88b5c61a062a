"""SQLite catalogue of runs: connection settings, versioned schema, small helpers.

WAL mode lets readers (the app, `runs list`) run while a worker commits, and every
write that reads first goes through `write()` (`BEGIN IMMEDIATE`), so two writers
never both plan on a stale snapshot. `busy_timeout` turns the remaining contention
into a short wait instead of "database is locked".

Schema changes are appended to `MIGRATIONS`, never edited: `PRAGMA user_version`
says how many have been applied, so a store written by an older version is
brought up to date when it is opened, and a store from a newer version is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from demix_core.errors import DemixError

DB_NAME = "runs.sqlite"
BUSY_TIMEOUT_MS = 30_000

STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")

MIGRATIONS: tuple[str, ...] = (
    # 1: the catalogue as first shipped.
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        group_id TEXT,
        config TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        step INTEGER NOT NULL DEFAULT 0,
        steps INTEGER NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        pid INTEGER,
        heartbeat REAL
    );
    CREATE INDEX runs_status ON runs(status);
    CREATE INDEX runs_group ON runs(group_id);
    """,
    # 2: cancel/resume, sweeps, final metrics and the single queue server.
    """
    ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN final TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN resume INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN checkpoint_step INTEGER;
    CREATE TABLE server (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        heartbeat REAL NOT NULL
    );
    """,
    # 3: the dask scheduler a run is executed on (NULL: the local queue).
    """
    ALTER TABLE runs ADD COLUMN cluster TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

JSON_COLUMNS = ("config", "metrics", "final", "params")


class StoreError(DemixError):
    """A run store that cannot be used as asked (unknown run, wrong state, newer schema)."""


def connect(home: Path) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the catalogue under `home`; a store that
    cannot be opened or is damaged is a StoreError saying what to do."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(home / DB_NAME, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise store_error(home, exc) from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # a truncated file opens fine and fails at the first missing page: look at all of
        # them now (a few ms for a catalogue), so the damage is reported here, once
        (check,) = conn.execute("PRAGMA quick_check(1)").fetchone()
        if check != "ok":
            raise sqlite3.DatabaseError(check)
        migrate(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise store_error(home, exc) from None
    return conn


def store_error(home: Path, exc: BaseException) -> StoreError:
    """What to tell the user about a catalogue that SQLite or the file system refused."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    db_file = home / DB_NAME
    damaged = ("malformed", "not a database", "corrupt", "disk image", "*** in database")
    if isinstance(exc, sqlite3.DatabaseError) and any(w in detail for w in damaged):
        return StoreError(
            f"the run store at {db_file} is damaged: {detail}; move it aside (for example "
            f"rename it to {DB_NAME}.damaged) and a new, empty store is made in its place"
        )
    return StoreError(
        f"the run store at {home} cannot be opened: {detail}; check that the folder is "
        "writable, or choose another store with --home or DEMIX_HOME"
    )


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Apply the migrations between the file's `user_version` and `target`."""
    if user_version(conn) == target:
        return
    with write(conn):
        version = user_version(conn)  # re-read under the lock: another process may have won
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run store schema v{version} is newer than this DeMix Lab (v{SCHEMA_VERSION}); "
                "upgrade demix_core to open it"
            )
        for sql in MIGRATIONS[version:target]:
            for statement in filter(str.strip, sql.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {max(version, target)}")


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that takes the write lock up front (read-then-write safe)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def decode(row: sqlite3.Row) -> dict:
    """A catalogue row as a plain dict with its JSON columns parsed."""
    out = dict(row)
    for key in JSON_COLUMNS:
        if key in out and isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


def now() -> float:
    return time.time()


def pid_alive(pid: int | None) -> bool:
    """True if `pid` is a live process (a zombie counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
