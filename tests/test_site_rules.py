"""spatial.ingest.site_rules: a district's sites file, in every format, checked rule by rule."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from spatial.crs import METRIC
from spatial.ingest.site_rules import check_site_upload
from spatial.ingest.upload import UploadOptions


@pytest.fixture(scope="module")
def districts(reference) -> gpd.GeoDataFrame:
    return reference.districts


@pytest.fixture(scope="module")
def reference():
    from spatial.store.reference import load_reference

    return load_reference()


def parcel(districts, district: str, dx_m: float = 0.0, side_m: float = 200.0):
    """A square parcel of ``side_m`` metres, ``dx_m`` east of a point inside ``district``
    (lon-lat)."""
    inside = districts.set_index("district_id").geometry[district].representative_point()
    centre = gpd.GeoSeries([inside], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    square = shapely.box(centre.x + dx_m, centre.y, centre.x + dx_m + side_m, centre.y + side_m)
    return gpd.GeoSeries([square], crs=METRIC).to_crs("EPSG:4326").iloc[0]


def rows(districts, district: str = "nanshan") -> gpd.GeoDataFrame:
    """Three sites as a district writes them: Chinese headers, 万 and units, Chinese
    readiness names."""
    return gpd.GeoDataFrame(
        {
            "地块编号": ["NS-01", "NS-02", "NS-03"],
            "地块名称": ["留仙洞北", "西丽南", "大冲"],
            "用地性质": ["m1", "M0", "M1"],
            "用地面积": ["4万㎡", "40000", None],
            "现状建筑面积": ["1.2万", "0", "50000"],
            "容积率": [4.5, None, "3"],
            "用地状态": ["已出让", "整备中", "储备"],
            "权属": ["国有", "集体", "企业"],
        },
        geometry=[parcel(districts, district, dx) for dx in (0.0, 400.0, 800.0)],
        crs="EPSG:4326",
    )


SHAPEFILE_HEADERS = (
    "site_id", "name", "land_use", "land_m2", "exist_m2", "plot_ratio", "readiness", "owner_type",
)  # fmt: skip


def write(frame: gpd.GeoDataFrame, fmt: str, folder: Path) -> tuple[str, bytes]:
    """``frame`` as a district would send it in ``fmt``: (file name, bytes)."""
    if fmt == "geojson":
        return "sites.geojson", frame.to_json(ensure_ascii=False).encode()
    if fmt == "gpkg":
        pyogrio.write_dataframe(frame, folder / "sites.gpkg", driver="GPKG")
        return "sites.gpkg", (folder / "sites.gpkg").read_bytes()
    if fmt == "shp":  # 10-byte field names: the short English ones the export writes too
        short = dict(zip(frame.columns[:-1], SHAPEFILE_HEADERS, strict=True))
        frame = frame.rename(columns=short)
        pyogrio.write_dataframe(frame, folder / "sites.shp", encoding="UTF-8")
        archive = folder / "sites.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for part in folder.glob("sites.*"):
                if part.suffix != ".zip":
                    z.write(part, part.name)
        return "sites.zip", archive.read_bytes()
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["WKT"] = frame.geometry.to_wkt()
    table.to_excel(folder / "sites.xlsx", index=False)
    return "sites.xlsx", (folder / "sites.xlsx").read_bytes()


def check(frame, districts, district="nanshan", owners=None, fmt="geojson", folder=None):
    name, data = write(frame, fmt, folder) if folder else write(frame, fmt, Path("."))
    return check_site_upload(name, data, UploadOptions(district), districts, owners)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "xlsx"])
def test_every_format_gives_the_same_sites(districts, tmp_path, fmt):
    checked = check(rows(districts), districts, fmt=fmt, folder=tmp_path)
    assert checked.accepted, checked.report.to_text("en")
    sites = checked.sites.set_index("site_id")
    assert list(sites.index) == ["NS-01", "NS-02", "NS-03"]
    assert sites.loc["NS-01", "land_area_m2"] == 40_000  # 4万㎡
    assert sites.loc["NS-01", "existing_floor_area_m2"] == 12_000
    assert sites.loc["NS-01", "plot_ratio"] == 4.5 and pd.isna(sites.loc["NS-02", "plot_ratio"])
    assert list(sites["readiness"]) == ["transferred", "preparing", "reserve"]
    assert list(sites["land_use"]) == ["M1", "M0", "M1"]
    assert set(sites["district_id"]) == {"nanshan"} and set(sites["quality"]) == {"official"}
    # no land area written: measured from the outline in EPSG:4547 (200 m × 200 m)
    assert sites.loc["NS-03", "land_area_m2"] == pytest.approx(40_000, rel=1e-3)


BOWTIE = "POLYGON ((113.93 22.54, 113.935 22.545, 113.935 22.54, 113.93 22.545, 113.93 22.54))"


@pytest.mark.parametrize(
    "change,code,field",
    [
        ({"地块编号": None}, "missing_value", "site_id"),
        ({"地块编号": "NS-02"}, "duplicate_id", "site_id"),
        ({"地块编号": "X" * 65}, "id_too_long", "site_id"),
        ({"用地状态": "sold"}, "unknown_readiness", "readiness"),
        ({"用地状态": None}, "missing_value", "readiness"),
        ({"用地面积": "-5"}, "negative_value", "land_area_m2"),
        ({"用地面积": "很多"}, "not_a_number", "land_area_m2"),
        ({"用地面积": "900万"}, "implausible_value", "land_area_m2"),
        ({"容积率": 25}, "implausible_value", "plot_ratio"),
        ({"地块名称": "北\x00区"}, "control_character", "name"),
        ({"geometry": "point"}, "site_not_polygon", "geometry"),
        ({"geometry": "bowtie"}, "invalid_geometry", "geometry"),
        ({"geometry": "baoan"}, "outside_district", "geometry"),
    ],
)
def test_each_rule_names_the_feature_the_field_and_the_fix(districts, change, code, field):
    frame = rows(districts)
    for column, value in change.items():
        if column == "geometry":
            shape = {
                "point": shapely.Point(frame.geometry[0].centroid),
                "bowtie": shapely.from_wkt(BOWTIE),
                "baoan": parcel(districts, "baoan"),
            }[value]
            frame.loc[0, "geometry"] = shape
        else:
            frame[column] = frame[column].astype(object)
            frame.loc[0, column] = value
    checked = check(frame, districts)
    assert not checked.accepted
    hit = next(f for f in checked.report.errors if f.code == code)
    assert hit.field == field and hit.feature == 1
    assert hit.message_zh and hit.message_en and hit.fix_zh and hit.fix_en
    assert not checked.row_ok[0] and checked.row_ok[2]


def test_a_missing_readiness_column_refuses_the_file(districts):
    checked = check(rows(districts).drop(columns=["用地状态"]), districts)
    hit = next(f for f in checked.report.errors if f.code == "missing_column")
    assert hit.field == "readiness" and "用地状态" in hit.message_zh


def test_an_id_of_another_district_is_refused(districts):
    checked = check(rows(districts), districts, owners={"NS-02": "baoan"})
    hit = next(f for f in checked.report.errors if f.code == "id_of_another_district")
    assert hit.feature == 2 and "宝安区" in hit.message_zh and "Bao'an" in hit.message_en


def test_a_stated_area_far_from_the_outline_is_questioned(districts):
    frame = rows(districts)
    frame["用地面积"] = ["60000", "40000", "41000"]  # the outlines are 40,000 m²
    checked = check(frame, districts)
    assert checked.accepted
    warned = [f.feature for f in checked.report.warnings if f.code == "land_area_differs"]
    assert warned == [1]
    assert checked.sites["land_area_m2"].tolist() == [60_000, 40_000, 41_000]  # as stated


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        '=HYPERLINK("http://127.0.0.1:9","x")',
        "{{ config.items() }}{% raw %}",
        "'; DROP TABLE site_versions; --",
    ],
)
def test_hostile_text_is_kept_as_text(districts, text):
    frame = rows(districts)
    frame["地块名称"] = [text, "b", "c"]
    frame["权属"] = [text, "b", "c"]
    checked = check(frame, districts)
    assert checked.accepted
    assert checked.sites.loc[0, "name"] == text and checked.sites.loc[0, "owner_type"] == text


def test_a_file_that_is_not_spatial_data_is_refused_by_its_reader(districts):
    checked = check_site_upload(
        "sites.geojson", b"{\"type\": \"FeatureCollection\", \"features\": [", UploadOptions(
            "nanshan"), districts
    )  # fmt: skip
    assert not checked.accepted and checked.sites.empty
    assert json.dumps(checked.report.to_dict(), ensure_ascii=False)
