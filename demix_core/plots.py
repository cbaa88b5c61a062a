"""Pure figure builders for the app: data in, `go.Figure` out (no Streamlit here), plus the
static SVG diagram of the Home page.

Metric frames are what `RunStore.read_metrics` returns: one row per record of a run's
`metrics.jsonl`, with a `kind` column ("train", "eval", "test", "notice") and a `step`.
Every builder accepts an empty or partial frame and then says "no data yet" in the plot
instead of failing, so a page can draw a run that has just started.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from demix_core import palette
from demix_core.safe_text import plotly

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

PALETTE = palette.SERIES
X_TITLES = {"step": "step", "seconds": "training time (s)"}
LABELS = {
    "loss": "loss",
    "mrr": "valid MRR",
    "hits@10": "valid Hits@10",
    "fn_rate": "false-negative rate of the sampled candidates",
    "mpne_precision": "MPNE precision",
    "mpne_recall": "MPNE recall",
    "train_rate": "train positives among the sampled candidates",
    "guess_precision": "precision of guessing (random flags)",
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
                    name=plotly(name),  # a run's name is user text, not markup
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
    names = ["fn_rate", "mpne_precision", "guess_precision", "mpne_recall"]
    traces = metric_traces(series, names, "train", x)
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
_NODES = {  # name: (x, y) in the picture's pixels
    "Paris": (100, 30),
    "Lyon": (100, 100),
    "Marseille": (100, 170),
    "France": (270, 100),
    "Berlin": (420, 40),
    "Germany": (420, 160),
}
KNOWN, FALSE_NEG, TRUE_NEG = (
    ("known fact (in train)", palette.BLUE, ""),
    ("sampled negative that is true: a false negative", palette.VERMILLION, "8 5"),
    ("sampled negative that is false: a true negative", palette.GREY, "2 5"),
)
_EDGES = (
    ("Paris", "France", KNOWN),
    ("Lyon", "France", KNOWN),
    ("Berlin", "Germany", KNOWN),
    ("Marseille", "France", FALSE_NEG),
    ("Berlin", "France", TRUE_NEG),
)


def false_negative_diagram() -> str:
    """A six-entity graph showing known facts, a true negative and a false negative, as an
    SVG string: a static picture, so the landing page loads no charting library."""
    font = "font-family='sans-serif'"
    parts = []
    for a, b, (meaning, color, dash) in _EDGES:
        (x0, y0), (x1, y1) = _NODES[a], _NODES[b]
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(
            f"<line x1='{x0}' y1='{y0}' x2='{x1}' y2='{y1}' stroke='{color}' "
            f"stroke-width='3'{dashes}><title>({a}, located in, {b}): {meaning}</title></line>"
        )
        lx, ly = x0 + 0.45 * (x1 - x0), y0 + 0.45 * (y1 - y0) + 4
        parts.append(
            f"<text x='{lx:.0f}' y='{ly:.0f}' fill='{color}' {font} font-size='13' "
            "text-anchor='middle' stroke='white' stroke-width='4' paint-order='stroke'>"
            "located in</text>"
        )
    for name, (x, y) in _NODES.items():
        anchor, dx = ("end", -16) if x < 200 else ("start", 16)
        dy = 26 if name == "France" else 5
        dx = 0 if name == "France" else dx
        anchor = "middle" if name == "France" else anchor
        parts.append(
            f"<circle cx='{x}' cy='{y}' r='10' fill='#F2F2F2' stroke='#444' stroke-width='1.5'/>"
            f"<text x='{x + dx}' y='{y + dy}' text-anchor='{anchor}' {font} font-size='15'>"
            f"{name}</text>"
        )
    for i, (meaning, color, dash) in enumerate((KNOWN, FALSE_NEG, TRUE_NEG)):
        y = 222 + 24 * i
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(
            f"<line x1='10' y1='{y}' x2='52' y2='{y}' stroke='{color}' stroke-width='3'{dashes}/>"
            f"<text x='62' y='{y + 5}' {font} font-size='15'>{html.escape(meaning)}</text>"
        )
    body = "".join(parts)
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 500 290' width='500' "
        f"height='290' role='img' aria-label='A false negative among sampled negatives'>{body}</svg>"
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
