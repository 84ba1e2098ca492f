"""spatial.ingest.upload: every validator fixture, GEOS validity cases, and the project rules."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from spatial.ingest.upload import UploadOptions, check_file, check_upload

from conftest import SHARED

FIXTURES = SHARED / "data" / "fixtures"

# The verdict a folder implies: rejected for bad/invalid/false, accepted otherwise.
REJECTING_FOLDERS = {"bad", "invalid", "invalid_geometries", "invalid_structure", "false"}

# Files whose verdict differs from their folder's, each with the finding that must name the
# problem and the reason a planner would accept. No file is skipped.
DEVIATIONS: dict[str, tuple[str, str, str]] = {
    "geojsonhint/bad/bad-polygon-interiorring-rhr.geojson": (
        "accepted",
        "winding_order",
        "RFC 7946 §3.1.6: parsers SHOULD NOT reject polygons that break the right-hand rule; "
        "the rings are reoriented and the officer is told.",
    ),
    "geojsonhint/bad/polygon_winding_order.geojson": (
        "accepted",
        "winding_order",
        "as above: winding order is a SHOULD, not a MUST.",
    ),
    "geojson-validator/invalid_geometries/invalid_exterior_not_ccw.geojson": (
        "accepted",
        "winding_order",
        "as above: winding order is a SHOULD, not a MUST.",
    ),
    "geojson-validator/invalid_geometries/invalid_interior_not_cw.geojson": (
        "accepted",
        "winding_order",
        "as above: winding order is a SHOULD, not a MUST.",
    ),
    "geojsonhint/bad/excessive_precision_truncated.geojson": (
        "accepted",
        "excess_precision",
        "extra decimals lose nothing: the store keeps 7 decimals (~1 cm) and says so.",
    ),
    "geojsonhint/bad/geometrycollection_single.geojson": (
        "accepted",
        "single_member_collection",
        "RFC 7946 allows a one-member GeometryCollection; geojsonhint itself only hints.",
    ),
    "geojson-validator/invalid_structure/invalid_geometry_geometrycollection_single.geojson": (
        "accepted",
        "single_member_collection",
        "a one-member GeometryCollection is legal GeoJSON; it is only hinted at.",
    ),
    "geojson-validator/invalid_structure/invalid_featurecollection_crs_defined.geojson": (
        "accepted",
        "legacy_crs_member",
        "Shenzhen data arrives with legacy crs members (UTM, CGCS2000); DESIGN.md §5 and the "
        "issue require a declared CRS to be honoured, so it is read and reported.",
    ),
    "geojson-validator/problematic_geometries/problematic_crosses_antimeridian.geojson": (
        "rejected",
        "coordinates_out_of_range",
        "longitude −227° does not exist; RFC 7946 coordinates are WGS84 lon-lat.",
    ),
    "geojson-validator/problematic_geometries/problematic_outside_lat_lon_boundaries.geojson": (
        "rejected",
        "ring_not_closed",
        "its ring starts at −190° and ends elsewhere: not closed (and out of range).",
    ),
    "geojson-validator/problematic_geometries/problematic_self_intersection_large.geojson": (
        "rejected",
        "invalid_geometry",
        "a self-intersecting polygon has no defined area; the repaired shape is offered.",
    ),
    "geojson-validator/problematic_geometries/problematic_self_intersection_small.geojson": (
        "rejected",
        "invalid_geometry",
        "a small self-intersection is still an invalid polygon; the repaired shape is offered.",
    ),
    "geojson-validator/problematic_geometries/problematic_zero_length_linestring.geojson": (
        "rejected",
        "invalid_geometry",
        "a line whose two points coincide is not a valid geometry (GEOS: too few points).",
    ),
    "geojsonhint/good/issue82.geojson": (
        "rejected",
        "coordinates_out_of_range",
        "latitude −141° does not exist; geojsonhint checks structure only.",
    ),
    # GDAL's own test files: no folder verdict, each stated here
    "gdal/crs_32631_fc_only.json": (
        "accepted",
        "legacy_crs_member",
        "valid GeoJSON with a JSON-FG coordRefSys, honoured.",
    ),
    "gdal/esripolygon.json": ("rejected", "esri_json", "Esri JSON is not GeoJSON."),
    "gdal/feature_with_type_Topology_property.json": (
        "accepted",
        "legacy_crs_member",
        "a property named 'type' is just a property.",
    ),
    "gdal/featuretype.json": ("accepted", "legacy_crs_member", "valid, EPSG:4326 declared."),
    "gdal/ids_0_1_null_1_null.json": (
        "accepted",
        "null_geometry",
        "valid GeoJSON; duplicate ids matter only to a layer that needs ids (projects).",
    ),
    "gdal/nullvalues.geojson": (
        "rejected",
        "changed_semantics",
        "a GeometryCollection may not carry 'features'.",
    ),
    "gdal/ogr_geojson_14.geojson": (
        "rejected",
        "position_not_numbers",
        "null coordinates are not positions.",
    ),
    "gdal/point_with_utf8bom.json": (
        "rejected",
        "missing_properties",
        "a Feature must have 'properties'; the BOM is only warned.",
    ),
    "gdal/pointz.json": ("accepted", "heights_dropped", "a bare 3D point is valid GeoJSON."),
    "gdal/srs_name.geojson": ("accepted", "legacy_crs_member", "valid; its crs is honoured."),
    # turf's kinks inputs: polygons with kinks are invalid, lines that cross themselves are not
    "turf/turf-kinks/in/hourglass.geojson": (
        "rejected",
        "invalid_geometry",
        "a bow-tie polygon crosses itself: invalid.",
    ),
    "turf/turf-kinks/in/multi-polygon.geojson": (
        "rejected",
        "invalid_geometry",
        "its polygons cross themselves (kinks): invalid.",
    ),
    "turf/turf-kinks/in/switzerlandKinked.geojson": (
        "rejected",
        "invalid_geometry",
        "a real outline with self-intersections: invalid.",
    ),
    "turf/turf-kinks/in/triple.geojson": (
        "rejected",
        "invalid_geometry",
        "its polygon crosses itself three times.",
    ),
    "turf/turf-kinks/in/open-hourglass.geojson": (
        "accepted",
        "self_crossing_line",
        "a line may cross itself (OGC: valid, not simple); it is warned.",
    ),
    "turf/turf-boolean-valid/false/GeometryCollection/empty-geometry-collection.geojson": (
        "accepted",
        "null_geometry",
        "RFC 7946 §3.1.8 allows an empty GeometryCollection; it is reported as no location.",
    ),
}


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".xml")


def _expected(relative: str) -> tuple[str, str | None]:
    if relative in DEVIATIONS:
        verdict, code, _ = DEVIATIONS[relative]
        return verdict, code
    folders = set(Path(relative).parts[:-1])
    return ("rejected" if folders & REJECTING_FOLDERS else "accepted"), None


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture(path: Path):
    relative = str(path.relative_to(FIXTURES))
    verdict, code = _expected(relative)
    report = check_file(path.name, path.read_bytes())
    if verdict == "rejected":
        assert not report.accepted, f"{relative} should be rejected"
        for finding in report.errors:  # each error names the problem, in both languages
            assert finding.message_zh and finding.message_en and finding.code
    else:
        assert report.accepted, report.to_text("en")
    if code is not None:
        assert code in report.codes(), report.to_text("en")
    for finding in report.findings:
        assert finding.text("zh") and finding.text("en")


def test_every_deviation_names_a_real_file():
    names = {str(p.relative_to(FIXTURES)) for p in _fixture_files()}
    assert set(DEVIATIONS) <= names
    assert all(len(reason) > 10 for _, _, reason in DEVIATIONS.values())


def _geos_cases() -> list[tuple[str, str, bool]]:
    cases = []
    for xml in sorted((FIXTURES / "geos").glob("*.xml")):
        root = ET.parse(xml).getroot()
        for n, case in enumerate(root.iter("case")):
            a = case.find("a")
            test = case.find("test/op")
            if a is None or test is None or test.get("name", "").lower() != "isvalid":
                continue
            cases.append((f"{xml.stem}-{n}", a.text.strip(), test.text.strip().lower() == "true"))
    return cases


GEOS_CASES = _geos_cases()


def test_geos_cases_found():
    assert len(GEOS_CASES) > 50


@pytest.mark.parametrize("name,wkt,valid", GEOS_CASES, ids=[c[0] for c in GEOS_CASES])
def test_geos_validity_cases(name, wkt, valid):
    """GEOS's IsValid suite through the upload path (as a CSV with a WKT column)."""
    csv = 'id,wkt\n1,"' + wkt.replace("\n", " ") + '"\n'
    report = check_file("case.csv", csv.encode())
    invalid = "invalid_geometry" in report.codes()
    assert invalid == (not valid), report.to_text("en")
    if invalid:
        assert any(re.search(r"[A-Za-z]", f.message_en) for f in report.errors)


