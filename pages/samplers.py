"""Samplers side by side: what every registered sampler hands the loss, for one checkpoint."""

import math

import streamlit as st

from demix_core import sampler_frames, sampler_plots, tables
from pages import lens_common as lc
from pages import lens_data as ld

lc.common.route_through_app()

lc.intro(
    "samplers",
    "Samplers side by side",
    "Every negative sampler in the registry corrupts the same positives under the same model "
    "(seeded, so the picture repeats). Compare how hard their candidates are (higher scores, "
    "and a lower entropy of the self-adversarial weights: a few candidates dominate the loss) "
    "and how many are known true facts, i.e. false negatives that training would push down.",
    r"p_k = \operatorname{softmax}_k\bigl(\beta\, s(h, r, t'_k)\bigr), \qquad "
    r"H = -\sum_{k=1}^{K} p_k \log p_k \;\le\; \log K",
)
source, model, kg, spec = ld.choose()
a, b = st.columns(2)
k = int(a.number_input("Candidates per positive (K)", 1, 512, **lc.bind("k")))
beta = b.number_input("Adversarial temperature (beta)", 0.0, 10.0, step=0.5, **lc.bind("beta"))
cands = ld.sampler_candidates(source, spec, k)
summary, binned, by_cat, table = ld.sampler_views(source, spec, k, beta)
st.caption(
    f"{len(cands)} samplers: {', '.join(cands)}. Each corrupts the {spec.n} positives at two "
    "consecutive steps (after 10 warm-up steps, so NSCaching's cache has seen the model); "
    "DeMix and MixKG are scored as the loss sees them: their mixed triples."
)
# the counts first: they show before plotly.js has loaded to draw the charts below
ends = sampler_frames.sampler_extremes(summary)
for col, (name, label, fmt) in zip(
    st.columns(4),
    (
        ("most_fn", "Most known false negatives", "{:.1%}"),
        ("fewest_fn", "Fewest known false negatives", "{:.1%}"),
        ("hardest", "Hardest candidates (median score)", "{:.3g}"),
        ("peaked", "Most peaked weights (entropy)", "{:.3g}"),
    ),
):
    if name in ends:
        col.metric(label, f"{ends[name][0]} · {fmt.format(ends[name][1])}")
lc.counts_first()
draw = {"heatmap": sampler_plots.distribution_heatmap, "lines": sampler_plots.distribution_lines}
dist = st.segmented_control("Score distributions as", list(draw), **lc.bind("dist"))
st.plotly_chart(draw[dist or "heatmap"](binned), key="samplers_scores")
st.caption(
    "The share of each sampler's candidates per score bin (bins shared by all samplers): "
    "mass further right means harder negatives. Hover a bin for its count and how many of "
    "its candidates are known true facts."
)
left, right = st.columns(2)
left.plotly_chart(
    sampler_plots.sampler_bars(summary, "fn_rate", "Known false negatives among the candidates"),
    key="samplers_fn",
)
right.plotly_chart(
    sampler_plots.sampler_bars(
        summary,
        "adv_entropy",
        "Entropy of the self-adversarial weights (dashed: log K)",
        math.log(k),
    ),
    key="samplers_entropy",
)
st.dataframe(summary.drop(columns=["by_category"], errors="ignore"), hide_index=True)


def categories() -> None:
    st.plotly_chart(sampler_plots.category_bars(by_cat), key="samplers_categories")
    st.caption(
        "Relations grouped as in TransH by their average tails per head and heads per tail "
        "(1.5 or more: N): corrupting the N side of a 1-N relation draws from many true "
        "answers, few of them in the training graph. Counted over the candidates above."
    )


def triples() -> None:
    each = max(1, tables.SHOWN // len(cands))
    shown = tables.top_rows(table, each, by="score", per="sampler")
    st.dataframe(shown, hide_index=True, height=320)
    if len(shown) < len(table):
        st.caption(
            f"The {each} highest-scored candidates of each sampler ({len(shown):,} of "
            f"{len(table):,}); the CSV holds them all."
        )
    csv = lambda: table.to_csv(index=False)  # noqa: E731 (written only when clicked)
    st.download_button("Table as CSV", csv, "demix-samplers.csv", "text/csv", on_click="ignore")


# drawn only while open (lazy expanders, their state in the URL): the first open waits on
# neither the grouped bars nor a table of a few hundred rows
for name, label, icon, body in (
    ("cats", "Where do false negatives come from? (by relation category)", "category", categories),
    ("triples", "Candidate triples", "table_rows", triples),
):
    box = st.expander(label, icon=f":material/{icon}:", **lc.bind(name))
    if box.open:
        with box:
            body()
lc.share()
ld.prefill()  # the default view of every lens page, for whoever opens one next
