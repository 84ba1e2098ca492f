"""spatial/i18n.py: areas for people, one at a time and a column at a time, the same text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatial.i18n import fmt_area, fmt_areas

AREAS = [None, float("nan"), 0.0, 0.05, 12_345.0, 5e4, 1.25e6, 2.0e7, 123_456_789.0, -3e4]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    "column",
    [
        AREAS,
        np.array(AREAS, dtype=object),
        pd.to_numeric(pd.Series(AREAS, dtype=object), errors="coerce").to_numpy(dtype=float),
    ],
    ids=["list", "objects", "floats"],
)
def test_a_column_of_areas_reads_as_each_area_does(column, lang):
    assert fmt_areas(column, lang) == [fmt_area(v, lang) for v in column]


def test_areas_say_their_unit_in_each_language():
    assert fmt_areas([2.0e7, None], "zh") == ["2,000.0 万㎡", "—"]
    assert fmt_areas([2.0e7, None], "en") == ["20.00 million m²", "—"]
