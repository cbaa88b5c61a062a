"""`tables.top_rows`: the rows a page shows of a long table, checked against a brute-force
selection in plain Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from demix_core.tables import top_rows


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    return pd.DataFrame(
        {
            "group": rng.choice(["c", "a", "b"], n),
            "score": rng.integers(0, 40, n).astype(float),  # many ties
            "id": np.arange(n),
        }
    ).sample(frac=1.0, random_state=1)  # an index out of order


def brute(records: list[dict], n: int, by, ascending: bool) -> list[int]:
    """Ids of the first n records, highest `by` first (lowest if ascending), ties in order."""
    if by is not None:
        sign = 1 if ascending else -1
        records = sorted(records, key=lambda r: sign * r[by])  # sorted() is stable
    return [r["id"] for r in records[:n]]


@pytest.mark.parametrize(("n", "by", "ascending"), [(10, "score", False), (37, "score", True), (7, None, False), (0, "score", False), (900, "score", False)])  # fmt: skip
def test_top_rows_are_the_first_n_in_the_order_asked(frame, n, by, ascending):
    shown = top_rows(frame, n, by, ascending)
    expected = brute(frame.to_dict("records"), n, by, ascending)
    assert shown["id"].tolist() == expected
    assert len(shown) == min(n, len(frame)) and list(shown.index) == list(range(len(shown)))
    assert list(shown.columns) == list(frame.columns)


@pytest.mark.parametrize("n", [1, 5, 200])
def test_top_rows_per_group_keeps_n_of_each_group_in_first_seen_order(frame, n):
    shown = top_rows(frame, n, "score", per="group")
    records = frame.to_dict("records")
    groups = list(dict.fromkeys(r["group"] for r in records))
    expected = []
    for g in groups:
        expected += brute([r for r in records if r["group"] == g], n, "score", False)
    assert shown["id"].tolist() == expected
    sizes = frame["group"].value_counts()
    assert shown["group"].value_counts().to_dict() == {g: min(n, sizes[g]) for g in groups}


def test_top_rows_leaves_the_frame_alone_and_refuses_a_negative_n(frame):
    before = frame.copy()
    top_rows(frame, 3, "score", per="group")
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ValueError, match="n must be >= 0"):
        top_rows(frame, -1)