# -- the projects layer -----------------------------------------------------------------------
def feature(pid, props=None, geometry=None):
    base = {"项目编号": pid, "项目名称": f"项目{pid}", "状态": "在建", "总建筑面积": "12万㎡"}
    return {
        "type": "Feature",
        "properties": base | (props or {}),
        "geometry": geometry or {"type": "Point", "coordinates": [113.87, 22.755]},
    }


def upload(features, store, district="baoan", **options):
    data = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()
    return check_upload(
        "t.geojson",
        data,
        UploadOptions(district, **options),
        store.layer("districts"),
        store.projects()[["project_id", "district_id"]],
    )


@pytest.mark.parametrize(
    "props,geometry,code,field",
    [
        ({"总建筑面积": "abc"}, None, "not_a_number", "floor_area_m2"),
        ({"总建筑面积": -10}, None, "negative_value", "floor_area_m2"),
        ({"状态": "建设中啦"}, None, "unknown_status", "status"),
        (
            {"开工日期": "2025-01-01", "竣工日期": "2024-01-01"},
            None,
            "completion_before_start",
            "completion_date",
        ),
        ({"竣工日期": "2025-13-45"}, None, "bad_date", "completion_date"),
        (
            {"容积率": 9.0, "用地面积": 30000, "总建筑面积": 120000},
            None,
            "plot_ratio_inconsistent",
            "plot_ratio",
        ),
        ({"厂房面积": 200000}, None, "factory_exceeds_total", "factory_floor_area_m2"),
        ({}, {"type": "Point", "coordinates": [114.06, 22.54]}, "outside_district", "geometry"),
        (
            {},
            {"type": "LineString", "coordinates": [[113.87, 22.75], [113.88, 22.76]]},
            "wrong_geometry_type",
            "geometry",
        ),
        ({"行政区": "南山区"}, None, "other_district", "district"),
        (
            {"总建筑面积": 5_000_000},
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [113.870, 22.750],
                        [113.871, 22.750],
                        [113.871, 22.751],
                        [113.870, 22.751],
                        [113.870, 22.750],
                    ]
                ],
            },
            "implausible_floor_area",
            "floor_area_m2",
        ),
    ],
)
def test_project_rules(shipped_store, props, geometry, code, field):
    checked = upload([feature("BA-1", props, geometry)], shipped_store)
    assert not checked.accepted
    hits = [f for f in checked.report.errors if f.code == code]
    assert hits, checked.report.to_text("en")
    assert hits[0].field == field and hits[0].feature == 1 and hits[0].feature_id == "BA-1"
    assert hits[0].fix_zh and hits[0].fix_en


