"""The task a dask worker runs for one queued run (the client side is `cluster.py`).

The worker trains in a temporary folder and writes nothing that the client needs to
keep: every metrics line, notice and checkpoint it produces is put on the client's
`distributed.Queue` as a message `(token, kind, payload)`, and the client writes it into
the run folder exactly as a local worker would. Kinds, in the order a task sends them:

    start       {"worker", "host", "pid"}         the task began on this worker
    lines       [record, ...]                     new metrics.jsonl records (complete lines)
    checkpoint  {"step", "files": {path: bytes}}  checkpoint.pt, train_state.pt, step_*.pt
    beat        {}                                still alive (nothing new to send)
    end         {"status", "error", "final", "error_log"}

Cancel is a `distributed.Event` the client sets; the task polls it with the task's own
state (a task whose client went away is released by the scheduler: it stops too). If its
worker dies, the scheduler may start the task again elsewhere: the start `Event` makes
that second start return at once, so a run is never silently restarted from scratch.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
from pathlib import Path

from demix_core.runs import files
from demix_core.runs.worker import RunCallback, _train

POLL_S = 0.5  # cancel/orphan checks
BEAT_S = 1.0  # lines flushed (or a beat sent) at least this often

_VERSION: str | None = None


def code_version() -> str:
    """`demix_core`'s version plus a digest of its sources: two checkouts that both say
    0.1.0 but differ in code are different versions to a cluster."""
    global _VERSION
    if _VERSION is None:
        import demix_core

        root = Path(demix_core.__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        _VERSION = f"{demix_core.__version__}+{digest.hexdigest()[:12]}"
    return _VERSION


class _Forwarder:
    """Sends what training writes into `out` to the client, in the order it was written."""

    def __init__(self, queue, token: str, out: Path) -> None:
        self.queue, self.token, self.out = queue, token, out
        self.offset = 0
        self.lock = threading.Lock()

    def send(self, kind: str, payload) -> None:
        self.queue.put((self.token, kind, payload))

    def flush(self, beat: bool = False) -> None:
        """Send the new lines; with `beat`, called by the watcher, send at least a beat but
        never wait for the lock: training holding it is sending anyway, and a watcher
        queued behind a stream of checkpoints would stop seeing the cancel event."""
        if not self.lock.acquire(blocking=not beat):
            return
        try:
            records, self.offset = files.read_metric_records(self.out / files.METRICS, self.offset)
            if records:
                self.send("lines", records)
            elif beat:
                self.send("beat", {})
        finally:
            self.lock.release()

    def checkpoint(self, step: int) -> None:
        """The files `_Run.save` just wrote, after the lines logged before them."""
        self.flush()
        kept = Path(files.CHECKPOINT_DIR) / f"step_{step:07d}.pt"
        names = [Path(files.CHECKPOINT), Path(files.TRAIN_STATE), kept]
        blobs = {str(n): (self.out / n).read_bytes() for n in names if (self.out / n).is_file()}
        with self.lock:
            self.send("checkpoint", {"step": step, "files": blobs})


class _RemoteCallback(RunCallback):
    def __init__(self, forwarder: _Forwarder) -> None:
        super().__init__()
        self.forwarder = forwarder

    def on_checkpoint(self, step: int, path: Path) -> None:
        super().on_checkpoint(step, path)
        self.forwarder.checkpoint(step)


def _watch(cb: RunCallback, fwd: _Forwarder, cancel, done: threading.Event, task) -> None:
    """Poll the cancel event and the task's own state; flush lines (or beat) every BEAT_S.
    `task` is (worker, key), taken in the task's thread (this one is not a task thread)."""
    worker, key = task
    ticks = 0
    while not done.wait(POLL_S):
        ticks += 1
        try:
            if cancel.is_set():
                cb.request_stop("cancel")
            task = worker.state.tasks.get(key)
            if task is None or task.state == "cancelled":  # the client released it
                cb.request_stop("lost")
            if ticks * POLL_S >= BEAT_S:
                ticks = 0
                fwd.flush(beat=True)
        except Exception:  # noqa: BLE001 - a scheduler hiccup delays a beat; training goes on
            continue


def dataset_folder(payload: dict) -> Path:
    """Write a dataset sent by content into this worker's cache (once per digest), after
    checking every file against the digest the client computed."""
    from demix_core.errors import DatasetError

    for name, blob in payload["files"].items():
        got = hashlib.sha256(blob).hexdigest()
        if got != payload["sha256"][name]:
            raise DatasetError(
                f"dataset {payload['name']}: {name} arrived damaged (sha256 {got[:12]}, "
                f"expected {payload['sha256'][name][:12]}); not trained"
            )
    folder = files.user_cache_dir() / "datasets" / payload["digest"]
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".incoming-"))
        for name, blob in payload["files"].items():
            (tmp / name).write_bytes(blob)
        try:
            os.rename(tmp, folder)
        except OSError:  # another task of this worker wrote the same digest first
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()
    return folder


def run_task(spec: dict, dataset: dict | None = None) -> dict:
    """Train run `spec["run_id"]` here, streaming everything to the client; the `end`
    payload is also the return value."""
    from distributed import Event, Queue, get_worker

    worker = get_worker()
    if spec["version"] != code_version():
        return {
            "status": "failed",
            "error": f"worker {worker.address} runs demix_core {code_version()}, the client "
            f"{spec['version']}: it refuses the run. Install the same demix_core (same commit "
            "and requirements) on every worker and restart it",
        }
    started = Event(f"demix-start-{spec['token']}")
    if started.is_set():  # the scheduler re-ran us after our first worker died
        return {"status": "superseded"}
    started.set()
    queue = Queue(spec["queue"])
    # in the worker's own folder, which dask clears of what a killed worker left behind
    with tempfile.TemporaryDirectory(prefix="demix-run-", dir=worker.local_directory) as tmp:
        out = Path(tmp) / spec["run_id"]
        for name, blob in spec["files"].items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(blob)
        out.mkdir(exist_ok=True)
        fwd = _Forwarder(queue, spec["token"], out)
        fwd.send("start", {"worker": worker.address, "host": socket.gethostname(),
                           "pid": os.getpid()})  # fmt: skip
        cb = _RemoteCallback(fwd)
        done = threading.Event()
        task = (worker, worker.get_current_task())
        watcher = threading.Thread(
            target=_watch, args=(cb, fwd, Event(spec["cancel"]), done, task), daemon=True
        )
        watcher.start()
        try:
            status, error, final = _train(_train_fn(dataset), spec, out, cb)
        finally:
            done.set()
            watcher.join()
        fwd.flush()
        log = out / "error.log"
        end = {"status": status, "error": error, "final": final, "step": cb.step,
               "error_log": log.read_text() if log.is_file() else None}  # fmt: skip
    fwd.send("end", end)
    return end


def _train_fn(dataset: dict | None):
    """`training.train`, given the dataset that came by content (built-ins load by name)."""
    from demix_core.training import train

    def train_fn(config, out, callbacks=(), resume=False):
        kg = None
        if dataset is not None:
            from demix_core.data import load_dataset

            kg = load_dataset(str(dataset_folder(dataset)))
        return train(config, out, callbacks=callbacks, resume=resume, kg=kg)

    return train_fn
