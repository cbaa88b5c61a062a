"""Pure Plotly builders for the lens pages: frames from `demix_core.analysis` in, `go.Figure`
out. Histograms are binned here with numpy and drawn as bars, so a page sends a few hundred
numbers to the browser instead of every score."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from demix_core import palette
from demix_core.safe_text import plotly, plotly_all  # entity names are data, not markup

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

COLORS = palette.ROLES
MIXED = {"MPN": "partially positive", "TN": "harder negative"}


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """One figure in one call (no template: the app's theme styles it)."""
    import plotly.graph_objects as go

    base = dict(
        height=360,
        margin=dict(l=50, r=20, t=40, b=40),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
    )
    return go.Figure(data=traces, layout={**base, **layout})


def bin_edges(values: np.ndarray, n: int = 40) -> np.ndarray:
    """`n` equal bins over the range of `values` (`n + 1` edges; a unit range when it is
    empty or a single value)."""
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    return np.linspace(lo, hi if hi > lo else lo + 1.0, n + 1)


def _bar(values: np.ndarray, edges: np.ndarray, name: str, color: str, **kw) -> dict:
    """A histogram of `values` as percent of its own count (groups of unequal size compare)."""
    counts, _ = np.histogram(values, edges)
    pct = 100.0 * counts / max(len(values), 1)
    mid = (edges[:-1] + edges[1:]) / 2
    hover = f"{name}<br>%{{x:.3g}}: %{{customdata}} (%{{y:.1f}}%)<extra></extra>"
    bar = dict(type="bar", x=mid, y=pct, width=float(edges[1] - edges[0]), name=name)
    return {**bar, "marker": dict(color=color), "customdata": counts, "hovertemplate": hover, **kw}


def score_histogram(frame: pd.DataFrame, value: str, threshold: float, label: str) -> go.Figure:
    """Overlaid score histograms of pattern positives, TN and MPN (percent of each group),
    the known false negatives outlined in red, and a vertical line at `threshold`."""
    x = frame[value].to_numpy()
    edges = bin_edges(x)
    traces = [
        _bar(frame.loc[frame["group"] == g, value].to_numpy(), edges, g, COLORS[g], opacity=0.6)
        for g in ("pattern positive", "TN", "MPN")
    ]
    fn = frame.loc[frame["known_fn"], value].to_numpy()
    if len(fn):
        red = dict(color="rgba(0,0,0,0)", line=dict(color=COLORS["known FN"], width=2))
        traces.append(
            {**_bar(fn, edges, "known false negatives", COLORS["known FN"]), "marker": red}
        )
    title = "score - tau of its pattern" if value == "margin" else "score"
    return _figure(
        traces,
        dict(
            barmode="overlay",
            title=dict(text="Score distributions"),
            xaxis=dict(title=dict(text=title)),
            yaxis=dict(title=dict(text="% of the group")),
            shapes=[_vline(threshold)],
            annotations=[_vlabel(threshold, label)],
        ),
    )


def _vline(x: float, dash: str = "solid", color: str = "#333") -> dict:
    return dict(
        type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color=color, dash=dash)
    )


def _vlabel(x: float, text: str, row: int = 0) -> dict:
    """A label at the top of a vertical line; `row` stacks labels of lines that coincide."""
    return dict(
        x=x,
        y=1,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        yshift=-14 * row,
    )


def pr_figure(pr: pd.DataFrame, mu: float) -> go.Figure:
    """MPNE precision and recall against mu, the current mu marked."""
    traces = [
        dict(type="scatter", x=pr["mu"], y=pr[c], name=c, mode="lines", line=dict(color=col))
        for c, col in (("precision", COLORS["MPN"]), ("recall", COLORS["pattern positive"]))
    ]
    return _figure(
        traces,
        dict(
            title=dict(text="Spotting known false negatives, by mu"),
            xaxis=dict(title=dict(text="mu")),
            yaxis=dict(title=dict(text="precision / recall"), range=[0, 1.05]),
            shapes=[_vline(mu, "dash")],
            annotations=[_vlabel(mu, f"mu = {mu:g}")],
        ),
    )


