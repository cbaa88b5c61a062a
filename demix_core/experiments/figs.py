"""Plotly builders for the experiments' figures (pure: numbers in, go.Figure out)."""

from __future__ import annotations

from demix_core.experiments.base import mean, std

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def heatmap(z, x, y, title: str, x_title: str, y_title: str, best=None):
    import plotly.graph_objects as go

    text = [["-" if v is None else f"{v:.3f}" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(v) for v in x],
            y=[str(v) for v in y],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar={"title": "MRR"},
        )
    )
    if best is not None:
        fig.add_scatter(
            x=[str(best[0])],
            y=[str(best[1])],
            mode="markers",
            marker={"symbol": "square-open", "size": 34, "color": "#D55E00", "line": {"width": 3}},
            name="best on valid",
        )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=380)
    fig.update_xaxes(type="category")  # grid values, evenly spaced (mu 0 ... 5)
    fig.update_yaxes(type="category")
    return fig


def curves(
    groups: dict[str, list[list[dict]]], x: str, title: str, y: str = "mrr", y_title="valid MRR"
):
    """One line per group: the mean over seeds at each point, with a +-1 std band.

    groups: name -> one list of points per seed; points are dicts with `x` and `y` keys."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, seeds) in enumerate(groups.items()):
        color = PALETTE[i % len(PALETTE)]
        n = min((len(s) for s in seeds), default=0)
        if n == 0:
            continue
        xs = [mean(s[j][x] for s in seeds) for j in range(n)]
        ys = [mean(s[j][y] for s in seeds) for j in range(n)]
        sd = [std([s[j][y] for s in seeds]) for j in range(n)]
        if len(seeds) > 1:
            fig.add_scatter(
                x=xs + xs[::-1],
                y=[a + b for a, b in zip(ys, sd, strict=True)]
                + [a - b for a, b in zip(ys[::-1], sd[::-1], strict=True)],
                fill="toself",
                fillcolor=color,
                opacity=0.2,
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            )
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=name, line={"color": color})
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y_title, height=360)
    return fig


def bars(rows: list[dict], x: str, y: str, group: str, title: str, err: str | None = None):
    """Grouped bars: one bar per (x, group)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    names = list(dict.fromkeys(r[group] for r in rows))
    for i, name in enumerate(names):
        sel = [r for r in rows if r[group] == name]
        fig.add_bar(
            x=[r[x] for r in sel],
            y=[r[y] for r in sel],
            name=str(name),
            marker_color=PALETTE[i % len(PALETTE)],
            error_y={"type": "data", "array": [r[err] for r in sel]} if err else None,
        )
    fig.update_layout(title=title, barmode="group", yaxis_title=y, height=360)
    return fig
