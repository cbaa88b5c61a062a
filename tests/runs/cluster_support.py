"""A real dask.distributed cluster for tests: `dask scheduler` and `dask worker` processes on
127.0.0.1, each in its own session, all killed by pid and reaped by `close()`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from procs import kill_and_reap

ROOT = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).parent / "dask")


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "XDG_CACHE_HOME": str(tmp / "cache"),
            "DASK_TEMPORARY_DIRECTORY": str(tmp / "scratch"),
        }  # not /tmp's shared one
        file = tmp / "scheduler.json"
        self._start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                    "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(file))  # fmt: skip
        self.address = self._wait(lambda: file.is_file() and json.loads(file.read_text()))[
            "address"
        ]
        self.workers: dict[str, subprocess.Popen] = {}

    def _start(self, log: str, *args: str) -> subprocess.Popen:
        with open(self.tmp / f"{log}.log", "ab") as out:
            proc = subprocess.Popen([DASK, *args], cwd=ROOT, env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.procs.append(proc)
        return proc

    def add_worker(self, name: str, *extra: str) -> subprocess.Popen:
        """A worker without a nanny (so SIGKILL ends it for good), one thread."""
        proc = self._start(name, "worker", self.address, "--name", name, "--nthreads", "1",
                           "--no-nanny", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                           "--local-directory", str(self.tmp / "scratch"), *extra)  # fmt: skip
        self.workers[name] = proc
        self._wait(lambda: name in self.worker_names(), what=f"worker {name}")
        return proc

    def worker_names(self) -> set[str]:
        return set(self.addresses().values())

    def addresses(self) -> dict[str, str]:
        """Worker address -> name, as the scheduler knows them now."""
        from distributed.core import rpc

        async def ask():
            async with rpc(self.address, timeout=5) as s:
                info = await s.identity()
            return {a: w.get("name") for a, w in info["workers"].items()}

        return asyncio.run(ask())

    def _wait(self, predicate, timeout: float = 60, what: str = "the scheduler"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = predicate()
            except (OSError, ValueError):
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{what} did not come up in {timeout:.0f} s (logs in {self.tmp})")

    def close(self) -> None:
        kill_and_reap([p.pid for p in self.procs])
        for p in self.procs:
            p.wait(timeout=10)
