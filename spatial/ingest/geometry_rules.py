"""Geometry rules, vectorised over all shapes with shapely 2: what any layer's geometry
needs (:func:`geometry_checks`: lon-lat range, repeated vertices, vertex count, single-part
multis, self-crossing lines, the bbox), what a project's needs (:func:`project_geometry`: a
point or a site polygon, valid or repaired, in Shenzhen), and a project's figures against its
site polygon (:func:`site_plausibility`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import area_m2
from spatial.ingest.columns import ProjectTable
from spatial.ingest.field_rules import MAX_SITE_FAR, ProjectFields
from spatial.ingest.findings import RowFindings

STORED_PRECISION = 1e-7  # degrees (about 1 cm): what the store keeps of a lon-lat position
PRECISION_BATCH = 1_000  # shapes rounded at a time (10⁴ site polygons at once: 10 MB)
VERTEX_BATCH = 1_000  # shapes whose vertices are read at a time


def to_stored_precision(geoms: np.ndarray) -> np.ndarray:
    """Each shape with its positions rounded to :data:`STORED_PRECISION` (``set_precision``,
    pointwise), the shape itself kept where rounding changes no coordinate — a register
    written to 6 decimals keeps every shape, so the upload does not hold a second copy of
    its shapes (at 10⁵ points, 20 MB). Rounded ``PRECISION_BATCH`` at a time."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    for start in range(0, len(geoms), PRECISION_BATCH):
        part = geoms[start : start + PRECISION_BATCH]
        rounded = shapely.set_precision(part, STORED_PRECISION, mode="pointwise")
        changed = ~shapely.equals_identical(part, rounded)
        out[start : start + PRECISION_BATCH][changed] = rounded[changed]
    return out


PROJECT_GEOMETRY_TYPES = ("Point", "Polygon", "MultiPolygon")
MANY_VERTICES = 1_000
VALID = "Valid Geometry"  # GEOS's reason for a valid shape


@dataclass
class ProjectShapes:
    """The upload's shapes after the geometry rules: ``geoms`` (lon-lat; a single-part
    MultiPoint as a Point, and the repaired shapes when the user chose them), ``usable`` (a
    point or a polygon), ``repaired`` (the shapes offered for the invalid ones) and
    ``outside`` (the reader found the location outside Shenzhen)."""

    geoms: gpd.GeoSeries
    usable: pd.Series
    repaired: gpd.GeoSeries | None
    outside: pd.Series

    @property
    def polygons(self) -> pd.Series:
        return self.usable & self.geoms.geom_type.isin(["Polygon", "MultiPolygon"])

    @functools.cached_property
    def metric_areas(self) -> pd.Series:
        """The usable polygons' areas in EPSG:4547 (m², indexed as ``geoms``;
        :func:`~spatial.crs.area_m2`), measured once for every rule that needs them."""
        polys = self.polygons
        return pd.Series(area_m2(self.geoms[polys]), index=self.geoms.index[polys.to_numpy()])


def validity_reasons(geoms: np.ndarray) -> np.ndarray:
    """GEOS's ``is_valid_reason`` of each shape (None for a missing one), asked only of the
    shapes ``is_valid`` finds invalid: a valid one points at :data:`VALID` (no string of its
    own per row, and a validity test is cheaper than its reason)."""
    valid = shapely.is_valid(geoms)
    reasons = np.empty(len(geoms), dtype=object)
    reasons[:] = VALID  # (np.full would make a string per row)
    reasons[~valid] = shapely.is_valid_reason(geoms[~valid])
    return reasons


def geometry_checks(frame: gpd.GeoDataFrame, rows: RowFindings, geographic: bool) -> pd.Series:
    """Checks every layer's geometry needs, vectorised. Returns GEOS's validity reasons."""
    geoms = frame.geometry
    arr = geoms.to_numpy()
    present = pd.Series(~(geoms.isna() | geoms.is_empty).to_numpy(), index=frame.index)
    reasons = pd.Series(validity_reasons(arr), index=frame.index)
    if geographic:
        _lon_lat_range(arr, present, rows)
    counts = pd.Series(shapely.get_num_coordinates(arr), index=frame.index)
    repeats = pd.Series(repeated_vertices(arr), index=frame.index)
    rows.warn(
        present & (repeats > 0) & (reasons == VALID),
        "duplicate_vertices",
        "几何中有重复的连续顶点，已去除",
        "the geometry repeats consecutive vertices; removed",
        fld="geometry",
    )
    rows.warn(
        present & (counts > MANY_VERTICES),
        "many_vertices",
        "几何有 {n:,} 个顶点，建议简化",
        "the geometry has {n:,} vertices; consider simplifying",
        "在 GIS 中简化（容差 0.5 米即可）。",
        "Simplify it in your GIS (0.5 m tolerance is enough).",
        fld="geometry",
        fmt=lambda i: {"n": int(counts[i])},
    )
    multi = geoms.geom_type.isin(["MultiPoint", "MultiLineString", "MultiPolygon"])
    rows.warn(
        present & multi & (pd.Series(shapely.get_num_geometries(arr), index=frame.index) == 1),
        "single_part_multi",
        "多部件几何只含一个部件",
        "a multi-part geometry holds a single part",
        fld="geometry",
    )
    lines = geoms.geom_type.eq("LineString") & present
    simple = pd.Series(True, index=frame.index)
    if lines.any():
        simple[lines] = shapely.is_simple(arr[lines.to_numpy()])
    rows.warn(
        lines & ~simple & (reasons == VALID),
        "self_crossing_line",
        "线自身交叉",
        "the line crosses itself",
        fld="geometry",
    )
    if "_bbox" in frame:
        _bbox_holds_geometry(frame["_bbox"], arr, present, rows)
    return reasons


