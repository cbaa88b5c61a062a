"""Helpers of the app tests: tiny Nations configs, training a queued run in-process,
finding processes by command line, reading Plotly specs out of AppTest."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
NATIONS = ROOT / "assets" / "datasets" / "nations"


def open_app(page: str | None = None, params: dict | None = None, check: bool = True):
    """AppTest of the whole app (router and sidebar) after its first run, then, with `page`,
    switched to that page with the URL's query `params` set; `check`: no exception on either
    run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    assert not (check and at.exception), at.exception
    at.query_params.update(params or {})
    if page:
        at.switch_page(page).run()
        assert not (check and at.exception), at.exception
    return at


def tiny(sampler: str = "uniform", **overrides):
    """A Nations TransE config that trains 20 steps in well under a second."""
    from demix_core.config import make_config

    values = dict(
        dim=16, batch_size=64, negatives=4, steps=20, log_every=2, eval_every=5, compile="off"
    )
    values.update(overrides)
    return make_config(str(NATIONS), "transe", sampler, **values)


def finish(store, run_id: str) -> None:
    """Train a queued run here, exactly as a worker process would."""
    from demix_core.runs.worker import run_one

    assert run_one(store.home, run_id) == "done"


def decode(value):
    """A Plotly JSON array: a list, or numpy's base64 `{"dtype", "bdata"}` form."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return (flat.reshape(shape) if shape else flat).tolist()
    return value


def chart_traces(at) -> list[list[dict]]:
    """Every plotly chart on the page, as its list of traces with x/y decoded."""
    charts = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        charts.append(
            [{**t, **{k: decode(t.get(k)) for k in ("x", "y", "z")}} for t in spec["data"]]
        )
    return charts
