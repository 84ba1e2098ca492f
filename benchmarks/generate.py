"""Reproducible Shenzhen-like data for the benchmarks: projects spread over the districts
(points, or ~50-vertex factory footprints), as registers or straight into a store.

Each project lies inside its district (points drawn uniformly inside the outline, shrunk
~200 m), has a status, floor areas, stage dates with their evidence and quality columns —
every field the store keeps — so every step of the app reads what a real register holds.
The same ``seed`` gives the same data.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import WGS84
from spatial.layers import PROJECT_FIELDS
from spatial.store.reference import load_reference

STATUSES = np.array(["planned", "under_construction", "completed", "delivered"])
DISTRICTS = ["baoan", "longgang", "longhua", "guangming", "pingshan", "nanshan", "futian",
             "luohu", "yantian", "dapeng"]  # fmt: skip


def points_inside(outline, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random lon-lat points at least ~200 m inside ``outline``."""
    inner = shapely.buffer(outline, -0.002)
    minx, miny, maxx, maxy = inner.bounds
    found = np.empty((0, 2))
    while len(found) < n:
        xy = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
        found = np.vstack([found, xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])]])
    return found[:n]


def footprints(centres: np.ndarray, rng: np.random.Generator, vertices: int = 50):
    """A ~50-vertex outline (an irregular ring of 60–150 m radius) around each centre."""
    n = len(centres)
    angle = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    radius = rng.uniform(60, 150, (n, 1)) * (1 + 0.15 * np.sin(angle * rng.integers(2, 6, (n, 1))))
    dx = radius * np.cos(angle) / 102_000  # metres → degrees at 22.6° N
    dy = radius * np.sin(angle) / 111_000
    ring = np.stack([centres[:, :1] + dx, centres[:, 1:] + dy], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)  # closed, counter-clockwise
    return shapely.polygons(ring)


def projects(n: int, seed: int = 7, polygons: bool = False) -> gpd.GeoDataFrame:
    """``n`` projects with every stored field, lon-lat."""
    rng = np.random.default_rng(seed)
    outlines = load_reference().districts.set_index("district_id").geometry
    district = np.array(DISTRICTS)[rng.integers(0, len(DISTRICTS), n)]
    xy = np.empty((n, 2))
    for d in DISTRICTS:
        where = np.flatnonzero(district == d)
        xy[where] = points_inside(outlines[d], len(where), rng)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    done = start + pd.to_timedelta(rng.integers(300, 1200, n), unit="D")
    delivered = done + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    status = STATUSES[rng.integers(0, 4, n)]
    rank = pd.Series(status).map(dict(zip(STATUSES, range(4), strict=True))).to_numpy()
    floor = rng.uniform(5e3, 5e5, n).round()
    frame = pd.DataFrame({f: pd.Series([None] * n, dtype=object) for f in PROJECT_FIELDS})
    frame["project_id"] = [f"G-{i:07d}" for i in range(n)]
    frame["name_zh"] = [f"测试项目{i}" for i in range(n)]
    frame["district_id"] = district
    frame["floor_area_m2"] = floor
    frame["factory_floor_area_m2"] = np.where(rng.random(n) < 0.5, np.nan, floor * 0.8)
    frame["status"] = status
    for col, dates, stage_rank in (("start_date", start, 1), ("completion_date", done, 2),
                                   ("delivery_date", delivered, 3)):  # fmt: skip
        frame[col] = dates.strftime("%Y-%m-%d")
        evidence = np.where(rank >= stage_rank, "confirmed", "planned")
        frame[col.replace("_date", "_evidence")] = evidence
    frame["industries"] = np.array(["智能装备", "集成电路", "新能源汽车", "生物医药"])[
        rng.integers(0, 4, n)
    ]
    for col in ("quality", "location_quality", "figures_quality", "dates_quality"):
        frame[col] = "exact"
    frame["source"] = "generated for the benchmarks"
    shapes = footprints(xy, rng) if polygons else shapely.points(xy)
    return gpd.GeoDataFrame(frame, geometry=shapes, crs=WGS84)


def store_with_projects(url: str, n: int, seed: int = 7, polygons: bool = False):
    """A store at ``url`` with the shipped reference data and ``n`` generated projects (one
    version each, written as a commit writes them, with their overlays kept as a commit keeps
    them; footprints with ``polygons``)."""
    from spatial.store.database import open_store
    from spatial.store.overlays import OverlayReference, keep_written_overlays, overlays_by_id
    from spatial.store.seed import ensure_seeded

    store = open_store(url)
    store.create_schema()
    ensure_seeded(store)
    frame = projects(n, seed, polygons=polygons)
    reference = OverlayReference.of_store(store)
    with store.transaction() as conn:
        for start in range(0, n, 200_000):  # bounded memory per batch
            batch = frame.iloc[start : start + 200_000]
            store.write_project_versions(
                conn, batch, at=datetime(2023, 1, 1),
                changed_by="benchmark", change_kind="create", submission_id=None,
            )  # fmt: skip
            keep_written_overlays(store, conn, reference, [overlays_by_id(reference, batch)])
    return store