@pytest.mark.parametrize(
    "text,value",
    [
        ("12万", 120000),
        ("12万㎡", 120000),
        ("120,000", 120000),
        ("1.2e5", 120000),
        (120000, 120000),
        ("3.5 万平方米", 35000),
    ],
)
def test_floor_area_spellings(shipped_store, text, value):
    checked = upload([feature("BA-1", {"总建筑面积": text})], shipped_store)
    assert checked.accepted, checked.report.to_text("en")
    assert checked.projects["floor_area_m2"].iloc[0] == value


@pytest.mark.parametrize(
    "text,status",
    [
        ("规划", "planned"),
        ("在建", "under_construction"),
        ("竣工", "completed"),
        ("交付", "delivered"),
        ("Under Construction", "under_construction"),
        ("operating", "delivered"),
    ],
)
def test_status_names(shipped_store, text, status):
    props = {
        "状态": text,
        "交付日期": "2025-06-30",
        "竣工日期": "2025-06-01",
        "开工日期": "2023-01-01",
    }
    checked = upload([feature("BA-1", props)], shipped_store)
    assert checked.accepted, checked.report.to_text("en")
    assert checked.projects["status"].iloc[0] == status


@pytest.mark.parametrize(
    "props,expected",
    [
        # no evidence column: confirmed where the status has reached the stage, else planned
        (
            {"状态": "在建", "开工日期": "2024-03-01", "竣工日期": "2027-06-30"},
            {"start_evidence": "confirmed", "completion_evidence": "planned"},
        ),
        # the district says how it knows, in Chinese or English
        (
            {
                "状态": "竣工",
                "开工日期": "2023-03-01",
                "竣工日期": "2024-05-01",
                "开工依据": "推断",
            },
            {"start_evidence": "inferred", "completion_evidence": "confirmed"},
        ),
        (
            {
                "状态": "交付",
                "开工日期": "2023-01-01",
                "竣工日期": "2024-01-01",
                "交付日期": "2024-06-30",
                "delivery_evidence": "Planned",
            },
            {"delivery_evidence": "planned", "completion_evidence": "confirmed"},
        ),
        (
            {"状态": "在建", "开工日期": "2025-01-01", "start_evidence": "confirmed"},
            {"start_evidence": "confirmed", "delivery_evidence": None},
        ),
        # a date still ahead under a status that has reached it is a plan (with a warning)
        (
            {"状态": "在建", "开工日期": "2099-01-01"},
            {"start_evidence": "planned"},
        ),
    ],
)
def test_a_district_says_how_each_date_is_known(shipped_store, props, expected):
    checked = upload([feature("BA-1", props)], shipped_store)
    assert checked.accepted, checked.report.to_text("en")
    row = checked.projects.iloc[0]
    for column, value in expected.items():  # no evidence: missing (a category of none)
        assert pd.isna(row[column]) if value is None else row[column] == value, column
    assert "start_evidence" in checked.present_fields


