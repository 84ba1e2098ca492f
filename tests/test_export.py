"""spatial.outputs.export: each format × each CRS written, then read back by GDAL's own
ogrinfo (Debian's gdal-bin) and by pyogrio — counts, Chinese text and coordinates within 1 cm."""

from __future__ import annotations

import io
import subprocess
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer

from spatial.auth import PermissionDenied, Principal, Role
from spatial.crs import wgs84_to_gcj02
from spatial.figures.filters import ProjectFilter
from spatial.outputs.export import CRS_OPTIONS, FORMATS, ExportError, ExportRequest, export_layers
from spatial.outputs.workbook import point_headers

ADMIN = Principal("admin", Role.ADMIN)
NAME = "燕罗智能网联汽车产业园(一期)"  # REF-003, at 113.87 E 22.755 N
LONLAT = (113.87, 22.755)
COMBINATIONS = [
    (f, c) for f in FORMATS for c in CRS_OPTIONS if not (f == "kml" and c == "epsg4547")
]


def expected_xy(crs: str) -> tuple[float, float]:
    if crs == "gcj02":
        x, y = wgs84_to_gcj02(np.array([LONLAT[0]]), np.array([LONLAT[1]]))
        return float(x[0]), float(y[0])
    if crs == "epsg4547":
        return Transformer.from_crs(4326, 4547, always_xy=True).transform(*LONLAT)
    return LONLAT


def unpack(result, folder: Path) -> list[Path]:
    path = folder / result.filename
    path.write_bytes(result.content)
    if not result.filename.endswith(".zip"):
        return [path]
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        archive.extractall(folder)
        return [folder / n for n in archive.namelist()]


def projects_frame(paths: list[Path], fmt: str) -> pd.DataFrame:
    if fmt == "xlsx":
        return pd.read_excel(paths[0], sheet_name="工业上楼项目")
    if fmt == "parquet":
        return gpd.read_parquet(next(p for p in paths if p.name.startswith("projects")))
    if fmt == "gpkg":
        return pyogrio.read_dataframe(paths[0], layer="projects")
    main = {"shp": ".shp", "geojson": ".geojson", "kml": ".kml", "csv": ".csv"}[fmt]
    path = next(p for p in paths if p.name.startswith("projects") and p.suffix == main)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyogrio.read_dataframe(path)


def ogrinfo_counts(paths: list[Path], fmt: str) -> dict[str, int]:
    counts = {}
    for path in paths:
        if path.suffix in (".shx", ".dbf", ".prj", ".cpg", ".csvt") or path.name == (
            "field_names.csv"
        ):
            continue
        out = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True
        ).stdout
        for layer, n in zip(
            [
                line.split(":", 1)[1].strip()
                for line in out.splitlines()
                if line.startswith("Layer name:")
            ],
            [
                int(line.split(":", 1)[1])
                for line in out.splitlines()
                if line.startswith("Feature Count:")
            ],
            strict=True,
        ):
            counts[layer] = n
    return counts


@pytest.mark.parametrize("fmt,crs", COMBINATIONS)
def test_format_and_crs_round_trip(seeded_store, tmp_path, fmt, crs):
    result = export_layers(seeded_store, ADMIN, ExportRequest(format=fmt, crs=crs))
    assert result.layers == {
        "districts": 11, "parks": 20, "control_lines": 24, "projects": 34, "sites": 328,
    }  # fmt: skip
    label = CRS_OPTIONS[crs][1]
    assert label in result.filename  # GCJ-02 says so in the name
    paths = unpack(result, tmp_path)
    projects = projects_frame(paths, fmt)
    assert len(projects) == 34
    name_col = next(c for c in ("name_zh", "项目名称", "Name") if c in projects.columns)
    assert NAME in set(projects[name_col])  # Chinese text intact
    row = projects[projects[name_col] == NAME].iloc[0]
    if fmt == "xlsx":
        x, y = (row[head] for head in point_headers(crs))
        wkt = [float(v) for v in row["几何（WKT）"].removeprefix("POINT (")[:-1].split()]
        assert np.allclose([x, y], wkt, rtol=0, atol=1e-6)
        assert row["数据质量"] == "近似" and row["数据质量代码"] == "approximate"
        assert row["导出人"] == "admin"
    elif fmt == "csv":
        x, y = (float(v) for v in row["WKT"].removeprefix("POINT (")[:-1].split())
    else:
        x, y = row.geometry.x, row.geometry.y
    ex, ey = expected_xy(crs)
    metres = 1.0 if crs == "epsg4547" else 111_000.0
    assert abs(x - ex) * metres < 0.01 and abs(y - ey) * metres < 0.01
    if fmt != "xlsx":
        quality = next(c for c in ("quality", "quality") if c in projects.columns)
        assert set(projects[quality]) == {"approximate"}
        crs_col = "exp_crs" if fmt == "shp" else "export_crs"
        assert projects[crs_col].iloc[0].startswith("GCJ-02" if crs == "gcj02" else label)
    if fmt != "parquet":  # GDAL on this machine has no Parquet driver; pyogrio read it above
        counts = ogrinfo_counts(paths, fmt)
        assert sum(counts.values()) >= 34 and max(counts.values()) >= 24


