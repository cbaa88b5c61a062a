"""Browser fixtures: Debian's chromium driven by the `playwright` package (never
`playwright install`), and the app served on a free port with a temporary DEMIX_HOME the way
`make app` serves it (`scripts/serve.py`: `streamlit run app.py` and a warm-up). Teardown
kills, by pid, the server's process group and every queue server or worker of that home
(each leads its own session), reaps them, and checks none is left.

`scripts/screenshots.py` uses the same helpers."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from procs import store_processes

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PR_SET_CHILD_SUBREAPER = 36


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    home: Path, port: int, timeout: float = 60.0, script: str | Path | None = None
) -> subprocess.Popen:
    """The app through `scripts/serve.py` (as `make app` starts it), or `streamlit run
    SCRIPT` when a script is named, in its own process group; returns once /_stcore/health
    is ok."""
    env = {**os.environ, "DEMIX_HOME": str(home)}
    env.pop("DEMIX_NO_WORKERS", None)
    if script is None:
        command = [sys.executable, str(ROOT / "scripts" / "serve.py")]
    else:
        command = [sys.executable, "-m", "streamlit", "run", str(script)]
    argv = [
        *command,
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
    ]
    with open(home.parent / f"streamlit-{port}.log", "ab") as log:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    stop_server(proc)
    raise RuntimeError(f"streamlit did not come up on port {port}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def alive_pid(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_home(home: Path, timeout: float = 15.0) -> list[int]:
    """SIGKILL every queue server and worker of `home` (by pid, whole process group) until
    none is left (a queue server may start a worker between two looks), and reap those that
    became our children; returns the pids it killed."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while (pids := store_processes(home)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(
                    pid, signal.SIGKILL
                )
            except ProcessLookupError:
                pass
        killed += [p for p in pids if p not in killed]
        time.sleep(0.1)
    while True:  # reap the orphans this process adopted as subreaper
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return killed


def launch_browser(playwright):
    chromium = shutil.which("chromium")
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser():
    if shutil.which("chromium") is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture
def app_server(tmp_path):
    """A running app on a fresh store: yields a dict with url, home, port and the server
    process (a test may replace `proc` when it restarts the server)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphaned workers come back to us
    home = tmp_path / "demix_home"
    home.mkdir()
    port = free_port()
    state = {"home": home, "port": port, "url": f"http://127.0.0.1:{port}"}
    try:
        state["proc"] = start_server(home, port)
        yield state
    finally:
        if "proc" in state:
            stop_server(state["proc"])
        killed = kill_home(home)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        # a SIGKILLed process in uninterruptible sleep (disk I/O on a loaded machine) dies
        # when that returns: give it a few seconds before calling it a survivor
        deadline = time.monotonic() + 10
        while (alive := [p for p in killed if alive_pid(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive == [] and store_processes(home) == [], "a worker outlived the test"
