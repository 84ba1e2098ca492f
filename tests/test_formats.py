"""spatial.ingest.formats: every upload format read back through real GDAL files, and hostile
input."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from spatial.ingest.findings import UploadRejected
from spatial.ingest.formats import read_upload, safe_members
from spatial.ingest.limits import UploadLimits

from conftest import SHARED

SZ = SHARED / "data" / "shenzhen"
PROJECTS = gpd.GeoDataFrame(
    {
        "项目编号": ["BA-1", "BA-2"],
        "项目名称": ["燕罗二期", "新桥东三期"],
        "状态": ["在建", "规划"],
        "总建筑面积": [120000.0, 80000.0],
    },
    geometry=[Point(113.87, 22.755), Point(113.86, 22.725)],
    crs="EPSG:4326",
)


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def folder_zip(folder: Path) -> bytes:
    return zipped({p.name: p.read_bytes() for p in folder.iterdir()})


def written(tmp_path: Path, driver: str, suffix: str, **kwargs) -> Path:
    path = tmp_path / f"projects{suffix}"
    pyogrio.write_dataframe(PROJECTS, path, driver=driver, **kwargs)
    return path


@pytest.mark.parametrize(
    "driver,suffix,fmt",
    [
        ("GPKG", ".gpkg", "GeoPackage"),
        ("KML", ".kml", "KML"),
        ("GeoJSON", ".geojson", "GeoJSON"),
        ("GeoJSONSeq", ".geojsonl", "GeoJSON"),
        ("FlatGeobuf", ".fgb", "FlatGeobuf"),
    ],
)
def test_gdal_formats_read_back(tmp_path, driver, suffix, fmt):
    path = written(tmp_path, driver, suffix)
    layer = read_upload(path.name, path.read_bytes())
    assert layer.format.startswith(fmt)
    assert len(layer.frame) == 2
    names = layer.frame.get("项目名称", layer.frame.get("name"))
    if driver == "KML":
        assert "燕罗二期" in set(layer.frame["name"]) | set(layer.frame.get("项目名称", []))
    else:
        assert list(names) == ["燕罗二期", "新桥东三期"]
    xy = layer.frame.geometry.get_coordinates().round(6).to_numpy().tolist()
    assert xy == [[113.87, 22.755], [113.86, 22.725]]


def test_kmz_from_bytes(tmp_path):
    kml = written(tmp_path, "KML", ".kml")
    data = zipped({"doc.kml": kml.read_bytes()})
    layer = read_upload("projects.kmz", data)
    assert layer.format == "KMZ" and len(layer.frame) == 2
    assert layer.declared_crs == "EPSG:4326"


def test_zipped_shapefile_with_chinese_fields(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    short = PROJECTS.rename(columns={"项目编号": "编号", "项目名称": "名称"})  # ≤ 10 bytes
    pyogrio.write_dataframe(short, folder / "projects.shp", encoding="UTF-8")
    layer = read_upload("projects.zip", folder_zip(folder))
    assert layer.format == "Shapefile" and list(layer.frame["名称"]) == ["燕罗二期", "新桥东三期"]
    assert layer.frame["_id"].tolist() == ["BA-1", "BA-2"]


def test_shapefile_with_an_empty_text_cell(tmp_path):
    """An empty text cell comes back as a missing value, not as text to join (it once made
    the encoding check fail on the whole file)."""
    folder = tmp_path / "shp"
    folder.mkdir()
    short = PROJECTS.rename(columns={"项目编号": "编号", "项目名称": "名称"})
    short["名称"] = ["燕罗二期", None]
    pyogrio.write_dataframe(short, folder / "projects.shp", encoding="UTF-8")
    layer = read_upload("projects.zip", folder_zip(folder))
    assert layer.frame["名称"].iloc[0] == "燕罗二期" and pd.isna(layer.frame["名称"].iloc[1])


def test_shapefile_field_names_cut_mid_character(tmp_path):
    """GDAL cuts 项目名称 (12 UTF-8 bytes) at 10 bytes, in the middle of a character."""
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(PROJECTS, folder / "projects.shp", encoding="UTF-8")
    layer = read_upload("projects.zip", folder_zip(folder))
    assert "truncated_field_names" in {f.code for f in layer.findings}
    assert "燕罗二期" in set(layer.frame["项目名"])


def test_gbk_dbf_without_cpg_decodes_chinese(tmp_path):
    """The real GBK shapefile without .cpg; and the same with its code-page byte wiped, so the
    reader has nothing to go on but the bytes themselves."""
    src = SZ / "boundaries" / "opengl_qt_qu_szlocal"
    layer = read_upload("qu.zip", folder_zip(src))
    assert "南山" in set(layer.frame["JDNAME"])
    files = {p.name: p.read_bytes() for p in src.iterdir()}
    dbf = bytearray(files["qu.dbf"])
    dbf[29] = 0  # language driver id: unknown
    files["qu.dbf"] = bytes(dbf)
    layer = read_upload("qu.zip", zipped(files))
    assert "南山" in set(layer.frame["JDNAME"]) and "龙华新区" in set(layer.frame["JDNAME"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("headers", ["zh", "en"])
def test_tables_with_coordinates(tmp_path, suffix, headers):
    table = pd.DataFrame(
        {"项目编号": ["BA-1"], "项目名称": ["燕罗二期"], "经度": [113.87], "纬度": [22.755]}
        if headers == "zh"
        else {"project_id": ["BA-1"], "name": ["燕罗二期"], "lon": [113.87], "lat": [22.755]}
    )
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        table.to_excel(path, index=False)
    layer = read_upload(path.name, path.read_bytes())
    assert layer.frame.geometry.iloc[0].equals(Point(113.87, 22.755))
    assert layer.frame["_id"].iloc[0] == "BA-1"


def test_gbk_csv_and_wkt_column():
    csv = "编号,名称,WKT\nA,宝安,POINT (113.87 22.755)\nB,坏,POINT (abc)\n".encode("gb18030")
    layer = read_upload("t.csv", csv)
    assert layer.frame["名称"].iloc[0] == "宝安"
    assert [f.code for f in layer.findings] == ["bad_wkt"] and layer.findings[0].feature == 2


def test_table_without_coordinates_is_rejected():
    with pytest.raises(UploadRejected) as exc:
        read_upload("t.csv", "项目编号,项目名称\nA,B\n".encode())
    assert exc.value.findings[0].code == "no_coordinates"


# -- hostile input ----------------------------------------------------------------------------
def test_zip_bomb_is_rejected():
    bomb = zipped({"a.geojson": b"0" * (50 * 1024 * 1024)})  # 50 MB of zeros, ~50 KB zipped
    assert len(bomb) < 200_000
    with pytest.raises(UploadRejected) as exc:
        read_upload("bomb.zip", bomb)
    assert exc.value.findings[0].code == "zip_bomb"


def test_zip_bomb_with_lying_sizes_is_stopped_while_reading():
    bomb = bytearray(zipped({"a.geojson": b"0" * (8 * 1024 * 1024)}))
    # forge the sizes in the central directory to look tiny
    cd = bomb.rfind(b"PK\x01\x02")
    bomb[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    lh = bomb.find(b"PK\x03\x04")
    bomb[lh + 22 : lh + 26] = (100).to_bytes(4, "little")
    with pytest.raises(UploadRejected) as exc:
        safe_members(bytes(bomb), UploadLimits(max_expansion_ratio=20))
    assert exc.value.findings[0].code in ("zip_bomb", "bad_zip")


@pytest.mark.parametrize(
    "name", ["../evil.shp", "/etc/evil.shp", "a/../../evil.dbf", "C:/evil.shp"]
)
def test_path_traversal_is_rejected(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = zipped({name: b"x", "ok.shp": b"y"})
    with pytest.raises(UploadRejected) as exc:
        read_upload("evil.zip", data)
    assert exc.value.findings[0].code == "zip_path_traversal"
    assert not any(tmp_path.rglob("evil*")) and not Path("/etc/evil.shp").exists()


def test_nested_archives_and_member_count():
    with pytest.raises(UploadRejected) as exc:
        read_upload("n.zip", zipped({"inner.zip": zipped({"a.txt": b"x"})}))
    assert exc.value.findings[0].code == "zip_nested"
    many = zipped({f"f{i}.txt": b"x" for i in range(100)})
    with pytest.raises(UploadRejected) as exc:
        read_upload("m.zip", many)
    assert exc.value.findings[0].code == "zip_too_many_members"


def test_size_limit():
    data = b'{"type":"FeatureCollection","features":[]}' + b" " * 2048
    with pytest.raises(UploadRejected) as exc:
        read_upload("big.geojson", data, UploadLimits(max_bytes=1024))
    assert exc.value.findings[0].code == "too_large"


def test_truncated_files():
    whole = PROJECTS.to_json().encode()
    with pytest.raises(UploadRejected) as exc:
        read_upload("cut.geojson", whole[: len(whole) // 2])
    finding = exc.value.findings[0]
    assert finding.code == "json_syntax" and finding.line == 1 and finding.column > 1
    with pytest.raises(UploadRejected):
        read_upload("cut.zip", zipped({"a.geojson": whole})[:100])


def test_empty_and_unknown():
    for name, data, code in [
        ("e.geojson", b"  ", "empty_file"),
        ("x.dwg", b"\x00\x01AC1027", "unknown_format"),
        ("p.shp", b"\x00\x00\x27\x0a", "shapefile_alone"),
    ]:
        with pytest.raises(UploadRejected) as exc:
            read_upload(name, data)
        assert exc.value.findings[0].code == code


def test_syntax_error_position():
    text = '{\n  "type": "FeatureCollection",\n  "features": [\n    {"type": "Feature",, }\n'
    with pytest.raises(UploadRejected) as exc:
        read_upload("bad.geojson", text.encode())
    finding = exc.value.findings[0]
    assert (finding.line, finding.column) == (4, 24)
    assert "第 4 行第 24 列" in finding.text("zh") and "line 4, column 24" in finding.text("en")


def test_bare_feature_array_and_geojson_lines():
    feats = json.loads(PROJECTS.to_json())["features"]
    layer = read_upload("a.json", json.dumps(feats).encode())
    assert len(layer.frame) == 2 and "bare_feature_array" in {f.code for f in layer.findings}
    lines = "\n".join(json.dumps(f) for f in feats).encode()
    layer = read_upload("a.geojsonl", lines)
    assert layer.format == "GeoJSON (GeoJSONSeq)" and len(layer.frame) == 2


# -- issue 9: every reader stops at the limits while it reads ---------------------------------
SMALL = UploadLimits(max_features=1_000, max_columns=50, max_cells=30_000)


def _csv(rows: int, columns: int = 3) -> bytes:
    header = "经度,纬度,项目编号" + "".join(f",c{i}" for i in range(columns - 3))
    line = "113.87,22.75,BA-1" + ",x" * (columns - 3)
    return ("\n".join([header] + [line] * rows) + "\n").encode()


def _xlsx(rows: int, columns: int = 3) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["经度", "纬度", "项目编号"] + [f"c{i}" for i in range(columns - 3)])
    for _ in range(rows):
        sheet.append([113.87, 22.75, "BA-1"] + ["x"] * (columns - 3))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,data,code",
    [
        ("rows.csv", _csv(1_500), "too_many_features"),
        ("rows.xlsx", _xlsx(1_500), "too_many_features"),
        ("wide.csv", _csv(2, 1_000_000), "too_many_columns"),  # 10⁶ columns: refused at once
        ("wide.xlsx", _xlsx(2, 200), "too_many_columns"),
        ("cells.csv", _csv(800, 45), "too_many_features"),  # 800 × 45 > 30,000 cells
        ("cells.xlsx", _xlsx(800, 45), "too_many_features"),
    ],
)
def test_tables_stop_at_the_limits(name, data, code):
    with pytest.raises(UploadRejected) as caught:
        read_upload(name, data, SMALL)
    finding = caught.value.findings[0]
    assert finding.code == code and finding.fix_zh and finding.fix_en


def test_tables_within_the_limits_still_read():
    assert len(read_upload("ok.csv", _csv(999), SMALL).frame) == 999
    assert len(read_upload("ok.xlsx", _xlsx(999), SMALL).frame) == 999


@pytest.mark.parametrize("name,data", [("slow.csv", _csv(50_000)), ("slow.xlsx", _xlsx(3_000))])
def test_a_reader_past_its_time_stops(name, data):
    limits = UploadLimits(max_read_seconds=0.0)
    with pytest.raises(UploadRejected) as caught:
        read_upload(name, data, limits)
    assert caught.value.findings[0].code == "read_too_slow"


GDAL_UPLOADS = [
    ("GPKG", "many.gpkg"),
    ("FlatGeobuf", "many.fgb"),
    ("KML", "many.kml"),
    ("LIBKML", "many.kmz"),
    ("ESRI Shapefile", "many.zip"),
]


def gdal_upload(tmp_path: Path, driver: str, name: str, frame: gpd.GeoDataFrame) -> bytes:
    """The frame written by GDAL's own driver, as the bytes a district would upload."""
    if driver == "ESRI Shapefile":
        folder = tmp_path / "shp"
        folder.mkdir()
        pyogrio.write_dataframe(frame, folder / "many.shp", driver=driver, encoding="UTF-8")
        return folder_zip(folder)
    if driver == "LIBKML":
        kml = tmp_path / "doc.kml"
        pyogrio.write_dataframe(frame, kml, driver="KML")
        return zipped({"doc.kml": kml.read_bytes()})
    path = tmp_path / name
    pyogrio.write_dataframe(frame, path, driver=driver)
    return path.read_bytes()


