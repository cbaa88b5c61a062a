"""The lens pages' entity maps: PCA/UMAP projections of a checkpoint, cached per server,
and the AdaMix map figures drawn on them (logic in `demix_core.projection`/`analysis`)."""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from demix_core import analysis, lens_plots
from demix_core.projection import Projection, fit_projection, load_umap
from pages.lens_data import load


@st.cache_resource(max_entries=8, show_spinner=False)
def pca(source: tuple) -> Projection:
    model, _ = load(source)
    return fit_projection(model.entity.detach().numpy(), "pca")


@st.cache_resource(show_spinner=False)
def prefetch_umap() -> threading.Thread:
    """Import umap-learn (about 3 s: numba and its cached kernels) in a background thread,
    once per server, so the first UMAP a visitor asks for pays only its fit. The thread
    only imports: it calls no st.* function."""
    thread = threading.Thread(target=load_umap, name="umap-import", daemon=True)
    thread.start()
    return thread


@st.cache_resource
def _umap_fits() -> tuple[dict, threading.Lock]:
    """UMAP maps by source, newest last, shared by all sessions. A plain dict (not a cached
    function) so a page can ask whether a map is ready and show PCA until it is."""
    return {}, threading.Lock()


def umap_ready(source: tuple) -> bool:
    return source in _umap_fits()[0]


def umap(source: tuple, keep: int = 4) -> Projection:
    """The UMAP map of a checkpoint's entity table, fitted once (the caller shows PCA and a
    spinner meanwhile)."""
    fits, lock = _umap_fits()
    if source not in fits:
        model, _ = load(source)
        proj = fit_projection(model.entity.detach().numpy(), "umap")
        with lock:
            fits[source] = proj
            while len(fits) > keep:
                fits.pop(next(iter(fits)))
    return fits[source]


def projection(source: tuple, method: str) -> Projection:
    return pca(source) if method == "PCA" else umap(source)


@st.cache_data(max_entries=64, show_spinner=False)
def mix_layout(view: tuple, _result, source: tuple, method: str, rows: tuple):
    """`analysis.mix_layout` of the lens result that `view` names (source, positives, K,
    side, base, mu, alpha, lambda mode): a UMAP `transform` of the mixed points runs once
    per view."""
    model, kg = load(source)
    table = model.entity.detach().numpy()
    return analysis.mix_layout(_result, projection(source, method), table, kg, rows)


def mix_figure(layout, source: tuple, method: str):
    """The projection figure of a (possibly filtered) `mix_layout`, fitted entities behind."""

    _, kg = load(source)
    ids, xy = projection(source, method).background()
    title = f"{method} of the entity embeddings: candidates, partners and mixed points"
    return lens_plots.projection_figure(layout, (xy, [kg.entities[i] for i in ids]), title)


def query_figure(layout, source: tuple, method: str, found: int | None):
    """The one-query AdaMix map (`map_plots.query_map_figure`), entity `found` ringed."""
    from demix_core import map_plots

    model, kg = load(source)
    proj = projection(source, method)
    ids, xy = proj.background()
    highlight = None
    if found is not None:
        x, y = proj.entities(np.array([found]), model.entity.detach().numpy())[0]
        highlight = (float(x), float(y), kg.entities[found])
    title = f"{method} of the entity embeddings: one query, each candidate mixed with its partner"
    background = (xy, [kg.entities[i] for i in ids], ids)
    return map_plots.query_map_figure(layout, background, title, highlight)