@pytest.mark.parametrize(
    "props,code,field",
    [
        ({"开工日期": "2024-01-01", "开工依据": "听说的"}, "unknown_evidence", "start_evidence"),
        (
            {"开工日期": "2024-01-01", "start_evidence": "=1+1"},
            "unknown_evidence",
            "start_evidence",
        ),
        (
            {"竣工日期": "2027-01-01", "竣工依据": "已证实"},
            "confirmed_ahead_of_status",
            "completion_evidence",
        ),
        (
            {
                "状态": "交付",
                "开工日期": "2023-01-01",
                "竣工日期": "2024-01-01",
                "交付日期": "2099-06-30",
                "交付依据": "confirmed",
            },
            "confirmed_in_future",
            "delivery_evidence",
        ),
        ({"面积精度": "大概吧"}, "unknown_quality", "figures_quality"),
        ({"dates_quality": "<b>x</b>"}, "unknown_quality", "dates_quality"),
    ],
)
def test_evidence_and_quality_that_cannot_be_read_are_refused(shipped_store, props, code, field):
    checked = upload([feature("BA-1", props)], shipped_store)
    assert not checked.accepted
    hits = [f for f in checked.report.errors if f.code == code]
    assert hits, checked.report.to_text("en")
    assert hits[0].field == field and hits[0].feature_id == "BA-1"
    assert hits[0].fix_zh and hits[0].fix_en
    assert re.search(r"[\u4e00-\u9fff]", hits[0].message_zh)


@pytest.mark.parametrize(
    "props,code,field",
    [
        ({"开工依据": "已证实"}, "evidence_without_date", "start_evidence"),
        (
            {"状态": "竣工", "开工日期": "2024-01-01", "竣工日期": "2099-01-01"},
            "future_date_taken_as_plan",
            "completion_date",
        ),
    ],
)
def test_evidence_warnings(shipped_store, props, code, field):
    checked = upload([feature("BA-1", props)], shipped_store)
    assert checked.accepted, checked.report.to_text("en")
    hits = [f for f in checked.report.warnings if f.code == code]
    assert hits and hits[0].field == field


@pytest.mark.parametrize(
    "props,expected",
    [
        (
            {},
            {
                "figures_quality": "exact",
                "dates_quality": "missing",
                "location_quality": "official",
            },
        ),
        (
            {
                "面积精度": "近似",
                "开工日期": "2024-01-01",
                "日期精度": "约",
                "位置精度": "approximate",
            },
            {
                "figures_quality": "approximate",
                "dates_quality": "approximate",
                "location_quality": "approximate",
            },
        ),
        (
            {"位置精度": "准确", "dates_quality": "exact"},
            {"location_quality": "official", "dates_quality": "missing"},
        ),
    ],
)
def test_a_district_says_how_exact_its_figures_are(shipped_store, props, expected):
    checked = upload([feature("BA-1", props)], shipped_store)
    assert checked.accepted, checked.report.to_text("en")
    row = checked.projects.iloc[0]
    for column, value in expected.items():
        assert row[column] == value, column


