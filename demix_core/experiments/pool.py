"""Training an experiment's runs: several at once (`--jobs`), and each distinct run once.

An experiment lists its runs as jobs (the keyword arguments of `base.fit`) and `fit_many`
returns their results in order. Two things make a budget shorter without changing a number:

- **Processes side by side.** On a CPU, one small-KG run keeps two cores only half busy
  (short kernels, Python between them); `ctx.jobs` runs that many at once, each in its own
  process with its share of the threads.
- **A run trains once.** Jobs are keyed by the TrainConfig they train (`run_key`); a result
  in `ctx.cache` serves every later job with the same key, across the experiments of one
  `experiment all`. Evaluation leaves training untouched (no random draws, and training
  seconds leave it out), so a run validated every 500 steps also serves a job validated
  every 1,000 steps (its curve thinned) or never (no curve), and a run kept without its
  valid metrics gets them from its checkpoint, which the context keeps for the session.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from demix_core.experiments.base import Context, fit, train_config, valid_metrics


def job(dataset, model, sampler, seed, options=None, **kw) -> dict:
    """One run for `fit_many`: the arguments of `base.fit` (without the context)."""
    return {
        "dataset": dataset,
        "model": model,
        "sampler": sampler,
        "seed": seed,
        "options": options or {},
        **kw,
    }


def run_key(ctx: Context, j: dict) -> str:
    """What a run trains: its TrainConfig without the evaluation cadence (which does not
    change training), plus the inspection it ends with."""
    extra = {k: v for k, v in j.items() if k not in _ARGS}
    args = (j["dataset"], j["model"], j["sampler"], j["seed"], j.get("options"))
    cfg = train_config(ctx, *args, **extra).to_dict()
    for name in ("eval_every", "log_every"):
        cfg.pop(name, None)
    inspect = j.get("inspect")
    cfg["inspect"] = f"{inspect.__module__}.{inspect.__qualname__}" if inspect else None
    return json.dumps(cfg, sort_keys=True, default=str)


_ARGS = ("dataset", "model", "sampler", "seed", "options", "eval_every", "valid", "inspect")


def fit_many(ctx: Context, jobs: list[dict], timed: bool = False) -> list[dict]:
    """The `fit` result of every job, in order; each distinct run trained once (`run_key`),
    `ctx.jobs` of them at a time (one at a time when `timed`: the experiment measures their
    seconds). Raises what a failing run raised."""
    keys = [run_key(ctx, j) for j in jobs]
    todo: dict[str, dict] = {}
    for key, j in zip(keys, jobs, strict=True):
        if _serve(ctx, key, j) is None:
            cached = ctx.cache.get(key)  # trained, but not validated at this job's steps
            have = todo.get(key) or (cached and {**j, "eval_every": cached["eval_every"]})
            todo[key] = _widest(have, j)
    if todo:
        _train(ctx, todo, 1 if timed else ctx.jobs)
    return [_serve(ctx, key, j) for key, j in zip(keys, jobs, strict=True)]


def _every(j: dict) -> int:
    return int(j.get("eval_every") or 0)


def _widest(have: dict | None, j: dict) -> dict:
    """One job covering both: validated at the steps of both (every gcd of the two cadences),
    with valid metrics if either wants them."""
    if have is None:
        return dict(j)
    a, b = _every(have), _every(j)
    every = math.gcd(a, b) if a and b else (a or b)
    return {**j, "eval_every": every, "valid": have.get("valid", True) or j.get("valid", True)}


def _serve(ctx: Context, key: str, j: dict) -> dict | None:
    """The cached result that answers job `j`, shaped as its own run would have been (valid
    metrics evaluated from the kept checkpoint if the run had none); None when there is none."""
    entry = ctx.cache.get(key)
    if entry is None:
        return None
    have, want = entry["eval_every"], _every(j)
    if want and (not have or want % have):
        return None  # its curve has no points at this job's steps
    r = entry["result"]
    if j.get("valid", True) and "valid" not in r:
        r["valid"] = _valid_from(entry["checkpoint"], j["dataset"])
    curve = [p for p in r["curve"] if want and p["step"] % want == 0]
    return {**r, "curve": curve}


def _valid_from(checkpoint: Path, dataset: str) -> dict:
    from demix_core.checkpoint import load_checkpoint, model_from_checkpoint
    from demix_core.data import load_dataset

    return valid_metrics(model_from_checkpoint(load_checkpoint(checkpoint)), load_dataset(dataset))


def _train(ctx: Context, todo: dict[str, dict], jobs: int) -> None:
    scratch = _scratch(ctx)
    # a checkpoint per run, named by what it trained (a re-trained key replaces its own)
    planned = [(key, j, scratch / f"{_digest(key)}.pt") for key, j in todo.items()]
    if jobs <= 1 or len(planned) == 1:
        for key, j, path in planned:
            _store(ctx, key, j, fit(ctx, keep=path, **j), path)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    state = {
        "budget": ctx.budget,
        "seeds": ctx.seeds,
        "device": ctx.device,
        "large_quick": ctx.large_quick,
    }
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(
        jobs, mp_context=get_context("spawn"), initializer=_init, initargs=(threads, os.getpid())
    )
    try:
        ctx.progress(f"train {len(planned)} runs, {jobs} at a time")
        futures = {pool.submit(_work, state, j, path): (key, j, path) for key, j, path in planned}
        for done, future in enumerate(as_completed(futures), 1):
            key, j, path = futures[future]
            _store(ctx, key, j, future.result(), path)
            ctx.progress(f"done {_label(j)} ({done}/{len(planned)})")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _store(ctx: Context, key: str, j: dict, result: dict, path: Path) -> None:
    ctx.cache[key] = {"result": result, "eval_every": _every(j), "checkpoint": path}


def _scratch(ctx: Context) -> Path:
    """A folder for the checkpoints of the context's runs, removed with the process."""
    if ctx.scratch is None:
        ctx.scratch = Path(tempfile.mkdtemp(prefix="demix-experiment-"))
        import atexit

        atexit.register(shutil.rmtree, ctx.scratch, True)
    return ctx.scratch


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _label(j: dict) -> str:
    return f"{j['dataset']} {j['model']} {j['sampler']} {j.get('options') or ''} seed {j['seed']}"


def _init(threads: int, parent: int) -> None:
    """A worker's set-up: its share of the threads, and to end with its parent (a killed
    experiment must not leave workers training for nobody)."""
    import torch

    torch.set_num_threads(threads)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent dies
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)


def _work(state: dict, j: dict, path: Path) -> dict:
    """One run in a worker process (its own context: no shared cache, no progress)."""
    return fit(Context(**state), keep=path, **j)
