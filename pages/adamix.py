"""AdaMix: each candidate mixed with a partner chosen by its MPNE verdict, drawn in 2-D."""

import math

import streamlit as st

from demix_core import analysis
from demix_core.lens import remix, repartition
from pages import lens_common as lc

lc.common.route_through_app()

lc.intro(
    "adamix",
    "AdaMix: mixing negatives with partners",
    "After MPNE's verdict, AdaMix mixes every candidate t' with a partner in embedding space. "
    "An MPN (probably a false negative) is mixed with a known answer of its query and becomes "
    "a **partially positive** triple with soft label 1 - alpha; a TN is mixed with one of the "
    "hardest other TNs of its row (never an MPN) and becomes a **harder negative** (label 0); "
    "a TN with no other TN stays as it is. alpha = 1 turns "
    "mixing off: every mixed point sits on its candidate.",
    r"e_{\mathrm{mix}} = \alpha\, e(t') + (1 - \alpha)\, e(\mathrm{partner}), \qquad "
    r"y_{\mathrm{mix}} = (1 - \alpha)\, y(\mathrm{partner})",
)
source, model, kg, spec = lc.choose(before_positives=lc.prefetch_umap)
k, side, base = lc.lens_settings()
a, b, c = st.columns([2, 2, 1])
mu = a.slider("mu", 0.0, 6.0, step=0.1, **lc.bind("mu"), help=lc.TERMS["mu"])
alpha = b.slider("alpha", 0.0, 1.0, step=0.05, **lc.bind("alpha"), help=lc.TERMS["alpha"])
mode = c.radio(
    "lambda",
    ("fixed", "beta"),
    **lc.bind("lambda"),
    help="fixed: every mix uses alpha; beta: each draws its weight from Beta(alpha, alpha).",
)
result = remix(repartition(lc.lens(source, spec, k, side, base), mu), alpha, mode, spec.seed)
a, b, c = st.columns([3, 2, 2])
n_rows = 1
if len(result.tau) > 1:
    n_rows = a.slider("Queries drawn", 1, min(len(result.tau), 40), **lc.bind("rows"))
method = b.radio("Projection", ("PCA", "UMAP"), horizontal=True, **lc.bind("method"))
show = c.radio("Candidates", ("all", "MPN", "TN"), horizontal=True, **lc.bind("show"))


def drawn(method: str):
    """The mixes of the first `n_rows` queries placed by `method`, with the verdicts shown."""
    rows = tuple(range(min(n_rows, len(result.tau))))
    view = (source, spec, k, side, base, mu, alpha, mode)  # what the mixed points depend on
    layout = lc.mix_layout(view, result, source, method, rows)
    return layout if show == "all" else layout[layout["verdict"] == show]


slot = st.empty()
if method == "UMAP" and not lc.umap_ready(source):
    slot.plotly_chart(lc.mix_figure(drawn("PCA"), source, "PCA"), key="adamix_pca_first")
    with st.spinner("Fitting UMAP on this checkpoint's entities (once); PCA meanwhile..."):
        lc.umap(source)
layout = drawn(method)
slot.plotly_chart(lc.mix_figure(layout, source, method), key="adamix_map")
st.caption(
    "Circles: candidates (red ring: a known true fact); diamonds: partners (green: a known "
    "answer, purple: a hard TN); crosses: the mixed points. PCA is linear, so each "
    "cross lies on its candidate-partner segment, a fraction 1 - alpha of the way. UMAP is "
    "not: a cross is placed by the fitted map's `transform` and its path bends through it."
)
s = analysis.summary(result)
cols = st.columns(3)
cols[0].metric("Partially positive", s["n_mpn"], help=lc.TERMS["Partially positive"])
cols[1].metric("Harder negatives", s["n_tn"], help=lc.TERMS["Harder negative"])
soft = "-" if math.isnan(s["soft_label_mpn"]) else f"{s['soft_label_mpn']:.2f}"
cols[2].metric("Mean soft label of the partially positive", soft)
st.caption(f"Counts over all {s['candidates']:,} candidates; the table lists those drawn above.")
table = layout.drop(columns=analysis.XY_COLUMNS)
st.dataframe(table, hide_index=True, height=300)
st.download_button("Table as CSV", table.to_csv(index=False), "demix-adamix.csv", "text/csv")
st.page_link(
    "pages/results.py",
    label="Evidence: what AdaMix does to scores, and which alpha to use",
    icon=":material/science:",
    query_params={"experiment": "adamix-map"},
)
