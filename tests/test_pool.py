"""The experiments' run pool: each distinct run trains once and answers every job that asks
for it, shaped as the job's own run would be; runs side by side give the same numbers."""

import pytest

from demix_core.errors import ConfigError
from demix_core.experiments import pool
from demix_core.experiments.base import Context
from demix_core.experiments.cli import parse_jobs
from demix_core.experiments.pool import fit_many, job


@pytest.fixture
def fake_fit(monkeypatch):
    """`fit` replaced by a record of its calls; a result's curve has a point at every
    `eval_every` steps of 40 (none at the end, as training does) and valid iff asked."""
    calls = []

    def fit(ctx, *, keep=None, eval_every=0, valid=True, **j):
        calls.append({**j, "eval_every": eval_every, "valid": valid})
        steps = range(eval_every, 40, eval_every) if eval_every else []
        r = {"test": {"mrr": j["seed"] / 10}, "curve": [{"step": s, "mrr": s} for s in steps]}
        r.update(steps=40, seconds=1.0, last={}, history=[])
        if valid:
            r["valid"] = {"mrr": 0.5}
        return r

    monkeypatch.setattr(pool, "fit", fit)
    monkeypatch.setattr(pool, "_valid_from", lambda path, dataset: {"mrr": 0.25})
    return calls


def test_a_run_trains_once_and_serves_coarser_and_unvalidated_jobs(fake_fit):
    ctx = Context(budget="smoke")
    every5 = job("nations", "rotate", "uniform", 0, eval_every=5, valid=False)
    every10 = job("nations", "rotate", "uniform", 0, eval_every=10, valid=False)
    plain = job("nations", "rotate", "uniform", 0)  # no curve, wants valid
    other_seed = job("nations", "rotate", "uniform", 1)
    a, b, d = fit_many(ctx, [every5, every10, other_seed])
    # two distinct runs: seed 0 once (validated every 5, the finer cadence), seed 1 once
    assert [(x["seed"], x["eval_every"]) for x in fake_fit] == [(0, 5), (1, 0)]
    assert [p["step"] for p in a["curve"]] == [5, 10, 15, 20, 25, 30, 35]
    assert [p["step"] for p in b["curve"]] == [10, 20, 30]  # thinned to its own steps
    assert (a["test"], d["test"]) == ({"mrr": 0.0}, {"mrr": 0.1})
    # a later experiment sharing the cache trains nothing it already has; a job that wants
    # valid metrics of a run trained without them gets them from its kept checkpoint
    (c,) = fit_many(ctx, [plain])
    assert len(fake_fit) == 2
    assert c["curve"] == [] and c["valid"] == {"mrr": 0.25} and c["test"] == a["test"]
    # in one batch, the run is trained with valid metrics for both
    both = fit_many(
        ctx, [job("umls", "rotate", "uniform", 0, valid=False), job("umls", "rotate", "uniform", 0)]
    )
    assert fake_fit[-1]["valid"] and both[1]["valid"] == {"mrr": 0.5} and len(fake_fit) == 3


def test_a_cadence_the_cached_run_lacks_retrains_at_the_common_divisor(fake_fit):
    ctx = Context(budget="smoke")
    every4 = job("umls", "transe", "demix", 0, {"mu": 1.0}, eval_every=4, valid=False)
    every6 = job("umls", "transe", "demix", 0, {"mu": 1.0}, eval_every=6, valid=False)
    (a,) = fit_many(ctx, [every4])
    (b,) = fit_many(ctx, [every6])
    assert [x["eval_every"] for x in fake_fit] == [4, 2]  # gcd(4, 6): both cadences' steps
    assert [p["step"] for p in b["curve"]] == [6, 12, 18, 24, 30, 36]
    assert fit_many(ctx, [every4]) == [a] and len(fake_fit) == 2


def test_different_options_or_models_are_different_runs(fake_fit):
    ctx = Context(budget="smoke")
    jobs = [
        job("nations", "rotate", "demix", 0, {"mu": 1.0, "alpha": 0.7}),
        job("nations", "rotate", "demix", 0, {"mu": 1.0, "alpha": 0.9}),
        job("nations", "transe", "demix", 0, {"mu": 1.0, "alpha": 0.9}),
        job("nations", "rotate", "demix", 0, {"alpha": 0.9, "mu": 1.0}),  # = the second
    ]
    fit_many(ctx, jobs)
    assert len(fake_fit) == 3


def test_runs_side_by_side_give_the_numbers_of_runs_one_by_one():
    jobs = [
        job("nations", "rotate", "uniform", 0),
        job("nations", "rotate", "demix", 0, {"mu": 1.0, "alpha": 0.7}),
        job("nations", "transe", "uniform", 1, eval_every=10),
    ]
    serial = fit_many(Context(budget="smoke"), jobs)
    side = fit_many(Context(budget="smoke", jobs=2), jobs)
    for a, b in zip(serial, side, strict=True):
        assert b["test"]["mrr"] == pytest.approx(a["test"]["mrr"], abs=1e-6)
        assert b["valid"]["mrr"] == pytest.approx(a["valid"]["mrr"], abs=1e-6)
        assert [p["step"] for p in b["curve"]] == [p["step"] for p in a["curve"]]
    assert [p["step"] for p in side[2]["curve"]] == [10]


def test_jobs_flag():
    assert parse_jobs("3", "cpu") == 3
    assert parse_jobs("auto", "cuda") == 1
    assert 1 <= parse_jobs("auto", "cpu") <= 2
    for bad in ("0", "-1", "two"):
        with pytest.raises(ConfigError, match="--jobs"):
            parse_jobs(bad, "cpu")


def test_workers_end_with_a_killed_experiment(tmp_path):
    """A parent killed mid-run (SIGKILL: no clean-up of its own) takes its workers with it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from multiprocessing import get_context\n"
        "from demix_core.experiments import pool\n"
        "if __name__ == '__main__':\n"
        "    ex = ProcessPoolExecutor(1, mp_context=get_context('spawn'),\n"
        "                             initializer=pool._init, initargs=(1, os.getpid()))\n"
        "    print(ex.submit(os.getpid).result(), flush=True)\n"
        "    ex.submit(time.sleep, 120)\n"
        "    time.sleep(120)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        worker = int(parent.stdout.readline())
        os.kill(worker, 0)  # alive while its parent is
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            raise AssertionError("the worker outlived its parent")
    finally:
        parent.kill()
        parent.wait()


def test_list_totals_add_each_budget_alone_and_inside_all(capsys):
    from types import SimpleNamespace

    from demix_core.experiments.cli import print_list

    exps = [
        SimpleNamespace(name="a", question="qa", estimate={"quick": 3600, "full": 7200}),
        SimpleNamespace(name="b", question="qb", estimate={"quick": 5400, "all": 1800, "full": 0}),
    ]
    print_list(exps)
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:4] == ["a", "60m", "60m", "120m"]  # no `all`: the same as alone
    assert out[2].split()[:4] == ["b", "90m", "30m", "0m"]
    assert "one by one: 2.5 h" in out[-1] and "experiment all --budget quick`: 1.5 h" in out[-1]
