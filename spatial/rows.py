"""Rows of a register chosen without copying it when every row is kept.

A boolean selection takes every column again, even when the mask keeps every row: on the map
page's snapshot of 10⁵ projects (25 Arrow text columns and the shapes) that is 50–100 ms a
time, and one page run made a dozen. Where every row is kept these return a shallow copy
instead: the same data, which pandas' copy-on-write copies only if the caller changes it."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rows_where(frame: pd.DataFrame, keep) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep`` (booleans in its row order) holds."""
    keep = np.asarray(keep, dtype=bool)
    if keep.all():
        return frame.copy(deep=False)
    return frame[keep]


def located(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a GeoDataFrame that have a shape."""
    return rows_where(frame, frame.geometry.notna().to_numpy())
