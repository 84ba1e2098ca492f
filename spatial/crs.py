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
from pyproj import CRS, Proj, Transformer

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
METRIC = "EPSG:4547"  # CGCS2000 / 3-degree GK CM 114E, metres: all areas and lengths
METRIC_ZONE_PREFIXED = "EPSG:4526"  # same projection with 38 500 000 false easting

# Krasovsky 1940 ellipsoid constants of the public GCJ-02 formula
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


# PROJ's own pipeline from lon-lat (WGS84, CGCS2000, OGC:CRS84: a ballpark, zero, offset between
# them) to EPSG:4547, as ``Transformer.from_crs(…, METRIC, always_xy=True).definition`` gives it
# (tests/test_crs.py holds it to that): made from the pipeline in 0.2 ms instead of the 40-50 ms
# PROJ's database lookup takes in every new process (each ``spatial`` command is one).
LONLAT_TO_METRIC = (
    "proj=pipeline step proj=unitconvert xy_in=deg xy_out=rad "
    "step proj=tmerc lat_0=0 lon_0=114 k=1 x_0=500000 y_0=0 ellps=GRS80"
)
LONLAT = ("EPSG:4326", "EPSG:4490", "OGC:CRS84")


def transformer(source, target) -> Transformer:
    """pyproj's lon-lat-ordered transformer from ``source`` to ``target`` (CRS objects or
    their names), made once per pair and process (pyproj's transformers are safe to share
    between threads since 3.1)."""
    return _transformer(_crs_name(source), _crs_name(target))


def _crs_name(crs) -> str:
    return crs if isinstance(crs, str) else CRS.from_user_input(crs).srs


@functools.lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    if source.upper() in LONLAT and target.upper() == METRIC:
        return Transformer.from_pipeline(LONLAT_TO_METRIC)
    return Transformer.from_crs(source, target, always_xy=True)


def to_metric(geoms: GeoSeries) -> np.ndarray:
    """Lon-lat shapes in EPSG:4547 (metres), as ``to_crs(METRIC)`` makes them, through the
    process's one transformer (geopandas makes a new one, 40-50 ms, at each call)."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; expected lon-lat (EPSG:4326/4490)")
    to_metres = transformer(geoms.crs, METRIC)
    return shapely.transform(geoms.to_numpy(), to_metres.transform, interleaved=False)


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


SMALL_SHAPE_DEG = 0.01  # ~1 km: a shape this size across is measured at its centroid
# the projection itself, for its derivatives (pyproj's factors); the one LONLAT_TO_METRIC runs
_METRIC_PROJ = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80"
_GRS80_A = 6378137.0  # metres: PROJ's factors are derivatives on the ellipsoid of radius 1


@functools.lru_cache(maxsize=1)
def _metric_proj() -> Proj:
    return Proj(_METRIC_PROJ)


def area_m2(geoms: GeoSeries) -> np.ndarray:
    """Area in square metres of lon-lat geometries in EPSG:4547 (NaN for a missing one).

    A shape at most ``SMALL_SHAPE_DEG`` across — a building, a site, a block — is its lon-lat
    area times the projection's areal scale at its centroid (the Jacobian of EPSG:4547 from
    pyproj's factors): over so small a shape that scale is all but constant, so this is the
    area of its projected vertices to within 10⁻⁸ (a 5 ha site: 0.0005 m²; tests/test_crs.py),
    in a tenth of the time. A larger shape is projected,
    ``METRIC_BATCH`` at a time, and measured."""
    if geoms.crs is None:
        raise ValueError("geometries have no CRS; expected lon-lat (EPSG:4326/4490)")
    if _crs_name(geoms.crs).upper() not in LONLAT:
        return shapely.area(to_metric(geoms))
    values = geoms.to_numpy()
    areas = np.full(len(values), np.nan)
    bounds = shapely.bounds(values)
    small = (bounds[:, 2] - bounds[:, 0] <= SMALL_SHAPE_DEG) & (
        bounds[:, 3] - bounds[:, 1] <= SMALL_SHAPE_DEG
    )  # (NaN bounds, a missing or empty shape, are not small)
    if small.any():
        centre = shapely.centroid(values[small])
        f = _metric_proj().get_factors(shapely.get_x(centre), shapely.get_y(centre))
        jacobian = np.abs(f.dx_dlam * f.dy_dphi - f.dx_dphi * f.dy_dlam)
        areas[small] = shapely.area(values[small]) * jacobian * (np.pi / 180 * _GRS80_A) ** 2
    large = ~small & ~shapely.is_missing(values)
    for at, metric in metric_batches(geoms, large):
        areas[at] = shapely.area(metric)
    return areas


def length_m(geoms: GeoSeries) -> np.ndarray:
    """Length in metres of lon-lat geometries, computed in EPSG:4547."""
    return shapely.length(to_metric(geoms))


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
