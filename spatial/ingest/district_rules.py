"""A district uploads only its own projects (DESIGN.md §3): each location lies in the
chosen district (a point within ~100 m of its approximate outline; a site polygon by the share
of its area, measured in EPSG:4547), and a district column, where the file has one, names the
same district. The store re-checks ownership inside the write
(:mod:`spatial.ingest.submissions`)."""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import METRIC, metric_batches, transformer
from spatial.districts import resolve_districts
from spatial.ingest.columns import ProjectTable
from spatial.ingest.field_rules import ProjectFields
from spatial.ingest.geometry_rules import ProjectShapes

DISTRICT_TOLERANCE_DEG = 0.001  # ~100 m: outlines are approximate
MIN_SITE_SHARE = 0.5  # a site polygon belongs to a district holding at least half of it
STRADDLE_SHARE = 0.95  # below this a site is said to cross the district boundary


def district_names(districts: gpd.GeoDataFrame) -> dict[str, tuple[str, str]]:
    """district_id → (Chinese name, English name)."""
    columns = districts[["district_id", "name_zh", "name_en"]]
    return {d: (zh, en) for d, zh, en in columns.itertuples(index=False)}


def site_share_in(geoms: gpd.GeoSeries, usable: pd.Series, district_area) -> pd.Series:
    """For each usable site polygon, the share of its area (EPSG:4547) inside
    ``district_area`` (lon-lat); NaN for points and unusable rows (an invalid site is measured
    as GEOS's ``make_valid`` makes it, a site without area holds none of it inside).

    A site wholly inside holds all its area there and one apart none: that is told in lon-lat
    against the prepared outline (projecting keeps what lies inside what). Only the sites
    across the outline are projected, a batch at a time (:func:`~spatial.crs.metric_batches`),
    and overlaid with it in metres — an overlay each, against thousands of vertices."""
    share = np.full(len(geoms), np.nan)
    polys = (usable & geoms.geom_type.isin(["Polygon", "MultiPolygon"])).to_numpy()
    if not polys.any():
        return pd.Series(share, index=geoms.index)
    given = geoms.to_numpy()[polys]
    sites = given.copy()  # told apart made valid; measured as given, made valid in metres
    invalid = ~shapely.is_valid(sites)
    sites[invalid] = shapely.make_valid(sites[invalid])
    shapely.prepare(district_area)
    has_area = shapely.area(sites) > 0
    within = has_area & shapely.contains(district_area, sites)
    across = has_area & ~within & shapely.intersects(district_area, sites)
    values = within.astype(float)
    if across.any():
        zone = shapely.transform(
            district_area, transformer(geoms.crs, METRIC).transform, interleaved=False
        )
        shapely.prepare(zone)
        crossing = gpd.GeoSeries(given, crs=geoms.crs)
        for at, metric in metric_batches(crossing, across):
            metric = shapely.make_valid(metric)  # (a shape can lose its validity projected)
            total = shapely.area(metric)
            inside = shapely.area(shapely.intersection(metric, zone))
            values[at] = np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)
    share[polys] = values
    return pd.Series(share, index=geoms.index)


