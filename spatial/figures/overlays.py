"""Overlays: which district, park and control line each project lies in; cluster matching.

All spatial tests are vectorised spatial joins (shapely 2 / geopandas), never per-feature loops.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import area_m2
from spatial.layers import ControlLevel
from spatial.shapes import surface_points
from spatial.store.database import OVERLAY_COLUMNS


def _probe_points(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point per project inside its geometry (site polygons → representative point)."""
    has_geom = projects.geometry.notna() & ~projects.geometry.is_empty
    pts = projects.loc[has_geom, [projects.geometry.name]].copy()
    # a point is its own (most of a register: no GEOS call for it), a site its point on surface
    pts[pts.geometry.name] = surface_points(pts.geometry.to_numpy())
    return pts


def _first_match(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, column: str) -> pd.Series:
    polys = polygons[polygons.geometry.notna() & ~polygons.geometry.is_empty]
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])][[column, "geometry"]]
    if points.empty or polys.empty:
        return pd.Series(dtype=object)
    joined = gpd.sjoin(points, polys.to_crs(points.crs), how="inner", predicate="within")
    return joined[~joined.index.duplicated(keep="first")][column]


def reference_key(
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
    aliases: pd.DataFrame,
    clusters: pd.DataFrame,
) -> str:
    """A digest of everything the overlays are computed from: the three layers' ids, levels
    and geometries (WKB) and the cluster names and aliases. Overlays kept under another
    digest describe reference data that has since changed."""
    digest = hashlib.sha256(b"overlays/1")
    for frame, columns in (
        (districts, ["district_id"]),
        (parks, ["park_id"]),
        (control_lines, ["line_id", "level"]),
    ):
        ids = frame[columns].astype(str).agg("\x1f".join, axis=1) if len(frame) else []
        wkb = shapely.to_wkb(frame.geometry.to_numpy(), output_dimension=2)
        for key, geom in sorted(zip(ids, wkb, strict=True), key=lambda kv: kv[0]):
            digest.update(key.encode() + b"\x1e" + (geom or b"") + b"\x1d")
        digest.update(b"\x1c")
    for frame, columns in ((clusters, ["name_zh", "code"]), (aliases, ["alias", "code"])):
        rows = sorted(frame[columns].astype(str).agg("\x1f".join, axis=1)) if len(frame) else []
        digest.update("\x1e".join(rows).encode() + b"\x1c")
    return digest.hexdigest()


def computed_overlays(
    projects: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
    aliases: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The overlays of each project (:data:`OVERLAY_COLUMNS`, indexed like ``projects``), by
    vectorised spatial joins of one probe point per project:

    * ``located_district_id`` – the district polygon it lies in (None outside any);
    * ``spatial_park_id`` – the park whose polygon contains it (None where none does);
    * ``control_level`` – ``level1`` / ``level2`` / ``none`` (level 1 wins where both apply);
      None for a project with no location;
    * ``cluster_codes`` – its industries and clusters text matched to "20+8" codes
      (:func:`cluster_codes`; None when ``clusters`` is not given).
    """
    out = pd.DataFrame(index=projects.index)
    points = _probe_points(projects)
    out["located_district_id"] = _first_match(points, districts, "district_id").reindex(out.index)
    out["spatial_park_id"] = _first_match(points, parks, "park_id").reindex(out.index)
    level = pd.Series("none", index=out.index, dtype=object)
    lines = control_lines[control_lines.geometry.notna()]
    for lvl in (ControlLevel.LEVEL2, ControlLevel.LEVEL1):  # level 1 overrides level 2
        hits = _first_match(points, lines[lines["level"] == lvl.value], "line_id")
        level.loc[hits.index] = lvl.value
    level[~out.index.isin(points.index)] = None
    out["control_level"] = level
    out["cluster_codes"] = None
    if clusters is not None:
        text = projects.get("industries", pd.Series(index=projects.index, dtype=object))
        text = (
            text.fillna("")
            + ";"
            + projects.get("clusters", pd.Series(index=projects.index, dtype=object)).fillna("")
        )
        out["cluster_codes"] = cluster_codes(text, aliases, clusters)
    out = out[list(OVERLAY_COLUMNS)]  # the columns, in the order, the store keeps
    return out.astype(object).where(out.notna(), None)


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


def cluster_codes(
    industries: pd.Series, aliases: pd.DataFrame, clusters: pd.DataFrame
) -> pd.Series:
    """Map free-text industry lists ('生物医药;智能制造') to "20+8" codes ('C06').

    A cluster matches when its name, or one of its aliases, occurs in the text. Returns a
    ';'-joined string of codes per row ('' when none matched). Each distinct text is matched
    once (a register repeats a few industry lists over many rows).
    """
    rows = industries.fillna("").astype(str)
    which, distinct = pd.factorize(rows)
    text = pd.Series(distinct, dtype=object)
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
    found = joined.astype(str).str.rstrip(";").replace("0", "").to_numpy(dtype=object)
    return pd.Series(found[which], index=rows.index, dtype=object)


def site_area_m2(projects: gpd.GeoDataFrame) -> pd.Series:
    """Area of polygon sites in m² (EPSG:4547, :func:`~spatial.crs.area_m2`); NaN for points
    and missing geometry."""
    polys = projects.geometry.notna() & projects.geom_type.isin(["Polygon", "MultiPolygon"])
    area = pd.Series(np.nan, index=projects.index)
    if polys.any():
        area[polys] = area_m2(projects.loc[polys].geometry)
    return area
