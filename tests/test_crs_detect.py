"""spatial.ingest.crs_detect on the real Shenzhen files, mislabelled ones included."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest

from spatial.crs import wgs84_to_gcj02
from spatial.ingest.crs_detect import resolve_crs
from spatial.ingest.formats import read_upload

from conftest import SHARED

SZ = SHARED / "data" / "shenzhen"


def resolved(name: str, data: bytes, reference, choice: str = "auto"):
    raw = read_upload(name, data)
    return resolve_crs(raw.frame, raw.declared_crs, choice, raw.format, reference.districts)


def folder_zip(folder) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in folder.iterdir():
            z.write(p, p.name)
    return buf.getvalue()


@pytest.mark.parametrize(
    "path,code",
    [
        # GCJ-02 outlines: plain, as a bare array, and labelled CRS84 after a Shapefile round trip
        ("boundaries/datav_440300_full.json", "looks_gcj02"),
        ("boundaries/gmap_440300_feature_array.json", "looks_gcj02"),
        ("boundaries/gmap_440304_futian_feature_array.json", "looks_gcj02"),
        ("boundaries/industrymap_shenzhen_districts_shp_roundtrip.geojson", "looks_gcj02"),
        # UTM 49N with a legacy crs member, GCJ-02 lineage underneath
        ("industry/industrymap_ShenZhen_2_lisa_epsg32649.geojson", "looks_gcj02"),
    ],
)
def test_gcj02_data_is_caught(reference, path, code):
    result = resolved(path, (SZ / path).read_bytes(), reference)
    assert result.fatal and code in {f.code for f in result.findings}
    finding = result.findings[-1]
    assert "GCJ-02" in finding.message_zh and "GCJ-02" in finding.message_en


def test_gcj02_declared_by_the_officer_is_converted(reference):
    result = resolved(
        "x.json",
        (SZ / "boundaries/datav_440300_full.json").read_bytes(),
        reference,
        choice="GCJ-02",
    )
    assert not result.fatal and "converted_from_gcj02" in {f.code for f in result.findings}
    truth = reference.districts.set_index("name_zh")
    converted = result.frame.set_index("name").geometry
    futian = converted["福田区"].intersection(truth.loc["福田区"].geometry).area
    assert futian / truth.loc["福田区"].geometry.area > 0.99


@pytest.mark.parametrize(
    "path,label",
    [
        ("boundaries/transbigdata_sz_districts_wgs84.json", "WGS84"),
        ("boundaries/exiaohu_shenzhen_outline.geojson", "WGS84"),
        ("boundaries/hicichlid_shenzhen_outline.geojson", "WGS84"),
        ("sample_areas/transbigdata_szarea1.json", "WGS84"),
        ("industry/industrymap_ShenZhen_2_Center_epsg32649.geojson", "EPSG:32649"),
    ],
)
def test_wgs84_and_declared_files_pass(reference, path, label):
    result = resolved(path, (SZ / path).read_bytes(), reference)
    assert not result.fatal, [f.message_en for f in result.findings]
    assert result.crs_label == label
    assert result.frame.crs.to_epsg() == 4326


def test_utm_declared_is_transformed(reference):
    result = resolved(
        "c.geojson",
        (SZ / "industry/industrymap_ShenZhen_2_Center_epsg32649.geojson").read_bytes(),
        reference,
    )
    x, y = result.frame.geometry.iloc[0].x, result.frame.geometry.iloc[0].y
    assert 113.9 < x < 114.1 and 22.6 < y < 22.7  # ≈114.011E 22.660N (PROVENANCE.md)


def test_shapefile_without_prj_is_recognised_as_lonlat(reference):
    raw_zip = folder_zip(SZ / "boundaries/pygeo_sz_shp")
    result = resolved("sz.zip", raw_zip, reference)
    assert not result.fatal and result.crs_label == "WGS84"


def test_shenzhen_local_grid_is_named(reference):
    result = resolved("qu.zip", folder_zip(SZ / "boundaries/opengl_qt_qu_szlocal"), reference)
    assert result.fatal and result.findings[-1].code == "looks_sz_local_grid"


def _points_geojson(xy, crs_member: str | None = None) -> bytes:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"n": i},
                "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            }
            for i, (x, y) in enumerate(xy)
        ],
    }
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    return json.dumps(doc).encode()


SITES = np.array([[113.87, 22.755], [114.21, 22.655], [113.94, 22.75], [114.30, 22.72]])


def test_swapped_lat_lon(reference):
    result = resolved("s.geojson", _points_geojson(SITES[:, ::-1]), reference)
    assert result.fatal and result.findings[-1].code == "swapped"
    assert "lat/lon swapped" in result.findings[-1].message_en
    assert "颠倒" in result.findings[-1].message_zh


@pytest.mark.parametrize("epsg,code", [(4547, "looks_epsg4547"), (4526, "looks_epsg4526")])
def test_metres_without_crs_member(reference, epsg, code):
    metres = gpd.GeoSeries.from_xy(SITES[:, 0], SITES[:, 1], crs=4326).to_crs(epsg)
    xy = np.column_stack([metres.x, metres.y])
    result = resolved("m.geojson", _points_geojson(xy), reference)
    assert result.fatal and result.findings[-1].code == code
    ok = resolved("m.geojson", _points_geojson(xy), reference, choice=f"EPSG:{epsg}")
    assert not ok.fatal
    np.testing.assert_allclose(
        np.column_stack([ok.frame.geometry.x, ok.frame.geometry.y]), SITES, atol=1e-7
    )
    declared = resolved(
        "m.geojson", _points_geojson(xy, f"urn:ogc:def:crs:EPSG::{epsg}"), reference
    )
    assert not declared.fatal


def test_lonlat_declared_but_metres(reference):
    metres = gpd.GeoSeries.from_xy(SITES[:, 0], SITES[:, 1], crs=4326).to_crs(4547)
    data = _points_geojson(np.column_stack([metres.x, metres.y]), "urn:ogc:def:crs:OGC:1.3:CRS84")
    result = resolved("m.geojson", data, reference)
    assert result.fatal and result.findings[-1].code == "declared_lonlat_but_metres"


def test_outside_shenzhen(reference):
    beijing = np.array([[116.40, 39.90], [116.30, 39.95]])
    result = resolved("b.geojson", _points_geojson(beijing), reference)
    assert result.fatal and result.findings[-1].code == "outside_shenzhen"


def test_bd09_declared(reference):
    from spatial.crs import gcj02_to_bd09

    glon, glat = wgs84_to_gcj02(SITES[:, 0], SITES[:, 1])
    blon, blat = gcj02_to_bd09(glon, glat)
    result = resolved(
        "b.geojson", _points_geojson(np.column_stack([blon, blat])), reference, choice="BD-09"
    )
    assert not result.fatal
    back = np.column_stack([result.frame.geometry.x, result.frame.geometry.y])
    assert np.abs(back - SITES).max() < 2e-5  # BD-09's public inverse is good to ~1 m


def test_the_shapes_kept_per_set_of_outlines_follow_a_replaced_layer(reference):
    """Shenzhen's land and the district lines are computed once per set of outlines: the
    same outlines give equal shapes (each caller its own), moved outlines give shapes moved
    with them — never the shapes of a layer that was replaced."""
    from shapely import equals

    from spatial.ingest.crs_detect import district_shapes

    districts = reference.districts
    land, lines = district_shapes(districts)
    again, _ = district_shapes(districts.copy())
    assert again is not land and equals(again, land)
    moved = districts.copy()
    moved["geometry"] = moved.geometry.translate(xoff=0.5)
    moved_land, moved_lines = district_shapes(moved)
    shifted = np.array(land.bounds) + [0.5, 0, 0.5, 0]
    np.testing.assert_allclose(moved_land.bounds, shifted, atol=1e-6)
    np.testing.assert_allclose(moved_lines.bounds, np.array(lines.bounds) + [0.5, 0, 0.5, 0])
    assert district_shapes(districts.iloc[:0]) == (None, None)


def test_shenzhen_land_is_every_district_with_its_margin(reference):
    """The land a file's coordinates are told by: every district outline wholly inside it,
    and its edge within 50 m (the outline's simplification) of the true 3 km margin — never
    nearer the outline than ~2.9 km nor farther than ~3.1 km (0.029°, 0.031°)."""
    import shapely

    from spatial.ingest.crs_detect import LAND_MARGIN_DEG, LAND_SIMPLIFY_DEG, district_shapes

    land, _ = district_shapes(reference.districts)
    union = shapely.union_all(reference.districts.geometry.to_numpy())
    assert land.contains(union)
    exact = shapely.buffer(union, LAND_MARGIN_DEG)
    assert shapely.hausdorff_distance(land.boundary, exact.boundary) <= LAND_SIMPLIFY_DEG * 1.5
    assert land.within(shapely.buffer(union, LAND_MARGIN_DEG + 0.001))
    assert shapely.buffer(union, LAND_MARGIN_DEG - 0.001).within(land)


def test_the_outlines_union_is_the_overlay_whether_they_tile_or_overlap(reference):
    """The district outlines tile Shenzhen, so their coverage union stands; outlines an admin
    replaced with two that overlap (or a gap between them) give the full overlay's union."""
    import shapely

    from spatial.ingest.district_rules import outline_union

    geoms = reference.districts.geometry.to_numpy()
    assert shapely.equals(outline_union(geoms), shapely.union_all(geoms))
    overlapping = geoms.copy()
    overlapping[0] = shapely.buffer(overlapping[0], 0.01)  # over its neighbours
    merged = outline_union(overlapping)
    assert shapely.is_valid(merged)
    assert shapely.equals(merged, shapely.union_all(overlapping))
    apart = np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), shapely.box(1, 0, 2, 1)])
    assert shapely.area(outline_union(apart[:2])) == 2.0
    assert shapely.equals(outline_union(apart), shapely.box(0, 0, 3, 1))
