"""The Optuna side of a study (`tune.py` has its spec and CLI-facing functions): the driver's
ask/follow/tell loop (`drive`), each trial's state read back from its run (`summary`), and
Optuna's figures."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from demix_core.errors import DemixError
from demix_core.runs import files, tune
from demix_core.runs.tune import MAX_RESUMES, STARTUP_TRIALS, Study, pruned_path, read_pruned

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go

    from demix_core.runs.api import RunStore


def trial_runs(store: RunStore, study: Study) -> list[dict]:
    """The study's runs in trial order."""
    return sorted(store.records(study.group), key=lambda r: r["params"]["trial"])


def curve(store: RunStore, run: dict, metric: str) -> dict[int, float]:
    """Step -> the valid `metric` of each validation record of `run`."""
    records, _ = files.read_metric_records(store.run_dir(run["id"]) / files.METRICS)
    evals = (r for r in records if r.get("kind") == "eval" and r.get("split", "valid") == "valid")
    return {int(r["step"]): float(r[metric]) for r in evals if metric in r}


def trial_state(run: dict, values: dict[int, float], pruned: dict[str, int]) -> str:
    if run["id"] in pruned:
        return "PRUNED"
    if run["status"] == "done":
        return "COMPLETE" if values else "FAIL"
    return "FAIL" if run["status"] in ("failed", "cancelled") else "RUNNING"


def trial_rows(store: RunStore, study: Study) -> list[dict]:
    """One dict per trial: number, run, status, state, values, objective, its curve."""
    pruned = read_pruned(store.home, study.group)
    rows = []
    for run in trial_runs(store, study):
        values = curve(store, run, study.metric)
        if run["id"] in pruned:
            values = {s: v for s, v in values.items() if s <= pruned[run["id"]]}
        state = trial_state(run, values, pruned)
        params = {k: v for k, v in run["params"].items() if k != "trial"}
        rows.append({"number": run["params"]["trial"], "run": run["id"], "status": run["status"],
                     "state": state, "params": params, "curve": values,
                     "value": max(values.values()) if state == "COMPLETE" else None})  # fmt: skip
    return rows


def frozen(study: Study, row: dict):
    """A finished trial as Optuna's FrozenTrial."""
    from optuna.trial import TrialState, create_trial

    dists = {p.name: p.distribution() for p in study.params}
    return create_trial(
        params=row["params"],
        distributions=dists,
        value=row["value"],
        intermediate_values=row["curve"],
        state=TrialState[row["state"]],
    )


def optuna_study(study: Study, with_pruner: bool = True) -> optuna.Study:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if study.pruning and with_pruner:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=0)
    else:
        pruner = optuna.pruners.NopPruner()
    return optuna.create_study(direction="maximize", pruner=pruner)


