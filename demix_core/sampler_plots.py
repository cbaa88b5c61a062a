"""Pure Plotly builders for the Samplers views: frames from `demix_core.sampler_frames` in,
`go.Figure` out (score distributions from the counts of `sampler_frames.score_bins`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from demix_core import palette
from demix_core.lens_plots import COLORS, _figure

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


def _per_sampler(binned: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return list(binned.groupby("sampler", sort=False))


def _hover(name: str, share: str = "%{y:.1f}") -> str:
    # customdata: (candidates, known true) in the bin
    return (
        f"{name}<br>score %{{x:.3g}}: {share}% (%{{customdata[0]}} candidates, "
        "%{customdata[1]} known true)<extra></extra>"
    )


def distribution_lines(binned: pd.DataFrame) -> go.Figure:
    """One line per sampler on one score axis: the share of its candidates in each bin of
    `sampler_frames.score_bins` (a few hundred numbers, not every score). Colours repeat
    past the palette's eight, so the later samplers are dashed."""
    n = len(palette.SERIES)
    traces = [
        dict(
            type="scatter",
            mode="lines",
            x=part["mid"],
            y=part["share"],
            name=name,
            line=dict(color=palette.SERIES[i % n], dash=palette.DASHES[i // n % 3], width=2),
            customdata=part[["candidates", "known_fn"]].to_numpy(),
            hovertemplate=_hover(name),
        )
        for i, (name, part) in enumerate(_per_sampler(binned))
    ]
    return _figure(
        traces,
        dict(
            title=dict(text="Candidate scores per sampler"),
            xaxis=dict(title=dict(text="score")),
            yaxis=dict(title=dict(text="% of the sampler's candidates")),
            height=420,
            legend=dict(orientation="v", x=1.02, y=1),
        ),
    )


def distribution_heatmap(binned: pd.DataFrame) -> go.Figure:
    """Samplers x score bins of `sampler_frames.score_bins`, each cell the share of that
    sampler's candidates in the bin (one trace however many samplers), samplers top-down
    in their order."""
    parts = _per_sampler(binned)
    names = [name for name, _ in parts]
    mids = parts[0][1]["mid"].to_numpy() if parts else []
    trace = dict(
        type="heatmap",
        x=mids,
        y=names,
        z=[part["share"].to_numpy() for _, part in parts],  # (samplers, bins)
        customdata=[part[["candidates", "known_fn"]].to_numpy() for _, part in parts],
        colorscale=palette.SEQUENTIAL,
        colorbar=dict(title=dict(text="%")),
        hovertemplate=_hover("%{y}", "%{z:.1f}"),
    )
    return _figure(
        [trace],
        dict(
            title=dict(text="Candidate scores per sampler (% of its candidates per score bin)"),
            xaxis=dict(title=dict(text="score")),
            yaxis=dict(autorange="reversed", type="category"),
            height=60 + 28 * len(names) + 60,
            margin=dict(l=110, r=20, t=40, b=40),
        ),
    )


def sampler_bars(
    summary: pd.DataFrame, column: str, title: str, ceiling: float | None = None
) -> go.Figure:
    """One bar per sampler for `column` of `sampler_frames.sampler_summary`; `ceiling` draws a
    dashed line (e.g. the largest possible entropy, log K)."""
    traces = [
        dict(
            type="bar",
            x=summary["sampler"],
            y=summary[column],
            marker=dict(color=COLORS["TN"]),
            hovertemplate="%{x}: %{y:.4g}<extra></extra>",
        )
    ]
    layout = dict(title=dict(text=title), yaxis=dict(title=dict(text=column)), height=300)
    if ceiling is not None:
        layout["shapes"] = [
            dict(
                type="line",
                x0=0,
                x1=1,
                xref="paper",
                y0=ceiling,
                y1=ceiling,
                line=dict(dash="dash"),
            )
        ]
    return _figure(traces, layout)


def category_bars(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars: the false-negative rate of each sampler (one colour each) per relation
    category, with the candidate count in the hover."""
    traces = [
        dict(
            type="bar",
            x=part["category"],
            y=part["fn_rate"],
            name=name,
            marker=dict(color=palette.SERIES[i % len(palette.SERIES)]),
            customdata=part["candidates"],
            hovertemplate=f"{name}<br>%{{x}}: %{{y:.3f}} of %{{customdata}}<extra></extra>",
        )
        for i, (name, part) in enumerate(frame.groupby("sampler", sort=False))
    ]
    return _figure(
        traces,
        dict(
            barmode="group",
            title=dict(text="Known false negatives among the candidates, by relation category"),
            yaxis=dict(title=dict(text="false-negative rate")),
            height=340,
        ),
    )
