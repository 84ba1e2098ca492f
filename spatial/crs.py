"""Coordinate systems used for Shenzhen planning data (DESIGN.md §5).

* Storage: lon-lat (WGS84 / CGCS2000; equal at map scale).
* Areas and lengths: EPSG:4547, CGCS2000 / 3-degree Gauss-Krüger CM 114°E, in metres.
* Display on Amap/Tencent tiles only: GCJ-02, computed here with the public formula.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import shapely
from geopandas import GeoDataFrame, GeoSeries
from pyproj import Transformer

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
METRIC = "EPSG:4547"  # CGCS2000 / 3-degree GK CM 114E, metres: all areas and lengths
METRIC_ZONE_PREFIXED = "EPSG:4526"  # same projection with 38 500 000 false easting

# Krasovsky 1940 ellipsoid constants of the public GCJ-02 formula
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


@functools.lru_cache(maxsize=32)
def transformer(source, target) -> Transformer:
    """pyproj's lon-lat-ordered transformer from ``source`` to ``target``, made once per pair
    (making one looks the operation up in PROJ's database: about 40 ms each time; pyproj's
    transformers are safe to share between threads since 3.1)."""
    return Transformer.from_crs(source, target, always_xy=True)


METRIC_BATCH = 1_000  # shapes projected to EPSG:4547 at a time


def metric_batches(geoms: GeoSeries, where: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The lon-lat shapes of ``geoms`` where ``where`` (booleans) holds, in EPSG:4547,
    ``METRIC_BATCH`` at a time: (their positions in ``geoms``, their shapes in metres). A
    rule that only measures them never holds every projected shape at once (10⁴ site
    polygons of 50 vertices: 14 MB)."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; expected lon-lat (EPSG:4326/4490)")
    values, to_metres = geoms.to_numpy(), transformer(geoms.crs, METRIC)
    at = np.flatnonzero(np.asarray(where, dtype=bool))
    for start in range(0, len(at), METRIC_BATCH):
        part = at[start : start + METRIC_BATCH]
        yield part, shapely.transform(values[part], to_metres.transform, interleaved=False)


def area_m2(geoms: GeoSeries) -> np.ndarray:
    """Area in square metres of lon-lat geometries, computed in EPSG:4547."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; expected lon-lat (EPSG:4326/4490)")
    return geoms.to_crs(METRIC).area.to_numpy()


def length_m(geoms: GeoSeries) -> np.ndarray:
    """Length in metres of lon-lat geometries, computed in EPSG:4547."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; expected lon-lat (EPSG:4326/4490)")
    return geoms.to_crs(METRIC).length.to_numpy()


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon-lat → GCJ-02 (Amap/Tencent display coordinates). Vectorised."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, tolerance_deg: float = 1e-9, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by fixed-point iteration (a one-step inverse is ~1 m off)."""
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tolerance_deg) and np.all(np.abs(elat) < tolerance_deg):
            break
    return wlon, wlat


_X_PI = np.pi * 3000.0 / 180.0


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) → GCJ-02, the public formula. Vectorised."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu), the public formula. Vectorised."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _coords_fn(fn):
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def geometries_to_gcj02(geoms: GeoSeries) -> GeoSeries:
    """Shift lon-lat geometries to GCJ-02 for display on GCJ-02 tiles (never for storage)."""
    shifted = shapely.transform(geoms.to_numpy(), _coords_fn(wgs84_to_gcj02))
    return GeoSeries(shifted, index=geoms.index, crs=geoms.crs)


def frame_to_gcj02(frame: GeoDataFrame) -> GeoDataFrame:
    out = frame.copy()
    out[frame.geometry.name] = geometries_to_gcj02(frame.geometry)
    return out
