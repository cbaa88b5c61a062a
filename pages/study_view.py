"""A study on the Compare page, and the Train page's form that starts one (`runs tune`):
Optuna's figures, the best trial and "train with these settings". Logic in demix_core."""

from __future__ import annotations

import streamlit as st

from demix_core.data import BUILTIN
from demix_core.errors import DemixError
from demix_core.runs import study as study_lib
from demix_core.runs import tune
from pages import common


def show(store) -> None:
    """The Compare page's study section (nothing when the store has no study)."""
    groups = tune.studies(store.home)
    if not groups:
        return
    st.subheader("Study")
    specs = {g: tune.Study.load(store.home, g) for g in groups}
    group = st.selectbox(
        "Study", groups, key="compare_study", format_func=lambda g: f"{specs[g].name} ({g})"
    )
    study = specs[group]
    summary = study_lib.summary(store, group)
    told = [r for r in summary["rows"] if r["state"] != "RUNNING"]
    state = "driving" if summary["driven"] else "stopped"
    st.caption(f"{len(told)} of {study.trials} trials told ({state}); objective "
               f"{study.objective}, best value over each trial's validations.")  # fmt: skip
    if not summary["driven"] and len(told) < study.trials:
        if st.button("Resume study", key="study_resume") and common.autostart():
            tune.start(store, group)
    if not told:
        return
    figures = study_lib.figures(store, study)
    for name, column in zip(figures, st.columns(len(figures))):
        column.plotly_chart(figures[name], key=f"study_{name}")
    best = summary["best"]
    if best is None:
        return
    shown = ", ".join(f"{k} = {v:.4g}" for k, v in best["params"].items())
    st.markdown(f"**Best: trial {best['number']}**, {study.objective} {best['value']:.4f}: {shown}")
    if st.button("Train with these settings", key="study_train"):
        _prefill(study, best["params"])
        st.switch_page("pages/train.py")


def _prefill(study, params: dict) -> None:
    """The Train form at the study's dataset and model with the best values filled in."""
    config = study.config
    dataset = config["dataset"]
    if dataset.lower() in BUILTIN or dataset.startswith("synthetic"):
        common.prefill_train(dataset, params.get("mu", 1.0), params.get("alpha", 0.5))
    values = {"train_model": config["model"], "train_sampler": config["sampler"]}
    base = config.get("sampler_options", {}).get("base_sampler")
    if base:
        values["train_base"] = base
    st.session_state.setdefault("saved", {}).update(values)
    st.session_state.update(values)


def start_form(store, config, cluster: str | None) -> None:
    """The Train page's "Tune mu and alpha" expander: a study over the form's config."""
    with st.expander("Tune mu and alpha with Optuna (a study)"):
        a, b, c = st.columns(3)
        trials = a.number_input("Trials", 1, 500, 12, key="train_study_trials")
        mus = b.slider("mu range", 0.05, 10.0, (0.25, 5.0), key="train_study_mu")
        alphas = c.slider("alpha range", 0.0, 1.0, (0.3, 1.0), key="train_study_alpha")
        pruning = st.checkbox("Prune trials below the median", key="train_study_pruning")
        if not st.button(f"Start study ({trials} trials)", disabled=config is None):
            return
        params = [tune.Param("mu", *mus, log=True), tune.Param("alpha", *alphas)]
        try:
            study = tune.create(store, config, params, int(trials), pruning=pruning,
                                cluster=cluster)  # fmt: skip
        except DemixError as e:
            st.error(common.field_error(e))
            return
        if common.autostart():
            tune.start(store, study.group)
        st.session_state["compare_study"] = study.group
        st.success(f"Started study `{study.group}` ({trials} trials); it is on the Compare page.")
