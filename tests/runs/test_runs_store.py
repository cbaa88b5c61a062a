"""The catalogue and run folders without training: schema, queueing, reads, sweeps, reaping."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runs_support import tiny_config

from demix_core.errors import CheckpointError, ConfigError
from demix_core.runs import RunStore, StoreError, db, queue, sweep


def test_new_store_is_wal_and_current(store):
    conn = sqlite3.connect(store.home / db.DB_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION


def test_store_written_by_v1_opens_and_keeps_its_runs(home):
    home.mkdir()
    conn = sqlite3.connect(home / db.DB_NAME, isolation_level=None)
    db.migrate(conn, target=1)
    conn.execute(
        "INSERT INTO runs (id, name, config, status, created_at, step, steps) "
        "VALUES ('old', 'legacy', '{}', 'done', 1.0, 7, 7)"
    )
    conn.close()
    run = RunStore(home).get("old")
    assert (run["name"], run["status"], run["progress"]) == ("legacy", "done", 1.0)
    assert run["params"] == {} and run["cancel_requested"] == 0  # columns added by v2


def test_store_from_a_newer_version_is_refused(home):
    home.mkdir()
    sqlite3.connect(home / db.DB_NAME).execute(f"PRAGMA user_version = {db.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        RunStore(home)


def test_submit_queues_a_run_with_its_config(store):
    config = tiny_config(steps=40)
    run_id = store.submit(config, name="first", start=False)
    run = store.get(run_id)
    assert (run["status"], run["step"], run["steps"], run["progress"]) == ("queued", 0, 40, 0.0)
    assert json.loads((store.run_dir(run_id) / "config.json").read_text()) == config.to_dict()
    table = store.list_runs()
    assert table["id"].tolist() == [run_id] and table.loc[0, "name"] == "first"
    with pytest.raises(StoreError, match="no run"):
        store.get("nope")


def test_read_metrics_is_incremental_and_skips_a_half_written_line(store):
    run_id = store.submit(tiny_config(), start=False)
    path = store.run_dir(run_id) / "metrics.jsonl"
    path.write_text('{"kind": "train", "step": 5, "loss": 1.5}\n{"kind": "tr')
    df, offset = store.read_metrics(run_id)
    assert df["step"].tolist() == [5] and offset == path.read_bytes().index(b"\n") + 1
    with open(path, "a") as f:
        f.write('ain", "step": 10, "loss": 1.0}\n')
    df, offset2 = store.read_metrics(run_id, offset)
    assert df["step"].tolist() == [10] and df["loss"].tolist() == [1.0]
    assert offset2 == path.stat().st_size
    assert store.read_metrics(run_id, offset2)[0].empty
    path.write_text('{"kind": "train", "step": 5}\n')  # rewritten shorter: start over
    assert store.read_metrics(run_id, offset2)[0]["step"].tolist() == [5]


def test_sweep_queues_the_grid_and_tabulates_it(store):
    group = store.sweep(
        tiny_config(sampler="demix"), {"mu": ["0.5", "1", "3"], "seed": ["0", "1"]}, start=False
    )
    runs = store.records(group)[::-1]
    assert len(runs) == 6
    points = [(r["config"]["sampler_options"]["mu"], r["config"]["seed"]) for r in runs]
    assert points == [(0.5, 0), (0.5, 1), (1.0, 0), (1.0, 1), (3.0, 0), (3.0, 1)]
    assert all(isinstance(mu, float) for mu, _ in points)  # typed like DemixOptions.mu
    table = store.group_table(group)
    assert list(table[["mu", "seed"]].itertuples(index=False, name=None)) == points
    assert set(table["status"]) == {"queued"}


@pytest.mark.parametrize(
    ("grid", "message"),
    [({"mu": ["0.5", "x"]}, "expected float"), ({"nonsense": ["1"]}, "unknown option")],
)
def test_a_bad_grid_queues_nothing(store, grid, message):
    with pytest.raises(ConfigError, match=message):
        store.sweep(tiny_config(sampler="demix"), grid, start=False)
    assert store.records() == []


def test_parse_grid():
    assert sweep.parse_grid(["mu=0.5, 1", "sampler=uniform"]) == {
        "mu": ["0.5", "1"],
        "sampler": ["uniform"],
    }
    with pytest.raises(ConfigError):
        sweep.parse_grid(["mu"])


def test_cancel_and_resume_rules(store):
    run_id = store.submit(tiny_config(), start=False)
    assert store.cancel(run_id) == "cancelled"
    with pytest.raises(StoreError, match="already cancelled"):
        store.cancel(run_id)
    store.resume(run_id, steps=80, start=False)
    run = store.get(run_id)
    assert (run["status"], run["steps"], run["resume"]) == ("queued", 80, 1)
    assert json.loads((store.run_dir(run_id) / "config.json").read_text())["steps"] == 80
    with pytest.raises(StoreError, match="nothing to resume"):
        store.resume(run_id, start=False)


def _fake_running(store, run_id, pid, heartbeat):
    store.conn.execute(
        "UPDATE runs SET status = 'running', pid = ?, heartbeat = ?, started_at = ? WHERE id = ?",
        (pid, heartbeat, time.time(), run_id),
    )


def test_reap_marks_dead_and_silent_workers_interrupted(store):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, silent, alive = (store.submit(tiny_config(), start=False) for _ in range(3))
    _fake_running(store, dead, gone.pid, time.time())
    _fake_running(store, silent, os.getpid(), time.time() - queue.STALE_S - 1)
    _fake_running(store, alive, os.getpid(), time.time())
    assert sorted(store.reap()) == sorted([dead, silent])
    assert "is gone" in store.get(dead)["error"]
    assert "stopped reporting" in store.get(silent)["error"]
    assert store.get(alive)["status"] == "running"


def test_claim_respects_the_concurrency_limit(store):
    first, second = (store.submit(tiny_config(), start=False) for _ in range(2))
    assert queue._claim_next(store.conn, limit=1) == first  # oldest first
    assert queue._claim_next(store.conn, limit=1) is None
    assert queue._claim_next(store.conn, limit=2) == second


def test_checkpoints_are_listed_and_a_truncated_one_is_a_clear_error(store):
    run_id = store.submit(tiny_config(), start=False)
    folder = store.run_dir(run_id) / "checkpoints"
    folder.mkdir()
    for step in (20, 10, 30):
        (folder / f"step_{step:07d}.pt").write_bytes(b"")
    assert store.checkpoint_steps(run_id) == [10, 20, 30]
    (store.run_dir(run_id) / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="checkpoint"):
        store.load_checkpoint(run_id)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        store.load_checkpoint(run_id, step=40)


def test_delete_removes_row_and_folder_but_not_a_running_run(store):
    keep, drop = (store.submit(tiny_config(), start=False) for _ in range(2))
    _fake_running(store, keep, os.getpid(), time.time())
    with pytest.raises(StoreError, match="cancel it first"):
        store.delete(keep)
    store.delete(drop)
    assert not store.run_dir(drop).exists()
    assert [r["id"] for r in store.records()] == [keep]


SUBMITTER = """
import sys, time
sys.path.insert(0, sys.argv[3])
from runs_support import tiny_config
from demix_core.runs import RunStore
store = RunStore(sys.argv[1])
config = tiny_config()
while time.time() < float(sys.argv[2]):
    time.sleep(0.01)
