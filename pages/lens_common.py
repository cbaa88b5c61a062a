"""What the three lens pages (MPNE, AdaMix, Samplers) share: the opening text and glossary,
picking a checkpoint and positives (kept across the three pages), the cached model, lens
and projections, and a demo run when the store has no checkpoint yet."""

from __future__ import annotations

import time

import streamlit as st

from demix_core import urlstate
from demix_core.projection import numba_cache_dir
from demix_core.safe_text import md
from pages import common

numba_cache_dir()  # before anything imports umap, so its JIT is compiled only once

TERMS = {
    **{k: common.GLOSSARY[k] for k in ("False negative", "MPNE", "MPN", "TN", "mu", "AdaMix")},
    "Partially positive": "What AdaMix makes of an MPN: the candidate mixed with a known "
    "answer of the same query, with soft label 1 - alpha (a bit true, a bit false).",
    "Harder negative": "What AdaMix makes of a TN: the candidate mixed with one of the hardest "
    "other TNs of its row (never an MPN), label 0 - a negative closer to the decision boundary.",
    **{k: common.GLOSSARY[k] for k in ("alpha", "Base sampler", "Self-adversarial")},
}
# Widget values shared by the three pages, with their defaults (None: chosen on the page).
DEFAULTS = {
    "run": None,
    "step": None,
    "kind": "random",
    "relation": None,
    "query": "",
    "entity": None,
    "n": 128,
    "seed": 0,
    "k": 32,
    "side": "tail",
    "base": "uniform",
    "mu": 1.0,
    "alpha": 0.5,
    "lambda": "fixed",
    "method": "PCA",
    "rows": 3,
    "relative": True,
    "beta": 1.0,
    "row": None,
    "closeup": False,
    "dist": "heatmap",
    "cats": False,
    "triples": False,
    "show": "all",
    "view": "one query",
}
FIRST_PAUSE = 0.5  # seconds for the browser to draw the counts before charts (counts_first)
pause = time.sleep
# A demo a visitor waits for: RotatE on Nations, ~300 steps, a checkpoint every 50.
DEMO = dict(
    dim=64, batch_size=256, negatives=32, steps=300, eval_every=0, log_every=25, checkpoint_every=50
)


def intro(page: str, title: str, text: str, latex: str | None = None) -> None:
    """Page title, two or three sentences, the formula, and the glossary one click away;
    then this page's widgets take the values last set on any lens page."""
    head, glossary = st.columns([6, 1], vertical_alignment="bottom")
    head.title(title)
    with glossary.popover("Glossary", icon=":material/menu_book:"):
        for term, meaning in TERMS.items():
            st.markdown(f"**{term}**: {meaning}")
    st.markdown(text)
    if latex:
        st.latex(latex)
    restore(page)


def restore(page: str) -> None:
    """Each page has its own widget keys (`mpne_mu`, ...): one key on two pages would be two
    widgets, the second starting at its minimum. Values travel through the plain `saved`
    dict instead, which every widget updates when it changes (`bind`); arriving from
    another page, or after Streamlit dropped a key, the widget gets the saved value.

    Arriving with a query in the URL (a shared link, a reload), its valid values win over the
    saved ones; each bad one is named in a notice and left at its default."""
    saved = st.session_state.setdefault("saved", {})
    arrived = st.session_state.get("lens_page") != page
    st.session_state["lens_page"] = page
    st.session_state["lens_bound"] = []
    if arrived:
        asked, notices = urlstate.parse(st.query_params.to_dict(), list(DEFAULTS))
        saved.update({f"lens_{name}": value for name, value in asked.items()})
        st.session_state["url_asked"], st.session_state["url_notices"] = asked, notices
    for name, default in DEFAULTS.items():
        widget, value = f"{page}_{name}", saved.get(f"lens_{name}", default)
        if (arrived or widget not in st.session_state) and value is not None:
            st.session_state[widget] = value
    for notice in st.session_state.pop("url_notices", []):
        st.warning(f"This link: {md(notice)}", icon=":material/link_off:")


def fall_back(name: str, options: list, what: str, default=None):
    """Put the shared value `name` inside `options` (else `default`, else the first option)
    before its widget is drawn; a value that came from the URL and is gone gets a notice."""
    value = st.session_state.get(key(name))
    if value in options:
        return value
    chosen, _ = urlstate.pick(None, options, what, default)
    asked = st.session_state.get("url_asked", {})
    if name in asked and asked.pop(name) == value:
        _, notice = urlstate.pick(value, options, what, chosen)
        st.warning(f"This link: {md(notice)}", icon=":material/link_off:")
    put(name, chosen)
    return chosen


def evidence_link(label: str, experiment: str) -> None:
    """A link to the Results page's tab for `experiment` (the evidence behind this page)."""
    st.page_link(
        "pages/results.py",
        label=f"Evidence: {label}",
        icon=":material/science:",
        query_params={"experiment": experiment},
    )


def share() -> None:
    """Write the shared values this page drew into the URL, and offer the link to copy."""
    values = {n: st.session_state.get(key(n)) for n in st.session_state.get("lens_bound", [])}
    if st.session_state.get("lens_file"):
        values.pop("run", None)
        values.pop("step", None)
    params = urlstate.encode(values)
    st.query_params.from_dict(params)
    common.copy_link(params)


def bind(name: str) -> dict:
    """`key` and `on_change` for the widget of shared value `name` on the current page."""
    widget = key(name)
    st.session_state.setdefault("lens_bound", []).append(name)

    def keep() -> None:
        st.session_state["saved"][f"lens_{name}"] = st.session_state[widget]

    return dict(key=widget, on_change=keep)


def key(name: str) -> str:
    """This page's widget key of shared value `name`."""
    return f"{st.session_state['lens_page']}_{name}"


def put(name: str, value) -> None:
    """Set a shared value from the page (before its widget is drawn)."""
    st.session_state[key(name)] = st.session_state["saved"][f"lens_{name}"] = value


def counts_first() -> None:
    """On a session's first script run, pause before the first chart or table, so the
    browser draws what came before (the counts, the Lesson's takeaway) at once. Its frontend
    loads Plotly's and the table's scripts on their first use, and an update that holds such
    an element is drawn only once they are in, counts included: MPNE's counts showed with
    its first chart, ~1 s after the floor. Measured (docs/performance.md): with 0.5 s here
    MPNE's counts show after 1.3 s instead of 2.1-2.7, its first chart no later; 0.15 s was
    too short to change anything."""
    if not st.session_state.get("charts_seen"):
        st.session_state["charts_seen"] = True
        pause(FIRST_PAUSE)
