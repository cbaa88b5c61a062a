"""The AdaMix map of one query, drawn to be read: an arrow from each candidate to its mixed
point, a dotted line on to its partner, partners labelled by name, the query's known answers
marked, and optionally one entity highlighted. Every point carries its entity id as
`customdata`, so a click (Plotly selection event) names the entity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from demix_core import palette
from demix_core.lens_plots import MIXED, _figure, _hover
from demix_core.safe_text import plotly, plotly_all  # entity names are data, not markup

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

C = palette.ROLES


def _arrows(df: pd.DataFrame, color: str, strong: bool) -> list[dict]:
    """One annotation arrow per candidate: from the candidate to its mixed point; the MPN's
    (`strong`, the few that matter most) drawn bolder than the many TN's."""
    width, opacity = (2.2, 0.95) if strong else (1.0, 0.45)
    return [
        dict(
            x=mx, y=my, ax=cx, ay=cy, xref="x", yref="y", axref="x", ayref="y", text="",
            showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=width, arrowcolor=color,
            opacity=opacity,
        )
        for cx, cy, mx, my in df[["c_x", "c_y", "m_x", "m_y"]].to_numpy()
    ]  # fmt: skip


def _dotted(df: pd.DataFrame, color: str) -> dict:
    """Mixed point -> partner, dotted: the rest of the segment the mix lies on."""
    path = np.full((len(df), 3, 2), np.nan)
    path[:, 0] = df[["m_x", "m_y"]].to_numpy()
    path[:, 1] = df[["p_x", "p_y"]].to_numpy()
    return dict(
        type="scatter",
        x=path[..., 0].ravel(),
        y=path[..., 1].ravel(),
        mode="lines",
        line=dict(color=color, width=1, dash="dot"),
        hoverinfo="skip",
        showlegend=False,
    )


def _marks(df, prefix: str, ids, name: str, hover, **extra) -> dict:
    return dict(
        type="scatter",
        x=df[f"{prefix}_x"],
        y=df[f"{prefix}_y"],
        name=name,
        customdata=np.asarray(ids),
        text=hover,
        hoverinfo="text",
        **extra,
    )


def query_map_figure(
    layout: pd.DataFrame,
    background: tuple[np.ndarray, list[str], np.ndarray] | None,
    title: str,
    highlight: tuple[float, float, str] | None = None,
) -> go.Figure:
    """The map of one query's candidates (`analysis.mix_layout` of one row). `background` is
    (xy (n, 2), names, ids) of the fitted entities; `highlight` (x, y, name) rings one."""
    traces, arrows = [], []
    if background is not None:
        xy, names, ids = background
        traces.append(
            dict(
                type="scatter", x=xy[:, 0], y=xy[:, 1], mode="markers", name="entities",
                marker=dict(size=5, color=C["entity"]), text=plotly_all(names), hoverinfo="text",
                customdata=np.asarray(ids),
            )
        )  # fmt: skip
    for verdict in ("TN", "MPN"):
        df = layout[layout["verdict"] == verdict]
        if df.empty:
            continue
        color, hover = C[verdict], _hover(df)
        partner = C["pattern positive"] if verdict == "MPN" else C["partner"]
        ring = dict(width=np.where(df["known truth"] == "known true", 3, 0), color=C["known FN"])
        arrows += _arrows(df, color, strong=verdict == "MPN")
        labels = plotly_all(df["partner"].where(~df["partner"].duplicated(), ""))
        traces += [
            _dotted(df, partner),
            _marks(
                df, "c", df["candidate_id"], f"{verdict} candidate", hover, mode="markers",
                marker=dict(color=color, size=10, line=ring),
            ),
            _marks(
                df, "p", df["partner_id"],
                "partner: a known answer" if verdict == "MPN" else "partner: a hard TN",
                hover, mode="markers+text", textposition="top center",
                marker=dict(color=partner, size=11, symbol="diamond"),
                texttemplate=labels, textfont=dict(size=11, color=partner),
            ),
            _marks(
                df, "m", df["candidate_id"], MIXED[verdict], hover, mode="markers",
                marker=dict(color=color, size=10, symbol="x"),
            ),
        ]  # fmt: skip
    if highlight is not None:
        x, y, name = highlight
        traces.append(
            dict(
                type="scatter", x=[x], y=[y], mode="markers+text", name=f"found: {plotly(name)}",
                text=[plotly(name)], textposition="bottom center", hoverinfo="text",
                marker=dict(size=22, color="rgba(0,0,0,0)", line=dict(width=3, color=C["highlight"])),
            )
        )  # fmt: skip
    return _figure(
        traces,
        dict(
            title=dict(text=title),
            height=600,
            annotations=arrows,
            xaxis=dict(showticklabels=False, title=dict(text="")),
            yaxis=dict(showticklabels=False),
            clickmode="event+select",
        ),
    )
