"""2-D maps of entity embeddings for the AdaMix view: PCA (instant) or UMAP (umap-learn),
fitted once per entity table; new points, such as AdaMix's mixed embeddings, are placed
with `Projection.transform`. Pure numpy/torch, no Streamlit."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from demix_core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def numba_cache_dir() -> str:
    """Point numba's on-disk cache at a persistent folder (unless one is set) so a restarted
    app does not pay UMAP's JIT compilation again; must run before umap is imported."""
    return os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))


@functools.cache
def load_umap():
    """umap-learn, with on-disk caching turned on for its numba kernels: it compiles them
    without `cache=True`, so every new process would spend ~10 s (more on a busy machine)
    compiling them before its first fit; cached, a restarted app loads them in well under
    a second."""
    numba_cache_dir()
    import umap
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "umap":
            for obj in list(vars(module).values()):
                if isinstance(obj, Dispatcher):
                    obj.enable_caching()
    return umap


@dataclass
class Projection:
    """A 2-D map fitted on (a sample of) an entity table `(E, De)`."""

    method: str  # "pca" | "umap"
    fit_ids: np.ndarray  # (N,) entity ids the map was fitted on
    coords: np.ndarray  # (N, 2) their positions
    model: tuple  # PCA: (mean (De,), components (2, De)); UMAP: (umap.UMAP, fitted rows (N, De))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Positions `(n, 2)` of new vectors `(n, De)` (PCA: exact and linear)."""
        if len(x) == 0:
            return np.zeros((0, 2), np.float32)
        if self.method == "pca":
            mean, comps = self.model
            return ((x - mean) @ comps.T).astype(np.float32)
        reducer, fitted = self.model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "transforming with a precomputed metric": we know
            return reducer.transform(_distances(x, fitted)).astype(np.float32)

    def background(self, limit: int = 3000) -> tuple[np.ndarray, np.ndarray]:
        """Ids and positions of at most `limit` fitted entities, evenly spread over the ids."""
        step = max(1, -(-len(self.fit_ids) // limit))
        return self.fit_ids[::step], self.coords[::step]

    def entities(self, ids: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Positions `(n, 2)` of entity ids: fitted ones as fitted, others transformed."""
        ids = np.asarray(ids)
        where = np.full(int(max(ids.max(initial=0), self.fit_ids.max(initial=0))) + 1, -1)
        where[self.fit_ids] = np.arange(len(self.fit_ids))
        at = where[ids]
        out = np.empty((len(ids), 2), np.float32)
        out[at >= 0] = self.coords[at[at >= 0]]
        if (at < 0).any():
            out[at < 0] = self.transform(table[ids[at < 0]])
        return out


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances `(n, m)` between rows, in one torch call."""
    return torch.cdist(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b)).numpy()


def _principal_axes(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean `(De,)` and the top two principal axes `(2, De)` of a table `(E, De)`, from the
    eigenvectors of its `(De, De)` covariance (several times faster than an SVD of the whole
    table on a busy CPU), each signed so that its largest entry is positive."""
    mean = table.mean(0)
    centred = (table - mean).astype(np.float64)
    _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    comps = vectors[:, ::-1][:, :2].T  # (2, De), or (1, De) for a 1-wide table
    comps = np.vstack([comps, np.zeros((2 - len(comps), table.shape[1]))])
    comps *= np.sign(comps[[0, 1], np.abs(comps).argmax(1)])[:, None]
    return mean, comps.astype(np.float32)


def fit_projection(
    table: np.ndarray, method: str = "pca", seed: int = 0, max_fit: int = 3000
) -> Projection:
    """Fit a 2-D map on an entity table `(E, De)` (complex models: the [re | im] rows as
    they are). PCA uses every row. UMAP fits a seeded sample of at most `max_fit` rows on
    exact distances computed here (umap-learn's own exact path calls a Python metric per
    pair, its approximate one recompiles its search closures in every process), with 200
    epochs (umap-learn's choice for large data; its 500 for small data cost 2.5x)."""
    table = np.asarray(table, np.float32)
    if method == "pca":
        mean, comps = _principal_axes(table)
        ids = np.arange(len(table))
        return Projection("pca", ids, ((table - mean) @ comps.T).astype(np.float32), (mean, comps))
    if method != "umap":
        raise ConfigError(f"projection: method must be 'pca' or 'umap', got {method!r}")
    umap = load_umap()
    ids = np.sort(np.random.default_rng(seed).permutation(len(table))[:max_fit])
    fitted = table[ids]
    reducer = umap.UMAP(
        n_neighbors=max(2, min(15, len(ids) - 1)),
        metric="precomputed",
        n_epochs=200,
        random_state=seed,
        n_jobs=1,  # a seeded UMAP runs on one thread anyway; saying so silences its warning
        init="spectral" if len(ids) > 32 else "random",  # spectral needs a larger graph
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "inverse_transform will be unavailable": not needed
        coords = reducer.fit_transform(_distances(fitted, fitted)).astype(np.float32)
    return Projection("umap", ids, coords, (reducer, fitted))
