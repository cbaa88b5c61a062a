"""Runs: every run with its progress, one run's live curves, and what can be done with it."""

import streamlit as st

from demix_core import plots, run_tables
from demix_core.runs import StoreError
from demix_core.runs.db import ACTIVE
from demix_core.safe_text import md
from pages import common, run_views

common.route_through_app()

POLL_S = 2.0
store = common.store()
st.title("Runs")
own = store.records()
if not own:
    st.info(
        "No runs of your own yet: start one on the Train page or the Quick demo on Home. "
        "Meanwhile the examples shipped with the app are below."
    )
    st.page_link("pages/train.py", label="Train a model", icon=":material/play_arrow:")


def shape(records: list[dict]) -> tuple:
    """What the whole page depends on: which runs exist and whether any is live."""
    return tuple(r["id"] for r in records), any(r["status"] in ACTIVE for r in records)


live = shape(own)[1]


@st.fragment(run_every=POLL_S if live else None)
@common.guard
def overview() -> None:
    t0 = run_views.poll_start()
    records = store.records()
    for r in records:
        if r["status"] in ACTIVE:
            elapsed, remaining = run_tables.timing(r)
            when = f"{run_tables.duration(elapsed)} elapsed" if elapsed is not None else "waiting"
            left = f", about {run_tables.duration(remaining)} left" if remaining else ""
            text = (
                f"**{md(r['name'])}**: {r['status']}, step {r['step']}/{r['steps']}, {when}{left}"
            )
            st.progress(r["progress"], text=text)
    table = run_tables.runs_table(records)
    progress = st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0)
    columns = {**common.number_columns(table), "progress": progress}
    st.dataframe(table, hide_index=True, column_config=columns)
    run_views.poll_cost(t0)
    if shape(records) != shape(own):
        st.rerun()  # a run appeared, went or stopped: redraw the page (and stop polling)


if own:
    overview()
runs = own + common.examples().records()  # the examples are read-only, after the user's own
if not runs:
    st.stop()
ids = [r["id"] for r in runs]
if st.session_state.get("runs_selected") not in ids:
    st.session_state["runs_selected"] = ids[0]
st.session_state["runs_pick"] = st.session_state["runs_selected"]
run_id = st.selectbox(
    "Run",
    ids,
    key="runs_pick",
    format_func=lambda i: run_tables.label(runs[ids.index(i)]),
    on_change=lambda: st.session_state.update(runs_selected=st.session_state["runs_pick"]),
)
run = runs[ids.index(run_id)]


@st.fragment(run_every=POLL_S if run["status"] in ACTIVE else None)
@common.guard
def detail() -> None:
    t0 = run_views.poll_start()
    try:
        current = run_views.home_of(run_id).get(run_id)
    except StoreError:  # deleted meanwhile, from another tab or the CLI
        st.rerun()
    frame = run_views.metrics(run_id)
    series = {current["name"]: frame}
    last, final = current["metrics"], current["final"]
    cols = st.columns(4)
    cols[0].metric("Status", current["status"])
    cols[1].metric("Step", f"{current['step']}/{current['steps']}")
    cols[2].metric("Last valid MRR", f"{last['valid_mrr']:.3f}" if "valid_mrr" in last else "-")
    cols[3].metric("Test MRR", f"{final['mrr']:.3f}" if "mrr" in final else "-")
    left, right = st.columns(2)
    left.plotly_chart(plots.loss_figure(series), key=f"loss_{run_id}")
    right.plotly_chart(plots.valid_figure(series), key=f"mrr_{run_id}")
    if plots.has_false_negative_metrics(frame):
        st.plotly_chart(plots.false_negative_figure(series), key=f"fn_{run_id}")
    if current["error"]:
        st.warning(md(current["error"]))
    run_views.poll_cost(t0)
    if current["status"] != run["status"]:
        st.rerun()


detail()
# Outside the polling fragment: a button redrawn every poll loses its file between drawing and
# a click ("Deferred file not found"); files read on click, so metrics are current anyway, and
# the fragment reruns the page when the status changes (a checkpoint appears).
run_views.downloads(run_views.home_of(run_id), run_id)
run_views.run_actions(store, run)
