"""Results: the paper's experiments, redrawn from their saved numbers."""

import json

import pandas as pd
import streamlit as st

from demix_core import experiments
from demix_core.experiments import background
from pages import common

common.route_through_app()

st.title("Results: when does DeMix help?")
st.write(
    "Each experiment below was run with one command; its numbers are saved, and everything on "
    "this page (figures, tables, the conclusion) is computed from them, so a re-run that says "
    "otherwise reads otherwise."
)
exps = experiments.experiments()
names = list(exps)
wanted = st.query_params.get("experiment")
name = st.segmented_control(
    "Experiment",
    names,
    default=wanted if wanted in names else names[0],
    format_func=lambda n: exps[n].title.split(":")[0],
    key="results_experiment",
)
name = name or names[0]
if st.query_params.get("experiment") != name:
    st.query_params["experiment"] = name
exp = exps[name]
home = common.store().home
st.subheader(exp.title)
st.caption(exp.question)


@st.fragment(run_every=2.0)
def rerun_panel() -> None:
    """Progress of a re-run started here; the page redraws when it ends."""
    running = background.pid(home, name)
    if running:
        st.info(f"Re-running the quick budget (pid {running}) ...")
        st.code(background.log_tail(home, name) or "starting", language=None)
        st.session_state["results_running"] = name
    elif st.session_state.pop("results_running", None) == name:
        st.rerun()  # finished: draw the new numbers


record, origin = background.latest(home, name)
if record is None:
    st.warning(
        "Not run yet. Regenerate it with the command below (estimated "
        f"{exp.estimate['quick'] / 60:.0f} min on 2 CPU cores at the quick budget)."
    )
    st.code(experiments.command(name, "quick"), language="bash")
else:
    data = record["data"]
    st.success(exp.conclude(data))
    for fig in exp.figures(data):
        st.plotly_chart(fig, use_container_width=True)
    st.dataframe(pd.DataFrame(exp.table(data)), hide_index=True)
    st.code(record["command"], language="bash")
    h = record["host"]
    st.caption(
        f"{'Your re-run' if origin == 'yours' else 'Committed result'}: budget "
        f"{record['budget']}, seeds {record['seeds']}, {record['seconds'] / 60:.1f} min on "
        f"{h['cpus']} CPUs ({h['vector']}), torch {h['torch']}"
        + (f", {h['cuda']}" if h.get("cuda") else "")
        + f", {record['created']}."
        + (f" {note}" if (note := experiments.record_note(record)) else "")
    )
    st.download_button(
        "results.json", json.dumps(record, indent=1), f"{name}.json", "application/json"
    )
if exp.small:
    if st.button("Re-run the quick budget here", disabled=bool(background.pid(home, name))):
        background.start(home, name)
        st.session_state["results_running"] = name
    rerun_panel()
else:
    st.caption("This experiment trains on FB15k-237 or WN18RR: run it from the command line.")
