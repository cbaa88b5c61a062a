"""The Results page: every experiment's view renders from its saved numbers, the conclusion is
the one computed from them, and a user's re-run (in the run store) takes precedence over the
committed result."""

from __future__ import annotations

import json

import pytest
from app_support import open_app
from streamlit.testing.v1 import AppTest

from demix_core import experiments


def results_page(name: str | None = None) -> AppTest:
    return open_app("pages/results.py", {"experiment": name} if name else None)


@pytest.mark.parametrize("name", list(experiments.experiments()))
def test_each_experiment_view_renders(home, name):
    at = results_page(name)
    record = experiments.load(name)
    if record is None:
        assert any("Not run yet" in w.value for w in at.warning)
        assert any(f"experiment {name} --budget quick" in c.value for c in at.code)
    else:
        conclusion = experiments.get(name).conclude(record["data"])
        assert [s.value for s in at.success] == [conclusion]
        assert len(at.get("plotly_chart")) == len(experiments.get(name).figures(record["data"]))


def test_a_rerun_in_the_store_replaces_the_committed_view(home, tmp_path):
    name = "sensitivity"
    experiments.run(name, "smoke", out=home / "experiments" / name)
    mine = json.loads((home / "experiments" / name / "results.json").read_text())
    at = results_page(name)
    assert [s.value for s in at.success] == [experiments.get(name).conclude(mine["data"])]
    assert any("Your re-run" in c.value for c in at.caption)
