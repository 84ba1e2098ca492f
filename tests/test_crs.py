from __future__ import annotations

import coordTransform as ct
import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas import GeoSeries
from pyproj import Geod
from shapely.geometry import Point, Polygon, box

from spatial.crs import (
    METRIC,
    WGS84,
    area_m2,
    gcj02_to_wgs84,
    geometries_to_gcj02,
    length_m,
    metric_batches,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="GRS80")

# places across Shenzhen: Futian (centre), western Bao'an, Dapeng (east), Guangming (north)
PLACES = [(114.0579, 22.5431), (113.80, 22.71), (114.52, 22.58), (113.93, 22.77)]


@pytest.mark.parametrize("lon,lat", PLACES)
@pytest.mark.parametrize("side_m", [100.0, 1000.0, 5000.0])
def test_square_built_in_metres_has_its_area(lon, lat, side_m):
    centre = gpd.GeoSeries.from_xy([lon], [lat], crs=WGS84).to_crs(METRIC).iloc[0]
    square = box(
        centre.x - side_m / 2, centre.y - side_m / 2, centre.x + side_m / 2, centre.y + side_m / 2
    )
    lonlat = gpd.GeoSeries([square], crs=METRIC).to_crs(WGS84)
    assert area_m2(lonlat)[0] == pytest.approx(side_m**2, rel=1e-9)
    assert length_m(lonlat.boundary)[0] == pytest.approx(4 * side_m, rel=1e-9)


@pytest.mark.parametrize("lon,lat", PLACES)
def test_metric_area_agrees_with_the_ellipsoid(lon, lat):
    # a 0.01° x 0.01° cell (about 1.03 km x 1.11 km): EPSG:4547 within 0.01 % of the geodesic area
    cell = Polygon([(lon, lat), (lon + 0.01, lat), (lon + 0.01, lat + 0.01), (lon, lat + 0.01)])
    geodesic, _ = GEOD.geometry_area_perimeter(cell)
    ours = area_m2(gpd.GeoSeries([cell], crs=WGS84))[0]
    assert ours == pytest.approx(abs(geodesic), rel=1e-4)
    assert 1.0e6 < ours < 1.3e6


def test_area_needs_a_crs():
    with pytest.raises(ValueError, match="no CRS"):
        area_m2(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_gcj02_reference_point():
    lon, lat = wgs84_to_gcj02(np.array([114.0579]), np.array([22.5431]))
    assert lon[0] == pytest.approx(114.0630140, abs=2e-7)
    assert lat[0] == pytest.approx(22.5403828, abs=2e-7)
    _, _, dist = GEOD.inv(114.0579, 22.5431, lon[0], lat[0])
    assert 550 < dist < 650  # a few hundred metres to the ESE


def _grid():
    lons, lats = np.meshgrid(np.linspace(113.75, 114.65, 19), np.linspace(22.40, 22.87, 11))
    return lons.ravel(), lats.ravel()


def test_gcj02_forward_matches_independent_implementation():
    lons, lats = _grid()
    glon, glat = wgs84_to_gcj02(lons, lats)
    for lo, la, g1, g2 in zip(lons, lats, glon, glat, strict=True):
        ref = ct.wgs84_to_gcj02(lo, la)
        _, _, d = GEOD.inv(g1, g2, ref[0], ref[1])
        assert d < 0.01


def test_gcj02_round_trip_within_a_metre():
    lons, lats = _grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lons, lats))
    _, _, dist = GEOD.inv(lons, lats, back_lon, back_lat)
    assert np.max(dist) < 1.0
    assert np.max(dist) < 0.01  # the iteration converges far below the requirement


def test_geometry_shift_moves_every_vertex_and_keeps_the_original():
    poly = gpd.GeoSeries([box(114.0, 22.5, 114.05, 22.55)], crs=WGS84)
    shifted = geometries_to_gcj02(poly)
    assert poly.iloc[0].bounds == (114.0, 22.5, 114.05, 22.55)
    moved = np.array(shifted.iloc[0].exterior.coords) - np.array(poly.iloc[0].exterior.coords)
    assert np.all(np.abs(moved) > 1e-3)


def test_a_transformer_is_made_once_per_pair_and_shared_between_threads():
    from concurrent.futures import ThreadPoolExecutor

    from pyproj import Transformer

    from spatial.crs import transformer

    assert transformer(WGS84, METRIC) is transformer(WGS84, METRIC)
    assert transformer(METRIC, WGS84) is not transformer(WGS84, METRIC)
    lon = np.linspace(113.8, 114.6, 1000)
    lat = np.linspace(22.4, 22.8, 1000)
    fresh = Transformer.from_crs(WGS84, METRIC, always_xy=True).transform(lon, lat)
    with ThreadPoolExecutor(8) as pool:
        shared = list(pool.map(lambda _: transformer(WGS84, METRIC).transform(lon, lat), range(16)))
    for x, y in shared:
        assert np.array_equal(x, fresh[0]) and np.array_equal(y, fresh[1])


@pytest.mark.parametrize("batch", [1, 3, 5_000])
def test_metric_batches_project_the_chosen_shapes_as_to_crs_does(monkeypatch, batch):
    """Every chosen shape once, in order, with its position, projected as ``to_crs`` projects
    it; the others (and a missing shape not chosen) left out."""
    monkeypatch.setattr("spatial.crs.METRIC_BATCH", batch)
    geoms = GeoSeries(
        [box(114.0, 22.5, 114.01, 22.51), Point(114.1, 22.6), None,
         box(113.9, 22.7, 113.95, 22.72), Point(114.2, 22.55)],
        crs="EPSG:4326",
    )  # fmt: skip
    chosen = np.array([True, True, False, True, False])
    parts = list(metric_batches(geoms, chosen))
    assert all(len(p) <= batch for p, _ in parts)
    at = np.concatenate([p for p, _ in parts])
    assert at.tolist() == [0, 1, 3]
    projected = np.concatenate([m for _, m in parts])
    expected = geoms[chosen].to_crs(METRIC).to_numpy()
    assert shapely.equals_exact(projected, expected, tolerance=1e-6).all()
    with pytest.raises(ValueError, match="no CRS"):
        next(metric_batches(GeoSeries([Point(1, 2)]), np.array([True])))
