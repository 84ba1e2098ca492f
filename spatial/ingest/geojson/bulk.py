"""The common case read as columns. When every feature of a collection is a plain Feature — a
``type``, an optional string or number ``id``, ``properties`` (an object or null) and a
``geometry`` (null, or one of the six coordinate types with its ``coordinates`` and nothing
else) — the rules of RFC 7946 §3.1–3.3 are checked over numpy arrays holding every position of
the file at once, and the shapes are built by shapely from those arrays.

Only a file that breaks none of the rules is read here. Anything else — a feature outside that
shape, a bad position, a short line, an open ring, a name given twice — and the file is walked
feature by feature instead (:mod:`.features`), which names each problem where it is. So a file
read here gets exactly the findings the walk would give it: the notes said once per file
(heights, precision, at the first feature they concern) and the winding warnings, each at its
feature."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import shapely
from shapely import GeometryType

from spatial.ingest.geojson.geometry import winding_note
from spatial.ingest.geojson.positions import PRECISION_SCALE, heights_note, precision_note
from spatial.ingest.geojson.reading import FeatureColumns, Reading

_FEATURE_KEYS = {"type", "id", "properties", "geometry"}
_GEOMETRY_KEYS = {"type", "coordinates"}
_ID_TYPES = (str, int, float, type(None))
# how deep each type nests its positions, and the ragged-array type shapely builds it as
_TYPES = {
    "Point": (0, GeometryType.POINT),
    "MultiPoint": (1, GeometryType.MULTIPOINT),
    "LineString": (1, GeometryType.LINESTRING),
    "MultiLineString": (2, GeometryType.MULTILINESTRING),
    "Polygon": (2, GeometryType.POLYGON),
    "MultiPolygon": (3, GeometryType.MULTIPOLYGON),
}


@dataclass
class Shapes:
    """One geometry type's features read as arrays: their shapes, every position (with its
    height, if any), each shape's first position, and whether its rings are wound wrongly."""

    shapes: np.ndarray
    positions: np.ndarray
    starts: np.ndarray  # len(shapes) + 1 offsets into ``positions``
    wrong_winding: np.ndarray


@dataclass
class ColumnPart:
    """A run of sound features read as columns: their ids (as given), properties (dicts,
    ``{}`` for null), shapes, and the notes the walk would give them — (feature, order, code,
    geometry type, feature id), features numbered in the file from 1."""

    ids: list
    properties: list[dict]
    shapes: np.ndarray
    notes: list[tuple[int, int, str, str, str | None]]


def read_as_columns(reading: Reading, items: list) -> bool:
    """Check and keep ``items`` (the ``features`` array) as columns; False — nothing kept,
    nothing found — when they are not all plain, sound features (walk them one by one)."""
    part = columns_of(items, reading.booleans) if reading.names_unique else None
    if part is None:
        return False
    keep_notes(reading, part.notes)
    reading.columns = FeatureColumns(part.ids, part.properties, part.shapes)
    return True


def columns_of(items: list, booleans: bool, first: int = 1) -> ColumnPart | None:
    """``items`` (features numbered from ``first``) as a :class:`ColumnPart`; None when they
    are not all plain, sound features. Names given twice must have been ruled out first."""
    if not items or not all(type(f) is dict for f in items):
        return None
    if not all(
        f.get("type") == "Feature"
        and f.keys() <= _FEATURE_KEYS
        and "properties" in f
        and "geometry" in f
        for f in items
    ):
        return None
    ids = [f.get("id") for f in items]
    props = [f["properties"] for f in items]
    geoms = [f["geometry"] for f in items]
    if not all(type(i) in _ID_TYPES for i in ids):
        return None
    if not all(p is None or type(p) is dict for p in props) or not all(map(_plain, geoms)):
        return None
    kinds = np.array([g["type"] if g is not None else "" for g in geoms], dtype=object)
    shapes = np.full(len(items), None, dtype=object)
    notes = []
    for kind in set(kinds) - {""}:
        where = np.flatnonzero(kinds == kind)
        read = _read_type(kind, [geoms[i]["coordinates"] for i in where], booleans)
        if read is None:
            return None
        shapes[where] = read.shapes
        for index, order, code in _notes(read, where):
            fid = ids[index - 1]
            notes.append((index + first - 1, order, code, kind, None if fid is None else str(fid)))
    return ColumnPart(ids, [p if p is not None else {} for p in props], shapes, notes)


def _plain(geom) -> bool:
    return geom is None or (
        type(geom) is dict
        and geom.keys() <= _GEOMETRY_KEYS
        and geom.get("type") in _TYPES
        and type(geom.get("coordinates")) is list
    )


