"""spatial/rows.py: the rows kept, as a boolean selection keeps them; the input unchanged."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.rows import located, rows_where


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"project_id": pd.Series(["A", "B", "C"], dtype="str"), "n": [1.0, 2.0, 3.0]},
        geometry=[shapely.Point(114, 22.6), None, shapely.Point(114.1, 22.7)],
        crs=4326,
        index=[10, 20, 30],
    )


@pytest.mark.parametrize(
    "keep", [[True, True, True], [True, False, True], [False, False, False], [False, True, False]]
)
def test_rows_where_keeps_what_a_boolean_selection_keeps(frame, keep):
    got = rows_where(frame, pd.Series(keep, index=frame.index))
    pd.testing.assert_frame_equal(got, frame[np.array(keep)])
    assert isinstance(got, gpd.GeoDataFrame) and got.crs == frame.crs


def test_every_row_kept_is_a_copy_the_caller_may_change(frame):
    got = rows_where(frame, [True, True, True])
    got.loc[10, "n"] = -1.0
    got["extra"] = 1
    assert frame.loc[10, "n"] == 1.0 and "extra" not in frame


@pytest.mark.parametrize("missing", [[], [1], [0, 1, 2]])
def test_located_is_the_rows_with_a_shape(frame, missing):
    frame = frame.copy()
    frame.loc[frame.index[missing], "geometry"] = None
    got = located(frame)
    assert list(got.index) == list(frame.index[frame.geometry.notna()])
    assert got.geometry.notna().all()
