"""Home: what a false negative is, the built-in datasets, and a one-click demo."""

import pandas as pd
import streamlit as st

from demix_core.plots import false_negative_diagram
from pages import common, datasets

common.route_through_app()

st.title("DeMix Lab")
st.caption("Make false negatives in knowledge-graph-embedding training visible (DeMix, ISWC 2023)")

text, picture = st.columns(2, gap="large")
with text:
    st.markdown(
        """
A knowledge-graph embedding learns to score true facts high. It is trained against
**negatives**: copies of known facts with the head or tail swapped for a random entity,
*assumed* false. But a knowledge graph is incomplete, so some of those negatives are
true facts it simply does not list: **false negatives**. Training pushes their scores
down, and the model learns that a true fact is false.

**DeMix** looks at each sampled negative before it is used. Its estimator (**MPNE**)
flags the ones that score like the query's known answers as probable false negatives;
**AdaMix** then mixes each negative with a partner, turning a probable false negative
into a *partially positive* example and a clear negative into a *harder* one.
        """
    )
    st.page_link(
        "pages/lesson.py",
        label="Start the guided lesson: seven steps on trained examples, nothing to wait for",
        icon=":material/school:",
    )
    if st.button("Quick demo: train two runs on UMLS", type="primary", icon=":material/bolt:"):
        ids = common.quick_demo()
        st.session_state["runs_selected"] = ids[0]
        st.switch_page("pages/runs.py")
    st.caption(
        "Queues RotatE with uniform self-adversarial negatives and the same with DeMix "
        "(about a minute each), then opens the Runs page to watch them train."
    )
with picture:
    st.image(false_negative_diagram())
    st.caption(
        "Corrupting the head of (Paris, located in, France) can draw Berlin, a true "
        "negative, or Marseille: true in the world, absent from the graph."
    )

st.subheader("Built-in datasets")
with st.spinner("Counting triples..."):
    columns = ["name", "entities", "relations", "train", "valid", "test", "unseen_valid"]
    stats = pd.DataFrame(datasets.builtin_stats(), columns=[*columns, "unseen_test"])
st.table(stats.rename(columns=lambda c: c.replace("_", " ")).set_index("name"))
st.caption(
    "Unseen valid/test: triples with an entity or relation that train never has (kept and "
    "ranked). Train on any of these, a synthetic graph with known hidden facts, or your own "
    "splits on the Train page."
)
