"""demix_core.run_tables: the runs' labels and tables the pages show, by hand."""

import math

import pytest

from demix_core import run_tables


@pytest.mark.parametrize(
    "seconds, text",
    [
        (None, ""),
        (math.nan, ""),
        (0.4, "0 s"),
        (59.5, "1 min 00 s"),
        (61, "1 min 01 s"),
        (7322, "2 h 02 min"),
    ],
)
def test_duration_by_hand(seconds, text):
    assert run_tables.duration(seconds) == text


def record(**changes) -> dict:
    run = {
        "id": "20261204-abcdef123456",
        "name": "demo",
        "status": "running",
        "step": 25,
        "steps": 100,
        "progress": 0.25,
        "started_at": 1000.0,
        "finished_at": None,
        "metrics": {"seconds": 50.0, "valid_mrr": 0.5},
        "final": {},
        "sampler": "demix",
        "dataset": "/data/umls",
        "model": "rotate",
        "config": {"dim": 8, "negatives": 4, "lr": 0.01, "sampler_options": {"mu": 2.0}},
    }
    return {**run, **changes}


def test_timing_from_the_runs_own_pace():
    # 50 s of training for 25 steps: 2 s a step, 75 steps left -> 150 s; 300 s of wall time
    assert run_tables.timing(record(), now=1300.0) == (300.0, 150.0)
    assert run_tables.timing(record(status="done", finished_at=1200.0)) == (200.0, None)
    assert run_tables.timing(record(started_at=None)) == (None, None)


def test_labels_and_tables():
    run = record()
    assert run_tables.label(run) == "demo · running · 123456"
    assert run_tables.label(record(status="example")) == "demo · read-only example"
    assert run_tables.short(run) == "demo (123456)"
    row = run_tables.runs_table([run]).iloc[0]
    assert (row["step"], row["dataset"], row["valid MRR"]) == ("25/100", "umls", 0.5)
    settings = run_tables.settings_table([run]).iloc[0]
    # the sampler's options with its defaults filled in (DeMix over uniform, alpha 0.5)
    assert (settings["base"], settings["mu"], settings["alpha"]) == ("uniform", 2.0, 0.5)
