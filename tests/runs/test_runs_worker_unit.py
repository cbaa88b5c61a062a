"""`run_one` in this process with a stand-in train function: the status each outcome leaves."""

from __future__ import annotations

import threading
import time

from runs_support import tiny_config

from demix_core.errors import DatasetError
from demix_core.runs.worker import run_one
from demix_core.training import TrainingDiverged


def run_with(store, train_fn) -> dict:
    run_id = store.submit(tiny_config(), start=False)
    run_one(store.home, run_id, train_fn=train_fn)
    return store.get(run_id)


def test_done_keeps_latest_and_final_metrics(store):
    def fake(config, out_dir, callbacks, resume):
        (cb,) = callbacks
        cb.on_step(10, {"kind": "train", "step": 10, "loss": 0.5})
        cb.on_eval(10, {"kind": "eval", "split": "valid", "step": 10, "mrr": 0.3})
        cb.on_checkpoint(10, out_dir / "checkpoint.pt")
        return {"status": "done", "step": 10, "mrr": 0.4, "hits@10": 0.9}

    run = run_with(store, fake)
    assert (run["status"], run["step"], run["checkpoint_step"], run["pid"]) == (
        "done",
        10,
        10,
        None,
    )
    assert run["metrics"] == {"loss": 0.5, "valid_mrr": 0.3}
    assert run["final"] == {"mrr": 0.4, "hits@10": 0.9}


def test_divergence_and_bad_input_fail_with_their_message(store):
    def diverges(*_, **__):
        raise TrainingDiverged("loss became nan at step 7; try a smaller --lr.")

    def bad_input(*_, **__):
        raise DatasetError("train.txt line 3: expected 3 columns")

    assert run_with(store, diverges)["error"] == "loss became nan at step 7; try a smaller --lr."
    run = run_with(store, bad_input)
    assert (run["status"], run["error"]) == ("failed", "train.txt line 3: expected 3 columns")


def test_a_bug_fails_the_run_and_keeps_the_traceback(store):
    def buggy(*_, **__):
        raise ValueError("shapes (3,) and (4,)")

    run = run_with(store, buggy)
    assert run["status"] == "failed" and run["error"].startswith("ValueError: shapes (3,) and (4,)")
    assert "ValueError" in (store.run_dir(run["id"]) / "error.log").read_text()


def test_cancel_reaches_should_stop_through_the_heartbeat_thread(store):
    def until_stopped(config, out_dir, callbacks, resume):
        deadline = time.monotonic() + 10
        while not callbacks[0].should_stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"status": "cancelled", "step": 3}

    run_id = store.submit(tiny_config(), start=False)
    timer = threading.Timer(0.5, store.cancel, [run_id])
    timer.start()
    t = time.monotonic()
    assert run_one(store.home, run_id, train_fn=until_stopped) == "cancelled"
    assert time.monotonic() - t < 3.0  # polled every 0.5 s, not only at heartbeats
    timer.join()
    assert store.get(run_id)["status"] == "cancelled"