def repeated_vertices(geoms: np.ndarray) -> np.ndarray:
    """How many vertices of each shape repeat the one before it (within a part or across
    them), counted ``VERTEX_BATCH`` shapes at a time: the coordinates of every shape at
    once, with their owners, held 13 MB for 10⁴ site polygons of 50 vertices."""
    counts = np.zeros(len(geoms), dtype=np.int64)
    for start in range(0, len(geoms), VERTEX_BATCH):
        coords, owner = shapely.get_coordinates(
            geoms[start : start + VERTEX_BATCH], return_index=True
        )
        same = np.all(coords[1:] == coords[:-1], axis=1) & (owner[1:] == owner[:-1])
        counts[start : start + VERTEX_BATCH] = np.bincount(
            owner[1:][same], minlength=len(geoms[start : start + VERTEX_BATCH])
        )
    return counts


def _lon_lat_range(arr: np.ndarray, present: pd.Series, rows: RowFindings) -> None:
    minx, miny, maxx, maxy = shapely.bounds(arr).T
    out = present & ((minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90))
    rows.error(
        out,
        "coordinates_out_of_range",
        "坐标超出经纬度范围（经度 ±180°，纬度 ±90°）",
        "coordinates outside longitude ±180° / latitude ±90°",
        "检查坐标是否为经纬度、顺序是否为 [经度, 纬度]。",
        "Check the coordinates are lon-lat, in [lon, lat] order.",
        fld="geometry",
    )