class Driver:
    """One pass of `step()` follows the live trials, tells finished ones and asks the next."""

    def __init__(self, store: RunStore, study: Study, echo, start: bool = True) -> None:
        self.store, self.study, self.echo, self.start = store, study, echo, start
        self.optuna = optuna_study(study)
        self.dists = {p.name: p.distribution() for p in study.params}
        self.live: dict[str, tuple] = {}  # run id -> (optuna trial, steps reported)
        self.resumes: dict[str, int] = {}
        self.pruned = read_pruned(store.home, study.group)
        for row in trial_rows(store, study):  # a restarted driver picks up where one stopped
            if row["state"] == "RUNNING":
                self.optuna.enqueue_trial(row["params"])
                self.live[row["run"]] = (self._ask(row["number"]), set())
            else:
                self.optuna.add_trial(frozen(study, row))

    def _ask(self, number: int):
        from optuna.samplers import TPESampler

        seed = (self.study.seed * 1_000_003 + number) % 2**32  # the same draw after a restart
        self.optuna.sampler = TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS)
        return self.optuna.ask(self.dists)

    def step(self) -> bool:
        """True once every trial is told."""
        runs = {r["id"]: r for r in self.store.records(self.study.group)}
        for run_id in list(self.live):
            self._follow(runs.get(run_id) or {"id": run_id, "status": "deleted"})
        if self.live:
            return False
        n = len(runs)
        if n >= self.study.trials:
            return True
        for number in range(n, min(n + self.study.parallel, self.study.trials)):
            self._queue(number)
        return False

    def _queue(self, number: int) -> None:
        trial = self._ask(number)
        values = {k: _plain(v) for k, v in trial.params.items()}
        config, params = self.study.trial_config(values)
        label = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        run_id = self.store.submit(
            config, name=f"{self.study.name} #{number} [{label}]", cluster=self.study.cluster,
            group=self.study.group, params={"trial": number, **params}, start=self.start,
        )  # fmt: skip
        self.live[run_id] = (trial, set())
        self.echo(f"trial {number}: {label} -> run {run_id}")

    def _follow(self, run: dict) -> None:
        from optuna.trial import TrialState

        trial, seen = self.live[run["id"]]
        values = curve(self.store, run, self.study.metric) if run["status"] != "deleted" else {}
        for step in sorted(set(values) - seen):  # in step order: the same decision every time
            seen.add(step)
            trial.report(values[step], step)
            if self.study.pruning and trial.should_prune():
                return self._prune(run, trial, step)
        status = run["status"]
        if status == "done" and values:
            self._tell(run, trial, max(values.values()))
        elif status in ("done", "failed", "cancelled", "deleted"):
            self._tell(run, trial, None, TrialState.FAIL)
        elif status == "interrupted" and self.resumes.get(run["id"], 0) < MAX_RESUMES:
            self.resumes[run["id"]] = self.resumes.get(run["id"], 0) + 1
            try:
                self.store.resume(run["id"], cluster=self.study.cluster)
            except DemixError as e:  # its cluster is gone: try again on the next pass
                self.echo(f"trial {trial.number}: not resumed yet ({e})")
        elif status == "interrupted":
            self._tell(run, trial, None, TrialState.FAIL)

    def _prune(self, run: dict, trial, step: int) -> None:
        from optuna.trial import TrialState

        self.pruned[run["id"]] = step
        files.write_json_atomic(pruned_path(self.store.home, self.study.group), self.pruned)
        if run["status"] in ("queued", "running"):
            self.store.cancel(run["id"])
        self._tell(run, trial, None, TrialState.PRUNED)

    def _tell(self, run: dict, trial, value, state=None) -> None:
        self.optuna.tell(trial, value, state=state)
        del self.live[run["id"]]
        shown = f"{value:.4f}" if value is not None else state.name.lower()
        self.echo(f"trial {trial.number}: {self.study.objective} {shown}")


def _plain(v):
    """numpy scalars from the sampler as JSON-friendly Python numbers."""
    return v.item() if hasattr(v, "item") else v


def figures(store: RunStore, study: Study) -> dict[str, go.Figure]:
    """Optuna's own Plotly figures of the finished trials: optimisation history, parameter
    importances (from two finished trials on) and a slice per tuned value."""
    import optuna.visualization as vis

    s = optuna_study(study, with_pruner=False)
    rows = [r for r in trial_rows(store, study) if r["state"] != "RUNNING"]
    s.add_trials([frozen(study, r) for r in rows])
    out = {"history": vis.plot_optimization_history(s, target_name=study.objective)}
    if sum(r["state"] == "COMPLETE" for r in rows) >= 2:
        out["importances"] = vis.plot_param_importances(s, target_name=study.objective)
    names = [p.name for p in study.params]
    out["slice"] = vis.plot_slice(s, params=names, target_name=study.objective)
    return out


def drive(store: RunStore, group: str, echo=lambda line: None) -> dict:
    """Run study `group` to its end (see the module's docstring); return its summary."""
    with tune.driving(store.home, group):
        driver = Driver(store, Study.load(store.home, group), echo)
        while not driver.step():
            time.sleep(tune.POLL_S)
    return summary(store, group)


def summary(store: RunStore, group: str) -> dict:
    """The study's trials (number, run, state, values, objective) and its best trial."""
    study = Study.load(store.home, group)
    rows = trial_rows(store, study)
    done = [r for r in rows if r["state"] == "COMPLETE"]
    best = max(done, key=lambda r: r["value"]) if done else None
    return {"group": group, "name": study.name, "objective": study.objective,
            "trials": study.trials, "driven": tune.is_driven(store.home, group),
            "rows": rows, "best": best}  # fmt: skip
