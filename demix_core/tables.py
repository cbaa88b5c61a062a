"""Tables as a page shows them: a page of the rows that matter most, the full table going to a
download. A browser draws a few hundred rows at once instead of thousands (the Samplers page's
candidates run to ~57,000 rows), so a lens page's first open waits on less."""

from __future__ import annotations

import pandas as pd

SHOWN = 200  # rows a page shows of a long table


def top_rows(
    frame: pd.DataFrame,
    n: int = SHOWN,
    by: str | None = None,
    ascending: bool = False,
    per: str | None = None,
) -> pd.DataFrame:
    """The first `n` rows of `frame` ordered by column `by` (highest first unless
    `ascending`; ties and `by=None` keep the frame's order), index reset. With `per`, the
    first `n` rows of each value of that column, groups in the order they first appear in
    `frame`."""
    if n < 0:
        raise ValueError(f"top_rows: n must be >= 0, got {n}")
    order = {} if per is None else {v: i for i, v in enumerate(pd.unique(frame[per]))}
    if by is not None:
        frame = frame.sort_values(by, ascending=ascending, kind="stable")
    if per is None:
        return frame.head(n).reset_index(drop=True)
    kept = frame.groupby(per, sort=False).head(n)
    rank = kept[per].map(order)
    return kept.iloc[rank.argsort(kind="stable")].reset_index(drop=True)
