"""The study views: Compare draws a finished study with Optuna's figures and its best trial,
"Train with these settings" fills the Train form; Train starts a study; the sidebar's
cluster field refuses an address where no scheduler answers."""

from __future__ import annotations

import json

from app_support import finish, open_app, tiny
from streamlit.testing.v1 import AppTest

from demix_core.runs import RunStore, tune
from demix_core.runs import study as study_mod
from demix_core.runs.study import Driver

app = open_app


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def finished_study(home, trials: int = 4) -> tune.Study:
    """A study driven here and its trials trained here, as the driver and workers would."""
    store = RunStore(home)
    config = tiny("demix", steps=20, eval_every=5).replace(dataset="nations")  # a built-in
    params = [tune.parse_param("mu=0.25:5:log"), tune.parse_param("alpha=0.3:1.0")]
    study = tune.create(store, config, params, trials=trials)
    driver = Driver(store, study, echo=lambda line: None, start=False)
    while not driver.step():
        for run in store.records(study.group):
            if run["status"] == "queued":
                finish(store, run["id"])
    return study


def test_compare_shows_a_study_and_trains_with_its_best_settings(home):
    study = finished_study(home)
    summary = study_mod.summary(RunStore(home), study.group)
    at = app("pages/compare.py")
    assert at.selectbox(key="compare_study").value == study.group
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert {"Optimization History Plot", "Hyperparameter Importances", "Slice Plot"} <= set(titles)
    best = summary["best"]
    assert f"**Best: trial {best['number']}**" in " ".join(m.value for m in at.markdown)
    button(at, "Train with these settings").click().run()
    assert not at.exception, at.exception
    assert at.number_input(key="train_mu").value == best["params"]["mu"]
    assert at.number_input(key="train_alpha").value == best["params"]["alpha"]
    assert at.selectbox(key="train_model").value == "transe"


def test_train_starts_a_study_over_the_form(home):
    at = app("pages/train.py")
    at.number_input(key="train_study_trials").set_value(5).run()
    at.checkbox(key="train_study_pruning").check().run()
    button(at, "Start study (5 trials)").click().run()
    assert not at.exception, at.exception
    (group,) = tune.studies(home)
    study = tune.Study.load(home, group)
    assert (study.trials, study.pruning, study.cluster) == (5, True, "")
    assert [(p.name, p.low, p.high, p.log) for p in study.params] == [
        ("mu", 0.25, 5.0, True), ("alpha", 0.3, 1.0, False)]  # fmt: skip
    assert study.config["sampler"] == "demix" and RunStore(home).records() == []


def test_the_sidebar_cluster_must_answer_and_nothing_is_queued(home):
    at = app("pages/train.py")
    at.text_input(key="cluster").set_value("tcp://127.0.0.1:9").run()
    button(at, "Submit run").click().run()
    errors = " ".join(e.value for e in at.error) + " ".join(str(x.value) for x in at.exception)
    assert "tcp://127.0.0.1:9: no dask scheduler answers there" in errors
    assert RunStore(home).records() == []