def district_of(points: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> pd.Series:
    """The district each point lies in (the first outline, in the districts' order, that
    holds it within); NaN outside every outline. One STRtree query over every point: no
    joined frame of them, as a spatial join builds."""
    polys = districts[districts.geometry.notna()]
    outlines = (polys if polys.crs == points.crs else polys.to_crs(points.crs)).geometry.to_numpy()
    at, which = shapely.STRtree(outlines).query(points.to_numpy(), predicate="within")
    order = np.lexsort((which, at))  # by point, then by district
    at, which = at[order], which[order]
    first = np.ones(len(at), dtype=bool)
    first[1:] = at[1:] != at[:-1]
    located = np.empty(len(points), dtype=object)
    located[:] = np.nan
    located[at[first]] = polys["district_id"].to_numpy()[which[first]]
    return pd.Series(located, index=points.index, name="district_id")


def outline_union(geoms: np.ndarray) -> shapely.Geometry:
    """The union of district outlines: GEOS's coverage union (a tenth of the time) where they
    form a coverage — the union it gives valid and holding their summed area, so no two
    overlap — else the full overlay (a layer an admin replaced with overlapping outlines)."""
    merged = shapely.coverage_union_all(geoms)
    total = float(shapely.area(geoms).sum())
    if shapely.is_valid(merged) and abs(shapely.area(merged) - total) <= 1e-9 * total:
        return merged
    return shapely.union_all(geoms)


@functools.lru_cache(maxsize=16)
def tolerance_area(outline: tuple[bytes, ...]) -> bytes:
    """A district's outline (its parts as WKB) grown by ``DISTRICT_TOLERANCE_DEG``, as WKB:
    computed once per outline, not once per upload."""
    grown = shapely.buffer(
        shapely.union_all(shapely.from_wkb(list(outline))), DISTRICT_TOLERANCE_DEG
    )
    return shapely.to_wkb(grown)


def district_rules(
    table: ProjectTable,
    shapes: ProjectShapes,
    fields: ProjectFields,
    district_id: str | None,
    districts: gpd.GeoDataFrame,
) -> None:
    """Every location in the chosen district, and the district column agreeing with it.
    Without a chosen district (``spatial validate`` of a file alone) nothing is checked."""
    target = districts[districts["district_id"] == district_id]
    if district_id is not None and not target.empty and target.geometry.notna().all():
        _located_in_district(table, shapes, district_id, target, districts)
    declared = fields.values["district"]
    if district_id is not None and declared.notna().any():
        declared_ids = resolve_districts(declared, districts)
        table.rows.error(
            declared.notna() & (declared_ids != district_id),
            "other_district",
            "行政区字段为“{value}”，与所选行政区不符",
            "the district field says '{value}', not the district chosen",
            "各区只能上传本区的项目。",
            "A district uploads only its own projects.",
            fld="district",
            fmt=lambda i: {"value": declared[i]},
        )


def _located_in_district(
    table: ProjectTable,
    shapes: ProjectShapes,
    district_id: str,
    target: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
) -> None:
    """A point within ``DISTRICT_TOLERANCE_DEG`` of the district; a site polygon with at
    least ``MIN_SITE_SHARE`` of its area in it (warned below ``STRADDLE_SHARE``). A location
    elsewhere is named by the district it is in."""
    geoms, usable, outside, rows = shapes.geoms, shapes.usable, shapes.outside, table.rows
    names = district_names(districts)
    area = shapely.from_wkb(tolerance_area(tuple(shapely.to_wkb(target.geometry))))
    zh_name, en_name = names.get(district_id, (district_id,) * 2)
    share = site_share_in(geoms, usable, area)
    sites = share.notna()
    spots = (usable & ~sites).to_numpy()  # the usable shapes that are not sites: points
    points = geoms.to_numpy()[spots]
    inside = np.zeros(len(geoms), dtype=bool)
    inside[spots] = shapely.contains_xy(area, shapely.get_x(points), shapely.get_y(points))
    rows.warn(
        sites & (share >= MIN_SITE_SHARE) & (share < STRADDLE_SHARE),
        "site_straddles_district",
        f"用地红线只有 {{share:.0%}} 在{zh_name}内，跨越区界",
        f"only {{share:.0%}} of the site polygon lies in {en_name}; it crosses the "
        "district boundary",
        "核对用地红线；跨区项目按面积占多数的区上传。",
        "Check the site polygon; a project crossing a boundary belongs to the district "
        "holding most of it.",
        fld="geometry",
        fmt=lambda i: {"share": share[i]},
    )
    rows.error(
        sites & (share < MIN_SITE_SHARE) & ~outside,
        "site_outside_district",
        f"用地红线只有 {{share:.0%}} 在{zh_name}内（须至少一半）",
        f"only {{share:.0%}} of the site polygon lies in {en_name} (at least half must)",
        "各区只能上传本区的项目：用地面积至少一半在本区的才属于本区；核对红线或所选行政区。",
        "A district uploads only its own projects: a site belongs to a district holding at "
        "least half of its area; check the polygon or the district.",
        fld="geometry",
        fmt=lambda i: {"share": share[i]},
    )

    stray = usable & ~sites & ~pd.Series(inside, index=table.index) & ~outside
    # the district each stray point is in, named in its error (none in an accepted file)
    located = district_of(gpd.GeoSeries(geoms[stray], crs=geoms.crs), districts)

    def where(i) -> dict[str, str]:
        if pd.isna(located[i]):
            return {"where_zh": "行政区之外", "where_en": "no district"}
        zh, en = names.get(located[i], ("其他区域", "another area"))
        return {"where_zh": zh, "where_en": en}

    rows.error(
        stray,
        "outside_district",
        f"位置在{{where_zh}}，不在所选的{zh_name}",
        f"the location is in {{where_en}}, not in {en_name} as chosen",
        "各区只能上传本区的项目；核对位置或所选行政区。",
        "A district uploads only its own projects; check the location or the district.",
        fld="geometry",
        fmt=where,
    )