def test_duplicates_and_missing_fields(shipped_store):
    broken = feature("BA-1")
    del broken["properties"]["项目名称"]
    checked = upload([feature("BA-1"), broken], shipped_store)
    codes = [f.code for f in checked.report.errors]
    assert codes.count("duplicate_id") == 2
    no_status = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"项目编号": "X"},
                "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
            }
        ],
    }
    report = check_upload(
        "x.geojson",
        json.dumps(no_status).encode(),
        UploadOptions("baoan"),
        shipped_store.layer("districts"),
    ).report
    missing = {f.field for f in report.errors if f.code == "missing_column"}
    assert missing == {"name_zh", "status", "floor_area_m2"}


def test_ids_of_another_district_are_refused(shipped_store):
    checked = upload([feature("REF-005")], shipped_store)  # 南山 project id
    finding = next(f for f in checked.report.errors if f.code == "id_of_other_district")
    assert "南山区" in finding.message_zh and "Nanshan" in finding.message_en


def test_self_intersection_offers_the_repaired_shape(shipped_store):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [113.870, 22.750],
                [113.872, 22.752],
                [113.872, 22.750],
                [113.870, 22.752],
                [113.870, 22.750],
            ]
        ],
    }
    checked = upload([feature("BA-1", {"总建筑面积": 1000}, bowtie)], shipped_store)
    assert "invalid_geometry" in checked.report.codes()
    assert checked.repaired is not None and checked.repaired.iloc[0].is_valid
    again = upload(
        [feature("BA-1", {"总建筑面积": 1000}, bowtie)], shipped_store, repair_invalid=True
    )
    assert again.accepted and "geometry_repaired" in again.report.codes()
    assert again.projects.geometry.iloc[0].is_valid


def test_hostile_text_is_kept_as_text(shipped_store):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    checked = upload([feature("BA-1", {"项目名称": hostile, "建设单位": hostile})], shipped_store)
    assert checked.accepted
    assert checked.projects["name_zh"].iloc[0] == hostile


def test_validate_without_district_checks_the_file_alone(shipped_store):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                feature("F-1", geometry={"type": "Point", "coordinates": [114.06, 22.54]})
            ],
        },
        ensure_ascii=False,
    ).encode()
    checked = check_upload("t.geojson", data, UploadOptions(None), shipped_store.layer("districts"))
    assert checked.accepted, checked.report.to_text("en")


def test_real_self_intersecting_polygon(shipped_store):
    """transbigdata_szarea1.json: a hand-drawn 宝安 polygon that crosses itself."""
    raw = json.loads((SHARED / "data/shenzhen/sample_areas/transbigdata_szarea1.json").read_text())
    report = check_file("szarea1.json", json.dumps(raw).encode())
    assert "invalid_geometry" in report.codes()
    assert "Self-intersection" in report.errors[0].message_en
    geometry = raw["features"][0]["geometry"]
    checked = upload([feature("BA-SZ", {"总建筑面积": 100000}, geometry)], shipped_store)
    finding = next(f for f in checked.report.errors if f.code == "invalid_geometry")
    assert "㎡" in finding.message_zh and checked.repaired.iloc[0].is_valid


# -- issue 9: placement by area, impossible numbers, lookalike ids, text the stores disagree on
def _square(lon: float, lat: float, half_deg: float) -> list:
    return [
        [
            [lon - half_deg, lat - half_deg],
            [lon + half_deg, lat - half_deg],
            [lon + half_deg, lat + half_deg],
            [lon - half_deg, lat + half_deg],
            [lon - half_deg, lat - half_deg],
        ]
    ]


def _inside(store, district: str):
    outline = store.layer("districts").set_index("district_id").geometry[district]
    return outline.representative_point()


@pytest.mark.parametrize(
    "big,small,upload_as,code,accepted",
    [
        ("nanshan", "baoan", "baoan", "site_outside_district", False),  # 98 % in 南山
        ("nanshan", "baoan", "nanshan", None, True),
        ("baoan", "nanshan", "baoan", None, True),
    ],
)
def test_a_site_belongs_to_the_district_holding_most_of_it(
    shipped_store, big, small, upload_as, code, accepted
):
    a, b = _inside(shipped_store, big), _inside(shipped_store, small)
    multipolygon = {
        "type": "MultiPolygon",
        "coordinates": [_square(a.x, a.y, 0.0035), _square(b.x, b.y, 0.0005)],
    }
    checked = upload([feature("X-1", geometry=multipolygon)], shipped_store, upload_as)
    assert checked.accepted is accepted, checked.report.to_text("en")
    if code:
        hit = next(f for f in checked.report.errors if f.code == code)
        assert "2%" in hit.message_en and "at least half" in hit.message_en
        assert hit.field == "geometry" and "至少一半" in hit.fix_zh


