"""The lens pages (MPNE, AdaMix, Samplers) through AppTest, on a store holding one small run
trained here: RotatE on a 200-person synthetic KG (hidden facts = known false negatives), 30
steps with a checkpoint every 10."""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_support import chart_traces, finish, open_app
from lens_support import LENS_DATASET, lens_config
from streamlit.testing.v1 import AppTest

from demix_core import analysis
from demix_core.data import load_dataset
from demix_core.runs import RunStore
from demix_core.sampling import SAMPLERS

PAGES = ("pages/mpne.py", "pages/adamix.py", "pages/samplers.py")


@pytest.fixture(scope="session")
def lens_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("lens") / "demix_home"
    store = RunStore(home)
    finish(store, store.submit(lens_config(), name="lens fixture", start=False))
    return home


@pytest.fixture
def lens(lens_home, monkeypatch):
    monkeypatch.setenv("DEMIX_HOME", str(lens_home))
    monkeypatch.setenv("DEMIX_NO_WORKERS", "1")
    return RunStore(lens_home)


app = open_app


def candidates(at: AppTest) -> int:
    """Positives x K, as the MPNE page's widgets say."""
    return at.number_input(key="mpne_n").value * at.number_input(key="mpne_k").value


def metric(at: AppTest, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label))


def traces(at: AppTest, chart: int) -> dict[str, dict]:
    return {t.get("name"): t for t in chart_traces(at)[chart]}


@pytest.mark.parametrize("page", PAGES)
def test_each_lens_page_renders_with_its_teaching_text(lens, page):
    at = app(page)
    assert at.title and at.latex, "a title and the formula of what is shown"
    name = page.removeprefix("pages/").removesuffix(".py")
    assert at.select_slider(key=f"{name}_step").options == ["10", "20", "30"]
    assert len(at.get("plotly_chart")) >= 1


@pytest.mark.parametrize("page", PAGES)
def test_a_sessions_first_lens_run_pauses_once_after_its_counts(lens, page, monkeypatch):
    """So a browser draws the counts before it has loaded Plotly's scripts for the charts
    below them (docs/performance.md); later runs and other lens pages do not pause."""
    from pages import lens_common

    paused = []
    monkeypatch.setattr(lens_common, "pause", paused.append)
    at = app(page)
    assert paused == [lens_common.FIRST_PAUSE]
    order = [node.type for node in at.main]  # depth first, in the order the page drew them
    assert order.index("metric") < order.index("plotly_chart"), order
    at.number_input(key=f"{page[6:-3]}_k").set_value(16).run()
    for other in PAGES:
        at.switch_page(other).run()
    assert paused == [lens_common.FIRST_PAUSE], "one pause a session"


def test_mu_moves_the_mpn_count_as_the_threshold_formula_says(lens):
    at = app("pages/mpne.py")
    counts = {}
    for mu in (0.0, 0.5, 1.0, 3.0, 6.0):
        at.slider(key="mpne_mu").set_value(mu).run()
        assert not at.exception, at.exception
        counts[mu] = metric(at, "MPN")
        assert counts[mu] + metric(at, "TN") == candidates(at)
    values = list(counts.values())
    assert values == sorted(values), f"larger mu, lower tau, more MPN: {counts}"
    assert counts[6.0] > counts[0.0]


def test_mpn_count_matches_the_library(lens):
    from demix_core.checkpoint import model_from_checkpoint
    from demix_core.data import load_dataset
    from demix_core.lens import demix_lens

    at = app("pages/mpne.py")
    at.slider(key="mpne_mu").set_value(2.5).run()
    run_id = lens.records()[0]["id"]
    model = model_from_checkpoint(lens.load_checkpoint(run_id, 30)).eval()
    kg = load_dataset(LENS_DATASET)
    n, k = at.number_input(key="mpne_n").value, at.number_input(key="mpne_k").value
    pos = analysis.select_positives(kg, analysis.PositivesSpec(n=n))
    result = demix_lens(model, kg, pos, mu=2.5, alpha=0.5, k=k)
    s = analysis.summary(result)
    assert (metric(at, "MPN"), metric(at, "TN")) == (s["n_mpn"], s["n_tn"])
    assert metric(at, "Known false negatives") == s["n_true"] > 0
    pr = traces(at, 1)
    curve = analysis.pr_frame(result, pr["recall"]["x"])
    np.testing.assert_allclose(pr["recall"]["y"], curve["recall"])
    (line,) = json.loads(at.get("plotly_chart")[1].proto.spec)["layout"]["shapes"]
    assert line["x0"] == 2.5, "the current mu is marked on the curve"


