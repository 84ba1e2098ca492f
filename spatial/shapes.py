"""Shapes as the rules and figures take them, vectorised over arrays of shapely geometries."""

from __future__ import annotations

import numpy as np
import shapely


def surface_points(geoms: np.ndarray) -> np.ndarray:
    """A point on each geometry's surface (None for None): a Point is its own — most of a
    register, so no GEOS call per point — and any other shape its ``point_on_surface``."""
    out = np.asarray(geoms, dtype=object).copy()
    other = shapely.get_type_id(out) != shapely.GeometryType.POINT
    out[other] = shapely.point_on_surface(out[other])
    return out
