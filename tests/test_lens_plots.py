"""The lens pages' histograms are binned in the library and sent as bars: each bar's count
(and percent) checked against counting the raw scores by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demix_core.lens_plots import score_histogram
from demix_core.sampler_plots import sampler_histograms


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


def test_sampler_histograms_share_bins_and_count_each_sampler():
    rng = np.random.default_rng(4)
    sampler = np.repeat(["uniform", "demix"], [700, 300])
    score = rng.uniform(-3, 2, 1000)
    fn = rng.random(1000) < 0.1
    fig = sampler_histograms(pd.DataFrame({"sampler": sampler, "score": score, "known_fn": fn}))
    lo, hi = score.min(), score.max()
    for trace in fig.data:
        name = trace.name.removesuffix(": known true")
        mask = (sampler == name) & (fn if trace.name.endswith("known true") else True)
        assert list(trace.customdata) == hand_counts(score[mask], lo, hi, 40)
    fn_demix = next(t for t in fig.data if t.name == "demix: known true")
    expected = 100 * np.array(hand_counts(score[(sampler == "demix") & fn], lo, hi, 40)) / 300
    np.testing.assert_allclose(fn_demix.y, expected)  # the red part: % of all its candidates
