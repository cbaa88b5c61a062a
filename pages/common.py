"""What every page shares: the store handle, the sidebar and glossary, widget values that
survive a page change, incremental metrics reads, and the small tables the pages show."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from demix_core import run_tables
from demix_core.errors import DemixError, describe
from demix_core.runs import RunStore, default_home
from demix_core.safe_text import code, md

GLOSSARY = {
    "Negative sampling": "A KGE model learns from true triples (h, r, t) and from *negatives* "
    "made by replacing h or t with another entity. Those replacements are assumed false.",
    "False negative": "A sampled 'negative' that is in fact true, only missing from the "
    "training graph. Training pushes its score down: the model learns a wrong fact.",
    "MPNE": "Marginal pseudo-negative estimator: sorts each sampled negative by comparing its "
    "score with a threshold built from the scores of the known answers of the same query.",
    "MPN": "Marginal pseudo-negative: a negative scored like a true fact (above the MPNE "
    "threshold), so probably a false negative.",
    "TN": "True negative: a sampled negative scored below the MPNE threshold.",
    "mu": "MPNE range. tau = mean - mu * (mean - min) of the known positives' scores: 0 keeps "
    "only negatives above the average positive, 1 above the weakest one, more widens it.",
    "AdaMix": "Adaptive mixup: an MPN is mixed with a known positive (a partially positive "
    "triple with a soft label), a TN with one of the hardest other TNs (a harder negative).",
    "alpha": "AdaMix balance, the weight of the sampled negative in the mix; 1 turns mixing off.",
    "Base sampler": "The sampler whose candidates DeMix refines (uniform, Bernoulli, ...).",
    "Self-adversarial": "Weights the negatives by softmax of their scores (RotatE), so hard "
    "negatives count more; the adversarial temperature sets how much.",
    "MRR / Hits@10": "Filtered link prediction: the mean reciprocal rank of the true answer "
    "among all entities (other known true answers removed), and how often it ranks in the top 10.",
    "Sweep": "A grid of runs over some settings (here mu x alpha), compared on one heatmap.",
}
FIELDS = {  # config field (ConfigError.field) -> form label
    "dim": "Embedding dim",
    "steps": "Steps",
    "batch_size": "Batch size",
    "negatives": "Negatives",
    "lr": "Learning rate",
    "mu": "mu",
    "alpha": "alpha",
    "eval_every": "Validate every",
    "gamma": "Margin gamma",
    "adv_temperature": "Adversarial temperature",
    "base_sampler": "Base sampler",
}


# (file, title, icon, section); a page is listed once its file exists, so pages being
# written elsewhere appear without touching this list again.
PAGES = (
    ("pages/home.py", "Home", ":material/home:", "Lab"),
    ("pages/lesson.py", "Lesson", ":material/school:", "Lab"),
    ("pages/train.py", "Train", ":material/play_arrow:", "Lab"),
    ("pages/runs.py", "Runs", ":material/monitoring:", "Lab"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:", "Lab"),
    ("pages/results.py", "Results", ":material/science:", "Lab"),
    ("pages/mpne.py", "MPNE", ":material/filter_alt:", "Inside DeMix"),
    ("pages/adamix.py", "AdaMix", ":material/blender:", "Inside DeMix"),
    ("pages/samplers.py", "Samplers", ":material/casino:", "Inside DeMix"),
)
APP_DIR = Path(__file__).resolve().parent.parent
_router = threading.local()  # per script thread: is app.py's router running the page?


def navigation():
    """`st.navigation` over the app's pages, by section."""
    sections: dict[str, list] = {}
    for path, title, icon, section in PAGES:
        if (APP_DIR / path).is_file():
            page = st.Page(path, title=title, icon=icon, default=path == "pages/home.py")
            sections.setdefault(section, []).append(page)
    return st.navigation(sections)


def run_routed(page) -> None:
    """Run the page `navigation()` chose, marked as routed, behind the error boundary."""
    _router.active = True
    try:
        guarded(page.run)
    finally:
        _router.active = False


