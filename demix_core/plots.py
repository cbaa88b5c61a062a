"""Pure Plotly figure builders for the app: data in, `go.Figure` out (no Streamlit here).

Metric frames are what `RunStore.read_metrics` returns: one row per record of a run's
`metrics.jsonl`, with a `kind` column ("train", "eval", "test", "notice") and a `step`.
Every builder accepts an empty or partial frame and then says "no data yet" in the plot
instead of failing, so a page can draw a run that has just started.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6")
X_TITLES = {"step": "step", "seconds": "training time (s)"}
LABELS = {
    "loss": "loss",
    "mrr": "valid MRR",
    "hits@10": "valid Hits@10",
    "fn_rate": "false-negative rate of the sampled candidates",
    "mpne_precision": "MPNE precision",
    "mpne_recall": "MPNE recall",
}
NO_DATA = dict(text="no data yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")


def _figure(traces: list[dict], title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    """One validated figure from trace dicts and a layout, built in one call: much cheaper
    than add_trace/update_layout on a live page (no template either: the app's theme styles
    it)."""
    import plotly.graph_objects as go

    base = dict(
        title=dict(text=title),
        xaxis=dict(title=dict(text=x_title)),
        yaxis=dict(title=dict(text=y_title)),
        height=340,
        margin=dict(l=50, r=20, t=40, b=40),
        legend=dict(orientation="h", yanchor="top", y=-0.3, x=0),
    )
    if not traces:
        base["annotations"] = [NO_DATA]
        base["xaxis"]["visible"] = base["yaxis"]["visible"] = False
    for key, value in layout.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return go.Figure(data=traces, layout=base)


def records_of(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Rows of one record kind ("train" or "eval"; "eval" keeps only the valid split)."""
    if df is None or df.empty or "kind" not in df:
        return df.iloc[0:0] if df is not None else df
    out = df[df["kind"] == kind]
    if kind == "eval" and "split" in out:
        out = out[out["split"].fillna("valid") == "valid"]
    return out


def metric_traces(
    series: Mapping[str, pd.DataFrame], columns: Sequence[str], kind: str, x: str = "step"
) -> list[dict]:
    """One line per (run, column): `series` maps a run label to its metrics frame; rows of
    record `kind` are drawn, `x` against each of `columns` (absent columns are skipped)."""
    traces = []
    for i, (label, df) in enumerate(series.items()):
        rows = records_of(df, kind)
        if rows is None or rows.empty or x not in rows:
            continue
        for j, col in enumerate(c for c in columns if c in rows):
            data = rows[[x, col]].dropna()
            if data.empty:
                continue
            if len(columns) == 1:
                name = label
            else:
                name = (
                    LABELS.get(col, col) if len(series) == 1 else f"{label}: {LABELS.get(col, col)}"
                )
            color = PALETTE[(i if len(series) > 1 else j) % len(PALETTE)]
            traces.append(
                dict(
                    type="scatter",
                    x=data[x].to_numpy(),
                    y=data[col].to_numpy(),
                    name=name,
                    mode="lines+markers" if kind == "eval" else "lines",
                    line=dict(color=color, dash="solid" if j == 0 else "dot"),
                )
            )
    return traces


def loss_figure(series: Mapping[str, pd.DataFrame], x: str = "step") -> go.Figure:
    traces = metric_traces(series, ["loss"], "train", x)
    return _figure(traces, "Training loss", X_TITLES.get(x, x), "loss")


def valid_figure(
    series: Mapping[str, pd.DataFrame], metric: str = "mrr", x: str = "step"
) -> go.Figure:
    """Validation `metric` ("mrr", "hits@10", ...) of each run against `x`."""
    traces = metric_traces(series, [metric], "eval", x)
    title = f"Validation {metric.upper() if metric == 'mrr' else metric.capitalize()}"
    return _figure(traces, title, X_TITLES.get(x, x), metric, yaxis=dict(rangemode="tozero"))


def false_negative_figure(series: Mapping[str, pd.DataFrame], x: str = "step") -> go.Figure:
    """How many sampled candidates are really true facts, and how well MPNE spots them."""
    traces = metric_traces(series, ["fn_rate", "mpne_precision", "mpne_recall"], "train", x)
    title = "False negatives among the sampled candidates"
    return _figure(traces, title, X_TITLES.get(x, x), "rate", yaxis=dict(rangemode="tozero"))


def has_false_negative_metrics(df: pd.DataFrame) -> bool:
    return df is not None and not df.empty and "fn_rate" in df and df["fn_rate"].notna().any()


