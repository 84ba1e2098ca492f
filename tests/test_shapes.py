from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from spatial.shapes import surface_points


def test_a_point_is_its_own_and_any_other_shape_a_point_on_it():
    """Points come back as the very objects given; a polygon, a two-part site, a U-shaped
    site (whose centroid lies outside it) and a line get a point on them; None stays None."""
    point = Point(114.0, 22.5)
    u_shape = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    two_parts = MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6)])
    line = shapely.LineString([(0, 0), (1, 1)])
    shapes = np.array([point, box(0, 0, 1, 1), two_parts, u_shape, line, None], dtype=object)
    got = surface_points(shapes)
    assert got[0] is point and got[-1] is None
    assert all(shapely.intersects(g, s) for g, s in zip(got[1:5], shapes[1:5], strict=True))
    assert not u_shape.contains(u_shape.centroid) and u_shape.contains(got[3])
    assert shapes[1].geom_type == "Polygon"  # the shapes given are not changed
