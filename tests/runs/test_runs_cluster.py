"""Runs on a real dask.distributed cluster (scheduler and workers on 127.0.0.1): the same
numbers as the local queue, cancel, a killed worker, a GPU resource, a refused version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cluster_support import Cluster
from runs_support import tiny_config, wait_for, wait_status

from demix_core.errors import ConfigError
from demix_core.runs import RunStore

LONG = 1_000_000  # steps of a run that only ever stops by cancel or kill
PRELOAD = Path(__file__).with_name("preload_other_version.py")
VOLATILE = ("seconds", "triples_per_second", "train_seconds")  # wall-clock, not results


def records(store: RunStore, run_id: str) -> list[dict]:
    df, _ = store.read_metrics(run_id)
    rows = df.drop(columns=[c for c in VOLATILE if c in df]).to_dict("records")
    return [{k: v for k, v in r.items() if v == v} for r in rows]  # drop NaN padding


def worker_of(store: RunStore, run_id: str) -> str:
    """The dask worker address the run's worker.log names (the client writes it at start)."""
    log = (store.run_dir(run_id) / "worker.log").read_text().splitlines()
    return log[-1].split("dask worker ")[1].split()[0]


def test_a_cluster_run_matches_the_local_queue(store, cluster):
    config = tiny_config()  # a folder dataset: it travels by content
    local = store.submit(config, cluster="")
    remote = store.submit(config, cluster=cluster.address)
    a, b = wait_status(store, local, ("done",)), wait_status(store, remote, ("done",))
    assert b["cluster"] == cluster.address and a["cluster"] is None
    strip = lambda final: {k: v for k, v in final.items() if k not in VOLATILE}  # noqa: E731
    assert strip(b["final"]) == strip(a["final"]) and 0 < a["final"]["mrr"] <= 1
    assert records(store, remote) == records(store, local)
    assert store.checkpoint_steps(remote) == store.checkpoint_steps(local) == [10, 20, 30, 40, 50]
    ours, theirs = store.load_checkpoint(remote), store.load_checkpoint(local)
    assert ours["entity_embedding"].equal(theirs["entity_embedding"])
    assert ours["config"]["dataset"] == config.dataset  # the client's path, not the worker's
    assert (
        "running on dask worker tcp://127.0.0.1:"
        in (store.run_dir(remote) / "worker.log").read_text()
    )


def test_cancel_reaches_the_task_and_keeps_its_checkpoint(store, cluster):
    run_id = store.submit(tiny_config(steps=LONG), cluster=cluster.address)
    wait_for(lambda: (store.get(run_id)["checkpoint_step"] or 0) >= 20, what="a checkpoint")
    assert store.cancel(run_id) == "cancelling"
    run = wait_status(store, run_id, ("cancelled",), timeout=15)
    saved = store.load_checkpoint(run_id)["step"]
    assert saved == max(store.checkpoint_steps(run_id)) >= 20 and run["error"] is None


def test_a_cuda_run_waits_for_a_worker_with_a_gpu_resource(store, cluster):
    run_id = store.submit(tiny_config(device="cuda"), cluster=cluster.address)
    with pytest.raises(BaseException, match="timed out"):  # no worker offers GPU=1 yet
        wait_status(store, run_id, ("running", "done", "failed"), timeout=4)
    gpu = cluster.add_worker("g1", "--resources", "GPU=1")
    run = wait_status(store, run_id, ("done", "failed"))
    addresses = {w: a for a, w in cluster.addresses().items()}
    assert worker_of(store, run_id) == addresses["g1"]
    if run["status"] == "failed":  # this machine has no GPU: training says so, on g1
        assert "no CUDA device" in run["error"]
    gpu.send_signal(signal.SIGKILL)


def test_a_killed_worker_leaves_the_run_interrupted_and_another_resumes_it(store, cluster):
    by_name = tiny_config(steps=LONG).replace(dataset="nations")  # a built-in travels by name
    run_id = store.submit(by_name, cluster=cluster.address)
    wait_for(lambda: (store.get(run_id)["checkpoint_step"] or 0) >= 20, what="a checkpoint")
    victim = cluster.addresses()[worker_of(store, run_id)]
    cluster.workers[victim].send_signal(signal.SIGKILL)
    run = wait_status(store, run_id, ("interrupted",), timeout=30)
    assert "worker" in run["error"] and "resume" in run["error"]
    target = max(run["step"], *store.checkpoint_steps(run_id)) + 30
    store.resume(run_id, steps=target, cluster=cluster.address)
    run = wait_status(store, run_id, ("done",))
    assert cluster.addresses()[worker_of(store, run_id)] != victim
    steps = [r["step"] for r in records(store, run_id) if r["kind"] == "train"]
    assert steps[0] == 5 and steps[-1] == target  # continued from the checkpoint, not from 0
    assert all(b - a == 5 for a, b in zip(steps, steps[1:])), steps
    assert run["final"]["mrr"] > 0


def test_a_worker_with_another_version_refuses_the_run(store, tmp_path):
    other = Cluster(tmp_path)
    try:
        other.add_worker("old", "--preload", str(PRELOAD))
        run_id = store.submit(tiny_config(), cluster=other.address)
        run = wait_status(store, run_id, ("failed",))
    finally:
        other.close()
    assert "runs demix_core 0.0.0+another" in run["error"] and "refuses the run" in run["error"]
    assert "same demix_core" in run["error"]


def test_an_unreachable_address_is_one_line_and_queues_nothing(store):
    with pytest.raises(ConfigError, match=r"--cluster tcp://127.0.0.1:9: no dask scheduler"):
        store.submit(tiny_config(), cluster="tcp://127.0.0.1:9")
    flags = ["--dataset", "nations", "--model", "transe", "--steps", "5"]
    env = {**os.environ, "DEMIX_CLUSTER": "127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-m", "demix_core", "runs", "submit", *flags],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert "DEMIX_CLUSTER '127.0.0.1:9': expected a scheduler address tcp://HOST:PORT" in out.stderr
    assert store.records() == [] and store.server_pid() is None
