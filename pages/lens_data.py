"""The lens pages' data: the checkpoint a visitor picks (or the demo it offers), the
positives drawn from it, the lens result and every sampler's candidates, cached per server
(the logic behind them is `demix_core.lens`/`analysis`/`sampler_frames`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from demix_core import analysis, run_tables, sampler_frames
from demix_core.errors import DemixError
from demix_core.safe_text import code, md
from pages import common
from pages.lens_common import DEFAULTS, DEMO, TERMS, bind, fall_back

# --------------------------------------------------------------------------- checkpoint


def pick_source() -> tuple | None:
    """A run and one of its checkpoint steps (or a checkpoint file): `("run", home, id,
    step)` or `("file", path, mtime)`; None (after offering a demo) when there is none. The
    user's runs come first, then the read-only examples shipped with the app."""
    s = common.store()
    runs, homes = _runs()
    path = st.session_state.get("lens_file")  # a plain key: it outlives page changes
    if path:
        st.caption(f"Using the checkpoint file {code(path)}.")
        if st.button("Use a run from the store instead"):
            st.session_state["lens_file"] = None
            st.rerun()
        if not Path(path).is_file():
            st.error(f"{code(path)} is gone.")
            return None
        return ("file", path, Path(path).stat().st_mtime)
    if not runs:
        _empty_state(s)
        return None
    by_id = {r["id"]: r for r in runs}
    fall_back("run", list(by_id), "Run", _first(runs))
    a, b = st.columns([2, 3])
    run_id = a.selectbox(
        "Run", list(by_id), format_func=lambda i: run_tables.label(by_id[i]), **bind("run")
    )
    home = homes[run_id]
    steps = home.checkpoint_steps(run_id)
    fall_back("step", steps, "Checkpoint step", steps[-1])
    label = "Checkpoint (training step)"
    if len(steps) > 1:
        step = b.select_slider(label, steps, **bind("step"))
    else:
        step = b.selectbox(label, steps, **bind("step"))
    return run_source(home, run_id, step)


def run_source(home, run_id: str, step: int | None = None) -> tuple:
    """The source `("run", home, id, step)` of a checkpoint of run `run_id` in store `home`
    (its last without `step`): the key of `load` and of the caches below."""
    step = home.checkpoint_steps(run_id)[-1] if step is None else step
    return ("run", str(home.home), run_id, int(step))


def _runs() -> tuple[list[dict], dict]:
    """Runs with a checkpoint, the user's first and then the shipped examples, and the store
    holding each (by run id)."""
    s, shelf = common.store(), common.examples()
    runs = [r for r in s.records() if s.checkpoint_steps(r["id"])]
    homes = {r["id"]: s for r in runs}
    for r in shelf.records():
        runs.append(r)
        homes[r["id"]] = shelf
    return runs, homes


def _first(runs: list[dict]) -> str:
    """The run a lens page opens on: the first that is done, else the first."""
    done_ids = [r["id"] for r in runs if r["status"] == "done"]
    return (done_ids or [r["id"] for r in runs])[0]


def _empty_state(s) -> None:
    st.info(
        "No run in the store has a checkpoint yet. Train a small demo model (RotatE on "
        "Nations, about half a minute), or open a checkpoint file from a run folder."
    )
    pending = [
        r
        for r in s.records()
        if r["name"].startswith("Lens demo") and r["status"] in ("queued", "running")
    ]
    if pending:
        _wait_for(pending[0]["id"])
    elif st.button("Train a small demo model", type="primary", icon=":material/bolt:"):
        from demix_core.config import make_config

        config = make_config("nations", "rotate", "uniform", **DEMO)
        run_id = s.submit(config, name="Lens demo: RotatE on Nations", start=common.autostart())
        _wait_for(run_id)
    files = sorted(str(p) for p in s.home.glob("*/checkpoints/*.pt"))
    files += sorted(str(p) for p in s.home.glob("*/checkpoint.pt"))
    typed = st.text_input(
        "Checkpoint file", placeholder=files[0] if files else "path/to/checkpoint.pt"
    )
    if typed:
        if Path(typed).is_file():
            st.session_state["lens_file"] = typed
            st.rerun()
        st.error(f"{code(typed)}: no such file")


@st.fragment(run_every=2.0)
@common.guard
def _wait_for(run_id: str) -> None:
    """Progress of the demo run; the whole page redraws once its first checkpoint exists."""
    run = common.store().get(run_id)
    st.progress(
        run["progress"], text=f"Demo run: {run['status']}, step {run['step']}/{run['steps']}"
    )
    if run["error"]:
        st.error(md(run["error"]))
    if common.store().checkpoint_steps(run_id):
        st.rerun()


@st.cache_resource(max_entries=4, show_spinner="Loading the checkpoint...")
def load(source: tuple):
    """(model, kg) of a source, loaded once and shared by every session."""
    from demix_core.checkpoint import check_matches, load_checkpoint, model_from_checkpoint
    from demix_core.data import load_dataset
    from demix_core.runs import files

    if source[0] == "run":
        data = load_checkpoint(files.checkpoint_path(Path(source[1]) / source[2], source[3]))
    else:
        data = load_checkpoint(source[1])
    kg = load_dataset((data.get("config") or {}).get("dataset", ""))
    check_matches(data, kg)
    return model_from_checkpoint(data).eval(), kg


def model_and_kg(source: tuple):
    """`load`, or the error shown and the page stopped."""
    try:
        return load(source)
    except (DemixError, OSError) as e:
        st.error(f"Cannot open this checkpoint: {md(e)}")
        st.stop()


