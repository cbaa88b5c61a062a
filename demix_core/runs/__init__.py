"""Background training runs: a durable store, worker processes, a queue, cancel/resume, sweeps.

Store (`RunStore(home)`, home = `$DEMIX_HOME` or `./runs`): a SQLite catalogue in WAL
mode (`runs.sqlite`, schema versioned by `PRAGMA user_version`, see `db.MIGRATIONS`)
plus one folder per run (`config.json`, `metrics.jsonl`, checkpoints, `worker.log`).

Processes. `submit`/`sweep`/`resume` queue runs and then make sure a *queue server*
is running: a detached `python -m demix_core runs worker` process (its own session),
at most one per store (the `server` row, taken in the same transaction as the spawn).
The server starts one `runs worker --run ID` process per run, never more than
`max_workers` at once (`$DEMIX_MAX_WORKERS`, default 1), and exits when the queue is
empty. So neither the app nor the CLI needs a separate step; `--no-start`/`start=False`
only queues, and a later `runs worker` serves it.

Statuses: queued -> running -> done | failed (with error text) | cancelled | interrupted.
A worker beats every ~2 s; `reap()`, called by every read, marks a running run whose
pid is gone or whose heartbeat is older than 10 s as interrupted. `cancel` sets a
flag the worker polls (it stops within ~1 s after its current step, keeping its
checkpoint); `resume` re-queues a stopped run to continue from `train_state.pt`,
optimizer included, up to the requested steps, appending to the same metrics log.

Executors. A run queued with a dask scheduler's address (`cluster=`, `$DEMIX_CLUSTER`)
is sent by the same server to that cluster instead (`cluster.py`, `dispatch.py`,
`remote.py`); the server still writes everything. Studies (`tune.py`, `study.py`): Optuna
picks each trial's values, and every trial is a run of the study's group.
"""

from demix_core.runs.api import RunStore, default_home
from demix_core.runs.db import STATUSES, StoreError
from demix_core.runs.files import user_cache_dir

__all__ = ["STATUSES", "RunStore", "StoreError", "default_home", "user_cache_dir"]