for i in range(25):
    store.submit(config, name=f"p{i}", start=False)
"""


def test_two_processes_submitting_at_once_lose_nothing(store):
    start = str(time.time() + 3.0)  # both import first, then submit together
    here = str(Path(__file__).parent)
    procs = [
        subprocess.Popen([sys.executable, "-c", SUBMITTER, str(store.home), start, here])
        for _ in range(2)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    runs = store.records()
    assert len(runs) == 50 and len({r["id"] for r in runs}) == 50
    assert all((store.run_dir(r["id"]) / "config.json").is_file() for r in runs)


WRITER = """
import sys, time
from demix_core.runs import db
conn = db.connect(__import__("pathlib").Path(sys.argv[1]))
end = time.time() + 3.0
while time.time() < end:
    with db.write(conn):
        conn.execute("UPDATE runs SET heartbeat = ?, step = step + 1", (time.time(),))
        time.sleep(0.005)  # hold the write lock a little, like a slow commit
print("wrote")
"""


def test_readers_never_see_database_is_locked_while_a_worker_writes(store):
    for _ in range(20):
        store.submit(tiny_config(), start=False)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.home)], stdout=subprocess.PIPE, text=True
    )
    reads = 0
    while writer.poll() is None:
        store.list_runs()  # includes reap(), which may write
        store.get(store.records()[0]["id"])
        reads += 1
    assert writer.wait() == 0 and writer.stdout.read().strip() == "wrote"
    assert reads > 10
    assert all(r["step"] > 0 for r in store.records())
