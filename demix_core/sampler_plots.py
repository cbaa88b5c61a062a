"""Pure Plotly builders for the Samplers views: frames from `demix_core.sampler_frames` in,
`go.Figure` out (binned with numpy, as in `lens_plots`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from demix_core import palette
from demix_core.lens_plots import COLORS, _bar, _bins, _figure

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


def sampler_histograms(scores: pd.DataFrame) -> go.Figure:
    """One row per sampler: its candidates' score histogram (percent of its candidates), the
    share that are known true facts filled red, on a shared score axis."""
    from plotly.subplots import make_subplots

    names = list(dict.fromkeys(scores["sampler"]))
    edges = _bins(scores["score"].to_numpy())
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.02)
    for i, name in enumerate(names, start=1):
        part = scores[scores["sampler"] == name]
        fig.add_trace(
            _bar(part["score"].to_numpy(), edges, name, COLORS["TN"], showlegend=False), i, 1
        )
        fn = part.loc[part["known_fn"], "score"].to_numpy()
        # as percent of all this sampler's candidates, so the red part sits inside its bar
        bar = _bar(fn, edges, f"{name}: known true", COLORS["known FN"], showlegend=False)
        bar["y"] = bar["y"] * len(fn) / max(len(part), 1)
        fig.add_trace(bar, i, 1)
        fig.update_yaxes(title=dict(text=name, font=dict(size=11)), row=i, col=1)
    fig.update_layout(
        barmode="overlay",
        height=110 * len(names) + 80,
        margin=dict(l=90, r=20, t=50, b=40),
        title=dict(text="Candidate scores per sampler (% of its candidates; red: known true)"),
    )
    fig.update_xaxes(title=dict(text="score"), row=len(names), col=1)
    return fig


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
