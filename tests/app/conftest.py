"""AppTest fixtures: a temporary DEMIX_HOME whose runs are only queued (no worker process is
ever started: `DEMIX_NO_WORKERS=1`), and a store of finished Nations runs trained here, in
this process, through the store's own worker function."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import finish, tiny
from procs import kill_and_reap, store_processes


@pytest.fixture(autouse=True, scope="session")
def own_cache(tmp_path_factory):
    """Home's dataset counts are computed here, not read from the user's cache folder."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def no_first_pause(monkeypatch):
    """No browser draws here: a session's first lens run does not wait for one to draw its
    counts (`lens_common.counts_first`; its own test records the pause instead)."""
    from pages import lens_common

    monkeypatch.setattr(lens_common, "pause", lambda seconds: None)


@pytest.fixture(autouse=True)
def router_mode(request, monkeypatch):
    """Every AppTest run starts a fresh PagesManager with Streamlit's old-pages flag reset,
    which a server only has before its first st.navigation: tests run the app as a warm
    server does (through the router), except those marked `legacy_pages`."""
    if request.node.get_closest_marker("legacy_pages"):
        return
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__

    def warm_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", warm_init)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "demix_home"
    monkeypatch.setenv("DEMIX_HOME", str(home))
    monkeypatch.setenv("DEMIX_NO_WORKERS", "1")
    yield home
    leftover = store_processes(home)
    kill_and_reap(leftover)
    assert leftover == [], "an app test started a worker process"


@pytest.fixture(scope="session")
def finished_home(tmp_path_factory) -> Path:
    """Two finished runs (uniform, DeMix) and a finished 2 x 2 mu x alpha sweep."""
    from demix_core.runs import RunStore

    home = tmp_path_factory.mktemp("finished") / "demix_home"
    store = RunStore(home)
    finish(store, store.submit(tiny(), name="plain", start=False))
    demix = tiny("demix", sampler_options={"base_sampler": "uniform"})
    finish(store, store.submit(demix, name="demix", start=False))
    group = store.sweep(demix, {"mu": [0.5, 1.0], "alpha": [0.25, 0.75]}, start=False)
    for run in store.records(group):
        finish(store, run["id"])
    return home


@pytest.fixture
def finished(finished_home, monkeypatch) -> Path:
    monkeypatch.setenv("DEMIX_HOME", str(finished_home))
    monkeypatch.setenv("DEMIX_NO_WORKERS", "1")
    return finished_home