def test_shapefile_chinese_without_guessing_and_documented_names(seeded_store, tmp_path):
    result = export_layers(seeded_store, ADMIN, ExportRequest(("projects",), "shp"))
    paths = unpack(result, tmp_path)
    cpg = next(p for p in paths if p.suffix == ".cpg").read_text()
    assert cpg.strip().upper() in ("UTF-8", "UTF8")
    assert any(p.suffix == ".prj" for p in paths)
    mapping = pd.read_csv(next(p for p in paths if p.name == "field_names.csv"))
    assert {"floor_m2": "floor_area_m2"}.items() <= dict(
        zip(mapping["shapefile"], mapping["full_name"], strict=True)
    ).items()
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", str(next(p for p in paths if p.suffix == ".shp"))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert NAME in out  # GDAL reads the names through the .cpg, no encoding given


def test_filters_and_provenance(seeded_store, tmp_path):
    request = ExportRequest(
        ("projects",),
        "geojson",
        filters=ProjectFilter(districts=("guangming",), statuses=("under_construction",)),
    )
    result = export_layers(seeded_store, ADMIN, request)
    frame = pyogrio.read_dataframe(io.BytesIO(result.content))
    assert len(frame) > 0 and set(frame["district_id"]) == {"guangming"}
    assert set(frame["status"]) == {"under_construction"}
    assert "guangming" in str(frame["export_filters"].iloc[0])
    event = seeded_store.audit(action="export").iloc[-1]
    assert event["user_name"] == "admin" and '"format": "geojson"' in event["detail"]


def test_a_district_user_exports_only_their_district(seeded_store):
    officer = Principal("ba", Role.DISTRICT, "baoan")
    result = export_layers(seeded_store, officer, ExportRequest(("projects",), "geojson"))
    frame = pyogrio.read_dataframe(io.BytesIO(result.content))
    assert set(frame["district_id"]) == {"baoan"}
    with pytest.raises(PermissionDenied):
        export_layers(seeded_store, Principal("v", Role.VIEWER), ExportRequest())
    assert not seeded_store.audit("v")["ok"].any()


def test_kml_is_lonlat_only(seeded_store):
    with pytest.raises(ExportError) as exc:
        export_layers(seeded_store, ADMIN, ExportRequest(format="kml", crs="epsg4547"))
    assert "KML" in exc.value.zh


@pytest.mark.parametrize("crs", ["wgs84", "epsg4547", "gcj02"])
def test_the_workbook_shows_labels_and_keeps_codes(seeded_store, tmp_path, crs):
    """A planner reads 宝安区 / 在建 / 一级线 / 是; the codes stay in their own columns; a
    point's coordinates are headed for what they hold (metres are never 经度/纬度)."""
    result = export_layers(seeded_store, ADMIN, ExportRequest(format="xlsx", crs=crs))
    path = tmp_path / result.filename
    path.write_bytes(result.content)
    sheets = pd.read_excel(path, sheet_name=None, dtype=str)
    projects = sheets["工业上楼项目"]
    row = projects[projects["项目名称"] == NAME].iloc[0]
    assert (row["行政区"], row["行政区代码"]) == ("宝安区", "baoan")
    parks = sheets["园区"].set_index("园区编号")["园区名称"]
    assert (row["所在园区"], row["所在园区编号"]) == (parks["P01"], "P01")  # 燕罗
    assert set(projects["状态"]) <= {"规划", "在建", "竣工", "交付/运营"}
    assert set(projects["状态代码"]) <= {"planned", "under_construction", "completed", "delivered"}
    assert set(projects["位于工业区块线内"].dropna()) == {"是", "否"}
    assert set(projects["区块线级别"].dropna()) <= {"一级线", "二级线"}
    assert set(projects["开工依据"].dropna()) <= {"已证实", "计划", "推断"}
    clusters = projects.dropna(subset=["产业集群代码"])
    assert len(clusters) and not clusters["产业集群（关键词匹配）"].str.contains(r"C\d").any()
    lines = sheets["工业区块线"]
    assert set(lines["区块线级别"]) == {"一级线", "二级线"}
    assert set(lines["区块线级别代码"]) == {"level1", "level2"}
    assert set(sheets["行政区"]["行政区划代码"].dropna()) >= {"440306"}  # digits, not 440306.0
    for sheet in sheets.values():  # no English header is left but codes the user may join on
        english = [c for c in sheet.columns if c.isascii()]
        assert english == [], english
        assert not ({"经度", "纬度"} & set(sheet.columns))
    x_head, y_head = point_headers(crs)
    if crs == "epsg4547":
        assert "米" in x_head and "经度" not in x_head
        assert float(row[y_head]) > 2_000_000  # northing in metres
    else:
        assert x_head.startswith("经度") and 113 < float(row[x_head]) < 115
