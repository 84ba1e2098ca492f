"""Geometry objects by type (RFC 7946 §3.1): every type has ``coordinates`` nested to its
depth; a LineString has at least two positions (§3.1.4); a Polygon's rings are closed, with
four or more positions, and wound by the right-hand rule (§3.1.6); a GeometryCollection holds
``geometries`` and should not nest another (§3.1.8)."""

from __future__ import annotations

import numpy as np

from spatial.ingest.geojson.members import (
    GEOMETRY_DEPTH,
    GEOMETRY_TYPES,
    common_members,
    object_type,
)
from spatial.ingest.geojson.positions import positions
from spatial.ingest.geojson.reading import Reading


def geometry(reading: Reading, geom, where: str = "geometry", nested: bool = False):
    """``geom`` as given when it is a usable geometry object; None (with errors) when not."""
    kind = object_type(reading, geom, GEOMETRY_TYPES, where)
    if kind is None:
        return None
    common_members(reading, geom, kind)
    if kind == "GeometryCollection":
        return geometry_collection(reading, geom, nested)
    if "coordinates" not in geom or geom["coordinates"] is None:
        reading.err(
            "missing_coordinates",
            f"{kind} 缺少 “coordinates”",
            f"the {kind} has no 'coordinates'",
            "加上坐标，或把整个 geometry 设为 null。",
            "Add the coordinates, or set the whole geometry to null.",
        )
        return None
    coords = positions(reading, geom["coordinates"], GEOMETRY_DEPTH[kind], kind)
    if coords is None:
        return None
    shape_rules = {
        "LineString": lambda: line_strings(reading, kind, [coords]),
        "MultiLineString": lambda: line_strings(reading, kind, coords),
        "Polygon": lambda: polygon_rings(reading, kind, [coords]),
        "MultiPolygon": lambda: polygon_rings(reading, kind, coords),
    }
    if kind in shape_rules and not shape_rules[kind]():
        return None
    return geom


def geometry_collection(reading: Reading, geom: dict, nested: bool):
    """§3.1.8: a ``geometries`` array of geometry objects, none of them null or another
    collection; a collection of one is said to be needless."""
    if nested:
        reading.err(
            "nested_collection",
            "GeometryCollection 中嵌套了 GeometryCollection",
            "a GeometryCollection is nested inside another",
            "把内层几何直接放进外层 geometries 数组。",
            "Put the inner geometries directly into the outer 'geometries' array.",
        )
        return None
    members = geom.get("geometries")
    if not isinstance(members, list):
        reading.err(
            "missing_geometries",
            "GeometryCollection 缺少 “geometries” 数组",
            "the GeometryCollection has no 'geometries' array",
            '加上 "geometries": [ … ]。',
            'Add "geometries": [ … ].',
        )
        return None
    if any(m is None for m in members):
        reading.err(
            "null_in_collection",
            "GeometryCollection 的 geometries 中有 null",
            "the GeometryCollection's 'geometries' holds a null",
            "删除 null 项。",
            "Delete the null entries.",
        )
        return None
    results = [geometry(reading, m, "geometry", nested=True) for m in members]
    if any(r is None for r in results):
        return None
    if len(members) == 1:
        reading.warn(
            "single_member_collection",
            "GeometryCollection 只含一个几何，建议直接使用该几何",
            "the GeometryCollection holds a single geometry; use that geometry directly",
        )
    return geom


def line_strings(reading: Reading, kind: str, lines: list[np.ndarray]) -> bool:
    """§3.1.4: two or more positions in every line."""
    for line in lines:
        if len(line) < 2:
            reading.err(
                "short_line",
                f"{kind} 中有线段少于 2 个点",
                f"a line of the {kind} has fewer than 2 positions",
                "每条线至少需要 2 个点。",
                "Every line needs at least 2 positions.",
            )
            return False
    return True


def polygon_rings(reading: Reading, kind: str, polygons: list[list[np.ndarray]]) -> bool:
    """§3.1.6: every ring closed with four or more positions (errors); exteriors
    counter-clockwise and holes clockwise (a warning: the shapes are reoriented)."""
    ok = True
    wrong_winding = False
    for rings in polygons:
        for r, ring in enumerate(rings):
            if len(ring) < 4:
                reading.err(
                    "short_ring",
                    f"{kind} 的一个环只有 {len(ring)} 个点，闭合环至少需要 4 个",
                    f"a ring of the {kind} has {len(ring)} positions; a closed ring needs 4",
                    "环的首尾点必须相同，且至少包含 3 个不同的点。",
                    "A ring needs at least 3 distinct positions plus the first repeated last.",
                )
                ok = False
                continue
            if not np.array_equal(ring[0], ring[-1], equal_nan=True):
                reading.err(
                    "ring_not_closed",
                    f"{kind} 的一个环首尾坐标不同，没有闭合",
                    f"a ring of the {kind} does not end where it starts",
                    "把第一个坐标复制到环的末尾。",
                    "Repeat the first position at the end of the ring.",
                )
                ok = False
                continue
            x, y = ring[:, 0], ring[:, 1]
            signed = float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
            wrong_winding |= (r == 0 and signed < 0) or (r > 0 and signed > 0)
    if ok and wrong_winding:
        winding_note(reading, kind)
    return ok


def winding_note(reading: Reading, kind: str) -> None:
    reading.warn(
        "winding_order",
        f"{kind} 的环方向不符合右手规则（外环应逆时针、内环应顺时针）；已自动调整",
        f"the rings of the {kind} do not follow the right-hand rule (exterior "
        "counter-clockwise, holes clockwise); reoriented",
        "无需处理；导出时按右手规则写出。",
        "Nothing to do; exports follow the right-hand rule.",
    )