def test_a_site_across_a_boundary_is_accepted_with_a_warning(shipped_store):
    a, b = _inside(shipped_store, "nanshan"), _inside(shipped_store, "baoan")
    multipolygon = {
        "type": "MultiPolygon",
        "coordinates": [_square(a.x, a.y, 0.0012), _square(b.x, b.y, 0.001)],
    }
    checked = upload([feature("X-2", geometry=multipolygon)], shipped_store, "nanshan")
    assert checked.accepted
    warned = [f for f in checked.report.warnings if f.code == "site_straddles_district"]
    assert warned and "59%" in warned[0].message_en


def test_a_districts_grown_outline_is_computed_from_the_outline_given(shipped_store):
    """The ~100 m margin kept per outline is the outline's own: two districts, two areas,
    each the buffer of its union, and a moved outline gets a moved area."""
    import shapely

    from spatial.ingest.district_rules import DISTRICT_TOLERANCE_DEG, tolerance_area

    districts = shipped_store.layer("districts").set_index("district_id")
    for district in ("baoan", "nanshan"):
        outline = districts.geometry[[district]]
        area = shapely.from_wkb(tolerance_area(tuple(shapely.to_wkb(outline))))
        direct = shapely.buffer(shapely.union_all(outline.to_numpy()), DISTRICT_TOLERANCE_DEG)
        assert shapely.equals(area, direct)
        moved = shapely.from_wkb(tolerance_area(tuple(shapely.to_wkb(outline.translate(1.0)))))
        assert abs(moved.bounds[0] - area.bounds[0] - 1.0) < 1e-9


