"""The queue server's side of cluster runs: one `distributed.Client` per address, the
tasks in flight, and everything they stream back written into the store.

The task (`remote.run_task`) streams its metrics lines, notices and checkpoints on one
`distributed.Queue` per server, and `Dispatcher` writes them into the run folder and the
catalogue as a local worker would. A dispatched run stays `queued` until a worker starts it
(so a busy cluster never looks like a hung run), then `running` with the server's pid and a
heartbeat renewed by every message. A run whose messages stop for `STALE_S` (its worker
died), whose task was lost, or whose cluster cannot be reached becomes `interrupted`,
resumable from the last checkpoint received, on the cluster or locally. `--device cuda`
asks for a `GPU` resource (start GPU workers with `dask worker ... --resources GPU=1`).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from demix_core.runs import db, files
from demix_core.runs.cluster import CONNECT_S, dataset_payload

STALE_S = 8.0  # before queue.STALE_S, so the reason given is the cluster's, not the reaper's
LINGER_S = 10.0  # a queue server with a cluster client stays this long after its last task


@dataclass
class Dispatch:
    """One run on the cluster: its task, and what the client has heard from it."""

    run_id: str
    token: str
    future: object
    cancel: object  # distributed.Event
    cb: object  # worker.RunCallback: the latest step/metrics, as a local worker keeps them
    started: bool = False
    last_heard: float = 0.0
    cancel_sent: bool = False


class Dispatcher:
    """Sends the store's queued cluster runs to their clusters and writes what comes back."""

    def __init__(self, conn: sqlite3.Connection, home: Path) -> None:
        self.conn, self.home = conn, home
        self.clients: dict[str, tuple] = {}  # address -> (Client, Queue)
        self.active: dict[str, Dispatch] = {}  # run id -> its task
        self.datasets: dict[str, object] = {}  # digest -> scattered payload
        self.idle_since = db.now()

    def busy(self) -> bool:
        """Tasks in flight, or a cluster used within `LINGER_S`: a study queues its next
        trial a moment after the last one ends, and a fresh server would reconnect."""
        if self.active:
            self.idle_since = db.now()
        return bool(self.active) or (bool(self.clients) and db.now() - self.idle_since < LINGER_S)

    def poll(self) -> None:
        for row in self.conn.execute(
            "SELECT * FROM runs WHERE status = 'queued' AND cluster IS NOT NULL "
            "ORDER BY created_at, rowid"
        ).fetchall():
            if row["id"] not in self.active:
                self._dispatch(db.decode(row))
        for address, (_, queue) in list(self.clients.items()):
            try:
                messages = queue.get(batch=True)
            except Exception as e:  # noqa: BLE001 - the scheduler went away
                self._lose_cluster(address, e)
                continue
            for token, kind, payload in messages:
                try:
                    self._receive(token, kind, payload)
                except OSError as e:  # the run folder was removed or the disk is full
                    self._fail_token(token, f"cannot write the run folder: {e}")
        for d in list(self.active.values()):
            self._watch(d)

    def close(self) -> None:
        for client, _ in self.clients.values():
            client.close()
        self.clients.clear()

    def _client(self, address: str) -> tuple:
        if address not in self.clients:
            from distributed import Client, Queue

            client = Client(address, timeout=CONNECT_S, set_as_default=False)
            queue = Queue(f"demix-{secrets.token_hex(6)}", client=client)
            self.clients[address] = (client, queue)
        return self.clients[address]

    def _dispatch(self, run: dict) -> None:
        from distributed import Event

        from demix_core.runs.remote import code_version, run_task
        from demix_core.runs.worker import RunCallback

        address = run["cluster"]
        if not (self.home / run["id"]).is_dir():  # training would recreate part of a run
            return self._stop(run["id"], "failed", "the run folder is gone; not trained")
        try:
            client, queue = self._client(address)
        except Exception as e:  # noqa: BLE001
            return self._stop(run["id"], "interrupted", _unreachable(address, e))
        try:
            spec = self._spec(run, queue.name, code_version())
            dataset = self._dataset(client, run["config"]["dataset"])
        except Exception as e:  # noqa: BLE001 - a damaged train_state.pt, an unreadable split
            return self._stop(run["id"], "failed", f"{type(e).__name__}: {e}")
        gpu = {"GPU": 1} if run["config"].get("device") == "cuda" else None
        future = client.submit(
            run_task, spec, dataset, key=f"demix-run-{spec['token']}", pure=False, resources=gpu
        )
        cb = RunCallback()
        cb.step, cb.metrics = run["step"], run["metrics"]  # a resumed run keeps its values
        cancel = Event(spec["cancel"], client=client)
        self.active[run["id"]] = Dispatch(run["id"], spec["token"], future, cancel, cb)

    def _spec(self, run: dict, queue_name: str, version: str) -> dict:
        """The task's argument; on resume it carries the training state (and the best
        checkpoint, which early stopping reloads) received so far."""
        run_dir = self.home / run["id"]
        token = f"{run['id']}-{secrets.token_hex(4)}"
        resume = bool(run["resume"]) and (run_dir / files.TRAIN_STATE).is_file()
        blobs = {}
        if resume:
            import torch

            saved = files.saved_step(run_dir)
            files.keep_metrics_up_to(run_dir / files.METRICS, saved)
            state = torch.load(run_dir / files.TRAIN_STATE, weights_only=True, mmap=True)
            best = files.checkpoint_path(run_dir, int(state["best"][1]))
            for path in (run_dir / files.TRAIN_STATE, best):
                if path.is_file():
                    blobs[str(path.relative_to(run_dir))] = path.read_bytes()
        else:
            (run_dir / files.METRICS).unlink(missing_ok=True)
        return {"run_id": run["id"], "token": token, "queue": queue_name, "version": version,
                "config": run["config"], "resume": resume, "files": blobs,
                "cancel": f"demix-cancel-{token}"}  # fmt: skip

    def _dataset(self, client, dataset: str):
        payload = dataset_payload(dataset)
        if payload is None:
            return None
        if payload["digest"] not in self.datasets:  # sent to the cluster once per content
            self.datasets[payload["digest"]] = client.scatter(payload, hash=False)
        return self.datasets[payload["digest"]]

    def _receive(self, token: str, kind: str, payload) -> None:
        from demix_core.runs.worker import beat

        d = next((d for d in self.active.values() if d.token == token), None)
        if d is None:
            return  # an earlier dispatch of a run that has since been stopped
        d.last_heard = db.now()
        run_dir = self.home / d.run_id
        if kind == "start":
            d.started = True
            _log(run_dir, f"running on dask worker {payload['worker']} ({payload['host']}, "
                          f"pid {payload['pid']})")  # fmt: skip
            with db.write(self.conn):
                self.conn.execute(
                    "UPDATE runs SET status = 'running', pid = ?, heartbeat = ?, error = NULL, "
                    "started_at = COALESCE(started_at, ?) WHERE id = ? AND status = 'queued'",
                    (_pid(), db.now(), db.now(), d.run_id),
                )
        elif kind == "lines":
            with open(run_dir / files.METRICS, "a") as fh:
                fh.writelines(json.dumps(r) + "\n" for r in payload)
            for r in payload:
                if r.get("kind") == "train":
                    d.cb.on_step(int(r["step"]), r)
                elif r.get("kind") == "eval":
                    d.cb.on_eval(int(r["step"]), r)
        elif kind == "checkpoint":
            for name, blob in payload["files"].items():
                _write_atomic(blob, run_dir / name)
            d.cb.checkpoint_step = payload["step"]
        elif kind == "end":
            return self._finish(d, payload)
        beat(self.conn, d.run_id, d.cb)

    def _finish(self, d: Dispatch, end: dict) -> None:
        from demix_core.runs.worker import beat

        run_dir = self.home / d.run_id
        if end.get("error_log"):
            (run_dir / "error.log").write_text(end["error_log"])
        d.cb.step = int(end.get("step", d.cb.step))
        with db.write(self.conn):
            beat(self.conn, d.run_id, d.cb)
            self.conn.execute(
                "UPDATE runs SET status = ?, error = ?, final = ?, pid = NULL, finished_at = ?, "
                "resume = 0 WHERE id = ? AND status IN ('queued', 'running')",
                (end["status"], end["error"], json.dumps(end.get("final") or {}), db.now(),
                 d.run_id),
            )  # fmt: skip
        self.active.pop(d.run_id, None)

    def _watch(self, d: Dispatch) -> None:
        """Cancel, a run stopped from outside, a task that ended without `end`, silence."""
        row = self.conn.execute(
            "SELECT status, cancel_requested FROM runs WHERE id = ?", (d.run_id,)
        ).fetchone()
        if row is None or row["status"] not in db.ACTIVE:  # deleted, cancelled while queued, reaped
            d.future.cancel()
            self.active.pop(d.run_id, None)
            return
        if row["cancel_requested"] and not d.cancel_sent:
            d.cancel.set()
            d.cancel_sent = True
        if d.future.status in ("finished", "error", "lost", "cancelled"):
            self._ended_without_word(d)
        elif d.started and db.now() - d.last_heard > STALE_S:
            d.future.cancel()
            self._stop(d.run_id, "interrupted", f"no word from its dask worker for "
                       f"{STALE_S:.0f} s (the worker died or hangs); resume it")  # fmt: skip

    def _ended_without_word(self, d: Dispatch) -> None:
        """The task finished but its `end` message was not read: a refusal (sent before it
        started), an `end` still on the queue (the next poll writes it), or a lost task."""
        if d.future.status == "finished":
            result = d.future.result()
        elif d.future.status == "error":  # KilledWorker, a worker that cannot import us
            e = d.future.exception()
            result = {"status": "lost", "error": f"{type(e).__name__}: {e}"}
        else:  # lost with its worker, or cancelled by the scheduler
            result = {"status": "lost"}
        if result.get("status") in ("done", "failed", "cancelled", "interrupted"):
            if not d.started or db.now() - d.last_heard > STALE_S:
                self._finish(d, result)
            return
        why = result.get("error") or "its dask worker died and the task was lost"
        self._stop(d.run_id, "interrupted", f"{why}; resume it (from the last checkpoint)")

    def _stop(self, run_id: str, status: str, error: str) -> None:
        with db.write(self.conn):
            self.conn.execute(
                "UPDATE runs SET status = ?, error = ?, pid = NULL, finished_at = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (status, error, db.now(), run_id),
            )
        d = self.active.pop(run_id, None)
        if d is not None:
            d.future.cancel()

    def _fail_token(self, token: str, error: str) -> None:
        d = next((d for d in self.active.values() if d.token == token), None)
        if d is not None:
            d.cancel.set()  # the task stops; the scheduler forgets it once cancelled below
            self._stop(d.run_id, "failed", error)

    def _lose_cluster(self, address: str, exc: BaseException) -> None:
        client, _ = self.clients.pop(address)
        for d in [d for d in self.active.values() if d.future.client is client]:
            self._stop(d.run_id, "interrupted", _unreachable(address, exc))
        client.close()


def _unreachable(address: str, exc: BaseException) -> str:
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"cluster {address} cannot be reached ({why[:160]}); resume the run when it is back, "
        "or resume it without a cluster to train here"
    )


def _pid() -> int:
    return os.getpid()


def _write_atomic(blob: bytes, path: Path) -> None:
    """Readers (the app, a resume) see the old file or the new one, never half."""
    path.parent.mkdir(exist_ok=True)  # checkpoints/; the run folder itself must exist
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _log(run_dir: Path, line: str) -> None:
    with open(run_dir / "worker.log", "a") as fh:
        fh.write(line + "\n")