def test_step_slider_reads_another_checkpoint(lens):
    at = app("pages/mpne.py")
    table_at_30 = at.dataframe[0].value
    at.select_slider(key="mpne_step").set_value("10").run()
    assert not at.exception
    table_at_10 = at.dataframe[0].value
    assert not np.allclose(np.sort(table_at_10["score"]), np.sort(table_at_30["score"]))


def test_table_shows_the_most_mpn_like_page_and_offers_all_as_csv(lens):
    at = app("pages/mpne.py")
    table = at.dataframe[0].value
    assert {"head", "relation", "tail", "score", "verdict", "known truth"} <= set(table)
    assert candidates(at) > 200 == len(table) and table["head"].str.startswith("person_").all()
    assert list(table["margin"]) == sorted(table["margin"], reverse=True)
    assert ((table["verdict"] == "MPN") == (table["score"] >= table["tau"])).all()
    assert (table["verdict"] == "MPN").sum() == min(metric(at, "MPN"), 200)
    assert f"The 200 of {candidates(at):,} candidates" in " ".join(c.value for c in at.caption)
    assert "Table as CSV" in [b.proto.label for b in at.get("download_button")]


def test_one_pattern_up_close_is_drawn_once_opened(lens):
    at = app("pages/mpne.py")
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe) == 1, "closed: not drawn"
    at.session_state["mpne_closeup"] = True
    at.run()
    assert not at.exception, at.exception
    row = at.selectbox(key="mpne_row").value
    spec = at.get("plotly_chart")[2].proto.spec
    query = at.selectbox(key="mpne_row").format_func(row).split(" · ")[0]
    assert query in spec, "the close-up figure is about the chosen query"
    positives = at.dataframe[1].value
    assert list(positives["score"]) == sorted(positives["score"], reverse=True)


def test_an_open_close_up_and_its_query_travel_in_the_link(lens):
    at = app("pages/mpne.py")
    assert at.query_params["closeup"] == "false" and "q" not in at.query_params
    at.session_state["mpne_closeup"] = True
    at.run()
    box = at.selectbox(key="mpne_row")
    labels = box.options  # AppTest picks by label: take a query whose label is unique
    other = next(
        r for r in range(len(labels)) if r != box.value and labels.count(box.format_func(r)) == 1
    )
    box.set_value(other).run()
    assert at.query_params["q"] == str(other)
    assert at.query_params["closeup"] == "true"
    again = app("pages/mpne.py", dict(at.query_params))
    assert again.selectbox(key="mpne_row").value == at.selectbox(key="mpne_row").value
    assert len(again.get("plotly_chart")) == 3, "the close-up drawn, as in the sender's view"


def test_positives_of_a_relation_or_an_entity(lens):
    at = app("pages/mpne.py")
    at.radio(key="mpne_kind").set_value("relation").run()
    at.selectbox(key="mpne_relation").set_value("spouse_of").run()
    assert not at.exception
    assert (at.dataframe[0].value["relation"] == "spouse_of").all()
    at.radio(key="mpne_kind").set_value("entity").run()
    at.text_input(key="mpne_query").set_value("person_17").run()
    assert at.selectbox(key="mpne_entity").options[0] == "person_17"
    table = at.dataframe[0].value
    assert (
        table["query"].str.contains(r"\(person_17,|, person_17\)")
        | (table["answer"] == "person_17")
    ).all()


@pytest.mark.parametrize(("alpha", "end"), [(1.0, "candidate"), (0.0, "partner")])
def test_alpha_puts_mixed_points_at_the_ends_of_their_segments(lens, alpha, end):
    at = app("pages/adamix.py")
    at.slider(key="adamix_alpha").set_value(alpha).run()
    assert not at.exception
    t = traces(at, 0)
    for verdict, mixed in (("MPN", "partially positive"), ("TN", "harder negative")):
        if f"{verdict} {end}" in t:
            np.testing.assert_allclose(t[mixed]["x"], t[f"{verdict} {end}"]["x"], atol=1e-4)
            np.testing.assert_allclose(t[mixed]["y"], t[f"{verdict} {end}"]["y"], atol=1e-4)
    assert "TN candidate" in t
    table = at.dataframe[0].value
    expected = (1 - alpha) * table["partner label"]
    np.testing.assert_allclose(table["soft label"], expected)


