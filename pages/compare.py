"""Compare: overlay runs' validation curves (by step and by time), tabulate, and map sweeps."""

import streamlit as st

from demix_core import plots, run_tables
from demix_core.runs import tune
from pages import common, run_views, study_view

common.route_through_app()

store = common.store()
st.title("Compare")
runs = [r for r in store.records() if r["step"] > 0]
runs += common.examples().records()  # read-only, after the user's own
if not runs:
    st.info("Nothing to compare yet: runs appear here once they have trained a few steps.")
    st.stop()
by_id = {r["id"]: r for r in runs}
done = [r["id"] for r in runs if r["status"] == "done"]
common.restore(["compare_runs"], {"compare_runs": (done or list(by_id))[:2]})
st.session_state["compare_runs"] = [i for i in st.session_state["compare_runs"] if i in by_id]
chosen = st.multiselect(
    "Runs", list(by_id), key="compare_runs", format_func=lambda i: run_tables.label(by_id[i])
)
common.remember(["compare_runs"])
series = {run_tables.short(by_id[i]): run_views.metrics(i) for i in chosen}

figures = {}
for x, tab in zip(("step", "seconds"), st.tabs(["Against steps", "Against training time"])):
    for metric, column in zip(("mrr", "hits@10"), tab.columns(2)):
        figures[f"valid {metric} vs {x}"] = fig = plots.valid_figure(series, metric, x)
        column.plotly_chart(fig, key=f"compare_{metric}_{x}")

st.subheader("Final metrics")
state = tuple((i, by_id[i]["step"], by_id[i]["status"]) for i in chosen)
table = common.final_table(state, [by_id[i] for i in chosen])
st.dataframe(table, hide_index=True, column_config=common.number_columns(table))
a, b = st.columns(2)
a.download_button("Table as CSV", table.to_csv(index=False), "demix-compare.csv", "text/csv")
html = lambda: plots.figures_html(figures)  # noqa: E731 (built only when clicked)
b.download_button("Figures as HTML", html, "demix-compare.html", "text/html", on_click="ignore")

study_view.show(store)
studies = set(tune.studies(store.home))
groups = {r["group"]: r for r in store.records() if r["group"] and r["group"] not in studies}
if groups:
    st.subheader("Sweep")
    name = lambda g: f"{groups[g]['name'].split(' [')[0]} ({g})"  # noqa: E731
    group = st.selectbox("Sweep", list(groups), key="compare_group", format_func=name)
    sweep = store.group_table(group)
    grid = [k for k in groups[group]["params"] if k in sweep]
    heatmap = None
    if len(grid) >= 2:
        row, col = ("mu", "alpha") if {"mu", "alpha"} <= set(grid) else grid[:2]
        heatmap = plots.sweep_heatmap(sweep, row, col, "mrr")
        st.plotly_chart(heatmap, key="compare_heatmap")
    finished = int((sweep["status"] == "done").sum())
    st.caption(f"{finished} of {len(sweep)} points finished; the heatmap shows test MRR.")
    st.dataframe(sweep, hide_index=True, column_config=common.number_columns(sweep))
    a, b = st.columns(2)
    a.download_button("Sweep table as CSV", sweep.to_csv(index=False), f"{group}.csv", "text/csv")
    if heatmap is not None:
        b.download_button(
            "Heatmap as HTML", heatmap.to_html, f"{group}.html", "text/html", on_click="ignore"
        )
