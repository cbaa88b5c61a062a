"""The lens pages' histograms are binned in the library and sent as bars, lines or a heatmap:
each bin's count (and percent) checked against counting the raw scores by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demix_core import palette
from demix_core.lens_plots import score_histogram
from demix_core.sampler_frames import score_bins
from demix_core.sampler_plots import distribution_heatmap, distribution_lines


def hand_counts(values: np.ndarray, lo: float, hi: float, bins: int) -> list[int]:
    """Per bin of [lo, hi] cut in `bins` equal parts, the values in [left, right), the last
    bin closed on the right (numpy's convention, counted here one value at a time)."""
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        i = min(int((v - lo) // width), bins - 1) if lo <= v <= hi else None
        if i is not None:
            counts[i] += 1
    return counts


def test_score_histogram_bars_count_each_group_of_raw_scores():
    rng = np.random.default_rng(3)
    group = rng.choice(["pattern positive", "TN", "MPN"], 3000, p=[0.1, 0.7, 0.2])
    score = np.round(rng.normal(size=3000), 2)  # rounded: values land on bin edges too
    frame = pd.DataFrame({"group": group, "score": score, "margin": score, "known_fn": score > 1})
    fig = score_histogram(frame, "score", 0.0, "tau")
    lo, hi = score.min(), score.max()
    bars = {t.name: t for t in fig.data}
    for name in ("pattern positive", "TN", "MPN"):
        values = score[group == name]
        expected = hand_counts(values, lo, hi, 40)
        assert list(bars[name].customdata) == expected
        np.testing.assert_allclose(bars[name].y, 100 * np.array(expected) / len(values))
    assert list(bars["known false negatives"].customdata) == hand_counts(
        score[score > 1], lo, hi, 40
    )
    assert sum(len(t.x) for t in fig.data) == 4 * 40, "40 bars per group, not 3,000 points"


def sampler_scores(seed: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sampler = np.repeat(["uniform", "demix", "sans"], [700, 300, 50])
    score = np.round(rng.uniform(-3, 2, 1050), 2)  # rounded: values land on bin edges too
    fn = rng.random(1050) < 0.1
    return sampler, score, fn, pd.DataFrame({"sampler": sampler, "score": score, "known_fn": fn})


def test_score_bins_count_each_sampler_on_shared_bins():
    sampler, score, fn, frame = sampler_scores()
    binned = score_bins(frame)
    lo, hi = score.min(), score.max()
    assert list(dict.fromkeys(binned["sampler"])) == ["uniform", "demix", "sans"]
    for name, part in binned.groupby("sampler", sort=False):
        mine = sampler == name
        expected = hand_counts(score[mine], lo, hi, 40)
        assert list(part["candidates"]) == expected
        assert list(part["known_fn"]) == hand_counts(score[mine & fn], lo, hi, 40)
        np.testing.assert_allclose(part["share"], 100 * np.array(expected) / mine.sum())
        np.testing.assert_allclose(part["left"], lo + (hi - lo) * np.arange(40) / 40)
        np.testing.assert_allclose(part["right"] - part["left"], (hi - lo) / 40)
        np.testing.assert_allclose(part["mid"], (part["left"] + part["right"]) / 2)


def test_score_bins_of_one_value_and_of_none():
    one = score_bins(pd.DataFrame({"sampler": ["a"] * 3, "score": [0.5] * 3, "known_fn": True}))
    assert one["candidates"].sum() == one["known_fn"].sum() == 3 and one["left"].iloc[0] == 0.5
    none = score_bins(pd.DataFrame({"sampler": [], "score": [], "known_fn": []}), 5)
    assert none.empty and "share" in none


def test_distribution_figures_draw_the_binned_shares():
    sampler, _, _, frame = sampler_scores()
    binned = score_bins(frame)
    heat = distribution_heatmap(binned)
    assert len(heat.data) == 1, "one trace however many samplers"
    assert list(heat.data[0].y) == ["uniform", "demix", "sans"]
    for row, (name, part) in zip(heat.data[0].z, binned.groupby("sampler", sort=False)):
        np.testing.assert_allclose(row, part["share"])
        assert np.isclose(sum(row), 100.0), f"{name}: shares of its own candidates"
    lines = distribution_lines(binned)
    assert [t.name for t in lines.data] == ["uniform", "demix", "sans"]
    for trace, (_, part) in zip(lines.data, binned.groupby("sampler", sort=False)):
        np.testing.assert_allclose(trace.y, part["share"])
        assert [row[0] for row in trace.customdata] == list(part["candidates"])


def test_lines_past_the_palette_are_dashed_so_no_two_look_alike():
    names = [f"s{i}" for i in range(len(palette.SERIES) + 2)]
    frame = pd.DataFrame({"sampler": names, "score": np.arange(len(names)), "known_fn": False})
    styles = [(t.line.color, t.line.dash) for t in distribution_lines(score_bins(frame)).data]
    assert len(set(styles)) == len(names)