def test_umap_replaces_pca_and_alpha_moves_it(lens):
    at = app("pages/adamix.py")
    at.radio(key="adamix_method").set_value("UMAP").run()
    assert not at.exception
    assert "UMAP of the entity embeddings" in at.get("plotly_chart")[-1].proto.spec
    at.slider(key="adamix_alpha").set_value(0.8).run()
    assert not at.exception


def test_samplers_page_lists_every_registered_sampler(lens):
    at = app("pages/samplers.py")
    summary = at.dataframe[0].value.set_index("sampler")
    most = summary["fn_rate"].idxmax()  # the headline, shown before any chart
    assert at.metric[0].value == f"{most} · {summary.at[most, 'fn_rate']:.1%}"
    fewest = summary["fn_rate"].idxmin()
    assert at.metric[1].value == f"{fewest} · {summary.at[fewest, 'fn_rate']:.1%}"
    heatmap = chart_traces(at)[0]
    assert len(heatmap) == 1 and heatmap[0]["y"] == list(SAMPLERS), "one row per sampler"
    for row in heatmap[0]["z"]:
        assert np.isclose(sum(row), 100.0), "each row: shares of that sampler's candidates"
    at.session_state["samplers_triples"] = True
    at.run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["sampler"]) == list(SAMPLERS)
    assert set(at.dataframe[1].value["sampler"]) == set(SAMPLERS)
    fn_bars, entropy_bars = chart_traces(at)[1][0], chart_traces(at)[2][0]
    assert fn_bars["x"] == entropy_bars["x"] == list(SAMPLERS)
    np.testing.assert_allclose(fn_bars["y"], at.dataframe[0].value["fn_rate"])
    table, each = at.dataframe[1].value, 200 // len(SAMPLERS)
    assert list(dict.fromkeys(table["sampler"])) == list(SAMPLERS), "in the registry's order"
    for _, part in table.groupby("sampler", sort=False):
        assert 0 < len(part) <= each
        assert list(part["score"]) == sorted(part["score"], reverse=True)


def test_samplers_draw_categories_and_triples_once_opened_and_the_link_keeps_them(lens):
    at = app("pages/samplers.py")
    assert len(at.get("plotly_chart")) == 3 and len(at.dataframe) == 1, "closed: not drawn"
    assert at.query_params["cats"] == at.query_params["triples"] == "false"
    at.session_state["samplers_cats"] = True
    at.session_state["samplers_dist"] = "lines"
    at.run()
    assert not at.exception, at.exception
    traces = chart_traces(at)
    assert [t["name"] for t in traces[0]] == list(SAMPLERS), "one line per sampler"
    categories = traces[3]
    assert {t["name"] for t in categories} == set(SAMPLERS) and len(at.dataframe) == 1
    assert (at.query_params["dist"], at.query_params["cats"]) == ("lines", "true")
    again = app("pages/samplers.py", dict(at.query_params))
    assert len(again.get("plotly_chart")) == 4, "the categories drawn, as in the sender's view"
    assert [t["name"] for t in chart_traces(again)[0]] == list(SAMPLERS)


def test_lens_values_survive_page_changes(lens):
    at = app("pages/mpne.py")
    at.slider(key="mpne_mu").set_value(2.5).run()
    at.number_input(key="mpne_k").set_value(12).run()
    at.switch_page("pages/adamix.py").run()
    assert not at.exception
    assert (at.slider(key="adamix_mu").value, at.number_input(key="adamix_k").value) == (2.5, 12)
    at.slider(key="adamix_mu").set_value(4.0).run()
    at.switch_page("pages/samplers.py").run()
    assert at.number_input(key="samplers_k").value == 12
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/mpne.py").run()
    assert (at.slider(key="mpne_mu").value, at.number_input(key="mpne_k").value) == (4.0, 12)


@pytest.fixture
def no_examples(tmp_path, monkeypatch):
    """A checkout whose assets/examples is empty: the lens pages fall back to a demo run."""
    monkeypatch.setenv("DEMIX_EXAMPLES", str(tmp_path / "no_examples"))


@pytest.mark.parametrize("page", PAGES)
def test_empty_store_shows_the_shipped_examples(home, page):
    """A fresh clone, nothing trained: the page opens on a read-only example with data."""
    at = app(page)
    name = page.removeprefix("pages/").removesuffix(".py")
    picked = at.selectbox(key=f"{name}_run")
    assert picked.value.startswith("example-") and "read-only example" in picked.format_func(
        picked.value
    )
    assert len(at.get("plotly_chart")) >= 1
    assert not [b for b in at.button if b.label == "Train a small demo model"]


