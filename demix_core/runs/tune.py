"""Studies: Optuna (TPE, ask/tell) picks the values of a few config fields or sampler options
(`--param mu=0.25:5:log --param alpha=0.3:1.0`); every trial is a run of the store in the
study's group, trained by the local queue or a cluster like any run.

A study is a spec file `<home>/studies/<group>.json` plus its runs (each run's `params`
holds its trial number and values). Its *driver* (`drive`, a detached process started by
`start`) asks TPE for the next trials, queues them, follows their validation records,
prunes (cancels) a trial whose objective falls below the median of the finished trials at
the same step (Optuna's `MedianPruner`), and tells each result. The driver holds an
advisory lock on the study, so it runs at most once; if it dies, `drive` again rebuilds
the study from the runs (finished trials added, unfinished ones followed on, interrupted
ones resumed) and goes on. Each ask reseeds TPE from (seed, trial number), and trials are
asked `parallel` at a time once the previous batch has finished: with `parallel` 1 a
study, interrupted or not, draws the same trials for the same seed.
"""

from __future__ import annotations

import fcntl
import json
import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from demix_core.errors import ConfigError
from demix_core.runs import db, files, sweep

if TYPE_CHECKING:
    from demix_core.config import TrainConfig
    from demix_core.runs.api import RunStore

OBJECTIVES = ("valid_mrr", "valid_hits@1", "valid_hits@3", "valid_hits@10")
STARTUP_TRIALS = 3  # random draws before TPE models, and finished trials before pruning
MAX_RESUMES = 3  # an interrupted trial is resumed this often before it counts as failed
POLL_S = 0.5


@dataclass(frozen=True)
class Param:
    name: str
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def distribution(self):
        from optuna.distributions import FloatDistribution, IntDistribution

        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)


def parse_param(spec: str) -> Param:
    """`mu=0.25:5:log` -> Param("mu", 0.25, 5.0, log=True); `dim=16:64:int`; errors name
    the flag and its value."""
    name, sep, rng = spec.partition("=")
    parts = rng.split(":")
    flags = set(parts[2:])
    if not sep or not name.strip() or len(parts) < 2 or not flags <= {"log", "int"}:
        raise ConfigError(f"--param {spec}: expected NAME=LOW:HIGH, NAME=LOW:HIGH:log or :int")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--param {spec}: LOW and HIGH must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ConfigError(f"--param {spec}: LOW must be a finite number below HIGH")
    if "log" in flags and low <= 0:
        raise ConfigError(f"--param {spec}: a log range needs LOW > 0")
    if "int" in flags and (low != int(low) or high != int(high)):
        raise ConfigError(f"--param {spec}: an int range needs whole LOW and HIGH")
    return Param(name.strip(), low, high, log="log" in flags, integer="int" in flags)


@dataclass(frozen=True)
class Study:
    group: str
    name: str
    config: dict  # the base TrainConfig; each trial overrides the params' values
    params: tuple[Param, ...]
    trials: int
    objective: str = "valid_mrr"
    pruning: bool = False
    parallel: int = 1
    seed: int = 0
    cluster: str | None = None

    @property
    def metric(self) -> str:
        return self.objective.removeprefix("valid_")

    def trial_config(self, values: dict) -> tuple[TrainConfig, dict]:
        from demix_core.config import TrainConfig

        base = TrainConfig.from_dict(self.config)
        return sweep.expand(base, {k: [v] for k, v in values.items()})[0]

    @classmethod
    def load(cls, home: Path, group: str) -> Study:
        path = spec_path(home, group)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            raise db.StoreError(f"no study {group!r} in {home}") from None
        return cls(**{**data, "params": tuple(Param(**p) for p in data["params"])})


def spec_path(home: Path, group: str) -> Path:
    return home / "studies" / f"{group}.json"


def studies(home: Path) -> list[str]:
    """Groups of the store's studies, newest first."""
    folder = home / "studies"
    return sorted((p.stem for p in folder.glob("g*.json")), reverse=True) if folder.is_dir() else []


def create(
    store: RunStore,
    config: TrainConfig,
    params: list[Param],
    trials: int,
    objective: str = "valid_mrr",
    pruning: bool = False,
    parallel: int = 1,
    name: str | None = None,
    cluster: str | None = None,
) -> Study:
    """Check everything a study needs, then write its spec; nothing is queued here."""
    from demix_core.runs.api import default_name, new_id
    from demix_core.runs.cluster import resolve
    from demix_core.validation import check_number

    check_number("trials", trials, 1, 10_000, integer=True)
    check_number("parallel", parallel, 1, 1024, integer=True)
    if objective not in OBJECTIVES:
        raise ConfigError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if not params or len({p.name for p in params}) < len(params):
        raise ConfigError("--param: name each tuned value once (at least one)")
    if not 0 < config.eval_every < config.steps:
        raise ConfigError(
            "--eval-every: a study scores trials on valid during training; set it between 1 "
            f"and --steps ({config.steps})"
        )
    corners = {p.name: [p.low, p.high] for p in params}  # every range end is a valid config
    sweep.expand(config, {k: [int(v) if p.integer else v for v in vs]
                          for (k, vs), p in zip(corners.items(), params)})  # fmt: skip
    study = Study(
        group=new_id("g"),
        name=name or f"study {default_name(config)}",
        config=config.to_dict(),
        params=tuple(params),
        trials=trials,
        objective=objective,
        pruning=pruning,
        parallel=parallel,
        seed=config.seed,
        cluster=resolve(cluster) or "",
    )
    data = {**asdict(study), "params": [asdict(p) for p in study.params]}
    files.write_json_atomic(spec_path(store.home, study.group), data)
    return study


@contextmanager
def driving(home: Path, group: str):
    """The study's driver lock (released by the OS if the driver dies)."""
    path = spec_path(home, group).with_suffix(".lock")
    fh = open(path, "a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise db.StoreError(f"study {group} is already being driven by another process") from None
    try:
        yield
    finally:
        fh.close()


def is_driven(home: Path, group: str) -> bool:
    try:
        with driving(home, group):
            return False
    except db.StoreError:
        return True


def start(store: RunStore, group: str) -> int:
    """Pid of a detached driver for `group` (started now)."""
    from demix_core.runs.queue import _spawn

    argv = [*_cli(store.home), "study", group, "--drive"]
    return _spawn(argv, spec_path(store.home, group).with_suffix(".log")).pid


def _cli(home: Path) -> list[str]:
    import sys

    return [sys.executable, "-m", "demix_core", "runs", "--home", str(home)]


def pruned_path(home: Path, group: str) -> Path:
    return spec_path(home, group).with_suffix(".pruned.json")


def read_pruned(home: Path, group: str) -> dict[str, int]:
    """Run id -> the step at which the driver pruned it."""
    try:
        return json.loads(pruned_path(home, group).read_text())
    except (OSError, ValueError):
        return {}