# the SMALL limits, for archives of one repeated point (that compress far beyond 100:1)
REPETITIVE = dataclasses.replace(SMALL, max_expansion_ratio=10_000)


def points(count: int, columns: int = 1) -> gpd.GeoDataFrame:
    attributes = {"编号": [f"BA-{i}" for i in range(count)]}
    attributes |= {f"f{c}": [c] * count for c in range(1, columns)}
    return gpd.GeoDataFrame(attributes, geometry=[Point(113.87, 22.75)] * count, crs=4326)


@pytest.mark.parametrize("driver,name", GDAL_UPLOADS)
@pytest.mark.parametrize(
    "count,columns,limits,code",
    [
        (1_200, 1, REPETITIVE, "too_many_features"),  # rows
        (900, 35, REPETITIVE, "too_many_features"),  # cells: 900 × 35 > 30,000
        (3_000, 1, UploadLimits(max_read_seconds=0.0), "read_too_slow"),  # time
    ],
    ids=["rows", "cells", "time"],
)
def test_gdal_formats_stop_at_the_limits_while_reading(
    tmp_path, driver, name, count, columns, limits, code
):
    data = gdal_upload(tmp_path, driver, name, points(count, columns))
    with pytest.raises(UploadRejected) as caught:
        read_upload(name, data, limits)
    assert caught.value.findings[0].code == code