def sweep_heatmap(
    table: pd.DataFrame, row: str = "mu", col: str = "alpha", value: str = "mrr"
) -> go.Figure:
    """`value` of each sweep point on a `row` x `col` grid (mean over repeated points)."""
    title = f"Test {value.upper()} over {row} x {col}"
    if table is None or table.empty or not {row, col, value} <= set(table.columns):
        fig = _figure([], title, col, row)
        return fig.update_annotations(text="no finished sweep points yet")
    grid = table.pivot_table(index=row, columns=col, values=value, aggfunc="mean")
    grid = grid.sort_index().sort_index(axis=1)
    heat = dict(
        type="heatmap",
        z=grid.to_numpy(),
        x=[str(c) for c in grid.columns],
        y=[str(i) for i in grid.index],
        text=[["" if v != v else f"{v:.3f}" for v in r] for r in grid.to_numpy()],
        texttemplate="%{text}",
        colorscale="Viridis",
        colorbar=dict(title=dict(text=value)),
        hovertemplate=f"{row}=%{{y}}<br>{col}=%{{x}}<br>{value}=%{{z:.4f}}<extra></extra>",
    )
    category = dict(type="category")
    return _figure([heat], title, col, row, xaxis=category, yaxis=category)


# --------------------------------------------------------------------------- teaching


# A tiny geography KG: what the training set knows, and two candidates drawn by corrupting
# the head of (Paris, located in, France). Marseille is in France, but the KG does not say so.
_NODES = {  # name: (x, y, label position)
    "Paris": (0.0, 1.0, "middle left"),
    "Lyon": (0.0, 0.0, "middle left"),
    "Marseille": (0.0, -1.0, "middle left"),
    "France": (2.2, 0.0, "bottom center"),
    "Berlin": (4.4, 0.9, "middle right"),
    "Germany": (4.4, -0.9, "middle right"),
}
_EDGES = (
    ("Paris", "France", "known fact (in train)", "#4C78A8", "solid"),
    ("Lyon", "France", "known fact (in train)", "#4C78A8", "solid"),
    ("Berlin", "Germany", "known fact (in train)", "#4C78A8", "solid"),
    ("Marseille", "France", "sampled negative that is true: a false negative", "#E45756", "dash"),
    ("Berlin", "France", "sampled negative that is false: a true negative", "#9E9E9E", "dot"),
)


def false_negative_diagram() -> go.Figure:
    """A six-entity graph showing known facts, a true negative and a false negative."""
    traces, notes, shown = [], [], set()
    for a, b, meaning, color, dash in _EDGES:
        (x0, y0, _), (x1, y1, _) = _NODES[a], _NODES[b]
        traces.append(
            dict(
                type="scatter",
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                line=dict(color=color, dash=dash, width=3),
                name=meaning,
                legendgroup=meaning,
                showlegend=meaning not in shown,
                hovertemplate=f"({a}, located in, {b})<br>{meaning}<extra></extra>",
            )
        )
        shown.add(meaning)
        notes.append(  # the label sits 40% of the way along, clear of the busy France end
            dict(
                x=x0 + 0.4 * (x1 - x0),
                y=y0 + 0.4 * (y1 - y0),
                text="located in",
                showarrow=False,
                font=dict(size=10, color=color),
                bgcolor="white",
            )
        )
    traces.append(
        dict(
            type="scatter",
            x=[p[0] for p in _NODES.values()],
            y=[p[1] for p in _NODES.values()],
            text=list(_NODES),
            textposition=[p[2] for p in _NODES.values()],
            mode="markers+text",
            marker=dict(size=18, color="#F2F2F2", line=dict(color="#444", width=1.5)),
            showlegend=False,
            hoverinfo="text",
        )
    )
    hidden = dict(visible=False)
    return _figure(
        traces,
        "",
        "",
        "",
        annotations=notes,
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(orientation="h", y=-0.05, yanchor="top"),
        xaxis={**hidden, "range": [-1.3, 5.6]},
        yaxis={**hidden, "range": [-1.4, 1.3]},
    )


def figures_html(figures: Mapping[str, go.Figure], title: str = "DeMix Lab figures") -> str:
    """One self-contained HTML page holding `figures` (plotly.js embedded once, no network)."""
    parts = [
        f"<h2>{html.escape(name)}</h2>" + fig.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, (name, fig) in enumerate(figures.items())
    ]
    body = "\n".join(parts)
    head = f"<head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
    return f"<!DOCTYPE html><html>{head}<body>{body}</body></html>"
