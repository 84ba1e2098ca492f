"""导出 Export: layers in the format and coordinate system a planner needs, with provenance."""

from __future__ import annotations

import streamlit as st

from spatial.auth import Action, PermissionDenied
from spatial.layers import LAYERS
from spatial.outputs.export import (
    CRS_OPTIONS,
    FORMATS,
    LAYER_NAMES,
    ExportError,
    ExportRequest,
    export_layers,
)
from spatial.ui import report
from spatial.ui.common import as_of_input, lang, principal, snapshot, store
from spatial.ui.mapview import project_filter_inputs

FORMAT_LABELS = {
    "geojson": ("GeoJSON（网页、QGIS）", "GeoJSON (web, QGIS)"),
    "gpkg": ("GeoPackage（所有图层一个文件，QGIS/ArcGIS）", "GeoPackage (all layers, QGIS/ArcGIS)"),
    "shp": ("Shapefile 压缩包（CAD、ArcGIS）", "zipped Shapefile (CAD, ArcGIS)"),
    "kml": ("KML（Google Earth、奥维）", "KML (Google Earth, Ovi)"),
    "csv": ("CSV（含 WKT 几何）", "CSV with WKT"),
    "xlsx": (
        "Excel（中文表头与名称，代码另列；每层一页）",
        "Excel (Chinese headers and names, codes in their own columns; a sheet per layer)",
    ),
    "parquet": ("GeoParquet（数据分析）", "GeoParquet (analysis)"),
}
CRS_LABELS = {
    "wgs84": ("WGS84 经纬度", "WGS84 lon-lat"),
    "cgcs2000": ("CGCS2000 经纬度（EPSG:4490）", "CGCS2000 lon-lat (EPSG:4490)"),
    "epsg4547": ("CGCS2000 3度带 114°E（EPSG:4547，米）", "EPSG:4547 (metres)"),
    "gcj02": ("GCJ-02（高德地图用，仅供显示）", "GCJ-02 (for Amap; display only)"),
}


def render() -> None:
    lg = lang()
    i = 0 if lg == "zh" else 1
    st.title("导出数据" if lg == "zh" else "Export")
    who = principal()
    if not who.can(Action.EXPORT, who.district_id):
        st.warning("您的账号不能导出。" if lg == "zh" else "Your account cannot export.")
        return
    as_of = as_of_input()
    snap = snapshot(as_of)
    flt = project_filter_inputs(snap, lg, "export")
    layers = st.multiselect(
        "图层" if lg == "zh" else "Layers",
        list(LAYER_NAMES),
        default=list(LAYER_NAMES),
        format_func=lambda k: LAYERS[k].label_zh if lg == "zh" else LAYERS[k].label_en,
        key="export_layers",
    )
    fmt = st.selectbox(
        "格式" if lg == "zh" else "Format",
        list(FORMATS),
        format_func=lambda k: FORMAT_LABELS[k][i],
        key="export_format",
    )
    crs = st.selectbox(
        "坐标系" if lg == "zh" else "Coordinate system",
        list(CRS_OPTIONS),
        format_func=lambda k: CRS_LABELS[k][i],
        key="export_crs",
    )
    st.caption(
        "每行带数据质量（官方/近似/示意）与导出记录（时间、导出人、筛选条件、统计截止日）；项目筛选同地图。"
        if lg == "zh"
        else "Every row carries its quality flag and the export's provenance (time, user, filters, "
        "as-of date); project filters work as on the map."
    )
    if (
        st.button(
            "生成导出文件" if lg == "zh" else "Build the export", key="export_build", type="primary"
        )
        and layers
    ):
        try:
            result = export_layers(store(), who, ExportRequest(tuple(layers), fmt, crs, flt, as_of))
        except (ExportError, PermissionDenied) as exc:
            st.error(exc.text(lg))
            return
        names = {k: (v.label_zh if lg == "zh" else v.label_en) for k, v in LAYERS.items()}
        unit = " 个要素" if lg == "zh" else " features"
        rows = ("，" if lg == "zh" else ", ").join(
            f"{names.get(k, k)} {v:,}{unit}" for k, v in result.layers.items()
        )
        st.success(f"{result.filename}（{rows}）" if lg == "zh" else f"{result.filename} ({rows})")
        st.download_button(
            "下载" if lg == "zh" else "Download",
            result.content,
            result.filename,
            result.media_type,
            key="export_download",
            on_click="ignore",  # no rerun: the file stays until it is fetched
        )
    report.report_section(lg, snap.pledge, snap.official.stage, as_of)