def route_through_app() -> None:
    """Send a page that Streamlit ran without the router back through it; every page calls
    this first, after its imports.

    Streamlit runs a `pages/` folder beside the entry script the old way (each file alone, no
    router, every file listed) until `st.navigation` has run once in the server process, so
    a deep link that arrives first (a reload of /runs after a server restart) runs
    pages/runs.py by itself. Such a run registers the app's pages with `st.navigation`,
    which ends the old way for the whole server (documented: st.navigation takes over from a
    pages/ folder), and reruns: the rerun goes through app.py to the same URL. Not done at
    import time on purpose: a rerun raised inside `import pages.common` aborts that import
    while another session may be waiting on it."""
    if not getattr(_router, "active", False):
        navigation()
        st.rerun()


# --------------------------------------------------------------------------- errors

log = logging.getLogger("demix_lab")


def show_failure(exc: Exception, where=st) -> None:
    """One short message for a failure: what is wrong and what to do, never a traceback.
    Unexpected errors keep their details (server paths, internals) for the server log."""
    if not isinstance(exc, (DemixError, OSError, MemoryError)):
        log.error("page failed", exc_info=exc)
    where.error(md(describe(exc, internals=False)), icon=":material/error:")


def guarded(draw: Callable[[], object], where=st) -> None:
    """Run `draw` (the sidebar, or the page via navigation.run) behind the app's error
    boundary. st.stop/st.rerun are BaseExceptions and pass through untouched."""
    try:
        draw()
    except Exception as exc:
        show_failure(exc, where)


def guard(fragment: Callable) -> Callable:
    """The error boundary for an `st.fragment`: a fragment's own reruns do not go through
    app.py, so a live view that fails there would otherwise show Streamlit's error box."""

    @functools.wraps(fragment)
    def wrapper(*args, **kwargs):
        try:
            return fragment(*args, **kwargs)
        except Exception as exc:
            show_failure(exc)

    return wrapper


@st.cache_resource(show_spinner=False)
def _store(home: str) -> RunStore:
    return RunStore(home)


def store() -> RunStore:
    """The run store of `$DEMIX_HOME` (one handle per location, shared by all sessions)."""
    return _store(str(default_home().resolve()))


def examples():
    """The read-only example runs shipped in assets/examples (`demix_core.examples`)."""
    return _examples(os.environ.get("DEMIX_EXAMPLES", ""))


@st.cache_resource(show_spinner=False)
def _examples(home: str):
    from demix_core.examples import ExampleShelf

    return ExampleShelf(home or None)


def copy_link(params: dict) -> None:
    """A "Copy link" popover holding this view's address (the code block's copy button puts
    it on the clipboard)."""
    from demix_core.urlstate import share_url

    with st.popover("Copy link", icon=":material/link:"):
        st.caption("This view, with every setting above: send it, or open it in another browser.")
        st.code(share_url(st.context.url or "", params), language=None, wrap_lines=True)


def autostart() -> bool:
    """Whether submitting starts the background queue (`DEMIX_NO_WORKERS=1` only queues)."""
    return os.environ.get("DEMIX_NO_WORKERS", "") in ("", "0")


def cluster() -> str:
    """The sidebar's dask scheduler address ('' = train on this machine)."""
    return st.session_state.get("cluster", os.environ.get("DEMIX_CLUSTER", "")).strip()


def sidebar() -> None:
    s = store()
    runs = s.records()
    counts = pd.Series([r["status"] for r in runs]).value_counts().to_dict() if runs else {}
    with st.sidebar:
        st.caption(f"Run store {code(s.home)}")
        busy = {k: counts.get(k, 0) for k in ("running", "queued")}
        if any(busy.values()):
            st.caption(" · ".join(f"{n} {k}" for k, n in busy.items()))
        if busy["queued"] and not busy["running"] and s.server_pid() is None and autostart():
            st.warning("Runs are queued but no worker is serving the queue.")
            if st.button("Start the queue", key="sidebar_start_queue"):
                s.ensure_server()
        st.session_state.setdefault("cluster", os.environ.get("DEMIX_CLUSTER", ""))
        st.text_input("Cluster", key="cluster", placeholder="tcp://HOST:8786",
                      help="A dask scheduler: new runs train on its workers. Empty: here.")  # fmt: skip
        with st.expander("Glossary"):
            for term, meaning in GLOSSARY.items():
                st.markdown(f"**{term}**: {meaning}")


