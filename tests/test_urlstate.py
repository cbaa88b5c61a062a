"""URL state of the analysis pages: a round trip keeps every value, and every bad value is
reported once and left out (so the page uses its default), never raised."""

import pytest

from demix_core.urlstate import FIELDS, encode, parse, pick, share_url

STATE = {
    "run": "20261204-101010-abcdef0123",
    "step": 400,
    "kind": "relation",
    "relation": "intergovorgs",
    "n": 64,
    "seed": 7,
    "k": 16,
    "side": "both",
    "base": "bernoulli",
    "mu": 2.3,
    "alpha": 0.35,
    "lambda": "beta",
    "method": "UMAP",
    "view": "all queries",
    "rows": 5,
    "show": "MPN",
    "relative": False,
    "beta": 2.5,
    "row": 12,
    "lesson": 4,
}


def test_round_trip_keeps_every_value():
    params = encode(STATE)
    assert params["ckpt"] == "400" and params["mu"] == "2.3" and params["relative"] == "false"
    values, notices = parse(params, list(FIELDS))
    assert notices == []
    assert values == {k: v for k, v in STATE.items() if k != "entity"}


@pytest.mark.parametrize(
    "param, raw, reason",
    [
        ("mu", "-3", "outside [0, 6]"),
        ("mu", "abc", "not a number"),
        ("mu", "nan", "not a finite number"),
        ("alpha", "1.5", "outside [0, 1]"),
        ("k", "3.5", "not a number"),
        ("k", "0", "outside [1, 512]"),
        ("side", "left", "not one of tail, head, both"),
        ("proj", "tsne", "not one of PCA, UMAP"),
        ("relative", "maybe", "not true or false"),
        ("step", "0", "outside [1, ...]"),
        ("ckpt", "-5", "outside [0, ...]"),
    ],
)
def test_a_bad_value_is_one_notice_and_left_out(param, raw, reason):
    values, notices = parse({param: raw, "n": "10"}, list(FIELDS))
    assert len(notices) == 1 and reason in notices[0] and f"{param}={raw}" in notices[0]
    assert values == {"n": 10}


def test_floats_snap_to_the_slider_grid_and_repeats_take_the_last():
    values, notices = parse({"mu": "1.26", "alpha": ["0.2", "0.62"]}, ["mu", "alpha"])
    assert notices == [] and values == {"mu": 1.3, "alpha": 0.6}


def test_names_not_asked_for_are_ignored():
    assert parse({"mu": "-3", "k": "9"}, ["k"]) == ({"k": 9}, [])


def test_pick_falls_back_with_a_notice():
    assert pick("b", ["a", "b"], "Run") == ("b", None)
    assert pick(None, ["a", "b"], "Run") == ("a", None)
    chosen, notice = pick("gone", ["a", "b"], "Run", default="b")
    assert chosen == "b" and "gone" in notice and "showing b" in notice
    assert pick(7, [], "Step") == (None, None)


def test_share_url_replaces_the_query():
    url = share_url("http://h:1/mpne?old=1", {"mu": "2", "run": "a b"})
    assert url == "http://h:1/mpne?mu=2&run=a+b"
    assert share_url("http://h:1/mpne", {}) == "http://h:1/mpne"
