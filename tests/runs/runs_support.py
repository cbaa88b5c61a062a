"""Helpers of the run-store tests: tiny Nations configs, polling, finding and killing the
processes a test started (by pid, whole process group) and reaping them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from demix_core.runs import RunStore

NATIONS = Path(__file__).resolve().parents[2] / "assets" / "datasets" / "nations"


def tiny_config(**overrides):
    """A Nations TransE run that takes well under a second of training per 50 steps."""
    from demix_core.config import make_config

    values = dict(dim=16, batch_size=64, negatives=4, steps=50, log_every=5, eval_every=0,
                  checkpoint_every=10, compile="off", measure_truth=False)  # fmt: skip
    values.update(overrides)
    return make_config(str(NATIONS), "transe", values.pop("sampler", "uniform"), **values)


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_status(store: RunStore, run_id: str, statuses: tuple[str, ...], timeout: float = 90.0):
    last = {}

    def reached():
        last.update(store.get(run_id))
        return last if last["status"] in statuses else None

    try:
        return wait_for(reached, timeout, f"run {run_id} to become {'/'.join(statuses)}")
    except pytest.fail.Exception as e:
        seen = {k: last.get(k) for k in ("status", "step", "error", "cancel_requested")}
        raise pytest.fail.Exception(f"{e} (last seen: {seen})") from None
