"""The Samplers page's headline counts: the samplers at each end of the summary, checked
against a summary whose ends are known by construction (NaN where a figure is undefined)."""

import math

import pandas as pd

from demix_core.sampler_frames import sampler_extremes


def test_extremes_name_the_samplers_at_each_end_and_skip_undefined_figures():
    summary = pd.DataFrame(
        {
            "sampler": ["uniform", "sans", "demix", "empty"],
            "fn_rate": [0.02, 0.07, 0.01, math.nan],
            "score_q50": [-4.0, -1.5, -2.0, math.nan],
            "adv_entropy": [3.4, 2.1, 2.1, math.nan],  # a tie: the first in order
        }
    )
    assert sampler_extremes(summary) == {
        "most_fn": ("sans", 0.07),
        "fewest_fn": ("demix", 0.01),
        "hardest": ("sans", -1.5),
        "peaked": ("sans", 2.1),
    }


def test_no_defined_figure_no_extreme():
    summary = pd.DataFrame(
        {"sampler": ["a"], "fn_rate": [math.nan], "score_q50": [1.0], "adv_entropy": [math.nan]}
    )
    assert sampler_extremes(summary) == {"hardest": ("a", 1.0)}
