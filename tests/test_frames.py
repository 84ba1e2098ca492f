"""spatial.frames: columns joined from parts are exactly what one read of all the rows gives
(``DataFrame.from_records``: the same type, every value of the same Python type), and a
column that might not be is named, never joined wrongly."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from spatial.frames import join_parts

MISSING = object()  # the name left out of a row
VALUES = [0, 7, -5, 2**62, 2**63 + 1, 1.5, 3.0, 1e300, "a", "中文", "", True, False, None,
          datetime(2025, 3, 1), MISSING]  # fmt: skip


def _typed(column: pd.Series) -> list:
    return [(type(v).__name__, "NaN" if isinstance(v, float) and v != v else repr(v))
            for v in column.astype(object).tolist()]  # fmt: skip


def _records(rnd: random.Random) -> list[dict]:
    pool = rnd.sample(VALUES, rnd.randint(1, 4))
    rows = []
    for _ in range(rnd.randint(1, 25)):
        row = {k: rnd.choice(pool) for k in "abcd"}
        rows.append({k: v for k, v in row.items() if v is not MISSING})
    return rows


@pytest.mark.parametrize("seed", range(300))
def test_what_is_joined_is_what_one_read_gives(seed):
    rnd = random.Random(seed)
    records = _records(rnd)
    whole = pd.DataFrame.from_records(records)
    cuts = sorted(rnd.sample(range(1, len(records)), min(len(records) - 1, rnd.randint(0, 4))))
    bounds = [0, *cuts, len(records)]
    spans = zip(bounds[:-1], bounds[1:], strict=True)
    parts = [pd.DataFrame.from_records(records[a:b]) for a, b in spans]
    parts = [p.set_axis(pd.RangeIndex(len(p))) for p in parts]
    joined, left = join_parts(parts)
    assert set(joined) | set(left) == set(whole.columns) and not set(joined) & set(left)
    for name, column in joined.items():
        pd.testing.assert_series_equal(column, whole[name], check_names=False)
        assert _typed(column) == _typed(whole[name]), name


@pytest.mark.parametrize(
    "parts, joined",
    [
        ([[1, 2], [3]], "int64"),  # the same type in every part
        ([["a"], [None]], "str"),  # text beside a part of nulls
        ([[1], [None, None]], "float64"),  # whole numbers beside nulls become floats
        ([[1], [2.5]], "float64"),
        ([[True], [None]], "object"),  # booleans beside nulls stay objects
        ([[datetime(2025, 1, 1)], [None]], "datetime64[us]"),
    ],
)
def test_the_common_cases_are_joined(parts, joined):
    frames = [pd.DataFrame({"x": values}) for values in parts]
    got, left = join_parts(frames)
    assert not left and str(got["x"].dtype) == joined


@pytest.mark.parametrize(
    "parts",
    [
        [[1], ["a"]],  # a number here, text there: objects when read at once
        [[2**63 + 1], [-5]],  # past int64 beside a negative number
        [[None], [1.5, None]][::-1] + [["b"]],
    ],
)
def test_a_column_that_might_differ_is_left_to_be_read_again(parts):
    frames = [pd.DataFrame.from_records([{"x": v} for v in values]) for values in parts]
    _, left = join_parts(frames)
    assert left == ["x"]


def test_a_single_part_is_itself():
    part = pd.DataFrame({"x": [1, None], "y": ["a", "b"]}, index=[5, 6])
    joined, left = join_parts([part])
    assert not left and list(joined["x"].index) == [0, 1]
    assert np.isnan(joined["x"][1]) and list(joined["y"]) == ["a", "b"]