def _read_type(kind: str, coords: list, booleans: bool) -> Shapes | None:
    """Features of one ``kind`` as :class:`Shapes`; None when any breaks a rule."""
    depth, ragged_type = _TYPES[kind]
    if depth == 0:
        positions = _positions(coords, booleans)
        if positions is None:
            return None
        starts = np.arange(len(coords) + 1)
        return Shapes(
            shapely.points(np.ascontiguousarray(positions[:, :2])),
            positions,
            starts,
            np.zeros(len(coords), bool),
        )
    levels = []  # offsets from the outermost level (shapes) inwards (to positions)
    items = coords
    for _ in range(depth):
        flat = _flatten(items)
        if flat is None:
            return None
        items, offsets = flat
        levels.append(offsets)
    positions = _positions(items, booleans)
    if positions is None:
        return None
    innermost = levels[-1]  # lines' or rings' positions
    sizes = np.diff(innermost)
    if kind in ("Polygon", "MultiPolygon"):
        wrong = _rings_wrong(positions, innermost, levels)
        if wrong is None:
            return None
    elif (sizes < (2 if kind != "MultiPoint" else 1)).any():
        return None  # a short line
    else:
        wrong = np.zeros(len(coords), bool)
    starts = levels[0]
    for inner in levels[1:]:
        starts = inner[starts]
    shapes = shapely.from_ragged_array(
        ragged_type, np.ascontiguousarray(positions[:, :2]), tuple(levels[::-1])
    )
    return Shapes(shapes, positions, starts, wrong)


def _flatten(lists: list) -> tuple[list, np.ndarray] | None:
    """One nesting level undone: the items of every list, and where each list starts."""
    if not all(type(x) is list and x for x in lists):
        return None  # not a list (nested wrongly), or an empty part
    sizes = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    return list(chain.from_iterable(lists)), np.concatenate(([0], np.cumsum(sizes)))


def _positions(items: list, booleans: bool) -> np.ndarray | None:
    """§3.1.1: every item two or three numbers (all the same size), as an (n, d) array."""
    try:
        positions = np.array(items)
    except ValueError:  # positions of mixed sizes
        return None
    if positions.dtype.kind not in "fi" or positions.ndim != 2 or positions.shape[1] not in (2, 3):
        return None
    if booleans and any(type(v) is bool for p in items for v in p):
        return None  # true/false read as 1/0 by numpy
    positions = positions.astype(float, copy=False)
    return positions if np.isfinite(positions).all() else None  # 1e400 is read as infinity


def _rings_wrong(
    positions: np.ndarray, rings: np.ndarray, levels: list[np.ndarray]
) -> np.ndarray | None:
    """§3.1.6 over every ring at once: None when a ring is short or open; else, per shape,
    whether a ring breaks the right-hand rule (exterior counter-clockwise, holes clockwise)."""
    first, last = rings[:-1], rings[1:] - 1
    if (np.diff(rings) < 4).any() or (positions[first] != positions[last]).any():
        return None
    x, y = positions[:, 0], positions[:, 1]
    terms = x[:-1] * y[1:] - x[1:] * y[:-1]
    terms[last[:-1]] = 0.0  # the step from one ring's end to the next ring's start
    signed = np.add.reduceat(terms, first) if len(terms) else np.zeros(len(first))
    polygons = levels[-2]  # each polygon's first ring
    exterior = np.zeros(len(first), bool)
    exterior[polygons[:-1]] = True
    wrong_ring = (exterior & (signed < 0)) | (~exterior & (signed > 0))
    ring_starts = polygons
    for inner in levels[-3::-1]:  # shapes → polygons → rings, for a MultiPolygon
        ring_starts = ring_starts[inner]
    return np.logical_or.reduceat(wrong_ring, ring_starts[:-1])


def _notes(read: Shapes, where: np.ndarray) -> list[tuple[int, int, str]]:
    """The walk's file-wide notes at the first feature (of these) they concern, and a
    winding warning at each feature wound wrongly; features numbered from 1."""
    notes = [(int(i) + 1, 2, "winding_order") for i in where[read.wrong_winding]]
    if read.positions.shape[1] == 3:
        notes.append((int(where[0]) + 1, 0, "heights_dropped"))
    scaled = read.positions * PRECISION_SCALE
    excess = (np.abs(scaled - np.round(scaled)) > 1e-4).any(axis=1)
    if excess.any():
        owner = np.searchsorted(read.starts, np.flatnonzero(excess)[0], side="right") - 1
        notes.append((int(where[owner]) + 1, 1, "excess_precision"))
    return notes


def keep_notes(reading: Reading, notes: list[tuple[int, int, str, str, str | None]]) -> None:
    """The notes in the walk's order: the file-wide ones once, at the first feature they
    concern; a winding warning at each feature wound wrongly."""
    said: set[str] = set()
    for index, _, code, kind, fid in sorted(notes):
        if code != "winding_order" and code in said:
            continue
        said.add(code)
        reading.at(index, fid)
        NOTE[code](reading, kind)
    reading.heights_warned |= "heights_dropped" in said
    reading.precision_warned |= "excess_precision" in said


NOTE = {
    "heights_dropped": lambda reading, kind: heights_note(reading),
    "excess_precision": lambda reading, kind: precision_note(reading),
    "winding_order": winding_note,
}
