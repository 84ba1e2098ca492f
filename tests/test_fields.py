"""Parsing written values (spatial/ingest/fields.py): a column parsed once per distinct text
gives, row by row and dtype by dtype, what parsing every row gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatial.ingest.fields import (
    STATUS_ALIASES,
    as_text,
    parse_dates,
    parse_numbers,
    parse_vocabulary,
)

COLUMNS = {
    "numbers": ["12万", "12万㎡", "120,000", None, "1.2e5", 120000, "x", "", "12万", 120000.0,
                "inf", "  3 ", "—", True, "12万"],
    "dates": ["2024-03-05", "2024/3/5", "2024年3月5日", "2024-03", "2024年", 2024, 45000, None,
              "3024-01-01", "2024-03-05", "", "2024-03-05 10:00", "2024.3"],
    "statuses": ["在建", "在建", "Under construction", " 竣工 ", None, "nonsense", "在建", "",
                 "DELIVERED", "在建"],
}  # fmt: skip


def _rows(values: list, repeat: int) -> pd.Series:
    """The values many times over (so the distinct path is taken), with a shuffled index."""
    series = pd.Series(values * repeat, dtype=object)
    return series.set_axis(np.random.default_rng(1).permutation(len(series)) + 100)


@pytest.mark.parametrize(
    "parse, column, args",
    [
        (parse_numbers, "numbers", ()),
        (parse_dates, "dates", ()),
        (parse_vocabulary, "statuses", (STATUS_ALIASES,)),
    ],
)
def test_parsing_each_distinct_text_once_gives_every_row_its_result(parse, column, args):
    values = _rows(COLUMNS[column], repeat=5)
    distinct = parse(values, *args)
    every_row = parse.__wrapped__(values, *args)
    assert len(distinct) == len(every_row)
    for got, expected in zip(distinct, every_row, strict=True):
        pd.testing.assert_series_equal(got, expected, check_names=False)


def test_a_mostly_distinct_column_is_parsed_row_by_row():
    values = pd.Series([f"{i}万" for i in range(50)])
    numbers, bad = parse_numbers(values)
    assert numbers.tolist() == [i * 1e4 for i in range(50)] and not bad.any()


@pytest.mark.parametrize(
    "values",
    [
        [" 宝安 ", None, "", "a\tb ", "=1+1", "<script>"],
        [None, None, None],
        [12.5, None, " x ", True, 3],
        [],
    ],
)
def test_text_is_the_same_whatever_the_column_was_read_as(values):
    """A column read as Arrow text, as Python objects, or missing from the file altogether
    (all None) gives one trimmed text: "" where missing."""
    index = pd.RangeIndex(7, 7 + len(values))
    as_objects = pd.Series(values, dtype=object, index=index)
    expected = [("" if v is None else str(v).strip()) for v in values]
    assert as_text(as_objects).tolist() == expected
    if all(v is None or isinstance(v, str) for v in values):
        assert as_text(pd.Series(values, dtype="str", index=index)).tolist() == expected
    assert as_text(as_objects).index.equals(index)
