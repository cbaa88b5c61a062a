"""MPNE: which sampled negatives DeMix calls probable false negatives, and how well it does."""

import numpy as np
import streamlit as st

from demix_core import analysis, lens_plots, tables
from demix_core.lens import repartition
from pages import lens_common as lc
from pages import lens_data as ld

lc.common.route_through_app()

lc.intro(
    "mpne",
    "MPNE: spotting false negatives",
    "A sampler corrupts each training fact (h, r, t) into *candidates* (h, r, t') that "
    "training will push down. MPNE compares each candidate's score with the scores X of the "
    "query's known answers: above the threshold tau it is a **marginal pseudo-negative "
    "(MPN)**, probably a false negative; below, a **true negative (TN)**. Larger mu lowers "
    "the threshold, so more candidates become MPN.",
    r"\tau_q = \operatorname{mean}(X) - \mu\,\bigl(\operatorname{mean}(X) - \min(X)\bigr),"
    r"\qquad t' \text{ is MPN} \iff s(h, r, t') \ge \tau_q",
)
source, model, kg, spec = ld.choose()
k, side, base = ld.lens_settings()
mu = st.slider("mu", 0.0, 6.0, step=0.1, **lc.bind("mu"), help=lc.TERMS["mu"])
result = repartition(ld.lens(source, spec, k, side, base), mu)
s = analysis.summary(result)

cols = st.columns(5)
cols[0].metric("MPN", s["n_mpn"], help=lc.TERMS["MPN"])
cols[1].metric("TN", s["n_tn"], help=lc.TERMS["TN"])
cols[2].metric(
    "Known false negatives", s["n_true"], help="Candidates that are valid, test or hidden facts"
)
cols[3].metric("MPNE precision", "-" if np.isnan(s["precision"]) else f"{s['precision']:.2f}")
cols[4].metric("MPNE recall", "-" if np.isnan(s["recall"]) else f"{s['recall']:.2f}")
st.caption(
    f"{s['candidates']:,} candidates for {len(result.tau):,} queries, mean tau {s['mean_tau']:.3f}. "
    f"{s['n_train_positive']} candidates are train positives that the unfiltered sampler drew "
    f"({s['n_train_mpn']} of them MPN); they are left out of precision and recall. "
    "Precision: the share of MPN that are known true facts; recall: the share of known true "
    "facts that MPNE flags. Truth = valid, test and hidden facts, never seen by MPNE."
)
lc.counts_first()


def close_up(result) -> None:
    """One query's train answers and candidates on a score axis, with its threshold."""
    choices = analysis.pattern_choices(result)
    queries = analysis.query_labels(kg, result.positives, result.head)
    rows = choices["row"].tolist()
    lc.fall_back("row", rows, "Query")
    info = choices.set_index("row")
    row = st.selectbox(
        "Query",
        rows,
        format_func=lambda r: (
            f"{queries[r]} · {info.at[r, 'n_true']} known FN · "
            f"{info.at[r, 'n_positives']} train answers"
        ),
        **lc.bind("row"),
    )
    detail = analysis.pattern_detail(result, kg, row)
    st.plotly_chart(lens_plots.pattern_figure(detail), key="mpne_pattern")
    st.caption(
        f"mean(X) = {detail['mean']:.3f}, min(X) = {detail['min']:.3f}, so tau = mean(X) - "
        f"{mu:g} (mean(X) - min(X)) = {detail['tau']:.3f}. Red rings: candidates that are "
        "known true facts."
    )
    a, b = st.columns([1, 2])
    a.dataframe(detail["positives"], hide_index=True)
    b.dataframe(detail["candidates"].drop(columns=["row", "query"]), hide_index=True)


left, right = st.columns(2)
with left:
    relative = st.toggle(
        "Line up every query's threshold at 0 (score - tau)", **lc.bind("relative")
    )
    frame = analysis.score_frame(result)
    value, at, label = ("margin", 0.0, "tau") if relative else ("score", s["mean_tau"], "mean tau")
    st.plotly_chart(lens_plots.score_histogram(frame, value, at, label), key="mpne_hist")
with right:
    mus = np.round(np.linspace(0.0, max(6.0, mu), 61), 3)
    st.plotly_chart(lens_plots.pr_figure(analysis.pr_frame(result, mus), mu), key="mpne_pr")
    if s["n_true"] == 0:
        st.caption("No candidate is a known true fact here, so precision and recall are undefined.")

st.subheader("Candidate triples")
table = analysis.triples_table(result, kg)  # highest margin first
shown = tables.top_rows(table, by="margin")
st.dataframe(shown, hide_index=True, height=320)
if len(shown) < len(table):
    st.caption(
        f"The {len(shown):,} of {len(table):,} candidates with the highest score - tau (the "
        "most MPN-like first); the CSV holds them all."
    )
csv = lambda: table.to_csv(index=False)  # noqa: E731 (written only when clicked)
st.download_button("Table as CSV", csv, "demix-mpne.csv", "text/csv", on_click="ignore")

# drawn only while open (a lazy expander): its chart and tables wait for a click
closeup = st.expander("One query up close", icon=":material/zoom_in:", **lc.bind("closeup"))
if closeup.open:
    with closeup:
        close_up(result)
lc.evidence_link("how precise is MPNE on injected false negatives?", "mpne-accuracy")
lc.share()
ld.prefill()  # the default view of every lens page, for whoever opens one next