def pattern_figure(detail: dict) -> go.Figure:
    """One pattern: its train answers and its candidates on a score axis, with tau, the
    mean and the minimum of the answers' scores marked."""
    pos, cand = detail["positives"], detail["candidates"]
    marker = dict(size=11, line=dict(width=2, color=COLORS["known FN"]))
    traces = [
        dict(
            type="scatter",
            x=pos["score"],
            y=["train answers"] * len(pos),
            mode="markers",
            name="train answers (X)",
            marker=dict(size=10, color=COLORS["pattern positive"]),
            text=plotly_all(pos["answer"]),
            hovertemplate="%{text}: %{x:.3f}<extra></extra>",
        ),
    ]
    for verdict in ("TN", "MPN"):
        part = cand[cand["verdict"] == verdict]
        line = np.where(part["known truth"] == "known true", 2, 0)
        traces.append(
            dict(
                type="scatter",
                x=part["score"],
                y=["candidates"] * len(part),
                mode="markers",
                name=verdict,
                text=plotly_all(part[detail["side"]] + " · " + part["known truth"]),
                marker={
                    **marker,
                    "color": COLORS[verdict],
                    "line": dict(width=line, color=COLORS["known FN"]),
                },
                hovertemplate="%{text}: %{x:.3f}<extra></extra>",
            )
        )
    marks = [
        ("tau", detail["tau"], "solid"),
        ("mean", detail["mean"], "dot"),
        ("min", detail["min"], "dot"),
    ]
    return _figure(
        traces,
        dict(
            title=dict(text=f"{plotly(detail['query'])}: answers and candidates"),
            xaxis=dict(title=dict(text="score")),
            yaxis=dict(type="category"),
            height=280,
            shapes=[_vline(x, dash) for _, x, dash in marks],
            annotations=[_vlabel(x, name, i) for i, (name, x, _) in enumerate(marks)],
        ),
    )


def _hover(df: pd.DataFrame) -> list[str]:
    return [
        f"{plotly(q)}<br>candidate <b>{plotly(c)}</b> ({v}, {t}), score {s:.3f}<br>"
        f"partner <b>{plotly(p)}</b> "
        f"(label {pl:g})<br>mixed: score {ms:.3f}, soft label {sl:.2f}"
        for q, c, v, t, s, p, pl, ms, sl in zip(
            df["query"],
            df["candidate"],
            df["verdict"],
            df["known truth"],
            df["score"],
            df["partner"],
            df["partner label"],
            df["mixed score"],
            df["soft label"],
        )
    ]


def _points(df, prefix: str, name: str, hover, **marker) -> dict:
    """A marker trace of the `{prefix}_x`, `{prefix}_y` columns of a layout frame."""
    return dict(
        type="scatter",
        x=df[f"{prefix}_x"],
        y=df[f"{prefix}_y"],
        mode="markers",
        name=name,
        marker=marker,
        text=hover,
        hoverinfo="text",
    )


def projection_figure(
    layout: pd.DataFrame, background: tuple[np.ndarray, list[str]] | None, title: str
) -> go.Figure:
    """Entities in 2-D: a faint background of the fitted entities, each candidate joined
    to its partner through its mixed point, coloured by verdict."""
    traces = []
    if background is not None:
        xy, names = background
        traces.append(
            dict(
                type="scattergl",
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                name="entities",
                marker=dict(size=4, color=COLORS["entity"]),
                text=plotly_all(names),
                hoverinfo="text",
            )
        )
    for verdict in ("TN", "MPN"):  # the rarer MPN drawn last, on top
        df = layout[layout["verdict"] == verdict]
        color, hover = COLORS[verdict], _hover(df)
        partner = COLORS["pattern positive"] if verdict == "MPN" else COLORS["partner"]
        # a ring around candidates known (from held-out truth) to be true
        ring = dict(
            width=np.where(df["known truth"] == "known true", 2, 0), color=COLORS["known FN"]
        )
        path = np.full((len(df), 4, 2), np.nan)  # candidate -> mixed -> partner, then a break
        for i, k in enumerate("cmp"):
            path[:, i] = df[[f"{k}_x", f"{k}_y"]].to_numpy()
        traces += [
            dict(
                type="scatter",
                x=path[..., 0].ravel(),
                y=path[..., 1].ravel(),
                mode="lines",
                line=dict(color=color, width=1),
                opacity=0.35,
                hoverinfo="skip",
                showlegend=False,
            ),
            _points(df, "c", f"{verdict} candidate", hover, color=color, size=8, line=ring),
            _points(df, "p", f"{verdict} partner", hover, color=partner, size=8, symbol="diamond"),
            _points(df, "m", MIXED[verdict], hover, color=color, size=9, symbol="x"),
        ]
    return _figure(
        traces,
        dict(
            title=dict(text=title),
            height=560,
            xaxis=dict(showticklabels=False, title=dict(text="")),
            yaxis=dict(showticklabels=False),
        ),
    )