@pytest.mark.parametrize("batch", [1, 2, 5_000])
def test_site_shares_are_those_of_the_plain_intersection(shipped_store, monkeypatch, batch):
    """Sites wholly inside, wholly outside and across the outline (a bow-tie, a site of two
    parts, one without area among them): the share each holds in the district is the area of
    its intersection with it over its own, each made valid in EPSG:4547 — as the old overlay
    of every projected site gave it — however many projected sites a batch holds."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from shapely.geometry import MultiPolygon, Point, Polygon, box

    from spatial.crs import METRIC
    from spatial.ingest.district_rules import site_share_in

    outline = shipped_store.layer("districts").set_index("district_id").geometry["baoan"]
    inner = outline.representative_point()
    x, y = inner.x, inner.y
    ring = shapely.get_coordinates(outline.exterior if outline.geom_type == "Polygon"
                                   else outline.geoms[0].exterior)  # fmt: skip
    edge, other_edge = ring[0], ring[len(ring) // 2]

    def around(cx, cy, r):
        return box(cx - r, cy - r, cx + r, cy + r)

    sites = gpd.GeoSeries(
        [around(x, y, 0.002),
         around(*edge, 0.003),
         box(120.0, 30.0, 120.01, 30.01),
         Polygon([(x - 0.002, y - 0.002), (x + 0.002, y + 0.002), (x + 0.002, y - 0.002),
                  (x - 0.002, y + 0.002)]),  # a bow-tie inside
         Polygon([(edge[0] - 0.003, edge[1] - 0.003), (edge[0] + 0.003, edge[1] + 0.003),
                  (edge[0] + 0.003, edge[1] - 0.003), (edge[0] - 0.003, edge[1] + 0.003)]),
         MultiPolygon([around(x, y, 0.001), around(120.0, 30.0, 0.001)]),  # one part inside
         Polygon([(x, y), (x + 0.001, y), (x + 0.001, y), (x, y)]),  # no area, inside
         around(*other_edge, 0.004),
         Point(x, y)],
        index=[5, 6, 7, 9, 10, 11, 12, 13, 8], crs="EPSG:4326",
    )  # fmt: skip
    usable = pd.Series(True, index=sites.index)
    metric = shapely.make_valid(sites.iloc[:-1].to_crs(METRIC).to_numpy())
    zone = gpd.GeoSeries([outline], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    total = shapely.area(metric)
    inside = shapely.area(shapely.intersection(metric, zone))
    expected = np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)
    monkeypatch.setattr("spatial.crs.METRIC_BATCH", batch)
    share = site_share_in(sites, usable, outline)
    np.testing.assert_allclose(share.iloc[:-1].to_numpy(), expected, atol=1e-9)
    assert share.loc[5] == 1.0 and share.loc[9] == 1.0 and share.loc[7] == 0.0
    assert share.loc[12] == 0.0 and pd.isna(share.loc[8])
    assert 0.0 < share.loc[6] < 1.0 and 0.0 < share.loc[10] < 1.0 and 0.0 < share.loc[13] < 1.0
    assert 0.4 < share.loc[11] < 0.6  # (a degree holds less land at 30°N than at 22.6°N)
    assert sites.iloc[3].is_valid is False  # the bow-tie measured made valid, not changed


IMPOSSIBLE = [
    ({"总建筑面积": "Infinity"}, "not_a_number", "floor_area_m2"),
    ({"总建筑面积": "-inf"}, "not_a_number", "floor_area_m2"),
    ({"总建筑面积": "1e15"}, "implausible_value", "floor_area_m2"),
    ({"总建筑面积": "2000万"}, "implausible_value", "floor_area_m2"),
    ({"用地面积": "1e12"}, "implausible_value", "land_area_m2"),
    ({"层数": 400}, "implausible_value", "storeys"),
    ({"建筑高度": "1e9"}, "implausible_value", "height_m"),
    ({"竣工日期": "3024-06-30"}, "bad_date", "completion_date"),
    ({"开工日期": "0001-01-01"}, "bad_date", "start_date"),
    ({"交付日期": "2024-02-30"}, "bad_date", "delivery_date"),
    ({"竣工日期": "99999-01"}, "bad_date", "completion_date"),
]


@pytest.mark.parametrize("props,code,field", IMPOSSIBLE)
def test_impossible_numbers_and_dates_are_refused(shipped_store, props, code, field):
    checked = upload([feature("BA-1", props)], shipped_store)
    hits = [f for f in checked.report.errors if f.code == code and f.field == field]
    assert hits and not checked.accepted, checked.report.to_text("en")
    assert hits[0].feature == 1 and hits[0].fix_zh and hits[0].fix_en


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_numbers_are_refused(shipped_store, literal):
    data = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        f'{{"项目编号":"BA-1","项目名称":"a","状态":"在建","总建筑面积":{literal}}},'
        '"geometry":{"type":"Point","coordinates":[113.87,22.755]}}]}'
    ).encode()
    checked = check_upload(
        "t.geojson", data, UploadOptions("baoan"), shipped_store.layer("districts")
    )
    assert [f.code for f in checked.report.errors] == ["json_not_a_number"]
    assert checked.report.errors[0].line == 1 and checked.report.errors[0].column > 1


@pytest.mark.parametrize(
    "pid,code",
    [
        ("ref-003", "id_lookalike"),  # REF-003 is stored
        ("ＲＥＦ－００３", "id_lookalike"),  # full width
        ("REF-003\u200b", "id_invisible_character"),  # zero-width space
        ("\u202eREF-003", "id_invisible_character"),  # right-to-left override
        ("REF\u00ad-003", "id_invisible_character"),  # soft hyphen
        ("REF\u3000003", "id_invisible_character"),  # ideographic space inside
        ("B" * 65, "id_too_long"),
        ("BA-\x00-1", "control_character"),
    ],
)
def test_lookalike_and_unstorable_ids_are_refused(seeded_store, pid, code):
    checked = upload([feature(pid)], seeded_store)
    assert code in {f.code for f in checked.report.errors}, checked.report.to_text("en")
    assert not checked.accepted


def test_case_variants_inside_one_file_are_refused(shipped_store):
    checked = upload([feature("BA-NEW-1"), feature("ba-new-1")], shipped_store)
    assert [f.code for f in checked.report.errors] == ["id_lookalike", "id_lookalike"]


@pytest.mark.parametrize("field", ["项目名称", "开发主体", "街道", "来源"])
def test_nul_in_any_text_field_is_refused_on_both_backends(seeded_store, field):
    checked = upload([feature("BA-1", {field: "名称\x00尾"})], seeded_store)
    assert [f.code for f in checked.report.errors] == ["control_character"]
