"""Overlays as the figures read them: a project's park (by its site, or as its source names
it), whether it lies inside a control line, and the area of a site. What is computed by spatial
join, and kept by the store, is :mod:`spatial.store.overlays`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.crs import area_m2
from spatial.layers import ControlLevel
from spatial.store.overlays import computed_overlays


def with_overlays(
    projects: gpd.GeoDataFrame, overlays: pd.DataFrame, control_lines: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Projects with their overlays and what follows from them:

    * ``located_district_id``, ``control_level`` as computed;
    * ``park_id`` / ``park_basis`` – the park whose polygon contains the project (``spatial``);
      where no park has a polygon there, the park named by the source (``declared``); else none;
    * ``inside_control_line`` (bool) — unknown (None) for projects with no location;
    * ``control_lines_quality`` – the quality of the control-line layer used (e.g. illustrative).
    """
    out = projects.copy()
    out["located_district_id"] = overlays["located_district_id"].reindex(out.index)
    spatial_park = overlays["spatial_park_id"].reindex(out.index)
    declared = out.get("declared_park_id", pd.Series(index=out.index, dtype=object))
    declared = declared.where(declared.notna() & (declared.astype(str) != ""), None)
    out["park_id"] = spatial_park.where(spatial_park.notna(), declared)
    out["park_basis"] = np.where(
        spatial_park.notna(), "spatial", np.where(declared.notna(), "declared", "none")
    )
    level = overlays["control_level"].reindex(out.index)
    out["control_level"] = level
    has_location = level.notna().to_numpy()
    out["inside_control_line"] = pd.Series(
        np.where(has_location, level.isin([ControlLevel.LEVEL1, ControlLevel.LEVEL2]), None),
        index=out.index,
        dtype=object,
    )
    lines = control_lines[control_lines.geometry.notna()]
    qualities = sorted(set(lines["quality"].dropna())) if "quality" in lines else []
    out["control_lines_quality"] = "/".join(qualities) if qualities else "missing"
    return out


def enrich_projects(
    projects: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Projects with their overlays computed now (:func:`computed_overlays`, then
    :func:`with_overlays`); the snapshot keeps them in the store instead."""
    overlays = computed_overlays(projects, districts, parks, control_lines)
    return with_overlays(projects, overlays, control_lines)


def site_area_m2(projects: gpd.GeoDataFrame) -> pd.Series:
    """Area of polygon sites in m² (EPSG:4547, :func:`~spatial.crs.area_m2`); NaN for points
    and missing geometry."""
    polys = projects.geometry.notna() & projects.geom_type.isin(["Polygon", "MultiPolygon"])
    area = pd.Series(np.nan, index=projects.index)
    if polys.any():
        area[polys] = area_m2(projects.loc[polys].geometry)
    return area
