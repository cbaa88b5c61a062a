"""Finding and ending the processes a test started (queue servers, workers, servers), so a
run of the suite leaves nothing behind. Shared by tests/runs, tests/app and tests/e2e."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def pids_mentioning(text: str) -> list[int]:
    """Live, non-zombie processes whose command line contains `text`."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if text in cmd and state != "Z":
                out.append(int(entry.name))
    return out


def store_processes(home) -> list[int]:
    """Queue servers and workers of the store at `home` (`python -m demix_core runs --home
    HOME worker ...`); nothing else that happens to name the folder, such as this test."""
    return pids_mentioning(f"demix_core runs --home {Path(home).resolve()} ")


def kill_and_reap(pids: list[int], timeout: float = 15.0) -> None:
    """SIGKILL each pid's process group (workers lead their own) and wait for them to go."""
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


def python_json(code: str, env: dict | None = None, cwd: Path | None = None):
    """Run `code` in a fresh Python and return the JSON of its last stdout line (a probe of
    what a new process imports or sets up; it fails the test if the process does)."""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])
