"""The overlays a store keeps with each project version: which district, park and control line
it lies in, and which "20+8" clusters its industries name — computed against the reference data
the store holds (:class:`OverlayReference`), kept under that data's digest, by the write that
made the version (a commit, an undo) or, where none did, by the first read
(:mod:`spatial.figures.snapshot`).

All spatial tests are vectorised spatial joins (shapely 2 / geopandas), never per-feature loops.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from spatial.layers import ControlLevel
from spatial.rows import rows_where
from spatial.shapes import surface_points
from spatial.store.database import OVERLAY_COLUMNS, Store

OVERLAY_BATCH = 20_000  # rows whose overlays a commit computes at once (bounds its memory)


def _probe_points(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point per project inside its geometry (site polygons → representative point)."""
    has_geom = projects.geometry.notna() & ~projects.geometry.is_empty
    pts = projects.loc[has_geom, [projects.geometry.name]].copy()
    # a point is its own (most of a register: no GEOS call for it), a site its point on surface
    pts[pts.geometry.name] = surface_points(pts.geometry.to_numpy())
    return pts


def _polygons(layer: gpd.GeoDataFrame, column: str, crs) -> gpd.GeoDataFrame:
    """``layer``'s polygons (no missing, empty or other shape), ``column`` and shape, in ``crs``."""
    polys = layer[layer.geometry.notna() & ~layer.geometry.is_empty]
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])][[column, "geometry"]]
    return polys.to_crs(crs)


def _first_match(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, column: str) -> pd.Series:
    """``column`` of the first polygon of ``polygons`` each point lies within (sjoin), by point."""
    if points.empty:
        return pd.Series(dtype=object)
    return _joined_first(points, _polygons(polygons, column, points.crs), column)


def _joined_first(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, column: str) -> pd.Series:
    if polys.empty:
        return pd.Series(dtype=object)
    joined = gpd.sjoin(points, polys, how="inner", predicate="within")
    return joined[~joined.index.duplicated(keep="first")][column]


def _tile_match(points: gpd.GeoDataFrame, tiles: gpd.GeoDataFrame, column: str) -> pd.Series:
    """:func:`_first_match` for a few polygons that tile the map, as the districts tile the
    city: every point falls in some tile's box, so a spatial index's pairs are as many as the
    points. Each tile instead tests the points in its box not yet placed (``contains_xy``,
    prepared): 0.29 s for 10⁶ points in 11 districts, against sjoin's 1.1 s and 49 MB."""
    if points.empty:
        return pd.Series(dtype=object)
    polys = _polygons(tiles, column, points.crs)
    geoms = points.geometry.to_numpy()
    if polys.empty or not (shapely.get_type_id(geoms) == shapely.GeometryType.POINT).all():
        return _joined_first(points, polys, column)
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    found = np.full(len(geoms), -1, dtype=np.int64)
    shapes = polys.geometry.to_numpy()
    shapely.prepare(shapes)
    for i, (shape, (minx, miny, maxx, maxy)) in enumerate(
        zip(shapes, shapely.bounds(shapes), strict=True)
    ):
        maybe = np.flatnonzero((found < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        found[maybe[shapely.contains_xy(shape, x[maybe], y[maybe])]] = i
    placed = found >= 0
    return pd.Series(
        polys[column].to_numpy()[found[placed]], index=points.index[placed], name=column
    )


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


@dataclass(frozen=True)
class OverlayReference:
    """What overlays are computed from — the district, park and control-line layers and the
    "20+8" clusters with their aliases — as one store held them, with their digest."""

    districts: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    control_lines: gpd.GeoDataFrame
    aliases: pd.DataFrame
    clusters: pd.DataFrame

    @classmethod
    def of_store(cls, store: Store) -> OverlayReference:
        return cls(
            districts=store.layer("districts"),
            parks=store.layer("parks"),
            control_lines=store.layer("control_lines"),
            aliases=store.table("cluster_aliases"),
            clusters=store.table("clusters"),
        )

    @cached_property
    def key(self) -> str:
        """:func:`reference_key` of this reference data: what overlays are kept under."""
        return reference_key(
            self.districts, self.parks, self.control_lines, self.aliases, self.clusters
        )

    def overlays(self, projects: gpd.GeoDataFrame) -> pd.DataFrame:
        """:func:`computed_overlays` of ``projects`` against this reference data."""
        return computed_overlays(
            projects, self.districts, self.parks, self.control_lines, self.aliases, self.clusters
        )


def overlays_by_id(reference: OverlayReference, projects: gpd.GeoDataFrame) -> pd.DataFrame:
    """The overlays of ``projects`` (rows about to be, or just, written as versions) against
    ``reference``, indexed by ``project_id``; computed :data:`OVERLAY_BATCH` rows at a time,
    so a commit's probe points and joins never stand for the whole file at once."""
    parts = [
        reference.overlays(projects.iloc[start : start + OVERLAY_BATCH])
        for start in range(0, len(projects), OVERLAY_BATCH)
    ] or [reference.overlays(projects)]  # no rows: the empty frame of the columns
    found = pd.concat(parts) if len(parts) > 1 else parts[0]
    found.index = pd.Index(projects["project_id"].astype(str), name="project_id")
    return found


def keep_written_overlays(
    store: Store, conn: Connection, reference: OverlayReference, overlays: list[pd.DataFrame]
) -> None:
    """Keep, in the writer's transaction ``conn``, the overlays (:func:`overlays_by_id`) of the
    versions it has just written, under ``reference``'s key: the first page read after a
    commit or an undo computes none of them. The versions are the projects' current ones."""
    parts = [o for o in overlays if len(o)]
    if not parts:
        return
    found = pd.concat(parts)
    found["version_id"] = store.current_version_ids(found.index, conn)
    # (every one was just written; one that was not is left to the next read to compute)
    store.keep_overlays(rows_where(found, found["version_id"].to_numpy() >= 0), reference.key,
                        conn=conn)  # fmt: skip


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
    out["located_district_id"] = _tile_match(points, districts, "district_id").reindex(out.index)
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


def cluster_codes(
    industries: pd.Series, aliases: pd.DataFrame, clusters: pd.DataFrame
) -> pd.Series:
    """Map free-text industry lists ('生物医药;智能制造') to "20+8" codes ('C06').

    A cluster matches when its name, or one of its aliases, occurs in the text. Returns a
    ';'-joined string of its codes, in code order, per row ('' when none matched). Each
    distinct text is matched once (a register repeats a few industry lists over many rows),
    by Python's substring test — what pandas' ``str.contains`` runs on text held as objects,
    without its per-name Series (60 names: 25 ms for 10⁴ rows, whatever their texts)."""
    rows = industries.fillna("").astype(str)
    which, distinct = pd.factorize(rows)
    names = pd.concat(
        [
            clusters[["name_zh", "code"]].rename(columns={"name_zh": "alias"}),
            aliases[["alias", "code"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    by_code: dict[str, list[str]] = {}
    for alias, code in names.astype(str).itertuples(index=False):
        by_code.setdefault(code, []).append(alias)
    ordered = sorted(by_code.items())
    found = np.array(
        [";".join(c for c, names_of in ordered if any(n in text for n in names_of))
         for text in distinct.astype(str)],
        dtype=object,
    )  # fmt: skip
    return pd.Series(found[which], index=rows.index, dtype=object)