def test_user_runs_come_before_the_examples(lens):
    at = app("pages/mpne.py")
    options = at.selectbox(key="mpne_run").options
    ids = [r["id"] for r in lens.records()]
    assert options[: len(ids)] == [at.selectbox(key="mpne_run").format_func(i) for i in ids]
    assert all("read-only example" in o for o in options[len(ids) :]) and len(options) > len(ids)


@pytest.mark.parametrize("page", PAGES)
def test_empty_store_offers_a_demo_run(home, no_examples, page):
    at = app(page)
    assert "No run in the store has a checkpoint" in at.info[0].value
    next(b for b in at.button if b.label == "Train a small demo model").click().run()
    assert not at.exception
    (run,) = RunStore(home).records()
    assert run["status"] == "queued" and run["name"].startswith("Lens demo")
    assert run["config"]["checkpoint_every"] > 0


def test_empty_store_opens_a_checkpoint_file(home, no_examples, lens_home):
    store = RunStore(lens_home)
    path = store.run_dir(store.records()[0]["id"]) / "checkpoints" / "step_0000020.pt"
    at = app("pages/mpne.py")
    at.text_input[0].set_value("/no/such/file.pt").run()
    assert "no such file" in at.error[0].value and not at.exception
    at.text_input[0].set_value(str(path)).run()
    assert not at.exception, at.exception
    assert f"Using the checkpoint file `{path}`." in [c.value for c in at.caption]
    assert metric(at, "MPN") + metric(at, "TN") == candidates(at)
    next(b for b in at.button if b.label == "Use a run from the store instead").click().run()
    assert "No run in the store has a checkpoint" in at.info[0].value


app_at = open_app


def test_a_shared_url_restores_the_view_and_the_url_follows_the_widgets(home):
    params = {"run": "example-umls-demix", "ckpt": "600", "mu": "2.5", "k": "12", "side": "head"}
    at = app_at("pages/mpne.py", params)
    assert not at.warning
    assert at.selectbox(key="mpne_run").value == "example-umls-demix"
    assert at.select_slider(key="mpne_step").value == 600
    assert (at.slider(key="mpne_mu").value, at.number_input(key="mpne_k").value) == (2.5, 12)
    assert at.radio(key="mpne_side").value == "head"
    assert metric(at, "MPN") + metric(at, "TN") == candidates(at)
    at.slider(key="mpne_mu").set_value(0.5).run()
    assert at.query_params["mu"] == "0.5" and at.query_params["run"] == "example-umls-demix"
    assert at.query_params["ckpt"] == "600" and at.query_params["k"] == "12"
    again = app_at("pages/mpne.py", dict(at.query_params))
    assert metric(again, "MPN") == metric(at, "MPN") and metric(again, "TN") == metric(at, "TN")


def test_a_stale_url_falls_back_with_notices(home):
    params = {"run": "20250101-000000-deleted", "ckpt": "7", "mu": "-3", "proj": "tsne"}
    at = app_at("pages/adamix.py", params)
    notices = " ".join(w.value for w in at.warning)
    assert "mu=-3" in notices and "proj=tsne" in notices and "20250101-000000-deleted" in notices
    assert at.slider(key="adamix_mu").value == 1.0
    assert at.radio(key="adamix_method").value == "PCA"
    assert at.selectbox(key="adamix_run").value.startswith("example-")
    assert len(at.get("plotly_chart")) >= 1


def test_adamix_shows_one_query_by_default_with_arrows_and_named_partners(home):
    at = app_at("pages/adamix.py", {"run": "example-umls-uniform"})
    assert at.radio(key="adamix_view").value == "one query"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    k = at.number_input(key="adamix_k").value
    arrows = [a for a in spec["layout"]["annotations"] if a.get("showarrow")]
    assert len(arrows) == k, "one arrow per candidate of the one query"
    partners = [t for t in spec["data"] if t.get("name", "").startswith("partner")]
    assert partners and all("text" in t.get("mode", "") for t in partners)
    at.text_input(key="adamix_find").set_value("cell").run()
    assert not at.exception
    assert any(t.get("name", "").startswith("found: ") for t in chart_traces(at)[0])
    found = analysis.search_names(load_dataset("umls").entities, "cell", limit=1)[0]
    assert any(m.value.startswith(f"**{found}**: score ") for m in at.markdown)
    nearest = [d.value for d in at.dataframe if list(d.value.columns) == ["entity", "distance"]]
    assert len(nearest) == 1 and len(nearest[0]) == 5 and found not in set(nearest[0]["entity"])
    at.radio(key="adamix_view").set_value("all queries").run()
    assert at.slider(key="adamix_rows").value == 3
