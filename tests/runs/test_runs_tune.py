"""Studies (`runs tune`): Optuna TPE over mu and alpha, each trial a run; pruning at the
median, the same trials for the same seed, and a driver that resumes after a kill."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys

import pytest
from runs_support import tiny_config, wait_for

from demix_core.errors import ConfigError
from demix_core.runs import study, tune

SPACE = ("mu=0.25:5:log", "alpha=0.3:1.0")


def study_config():
    return tiny_config(sampler="demix", steps=60, eval_every=20, log_every=10, checkpoint_every=0)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mu=5:1", "--param mu=5:1: LOW must be a finite number below HIGH"),
        ("mu=0:5:log", "--param mu=0:5:log: a log range needs LOW > 0"),
        ("mu", "--param mu: expected NAME=LOW:HIGH"),
        ("mu=a:2", "--param mu=a:2: LOW and HIGH must be numbers"),
        ("mu=1:2:cube", "--param mu=1:2:cube: expected NAME=LOW:HIGH"),
    ],
)
def test_a_bad_range_names_the_flag(spec, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        tune.parse_param(spec)


def test_a_study_is_checked_before_anything_is_written(store):
    params = [tune.parse_param(s) for s in SPACE]
    with pytest.raises(ConfigError, match="alpha"):  # alpha 1.5 is no valid DeMix setting
        tune.create(store, study_config(), [tune.parse_param("alpha=0.3:1.5")], trials=3)
    with pytest.raises(ConfigError, match="^--eval-every"):
        tune.create(store, study_config().replace(eval_every=0), params, trials=3)
    with pytest.raises(ConfigError, match="^--objective"):
        tune.create(store, study_config(), params, trials=3, objective="test_mrr")
    assert tune.studies(store.home) == [] and store.records() == []


def test_cli_refuses_a_reversed_range_in_one_line_and_queues_nothing(store):
    flags = ["--dataset", "nations", "--sampler", "demix", "--param", "mu=5:1"]
    out = subprocess.run([sys.executable, "-m", "demix_core", "runs", "tune", *flags],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "error: --param mu=5:1: LOW must be a finite number below HIGH\n"
    assert tune.studies(store.home) == [] and store.records() == []


def outcome(summary: dict) -> list[tuple]:
    return [(r["number"], r["state"], r["params"], r["value"]) for r in summary["rows"]]


def test_a_seeded_study_prunes_at_the_median_and_resumes_to_the_same_trials(store, cluster):
    params = [tune.parse_param(s) for s in SPACE]
    a = tune.create(store, study_config(), params, trials=6, pruning=True, cluster=cluster.address)
    first = study.drive(store, a.group)
    rows = first["rows"]
    assert [r["number"] for r in rows] == list(range(6))
    assert {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"}
    for r in rows:  # each trial trained with the values recorded for it, inside the ranges
        options = store.get(r["run"])["config"]["sampler_options"]
        assert options["mu"] == r["params"]["mu"] and 0.25 <= r["params"]["mu"] <= 5
        assert options["alpha"] == r["params"]["alpha"] and 0.3 <= r["params"]["alpha"] <= 1
    done = [r for r in rows if r["state"] == "COMPLETE"]
    assert first["best"] == max(done, key=lambda r: r["value"])
    assert first["best"]["value"] == max(first["best"]["curve"].values())
    for r in rows:  # pruned exactly when below the median of earlier finished trials
        earlier = [d for d in done if d["number"] < r["number"]]
        for step, value in sorted(r["curve"].items()):
            median = (
                statistics.median(d["curve"][step] for d in earlier) if len(earlier) >= 3 else None
            )
            below = median is not None and value < median
            last = step == max(r["curve"])
            assert below == (r["state"] == "PRUNED" and last), (r, step, median)

    b = tune.create(store, study_config(), params, trials=6, pruning=True, cluster=cluster.address)
    pid = tune.start(store, b.group)  # the detached driver the app starts
    wait_for(lambda: len(store.records(b.group)) >= 3, what="three trials of study b")
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert not tune.is_driven(store.home, b.group)
    second = study.drive(store, b.group)  # resumes: rebuilt from the store's runs
    assert outcome(second) == outcome(first)
    assert len(store.records(b.group)) == 6
