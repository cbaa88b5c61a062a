"""Re-running an experiment from the app: one background process per experiment, its
results written beside the run store (`$DEMIX_HOME/experiments/NAME/`), never over the
committed `docs/results`. The process survives page changes; its pid and log live in that
folder, so any later page view (or another browser) sees its progress."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from demix_core.experiments import get, load


def folder(home: Path, name: str) -> Path:
    return Path(home) / "experiments" / name


def start(home: Path, name: str, budget: str = "quick") -> int:
    """Start `python -m demix_core experiment NAME` in its own session; returns its pid.
    A second start while one runs returns the running one's pid."""
    get(name)  # unknown names fail here, not in the child
    out = folder(home, name)
    running = pid(home, name)
    if running:
        return running
    out.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "demix_core", "experiment", name, "--budget", budget]
    argv += ["--out", str(out)]
    root = Path(__file__).resolve().parent.parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    with open(out / "log.txt", "w") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=root,
            env=env,
        )
    (out / "pid").write_text(str(proc.pid))
    return proc.pid


def pid(home: Path, name: str) -> int | None:
    """The pid of a running re-run of `name`, else None (a finished child is reaped)."""
    path = folder(home, name) / "pid"
    try:
        value = int(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        done, _ = os.waitpid(value, os.WNOHANG)  # our own child: reap it when finished
        if done:
            path.unlink(missing_ok=True)
            return None
    except ChildProcessError:
        pass  # started by another server process: probe it instead
    try:
        os.kill(value, 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return value


def log_tail(home: Path, name: str, lines: int = 3) -> str:
    try:
        text = (folder(home, name) / "log.txt").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def latest(home: Path, name: str) -> tuple[dict | None, str]:
    """The record to show: the user's re-run when it exists, else the committed one;
    with "yours" or "committed"."""
    mine = load(name, Path(home) / "experiments")
    if mine is not None:
        return mine, "yours"
    return load(name), "committed"