@pytest.mark.parametrize("driver,name", GDAL_UPLOADS)
def test_gdal_formats_within_the_limits_read_whole(tmp_path, driver, name):
    """Read in batches of GDAL_BATCH_FEATURES, a layer of several batches arrives whole."""
    data = gdal_upload(tmp_path, driver, name, points(4_500, 3))
    frame = read_upload(name, data, UploadLimits()).frame
    assert len(frame) == 4_500
    assert frame["_feature"].tolist() == list(range(1, 4_501))
    assert set(frame["编号"]) == {f"BA-{i}" for i in range(4_500)}


def test_an_xlsx_bomb_is_refused_before_reading():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 30_000_000)
    with pytest.raises(UploadRejected) as caught:
        read_upload("bomb.xlsx", buf.getvalue(), UploadLimits())
    assert caught.value.findings[0].code == "zip_bomb"


def test_old_excel_is_explained():
    with pytest.raises(UploadRejected) as caught:
        read_upload("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, UploadLimits())
    assert caught.value.findings[0].code == "old_excel"


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"Feature","properties":{},"geometry":null}\n' + b"[" * 50_000 + b"]" * 50_000,
        b"[" * 200_000,  # unterminated as well
        b'{"type":"FeatureCollection","features":['
        + b'{"a":' * 5_000
        + b"1"
        + b"}" * 5_000
        + b"]}",
    ],
)
def test_deep_nesting_is_refused_before_parsing(data):
    with pytest.raises(UploadRejected) as caught:
        read_upload("deep.geojson", data, UploadLimits())
    assert caught.value.findings[0].code == "too_deep"
