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
    to_metric,
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


@pytest.mark.parametrize("source", ["EPSG:4326", "EPSG:4490", "OGC:CRS84", "epsg:4326"])
def test_the_lonlat_to_metric_pipeline_is_the_one_proj_chooses(source):
    """The pipeline made without PROJ's database lookup is the very one PROJ's lookup gives
    (were PROJ to choose another, this fails), and projects every place to the same bits."""
    from pyproj import CRS, Transformer

    from spatial.crs import LONLAT_TO_METRIC, transformer

    looked_up = Transformer.from_crs(source, METRIC, always_xy=True)
    assert looked_up.definition == LONLAT_TO_METRIC
    lon, lat = np.meshgrid(np.linspace(113.7, 114.7, 60), np.linspace(22.4, 22.9, 60))
    ours = transformer(source, METRIC).transform(lon.ravel(), lat.ravel())
    theirs = looked_up.transform(lon.ravel(), lat.ravel())
    assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])
    # a CRS object and its name share one transformer
    assert transformer(CRS.from_user_input(source), METRIC) is transformer(source, METRIC)


def test_to_metric_projects_as_to_crs_does():
    geoms = GeoSeries(
        [box(114.0, 22.5, 114.01, 22.51), Point(114.1, 22.6), None, Polygon(),
         shapely.MultiPolygon([box(113.9, 22.7, 113.95, 22.72), box(114.3, 22.6, 114.31, 22.61)])],
        crs="EPSG:4490",
    )  # fmt: skip
    expected = geoms.to_crs(METRIC).to_numpy()
    got = to_metric(geoms)
    assert got[2] is None and got[3].is_empty
    keep = [0, 1, 4]
    assert shapely.equals_exact(got[keep], expected[keep], tolerance=1e-9).all()
    assert np.allclose(area_m2(geoms)[keep], shapely.area(expected[keep]), rtol=1e-12)
    with pytest.raises(ValueError, match="no CRS"):
        to_metric(GeoSeries([Point(1, 2)]))


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


def test_areas_are_those_of_the_projected_vertices():
    """Sites across Shenzhen (~50 vertices, 1-5 ha), shapes either side of the size measured
    at its centroid, a two-part site, a missing and an empty one: each area within 10⁻⁸ of
    its vertices projected to EPSG:4547 and measured (a 5 ha site: 0.0005 m²), the large ones
    exactly so."""
    import sys
    from pathlib import Path

    from spatial.crs import SMALL_SHAPE_DEG

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from generate import footprints

    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(113.75, 114.62, 2000), rng.uniform(22.45, 22.86, 2000)])
    side = SMALL_SHAPE_DEG
    shapes = [*footprints(xy, rng),
              box(114.3, 22.6, 114.3 + side * 0.99, 22.6 + side * 0.99),
              box(113.8, 22.7, 113.8 + side * 1.01, 22.7 + side * 0.5),
              box(114.0, 22.5, 114.4, 22.8),
              shapely.MultiPolygon([box(114.0, 22.5, 114.001, 22.501),
                                    box(114.5, 22.6, 114.501, 22.601)]),
              None, Polygon(), Point(114.1, 22.6)]  # fmt: skip
    for crs in ("EPSG:4326", "EPSG:4490"):
        geoms = GeoSeries(shapes, crs=crs)
        expected = geoms.to_crs(METRIC).area.to_numpy()
        got = area_m2(geoms)
        assert np.isnan(got[-3]) and got[-2] == 0.0 and got[-1] == 0.0
        np.testing.assert_allclose(got[:-3], expected[:-3], rtol=1e-8)
        assert got[-5] == expected[-5] and got[-6] == expected[-6]  # projected: exactly
    metres = GeoSeries([box(500_000, 2_500_000, 500_100, 2_500_100)], crs=METRIC)
    assert area_m2(metres)[0] == pytest.approx(10_000.0)


@pytest.mark.parametrize("lon,lat", PLACES)
def test_the_projection_measured_at_a_centroid_is_epsg_4547(lon, lat):
    from pyproj import Proj

    from spatial.crs import _metric_proj

    ours, theirs = _metric_proj().get_factors(lon, lat), Proj(METRIC).get_factors(lon, lat)
    for name in ("dx_dlam", "dx_dphi", "dy_dlam", "dy_dphi"):
        assert getattr(ours, name) == getattr(theirs, name)
