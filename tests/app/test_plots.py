"""The figure builders against hand-made metric frames."""

from __future__ import annotations

import math
from xml.etree import ElementTree

import pandas as pd
import pytest

from demix_core import plots


def frame(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records)


RUN = frame(
    [
        {"kind": "notice", "step": 0, "text": "compile off"},
        {"kind": "train", "step": 10, "loss": 0.9, "seconds": 1.0, "fn_rate": 0.2},
        {"kind": "eval", "split": "valid", "step": 10, "mrr": 0.3, "hits@10": 0.5, "seconds": 1.2},
        {"kind": "train", "step": 20, "loss": 0.7, "seconds": 2.0, "fn_rate": 0.1},
        {"kind": "eval", "split": "valid", "step": 20, "mrr": 0.4, "hits@10": 0.6, "seconds": 2.3},
        {"kind": "test", "step": 20, "mrr": 0.41, "hits@10": 0.61, "seconds": 2.3},
    ]
)


def test_valid_curves_take_only_validation_records_one_line_per_run():
    other = RUN.assign(mrr=RUN["mrr"] * 2)
    fig = plots.valid_figure({"a": RUN, "b": other}, "mrr", x="seconds")
    assert [t.name for t in fig.data] == ["a", "b"]
    assert list(fig.data[0].x) == [1.2, 2.3] and list(fig.data[0].y) == [0.3, 0.4]
    assert list(fig.data[1].y) == [0.6, 0.8]
    assert fig.layout.xaxis.title.text == "training time (s)"


def test_loss_and_false_negative_curves_read_train_records():
    loss = plots.loss_figure({"a": RUN})
    assert list(loss.data[0].x) == [10, 20] and list(loss.data[0].y) == [0.9, 0.7]
    fn = plots.false_negative_figure({"a": RUN})
    assert [t.name for t in fn.data] == [plots.LABELS["fn_rate"]]  # no MPNE columns: no line
    assert plots.has_false_negative_metrics(RUN)
    assert not plots.has_false_negative_metrics(RUN.drop(columns=["fn_rate"]))


def test_a_run_without_records_yet_says_so():
    for fig in (plots.loss_figure({"a": pd.DataFrame()}), plots.valid_figure({})):
        assert not fig.data
        assert fig.layout.annotations[0].text == "no data yet"


def test_sweep_heatmap_averages_repeated_points_and_leaves_missing_ones_blank():
    table = frame(
        [
            {"mu": 1.0, "alpha": 0.5, "mrr": 0.2},
            {"mu": 1.0, "alpha": 0.5, "mrr": 0.4},  # the same point with another seed
            {"mu": 3.0, "alpha": 0.25, "mrr": 0.5},
        ]
    )
    heat = plots.sweep_heatmap(table).data[0]
    assert list(heat.y) == ["1.0", "3.0"] and list(heat.x) == ["0.25", "0.5"]
    assert math.isnan(heat.z[0][0]) and heat.z[0][1] == pytest.approx(0.3)
    assert heat.z[1][0] == 0.5 and heat.text[0][0] == "" and heat.text[0][1] == "0.300"


def test_sweep_heatmap_before_any_point_finished():
    fig = plots.sweep_heatmap(frame([{"mu": 1.0, "alpha": 0.5, "status": "running"}]))
    assert not fig.data and "no finished" in fig.layout.annotations[0].text


def test_diagram_marks_one_false_and_one_true_negative():
    svg = ElementTree.fromstring(plots.false_negative_diagram())  # well-formed SVG
    ns = "{http://www.w3.org/2000/svg}"
    edges = {
        line.find(f"{ns}title").text.split(":")[0]: line.get("stroke")
        for line in svg.iter(f"{ns}line")
        if line.find(f"{ns}title") is not None
    }
    assert edges["(Marseille, located in, France)"] == plots.FALSE_NEG[1]
    assert edges["(Berlin, located in, France)"] == plots.TRUE_NEG[1]
    assert list(edges.values()).count(plots.KNOWN[1]) == 3
    names = {t.text for t in svg.iter(f"{ns}text")}
    assert {"Paris", "Marseille", "France", "Berlin", "Germany", "Lyon"} <= names


def test_figures_html_embeds_plotly_once_and_escapes_names():
    figs = {"<b>a</b>": plots.loss_figure({"a": RUN}), "b": plots.valid_figure({"a": RUN})}
    page = plots.figures_html(figs)
    assert page.count("Plotly.newPlot") == 2
    assert page.count("plotly.js v") == 1  # the library's banner: embedded once, no CDN
    assert "&lt;b&gt;a&lt;/b&gt;" in page and "<b>a</b>" not in page
