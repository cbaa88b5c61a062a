"""Helpers of the run-store tests: tiny Nations configs, polling, finding and killing the
processes a test started (by pid, whole process group) and reaping them."""

from __future__ import annotations

import os
import signal
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
    def reached():
        run = store.get(run_id)
        return run if run["status"] in statuses else None

    return wait_for(reached, timeout, f"run {run_id} to become {'/'.join(statuses)}")


def pids_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (the test's home folder)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                    out.append(int(entry.name))
            except OSError:
                pass
    return out


def kill_and_reap(pids: list[int], timeout: float = 15.0) -> None:
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    pending.discard(pid)
            except ChildProcessError:  # not ours (reaped by its own parent or by init)
                if not Path(f"/proc/{pid}").exists():
                    pending.discard(pid)
        time.sleep(0.05)
