"""The Lesson page through AppTest on an empty store (the shipped examples only): walking it
forward and back, takeaways that carry the numbers the library computes, and its state in
the URL (restored, and bad values falling back with a notice)."""

from __future__ import annotations

import pytest
from app_support import open_app
from streamlit.testing.v1 import AppTest

from demix_core import analysis, lesson
from demix_core.checkpoint import model_from_checkpoint
from demix_core.data import load_dataset
from demix_core.examples import DATASETS, ExampleShelf, example_id
from demix_core.lens import demix_lens, repartition


def app(params: dict | None = None) -> AppTest:
    return open_app("pages/lesson.py", params)


def click(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


@pytest.fixture(scope="module")
def umls_lens():
    """The lens the lesson shows for UMLS, computed here from the library."""
    kg = load_dataset(DATASETS["umls"][0])
    data = ExampleShelf().load_checkpoint(example_id("umls", "uniform"))
    model = model_from_checkpoint(data).eval()
    pos = analysis.select_positives(kg, analysis.PositivesSpec("random", "", 128, 0))
    return demix_lens(model, kg, pos, mu=1.0, alpha=1.0, k=32, base_sampler="uniform", seed=0)


def test_walk_forward_and_back(home, umls_lens):
    at = app()
    seen = []
    for i, title in enumerate(lesson.STEPS, start=1):
        assert at.header[0].value == f"{i}. {title}"
        assert len(at.info) == 1 and at.info[0].value, "one takeaway per step"
        assert at.query_params["step"] == str(i)
        seen.append(at.info[0].value)
        if i < len(lesson.STEPS):
            click(at, "Next")
    assert next(b for b in at.button if b.label == "Next").disabled
    for i in range(len(lesson.STEPS) - 1, 0, -1):
        click(at, "Previous")
        assert at.header[0].value.startswith(f"{i}. ")
        assert at.info[0].value == seen[i - 1], "the same data gives the same sentence"
    assert next(b for b in at.button if b.label == "Previous").disabled
    n_true = analysis.summary(umls_lens)["n_true"]
    assert f"{n_true:,} (" in seen[0], (n_true, seen[0])


def test_mu_in_the_url_sets_the_slider_and_the_takeaway(home, umls_lens):
    at = app({"step": "4", "mu": "2.5", "ex": "umls"})
    assert at.header[0].value.startswith("4. ")
    assert at.slider(key="lesson_mu_slider").value == 2.5
    s = analysis.summary(repartition(umls_lens, 2.5))
    assert f"MPNE flags {s['n_mpn']:,} of the {s['candidates']:,}" in at.info[0].value
    at.slider(key="lesson_mu_slider").set_value(0.5).run()
    assert at.query_params["mu"] == "0.5"
    s = analysis.summary(repartition(umls_lens, 0.5))
    assert f"MPNE flags {s['n_mpn']:,} of" in at.info[0].value


def test_bad_url_values_fall_back_with_a_notice(home):
    at = app({"step": "99", "mu": "-3", "ex": "nowhere"})
    notices = " ".join(w.value for w in at.warning)
    assert "step" in notices.lower() and "mu=-3" in notices and "nowhere" in notices
    assert at.header[0].value.startswith("1. ")
    assert at.selectbox(key="lesson_example").value == "umls"
    click(at, "Next")
    click(at, "Next")
    click(at, "Next")
    assert at.slider(key="lesson_mu_slider").value == 1.0


def test_try_it_yourself_fills_the_train_form(home):
    at = app({"step": str(len(lesson.STEPS)), "mu": "2", "alpha": "0.3", "ex": "nations"})
    click(at, "Train with these settings")
    assert at.session_state["train_sampler"] == "demix"
    assert (at.session_state["train_mu"], at.session_state["train_alpha"]) == (2.0, 0.3)
    assert at.selectbox(key="train_builtin").value == "nations"
    assert at.number_input(key="train_mu").value == 2.0
