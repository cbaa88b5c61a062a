"""AdaMix: each candidate mixed with a partner chosen by its MPNE verdict, drawn in 2-D."""

import math

import streamlit as st

from demix_core import analysis, mapview
from demix_core.lens import remix, repartition
from demix_core.safe_text import md
from pages import lens_common as lc
from pages import lens_data as ld
from pages import lens_maps as maps

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
source, model, kg, spec = ld.choose(before_positives=maps.prefetch_umap)
k, side, base = ld.lens_settings()
a, b, c = st.columns([2, 2, 1])
mu = a.slider("mu", 0.0, 6.0, step=0.1, **lc.bind("mu"), help=lc.TERMS["mu"])
alpha = b.slider("alpha", 0.0, 1.0, step=0.05, **lc.bind("alpha"), help=lc.TERMS["alpha"])
mode = c.radio(
    "lambda",
    ("fixed", "beta"),
    **lc.bind("lambda"),
    help="fixed: every mix uses alpha; beta: each draws its weight from Beta(alpha, alpha).",
)
result = remix(repartition(ld.lens(source, spec, k, side, base), mu), alpha, mode, spec.seed)
s = analysis.summary(result)
cols = st.columns(3)
cols[0].metric("Partially positive", s["n_mpn"], help=lc.TERMS["Partially positive"])
cols[1].metric("Harder negatives", s["n_tn"], help=lc.TERMS["Harder negative"])
soft = "-" if math.isnan(s["soft_label_mpn"]) else f"{s['soft_label_mpn']:.2f}"
cols[2].metric("Mean soft label of the partially positive", soft)
st.caption(
    f"Counts over all {s['candidates']:,} candidates; the map and the table below show those "
    "of the queries drawn."
)
lc.counts_first()
a, b, c = st.columns([2, 2, 3])
view = a.radio("Map", ("one query", "all queries"), horizontal=True, **lc.bind("view"))
method = b.radio("Projection", ("PCA", "UMAP"), horizontal=True, **lc.bind("method"))
if view == "one query":
    choices = analysis.pattern_choices(result)
    queries = analysis.query_labels(kg, result.positives, result.head)
    info = choices.set_index("row")
    rows = choices["row"].tolist()
    lc.fall_back("row", rows, "Query")
    row = c.selectbox(
        "Query",
        rows,
        format_func=lambda r: (
            f"{queries[r]} · {info.at[r, 'n_mpn']} MPN · {info.at[r, 'n_true']} known FN"
        ),
        **lc.bind("row"),
    )
    drawn_rows = (int(row),)
else:
    n_rows = 1
    if len(result.tau) > 1:
        n_rows = c.slider("Queries drawn", 1, min(len(result.tau), 40), **lc.bind("rows"))
    drawn_rows = tuple(range(min(n_rows, len(result.tau))))
    show = st.radio("Candidates", ("all", "MPN", "TN"), horizontal=True, **lc.bind("show"))


def drawn(method: str):
    """The mixes of the drawn queries placed by `method`."""
    view_key = (source, spec, k, side, base, mu, alpha, mode)  # what the mixed points depend on
    layout = maps.mix_layout(view_key, result, source, method, drawn_rows)
    if view == "all queries" and show != "all":
        layout = layout[layout["verdict"] == show]
    return layout


slot = st.empty()
if method == "UMAP" and not maps.umap_ready(source):
    slot.plotly_chart(maps.mix_figure(drawn("PCA"), source, "PCA"), key="adamix_pca_first")
    with st.spinner("Fitting UMAP on this checkpoint's entities (once); PCA meanwhile..."):
        maps.umap(source)
layout = drawn(method)
if view == "one query":
    find = st.text_input("Highlight an entity", key="adamix_find", placeholder="a name")
    found = mapview.find_entity(kg, find)
    if find and found is None:
        st.caption("No entity name contains that text.")
    event = slot.plotly_chart(
        maps.query_figure(layout, source, method, found),
        key="adamix_one",
        on_select="rerun",
        selection_mode="points",
    )
    st.caption(
        "Arrows: each candidate moves to its mixed point (cross); the dotted line goes on to "
        "its partner (diamond, named): a known answer for an MPN, a hard TN for a TN. Red "
        "ring: a candidate that is a known true fact. Click any point to inspect it."
    )
    clicked = mapview.clicked_entity(event.selection.points) if event else None
    if clicked is not None or found is not None:
        entity = clicked if clicked is not None else found
        table_np = model.entity.detach().numpy()
        d = mapview.entity_detail(result, kg, table_np, int(row), entity)
        a, b = st.columns([2, 1])
        a.markdown(
            f"**{md(d['name'])}**: score {d['score']:.3f} for {md(queries[int(row)])} "
            f"(tau {d['tau']:.3f}); {d['verdict']}."
        )
        b.dataframe(d["nearest"], hide_index=True, column_config={"entity": "nearest entities"})
else:
    slot.plotly_chart(maps.mix_figure(layout, source, method), key="adamix_map")
    st.caption(
        "Circles: candidates (red ring: a known true fact); diamonds: partners (green: a known "
        "answer, purple: a hard TN); crosses: the mixed points. PCA is linear, so each "
        "cross lies on its candidate-partner segment, a fraction 1 - alpha of the way. UMAP is "
        "not: a cross is placed by the fitted map's `transform` and its path bends through it."
    )
table = layout.drop(columns=analysis.XY_COLUMNS + analysis.ID_COLUMNS)
st.dataframe(table, hide_index=True, height=300)
st.download_button("Table as CSV", table.to_csv(index=False), "demix-adamix.csv", "text/csv")
lc.evidence_link("what AdaMix does to scores, and which alpha to use", "adamix-map")
lc.share()
ld.prefill()  # the default view of every lens page, for whoever opens one next