def _bbox_holds_geometry(
    boxes: pd.Series, arr: np.ndarray, present: pd.Series, rows: RowFindings
) -> None:
    """A feature's own ``bbox`` (RFC 7946 §5) contains its geometry."""
    has_box = boxes.map(lambda b: isinstance(b, list) and len(b) in (4, 6)) & present
    if not has_box.any():
        return
    b = np.array([[v[0], v[1], v[len(v) // 2], v[len(v) // 2 + 1]] for v in boxes[has_box]])
    gb = shapely.bounds(arr[has_box.to_numpy()])
    eps = 1e-9
    outside = (
        (gb[:, 0] < b[:, 0] - eps)
        | (gb[:, 1] < b[:, 1] - eps)
        | (gb[:, 2] > b[:, 2] + eps)
        | (gb[:, 3] > b[:, 3] + eps)
    )
    mask = pd.Series(False, index=boxes.index)
    mask[has_box] = outside
    rows.warn(
        mask,
        "bbox_mismatch",
        "bbox 未包含整个几何",
        "the bbox does not contain the geometry",
        "删除 bbox 或按几何重新计算。",
        "Delete the bbox or compute it from the geometry.",
        fld="bbox",
    )


def project_geometry(table: ProjectTable, repair_invalid: bool) -> ProjectShapes:
    """A project is a point (its location) or a polygon (its site): present, of that type,
    valid (or repaired, when the user chose the repaired shapes), and in Shenzhen."""
    frame, rows = table.frame, table.rows
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    rows.error(
        missing & ~frame["_broken"].astype(bool),
        "empty_geometry",
        "没有位置（几何为空）",
        "no location (empty or null geometry)",
        "为项目加上点位或用地红线。",
        "Give the project a point or a site polygon.",
        fld="geometry",
    )
    single = geoms.geom_type.eq("MultiPoint") & (shapely.get_num_geometries(geoms.to_numpy()) == 1)
    if single.any():
        frame.loc[single, frame.geometry.name] = shapely.get_geometry(geoms[single].to_numpy(), 0)
        geoms = frame.geometry
    wrong = ~missing & ~geoms.geom_type.isin(PROJECT_GEOMETRY_TYPES)
    rows.error(
        wrong,
        "wrong_geometry_type",
        "几何类型 {t} 不适用于项目图层",
        "geometry type {t} does not fit the projects layer",
        "项目用点（位置）或面（用地红线）表示。",
        "Use a point (location) or a polygon (site) for a project.",
        fld="geometry",
        fmt=lambda i: {"t": geoms[i].geom_type},
    )
    usable = ~missing & ~wrong
    reasons = geometry_checks(frame, rows, geographic=True)
    repaired = _invalid_shapes(frame, rows, usable & (reasons != VALID), reasons, repair_invalid)
    outside = frame.get("_outside_shenzhen", pd.Series(False, index=frame.index)).astype(bool)
    rows.error(
        outside & usable,
        "outside_shenzhen",
        "位置不在深圳范围内",
        "the location is outside Shenzhen",
        "核对坐标和坐标系。",
        "Check the coordinates and the coordinate system.",
        fld="geometry",
    )
    return ProjectShapes(frame.geometry, usable, repaired, outside)


def _invalid_shapes(
    frame: gpd.GeoDataFrame,
    rows: RowFindings,
    invalid: pd.Series,
    reasons: pd.Series,
    repair_invalid: bool,
) -> gpd.GeoSeries | None:
    """Repaired shapes (GEOS ``make_valid``, polygonal parts kept) for the invalid ones: an
    error offering them, or — when the user chose them — a warning, and ``frame`` takes them."""
    if not invalid.any():
        return None
    geoms = frame.geometry
    fixed = shapely.make_valid(geoms[invalid].to_numpy())
    polygonal = [
        shapely.union_all(
            [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        )
        for g in fixed
    ]
    repaired = gpd.GeoSeries(polygonal, index=geoms[invalid].index, crs=frame.crs)
    repaired_area = pd.Series(area_m2(repaired), index=repaired.index)

    def describe(i):
        return {"reason": reasons[i], "area": float(repaired_area.loc[i])}

    if repair_invalid:
        rows.warn(
            invalid,
            "geometry_repaired",
            "几何无效（{reason}），已按修复后的形状导入",
            "invalid geometry ({reason}); the repaired shape is used",
            fld="geometry",
            fmt=describe,
        )
        frame.loc[invalid, frame.geometry.name] = repaired.to_numpy()
    else:
        rows.error(
            invalid,
            "invalid_geometry",
            "几何无效：{reason}；可采用修复后的形状（面积 {area:,.0f} ㎡）",
            "invalid geometry: {reason}; a repaired shape is offered ({area:,.0f} m²)",
            "在 GIS 中修正自相交，或在上传页选择“采用修复后的形状”。",
            "Fix the self-intersection in your GIS, or choose 'use the repaired "
            "shapes' on the upload page.",
            fld="geometry",
            fmt=describe,
        )
    return repaired


def site_plausibility(table: ProjectTable, shapes: ProjectShapes, fields: ProjectFields) -> None:
    """A project's figures against its site polygon (EPSG:4547 area): the floor area at most
    ``MAX_SITE_FAR`` times the site; the stated land area within half of the polygon's."""
    polys = shapes.polygons
    site_area = pd.Series(np.nan, index=table.index)
    if polys.any():
        site_area[polys] = shapes.metric_areas
    floor, land = fields.numbers["floor_area_m2"], fields.numbers["land_area_m2"]
    site_far = floor / site_area
    table.rows.error(
        site_far > MAX_SITE_FAR,
        "implausible_floor_area",
        "总建筑面积 {f:,.0f} ㎡ 是用地红线面积 {s:,.0f} ㎡ 的 {r:.1f} 倍，不合理",
        "floor area {f:,.0f} m² is {r:.1f} times the site polygon's {s:,.0f} m²; implausible",
        "核对面积单位（㎡ 还是 万㎡）和用地红线。",
        "Check the unit (m² or 万m²) and the site polygon.",
        fld="floor_area_m2",
        fmt=lambda i: {"f": floor[i], "s": site_area[i], "r": site_far[i]},
    )
    table.rows.warn(
        polys & (land > 0) & ((site_area - land).abs() / land > 0.5),
        "land_area_vs_site",
        "用地面积 {l:,.0f} ㎡ 与红线面积 {s:,.0f} ㎡ 相差较大",
        "land area {l:,.0f} m² differs from the site polygon's {s:,.0f} m²",
        "核对用地面积或红线。",
        "Check the land area or the site polygon.",
        fld="land_area_m2",
        fmt=lambda i: {"l": land[i], "s": site_area[i]},
    )
