"""`scripts/serve.py`, the launcher `make app` and the browser tests start the app with: what
its warm-up imports and loads (in a process of its own, as the server would), and a server
it starts answering on the port it was given and going away, group and all, when stopped
by pid. The browser tests, whose fixture starts the app this way, check it serves the app."""

from __future__ import annotations

import importlib.util
import os
import urllib.request

from conftest import ROOT, alive_pid, free_port, start_server, stop_server
from procs import python_json

SPEC = importlib.util.spec_from_file_location("serve", ROOT / "scripts" / "serve.py")
serve = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(serve)


def test_page_imports_lists_the_demix_core_names_of_app_and_pages(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nfrom pages import common\n")
    (tmp_path / "pages" / "a.py").write_text(
        "import numpy as np\nfrom demix_core import lens, plots\nfrom demix_core.data import BUILTIN\n"
        "def f():\n    import demix_core.training\n    from . import b\n"
    )
    (tmp_path / "pages" / "b.py").write_text("from demix_core import plots\nimport demix_core\n")
    assert serve.page_imports(tmp_path) == [
        "demix_core.lens",
        "demix_core.plots",
        "demix_core",
        "demix_core.data.BUILTIN",
        "demix_core.data",
        "demix_core.training",
    ]


def test_the_warm_up_imports_the_lens_stack_and_loads_the_examples_datasets():
    code = (
        "import json, sys; sys.path[:0] = ['scripts', '.']\n"
        "import serve; serve.warm()\n"
        "from demix_core.data import _load_cached\n"
        "print(json.dumps({'modules': sorted(sys.modules), "
        "'datasets': _load_cached.cache_info().currsize}))\n"
    )
    got = python_json(code, cwd=ROOT)
    modules = set(got["modules"])
    wanted = {"torch", "pandas", "pyarrow", "demix_core.lesson", "demix_core.lens"}
    wanted |= {"demix_core.sampler_frames", "demix_core.checkpoint", "demix_core.training"}
    assert wanted <= modules
    # Streamlit's caches belong to the running server; UMAP (seconds) loads on demand
    assert "streamlit" not in modules and "umap" not in modules
    assert got["datasets"] == 3  # Nations, UMLS, Kinships; the synthetic example is generated


def test_the_launcher_serves_on_its_port_and_stops_by_pid(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    proc = start_server(home, port)  # returns once /_stcore/health answers on `port`
    try:
        cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read().split(b"\0")
        assert str(ROOT / "scripts" / "serve.py").encode() in cmdline
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200 and b'id="root"' in r.read()  # Streamlit's page shell
    finally:
        stop_server(proc)
    assert not alive_pid(proc.pid)
    try:
        os.killpg(proc.pid, 0)
        raise AssertionError("a process of the server's group outlived it")
    except ProcessLookupError:
        pass
