"""Every page through Streamlit's AppTest, against a temporary run store."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest
from app_support import NATIONS, ROOT, chart_traces, finish, open_app, tiny
from streamlit.testing.v1 import AppTest

from demix_core.runs import RunStore

PAGES = ("pages/home.py", "pages/lesson.py", "pages/train.py", "pages/runs.py", "pages/compare.py")


app = open_app


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(home, page):
    at = app(page)
    assert at.title, "the page has a title"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_finished_runs(finished, page):
    app(page)


def test_home_lists_the_builtin_datasets_with_their_counts(home):
    at = app()
    table = at.table[0].value
    assert list(table.index) == ["nations", "umls", "kinships", "wn18rr", "fb15k-237"]
    nations = table.loc["nations"]
    lines = {s: len((NATIONS / f"{s}.txt").read_text().splitlines()) for s in ("train", "test")}
    assert (nations["train"], nations["test"]) == (lines["train"], lines["test"])
    assert len(at.get("image")) == 1, "the false-negative picture"


def test_quick_demo_queues_two_umls_runs_and_opens_runs(home):
    at = app()
    button(at, "Quick demo").click().run()
    runs = RunStore(home).records()
    assert sorted(r["sampler"] for r in runs) == ["demix", "uniform"]
    assert {r["status"] for r in runs} == {"queued"} and {r["dataset"] for r in runs} == {"umls"}
    from demix_core.config import recommended_demix

    want = {"base_sampler": "uniform", **recommended_demix("umls", "rotate")}
    assert runs[0]["config"]["sampler_options"] == want  # mu, alpha: the sensitivity picks
    assert at.title[0].value == "Runs"
    assert len(at.progress) == 2


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [("train_lr", 0.0, "Learning rate"), ("train_alpha", 1.5, "alpha"), ("train_mu", -1.0, "mu")],
)
def test_train_form_names_the_bad_field_and_blocks_submit(home, key, value, field):
    at = app("pages/train.py")
    assert not at.error and not button(at, "Submit run").disabled
    at.number_input(key=key).set_value(value).run()
    assert len(at.error) == 1 and at.error[0].value.startswith(f"**{field}**")
    assert button(at, "Submit run").disabled


def test_train_defaults_follow_the_dataset(home):
    from demix_core.config import recommended

    at = app("pages/train.py")
    at.selectbox(key="train_builtin").set_value("umls").run()
    for name in ("steps", "dim", "lr"):
        assert at.number_input(key=f"train_{name}").value == recommended("umls", "rotate")[name]


def test_train_demix_defaults_are_the_sensitivity_picks(home):
    from demix_core.config import DEMIX_DEFAULTS

    at = app("pages/train.py")
    for dataset, model in (("umls", "rotate"), ("kinships", "transe")):
        at.selectbox(key="train_builtin").set_value(dataset).run()
        at.selectbox(key="train_model").set_value(model).run()
        want = DEMIX_DEFAULTS[(dataset, model)]
        assert at.number_input(key="train_mu").value == want["mu"]
        assert at.number_input(key="train_alpha").value == want["alpha"]


def test_train_values_survive_a_page_change(home):
    at = app("pages/train.py")
    at.number_input(key="train_dim").set_value(48).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="train_dim").value == 48


def test_submit_queues_the_form_config_and_runs_page_shows_it(home):
    at = app("pages/train.py")
    at.number_input(key="train_steps").set_value(30).run()
    at.number_input(key="train_mu").set_value(3.0).run()
    button(at, "Submit run").click().run()
    store = RunStore(home)
    (run,) = store.records()
    assert run["status"] == "queued" and store.server_pid() is None
    assert run["steps"] == 30 and run["config"]["sampler_options"]["mu"] == 3.0
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert at.selectbox(key="runs_pick").value == run["id"]
    assert "queued" in at.progress[0].proto.text


def test_sweep_queues_one_run_per_mu_alpha_point(home):
    at = app("pages/train.py")
    at.multiselect(key="train_mus").set_value([1.0, 3.0]).run()
    at.multiselect(key="train_alphas").set_value([0.25, 0.5, 0.75]).run()
    button(at, "Submit sweep (6 runs)").click().run()
    runs = RunStore(home).records()
    points = sorted((r["params"]["mu"], r["params"]["alpha"]) for r in runs)
    assert points == [(m, a) for m in (1.0, 3.0) for a in (0.25, 0.5, 0.75)]
    assert len({r["group"] for r in runs}) == 1


def test_uploaded_splits_are_validated_like_any_dataset(home):
    at = app("pages/train.py")
    at.radio(key="train_source").set_value("upload").run()
    texts = {s: (NATIONS / f"{s}.txt").read_bytes() for s in ("train", "valid", "test")}
    texts["train"] = gzip.compress(texts["train"])  # gzip is accepted and stored unpacked
    for uploader, split in zip(at.file_uploader, ("train", "valid", "test")):
        uploader.set_value((f"{split}.txt", texts[split], "text/plain"))
    at.run()
    assert not at.error
    folder = at.session_state["train_upload"]
    assert folder.startswith(str(home / "uploads"))
    assert sorted(os.listdir(folder)) == ["test.txt", "train.txt", "valid.txt"]
    assert "1,592 train" in " ".join(c.value for c in at.caption)
    at.file_uploader[1].set_value(("valid.txt", b"a\tb\n", "text/plain")).run()
    assert "expected 3 tab-separated columns" in at.error[0].value
    assert button(at, "Submit run").disabled


def test_runs_page_reads_appended_metrics_and_notices_a_rewrite(finished):
    store = RunStore(finished)
    run = next(r for r in store.records() if r["name"] == "plain")
    log = store.run_dir(run["id"]) / "metrics.jsonl"
    original = log.read_text()
    try:
        at = app("pages/runs.py")
        at.selectbox(key="runs_pick").set_value(run["id"]).run()
        losses = lambda: chart_traces(at)[0][0]["x"]  # noqa: E731
        steps = [json.loads(x)["step"] for x in original.splitlines() if '"train"' in x]
        assert losses() == steps
        with log.open("a") as f:  # a resumed run appends
            f.write(json.dumps({"kind": "train", "step": 21, "loss": 0.5}) + "\n")
        at.run()
        assert losses() == [*steps, 21]
        log.with_suffix(".tmp").write_text("\n".join(original.splitlines()[:3]) + "\n")
        log.with_suffix(".tmp").replace(log)  # a fresh restart rewrites the file
        at.run()
        kept = [json.loads(x) for x in original.splitlines()[:3]]
        assert losses() == [r["step"] for r in kept if r["kind"] == "train"]
    finally:
        log.write_text(original)


def test_runs_page_cancel_resume_and_confirmed_delete(home):
    store = RunStore(home)
    queued = store.submit(tiny(), name="to cancel", start=False)
    done = store.submit(tiny(), name="to delete", start=False)
    finish(store, done)
    at = app("pages/runs.py")
    at.selectbox(key="runs_pick").set_value(queued).run()
    button(at, "Cancel run").click().run()
    assert store.get(queued)["status"] == "cancelled"
    at.run()
    button(at, "Resume run").click().run()
    assert store.get(queued)["status"] == "queued"
    at.selectbox(key="runs_pick").set_value(done).run()
    labels = {b.proto.label for b in at.download_button}
    assert labels == {"Download config.json", "Download metrics.jsonl", "Download checkpoint.pt"}
    button(at, "Delete run").click().run()
    assert at.warning and done in [r["id"] for r in store.records()], "asks first"
    button(at, "Yes, delete it").click().run()
    assert [r["id"] for r in store.records()] == [queued]
    assert not store.run_dir(done).exists()


def test_compare_overlays_two_finished_runs_and_tabulates_them(finished):
    store = RunStore(finished)
    at = app("pages/compare.py")
    chosen = at.multiselect(key="compare_runs").value
    assert len(chosen) == 2
    charts = chart_traces(at)
    mrr_by_step, hits_by_step, mrr_by_time = charts[0], charts[1], charts[2]
    assert len(mrr_by_step) == len(hits_by_step) == len(mrr_by_time) == 2
    evals = [r for r in store.read_metrics(chosen[0])[0].to_dict("records") if r["kind"] == "eval"]
    assert mrr_by_step[0]["x"] == [r["step"] for r in evals]
    assert mrr_by_step[0]["y"] == pytest.approx([r["mrr"] for r in evals])
    assert mrr_by_time[0]["x"] == pytest.approx([r["seconds"] for r in evals])
    table = at.dataframe[0].value
    assert len(table) == 2
    assert list(table["test MRR"]) == pytest.approx([store.get(i)["final"]["mrr"] for i in chosen])
    labels = {b.proto.label for b in at.download_button}
    assert {"Table as CSV", "Figures as HTML"} <= labels


def test_compare_maps_a_sweep_on_mu_by_alpha(finished):
    store = RunStore(finished)
    at = app("pages/compare.py")
    group = at.selectbox(key="compare_group").value
    heat = chart_traces(at)[-1][0]
    assert (
        heat["type"] == "heatmap" and heat["y"] == ["0.5", "1.0"] and heat["x"] == ["0.25", "0.75"]
    )
    finals = {
        (r["params"]["mu"], r["params"]["alpha"]): r["final"]["mrr"] for r in store.records(group)
    }
    expected = [[finals[(m, a)] for a in (0.25, 0.75)] for m in (0.5, 1.0)]
    assert np.asarray(heat["z"]) == pytest.approx(np.asarray(expected))


def test_a_finished_run_resumes_to_more_steps(home):
    store = RunStore(home)
    run_id = store.submit(tiny(), name="longer", start=False)
    finish(store, run_id)
    at = app("pages/runs.py")
    target = at.number_input[0]
    assert target.value == 21 and target.min == 21, "a done run can only go further"
    target.set_value(40).run()
    button(at, "Resume run").click().run()
    run = store.get(run_id)
    assert (run["status"], run["steps"], run["step"]) == ("queued", 40, 20)


@pytest.mark.legacy_pages
@pytest.mark.parametrize("page", ("pages/runs.py", "pages/mpne.py"))
def test_a_cold_servers_deep_link_goes_through_the_router(home, page):
    """A server's first script runs a `pages/` folder the old way (the page file alone, every
    file of the folder listed); AppTest starts every run that way. The page must send it
    through app.py: the router's sidebar (run store, glossary) is there and only the seven
    real pages are registered."""
    from streamlit.runtime.pages_manager import PagesManager

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()  # a fresh PagesManager: the old way, then routed
    assert not at.exception, at.exception
    assert PagesManager.uses_pages_directory is False
    assert any(c.value.startswith("Run store") for c in at.sidebar.caption)
    assert [e.label for e in at.sidebar.expander] == ["Glossary"]


def test_examples_are_read_only_on_runs_and_listed_on_compare(home):
    at = app("pages/runs.py")
    picked = at.selectbox(key="runs_pick")
    assert picked.value.startswith("example-")
    assert next(m.value for m in at.metric if m.label == "Status") == "example"
    labels = {b.label for b in at.button}
    assert not labels & {"Resume run", "Delete run", "Cancel run"}
    assert any("read-only example" in c.value for c in at.caption)
    mrr = json.loads((ROOT / "assets/examples" / picked.value / "example.json").read_text())
    assert next(m.value for m in at.metric if m.label == "Test MRR") == f"{mrr['final']['mrr']:.3f}"
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    chosen = at.multiselect(key="compare_runs").value
    assert len(chosen) == 2 and all(i.startswith("example-") for i in chosen)