# --------------------------------------------------------------------------- positives


def pick_positives(kg) -> analysis.PositivesSpec:
    """Which train positives to look at: a seeded random sample, or those of a relation or
    of an entity found by name."""
    a, b, c, d = st.columns([2, 3, 1, 1])
    kind = a.radio("Positives", analysis.POSITIVE_KINDS, horizontal=True, **bind("kind"))
    name = ""
    if kind == "relation":
        fall_back("relation", kg.relations, "Relation")
        name = b.selectbox("Relation", kg.relations, **bind("relation"))
    elif kind == "entity":
        q, e = b.columns(2)
        found = analysis.search_names(kg.entities, q.text_input("Search entities", **bind("query")))
        if not found:
            st.warning("No entity name contains that text.")
            st.stop()
        fall_back("entity", found, "Entity")
        name = e.selectbox("Entity", found, **bind("entity"))
    n = c.number_input("How many", min_value=1, max_value=2048, **bind("n"))
    seed = d.number_input("Seed", min_value=0, **bind("seed"))
    return analysis.PositivesSpec(kind, name, int(n), int(seed))


def positives(source: tuple, spec: analysis.PositivesSpec):
    """The positives of `spec`, or the reason there are none shown and the page stopped."""
    _, kg = load(source)
    try:
        return analysis.select_positives(kg, spec)
    except DemixError as e:
        st.error(md(e))
        st.stop()


def choose(before_positives=None) -> tuple:
    """The common head of the lens pages: a checkpoint (or stop with the reason), its model
    and KG, and a checked choice of positives. Returns `(source, model, kg, spec)`."""
    source = pick_source()
    if source is None:
        st.stop()
    model, kg = model_and_kg(source)
    if before_positives is not None:
        before_positives()
    spec = pick_positives(kg)
    positives(source, spec)
    return source, model, kg, spec


@st.cache_data(max_entries=16, show_spinner="Drawing and scoring candidates...")
def lens(source: tuple, spec: analysis.PositivesSpec, k: int, side: str, base: str):
    """The expensive `demix_lens` (draw, score, partition, mix), keyed by everything it
    depends on; sliders then `repartition` / `remix` the cached result."""
    from demix_core.lens import demix_lens

    model, kg = load(source)
    pos = analysis.select_positives(kg, spec)
    return demix_lens(
        model, kg, pos, mu=1.0, alpha=1.0, k=k, base_sampler=base, side=side, seed=spec.seed
    )


def lens_settings() -> tuple[int, str, str]:
    """K, side and base sampler of the lens."""
    from demix_core.sampling.registry import base_choices

    a, b, c = st.columns(3)
    k = a.number_input("Candidates per positive (K)", 1, 512, **bind("k"))
    side = b.radio("Corrupt", ("tail", "head", "both"), horizontal=True, **bind("side"))
    bases = base_choices("demix")
    fall_back("base", bases, "Base sampler", "uniform")
    base = c.selectbox("Base sampler", bases, help=TERMS["Base sampler"], **bind("base"))
    return int(k), side, base


@st.cache_data(max_entries=8, show_spinner="Running every sampler on these positives...")
def sampler_candidates(source: tuple, spec: analysis.PositivesSpec, k: int) -> dict:
    """Candidates of every registered sampler (seeded by the positives' seed), cached."""
    from demix_core.sampling import SAMPLERS

    model, kg = load(source)
    pos = analysis.select_positives(kg, spec)
    return sampler_frames.sampler_candidates(model, kg, pos, list(SAMPLERS), k, spec.seed)


@st.cache_data(max_entries=8, show_spinner=False)
def sampler_views(source: tuple, spec: analysis.PositivesSpec, k: int, beta: float) -> tuple:
    """(summary, binned scores, false negatives by relation category, candidate table) of
    `sampler_candidates`, cached: a restored view or a widget move redraws without them."""
    _, kg = load(source)
    cands = sampler_candidates(source, spec, k)
    return (
        sampler_frames.sampler_summary(cands, beta),
        sampler_frames.score_bins(sampler_frames.sampler_scores(cands)),
        sampler_frames.sampler_categories(cands, kg),
        sampler_frames.sampler_table(cands, kg),
    )


# --------------------------------------------------------------------------- prefill


@st.cache_resource(show_spinner=False)
def prefill() -> threading.Thread | None:
    """Once per server, after the page that calls it is drawn: fill in a background thread
    the caches of the view a lens page opens on by default (its run's last checkpoint, the
    default positives, K, side and base sampler), i.e. the lens result and every sampler's
    candidates. A first open of Samplers otherwise waits ~6 s for ten samplers to run.
    The thread runs niced (it yields the CPU to the server and the browser drawing this
    page) and calls no st.* function; with `DEMIX_NO_WORKERS=1` (tests) nothing starts."""
    runs, homes = _runs()
    if not runs or not common.autostart():
        return None
    run_id = _first(runs)
    source = run_source(homes[run_id], run_id)
    thread = threading.Thread(target=_fill, args=(source,), name="lens-prefill", daemon=True)
    thread.start()
    return thread


def _fill(source: tuple) -> None:
    if hasattr(os, "setpriority"):  # Linux: a thread id names this thread alone
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    d = DEFAULTS
    spec = analysis.PositivesSpec(d["kind"], "", d["n"], d["seed"])
    try:
        lens(source, spec, d["k"], d["side"], d["base"])
        sampler_views(source, spec, d["k"], d["beta"])
    except Exception:  # noqa: BLE001 - only a head start: the page computes and reports it
        pass
