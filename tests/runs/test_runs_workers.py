"""Real worker processes training tiny Nations runs: complete, cancel, crash, resume, fail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from procs import kill_and_reap
from runs_support import tiny_config, wait_for, wait_status

from demix_core.runs import queue

LONG = 1_000_000  # steps of a run that only ever stops by cancel or kill


def train_steps(store, run_id) -> list[int]:
    df, _ = store.read_metrics(run_id)
    return df.loc[df["kind"] == "train", "step"].tolist()


def checkpointed_past(store, run_id, step: int):
    """The run once its worker reports a checkpoint at or after `step`."""
    run = store.get(run_id)
    return run if (run["checkpoint_step"] or 0) >= step else None


def test_cli_submit_completes_and_show_reports_it(store):
    flags = ["--dataset", str(tiny_config().dataset), "--model", "transe", "--dim", "16",
             "--batch-size", "64", "--negatives", "4", "--steps", "30", "--log-every", "5",
             "--checkpoint-every", "10", "--compile", "off", "--no-measure-truth"]  # fmt: skip
    cli = [sys.executable, "-m", "demix_core", "runs"]
    out = subprocess.run([*cli, "submit", *flags, "--name", "cli", "--json"],
                         capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    run_id = json.loads(out.stdout.strip().splitlines()[-1])["id"]
    wait_status(store, run_id, ("done",))
    out = subprocess.run([*cli, "show", run_id, "--json"],
                         capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    shown = json.loads(out.stdout)
    progress = (shown["status"], shown["step"], shown["steps"], shown["progress"])
    assert progress == ("done", 30, 30, 1.0)
    assert shown["pid"] is None and shown["dir"] == str(store.run_dir(run_id))
    assert 0 < shown["final"]["mrr"] <= 1 and "loss" in shown["metrics"]
    assert train_steps(store, run_id) == list(range(5, 31, 5))
    df, _ = store.read_metrics(run_id)
    assert df["kind"].iloc[-1] == "test" and df["mrr"].iloc[-1] == shown["final"]["mrr"]
    assert store.checkpoint_steps(run_id) == [10, 20, 30]
    assert store.load_checkpoint(run_id)["step"] == 30


def test_cancel_stops_a_running_run_and_keeps_its_checkpoint(store):
    run_id = store.submit(tiny_config(steps=LONG))
    wait_for(lambda: checkpointed_past(store, run_id, 10), what="a first checkpoint")
    assert store.cancel(run_id) == "cancelling"
    run = wait_status(store, run_id, ("cancelled",), timeout=15)
    assert run["pid"] is None and run["error"] is None
    saved = store.load_checkpoint(run_id)["step"]
    assert saved == max(store.checkpoint_steps(run_id)) >= run["checkpoint_step"]


def test_sigkilled_worker_is_interrupted_and_resumes_where_it_stopped(store):
    run_id = store.submit(tiny_config(steps=LONG))
    run = wait_for(lambda: checkpointed_past(store, run_id, 20), what="a checkpoint at step 20")
    os.killpg(run["pid"], signal.SIGKILL)  # the worker leads its own process group
    run = wait_status(store, run_id, ("interrupted",), timeout=30)
    assert "signal 9" in run["error"] or "is gone" in run["error"]
    # The last checkpoint on disk can be ahead of the step the store last recorded (a loaded
    # machine delays the progress write): resume past whichever is later.
    target = max(run["step"], *store.checkpoint_steps(run_id)) + 30
    store.resume(run_id, steps=target)
    run = wait_status(store, run_id, ("done",))
    steps = train_steps(store, run_id)
    assert steps[0] == 5 and steps[-1] == target  # continued, not restarted from 0
    assert all(a < b for a, b in zip(steps, steps[1:])), steps
    assert run["final"]["mrr"] > 0


def test_a_worker_that_stops_beating_is_reaped_and_steps_aside(store, monkeypatch):
    run_id = store.submit(tiny_config(steps=LONG), start=False)
    argv = [sys.executable, "-m", "demix_core", "runs", "--home", str(store.home),
            "worker", "--run", run_id]  # fmt: skip
    worker = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: store.get(run_id)["step"] > 0, what="the worker to report progress")
        monkeypatch.setattr(queue, "STALE_S", 3.0)
        os.killpg(worker.pid, signal.SIGSTOP)  # alive, but silent
        run = wait_status(store, run_id, ("interrupted",), timeout=15)
        assert "stopped reporting" in run["error"]
        os.killpg(worker.pid, signal.SIGCONT)  # it wakes, sees the run is no longer its own
        assert worker.wait(timeout=30) == 1
        assert store.get(run_id)["status"] == "interrupted"
    finally:
        kill_and_reap([worker.pid])


def test_truncated_training_state_fails_only_that_run(store):
    broken = store.submit(tiny_config(steps=20), start=False)
    healthy = store.submit(tiny_config(steps=20, seed=1), start=False)
    store.ensure_server()
    wait_status(store, broken, ("done",))
    state = store.run_dir(broken) / "train_state.pt"
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    store.resume(broken, steps=40)
    run = wait_status(store, broken, ("failed",))
    assert "truncated or corrupt" in run["error"] and str(state) in run["error"]
    assert wait_status(store, healthy, ("done",))["final"]["mrr"] > 0


def test_sweep_runs_every_point_and_tabulates_results(store):
    group = store.sweep(tiny_config(steps=10), {"seed": [0, 1]})
    for run in store.records(group):
        wait_status(store, run["id"], ("done",))
    table = store.group_table(group)
    assert table["seed"].tolist() == [0, 1] and set(table["status"]) == {"done"}
    assert table["mrr"].between(0, 1).all() and table["mrr"].nunique() == 2
    wait_for(lambda: store.server_pid() is None, timeout=15, what="the queue server to leave")
