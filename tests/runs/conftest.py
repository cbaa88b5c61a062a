"""Fixtures for the run-store tests: a temporary DEMIX_HOME whose teardown kills (by pid,
whole process group) and reaps every process the test started, so the suite leaves
nothing behind."""

from __future__ import annotations

import ctypes

import pytest
from procs import kill_and_reap, pids_mentioning

from demix_core.runs import RunStore

PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "demix_home"
    monkeypatch.setenv("DEMIX_HOME", str(home))
    monkeypatch.delenv("DEMIX_MAX_WORKERS", raising=False)
    libc = ctypes.CDLL(None, use_errno=True)
    # orphaned workers (their queue server killed) are re-parented to us, so we can reap them
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield home
    finally:
        kill_and_reap(pids_mentioning(str(home)))
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        assert pids_mentioning(str(home)) == [], "a test left a process behind"


@pytest.fixture
def store(home) -> RunStore:
    return RunStore(home)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two one-thread workers on 127.0.0.1 for the tests of one module."""
    from cluster_support import Cluster

    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        yield c
    finally:
        c.close()
