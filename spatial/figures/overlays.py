"""Overlays: which district, park and control line each project lies in; cluster matching.

All spatial tests are vectorised spatial joins (shapely 2 / geopandas), never per-feature loops.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.crs import METRIC
from spatial.layers import ControlLevel


def _probe_points(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point per project inside its geometry (site polygons → representative point)."""
    has_geom = projects.geometry.notna() & ~projects.geometry.is_empty
    pts = projects.loc[has_geom, [projects.geometry.name]].copy()
    pts[pts.geometry.name] = pts.geometry.representative_point()
    return pts


def _first_match(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, column: str) -> pd.Series:
    polys = polygons[polygons.geometry.notna() & ~polygons.geometry.is_empty]
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])][[column, "geometry"]]
    if points.empty or polys.empty:
        return pd.Series(dtype=object)
    joined = gpd.sjoin(points, polys.to_crs(points.crs), how="inner", predicate="within")
    return joined[~joined.index.duplicated(keep="first")][column]


def enrich_projects(
    projects: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Add derived columns to projects.

    * ``located_district_id`` – the district polygon the project lies in (None outside any);
    * ``park_id`` / ``park_basis`` – the park whose polygon contains the project (``spatial``);
      where no park has a polygon there, the park named by the source (``declared``); else none;
    * ``control_level`` – ``level1`` / ``level2`` / ``none`` (level 1 wins where both apply),
      and ``inside_control_line`` (bool) — unknown (None) for projects with no location;
    * ``control_lines_quality`` – the quality of the control-line layer used (e.g. illustrative).
    """
    out = projects.copy()
    points = _probe_points(projects)
    out["located_district_id"] = _first_match(points, districts, "district_id").reindex(out.index)

    spatial_park = _first_match(points, parks, "park_id").reindex(out.index)
    declared = out.get("declared_park_id", pd.Series(index=out.index, dtype=object))
    declared = declared.where(declared.notna() & (declared.astype(str) != ""), None)
    out["park_id"] = spatial_park.where(spatial_park.notna(), declared)
    out["park_basis"] = np.where(
        spatial_park.notna(), "spatial", np.where(declared.notna(), "declared", "none")
    )

    level = pd.Series("none", index=out.index, dtype=object)
    lines = control_lines[control_lines.geometry.notna()]
    for lvl in (ControlLevel.LEVEL2, ControlLevel.LEVEL1):  # level 1 overrides level 2
        hits = _first_match(points, lines[lines["level"] == lvl.value], "line_id")
        level.loc[hits.index] = lvl.value
    has_location = out.index.isin(points.index)
    level[~has_location] = None
    out["control_level"] = level
    out["inside_control_line"] = pd.Series(
        np.where(has_location, level.isin([ControlLevel.LEVEL1, ControlLevel.LEVEL2]), None),
        index=out.index,
        dtype=object,
    )
    qualities = sorted(set(lines["quality"].dropna())) if "quality" in lines else []
    out["control_lines_quality"] = "/".join(qualities) if qualities else "missing"
    return out


def cluster_codes(
    industries: pd.Series, aliases: pd.DataFrame, clusters: pd.DataFrame
) -> pd.Series:
    """Map free-text industry lists ('生物医药;智能制造') to "20+8" codes ('C06').

    A cluster matches when its name, or one of its aliases, occurs in the text. Returns a
    ';'-joined string of codes per row ('' when none matched).
    """
    text = industries.fillna("").astype(str)
    names = pd.concat(
        [
            clusters[["name_zh", "code"]].rename(columns={"name_zh": "alias"}),
            aliases[["alias", "code"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    matches = pd.DataFrame(
        {code: np.zeros(len(text), dtype=bool) for code in sorted(set(names["code"]))},
        index=text.index,
    )
    for alias, code in names.itertuples(index=False):
        matches[code] |= text.str.contains(alias, regex=False)
    joined = matches.astype(object).dot(
        pd.Series([c + ";" for c in matches.columns], index=matches.columns)
    )
    return joined.astype(str).str.rstrip(";").replace("0", "")


def site_area_m2(projects: gpd.GeoDataFrame) -> pd.Series:
    """Area of polygon sites in m² (EPSG:4547); NaN for points and missing geometry."""
    polys = projects.geometry.notna() & projects.geom_type.isin(["Polygon", "MultiPolygon"])
    area = pd.Series(np.nan, index=projects.index)
    if polys.any():
        area[polys] = projects.loc[polys].geometry.to_crs(METRIC).area
    return area