def field_error(err: Exception) -> str:
    """A DemixError's text, led by the form field it is about (`ConfigError.field`)."""
    text = str(err)
    label = FIELDS.get(getattr(err, "field", None) or "")
    return f"**{label}**: {md(text)}" if label else md(text)


# A first visit's demo: about a minute per run on 2 CPU cores, with a valid MRR point
# every 100 steps, so curves appear while the visitor watches.
DEMO = dict(dim=100, batch_size=256, negatives=32, steps=1000, eval_every=100, log_every=10)


def quick_demo() -> list[str]:
    """Queue RotatE on UMLS with uniform self-adversarial negatives, then the same with DeMix."""
    from demix_core.config import make_config

    plain = make_config("umls", "rotate", "uniform", **DEMO)
    demix = make_config(
        "umls", "rotate", "demix", sampler_options={"base_sampler": "uniform"}, **DEMO
    )
    s = store()
    return [
        s.submit(plain, name="Quick demo: RotatE + uniform (self-adv.)", start=autostart()),
        s.submit(demix, name="Quick demo: RotatE + DeMix over uniform", start=autostart()),
    ]


def check_sampler(sampler: str, options: dict) -> None:
    """ConfigError (naming the option) for options the sampler would refuse at start."""
    from demix_core.sampling.registry import make_sampler_options

    make_sampler_options(sampler, options)


# --------------------------------------------------------------------------- session


def restore(keys, defaults: dict | None = None) -> None:
    """Give each widget key its value from the last visit (else from `defaults`) before it
    is drawn: Streamlit forgets a widget's state once a run of another page leaves it out."""
    saved, defaults = st.session_state.setdefault("saved", {}), defaults or {}
    for key in keys:
        if key not in st.session_state and (key in saved or key in defaults):
            st.session_state[key] = saved.get(key, defaults.get(key))


def remember(keys) -> None:
    """Copy widget values into the plain `saved` dict, which survives page changes."""
    saved = st.session_state.setdefault("saved", {})
    saved.update({k: st.session_state[k] for k in keys if k in st.session_state})


def prefill_train(dataset: str, mu: float, alpha: float) -> None:
    """Set the Train page's form to RotatE + DeMix over uniform at `mu`, `alpha` on
    `dataset` (a built-in name or a `synthetic:...` spec), as if the user had typed it."""
    from demix_core.synthetic import parse_synthetic_spec

    values = dict(
        train_model="rotate", train_sampler="demix", train_base="uniform", train_mu=mu,
        train_alpha=alpha, train_defaults_for=None, train_keep_demix=True,
    )  # fmt: skip
    if dataset.startswith("synthetic"):
        spec = parse_synthetic_spec(dataset.partition(":")[2])
        values.update(
            train_source="synthetic", train_entities=spec["entities"],
            train_hidden=spec["hidden"], train_synth_seed=spec["seed"],
        )  # fmt: skip
    else:
        values.update(train_source="built-in", train_builtin=dataset)
    st.session_state.setdefault("saved", {}).update(values)
    st.session_state.update(values)


# --------------------------------------------------------------------------- tables


def number_columns(table: pd.DataFrame) -> dict:
    """column_config showing the table's float columns with three decimals."""
    floats = table.select_dtypes("float").columns
    return {c: st.column_config.NumberColumn(format="%.3f") for c in floats if c != "progress"}


@st.cache_data(max_entries=64, show_spinner=False)
def final_table(key: tuple, _runs: list[dict]) -> pd.DataFrame:
    """`run_tables.settings_table` of `_runs`, cached; `key` = ((id, step, status), ...)
    says when the cached table is stale (a run moved on)."""
    return run_tables.settings_table(_runs)
