"""The Excel export (工作簿): a sheet per layer, Chinese headers, every coded value shown by its
label with the code kept in its own column.

A planner reading the workbook sees 宝安区, 在建, 一级线, 是 and the 20+8 cluster names; a
script joining it back to the store still finds ``baoan``, ``under_construction``, ``level1``
and ``C13`` in the columns headed …代码. Point coordinates are headed for what they hold:
经度/纬度 in a lon-lat system, X/Y metres in EPSG:4547. No cell is ever a formula
(:func:`spatial.outputs.spreadsheet.text_only_workbook`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial.i18n import t
from spatial.ingest.fields import FIELD_LABELS
from spatial.layers import (
    CONTROL_LEVEL_LABELS,
    EVIDENCE_LABELS,
    QUALITY_LABELS,
    READINESS,
    STATUS_LABELS,
    label,
)
from spatial.outputs.spreadsheet import text_only_workbook

SHEET_NAMES = {
    "districts": "行政区",
    "parks": "园区",
    "control_lines": "工业区块线",
    "projects": "工业上楼项目",
    "sites": "地块",
}
HEADERS: dict[str, str] = {k: v[0] for k, v in FIELD_LABELS.items()} | {
    "status_note": "状态说明",
    "confidence": "可信度说明",
    "quality": "数据质量",
    "boundary_quality": "边界质量",
    "control_lines_quality": "区块线数据质量",
    "adcode": "行政区划代码",
    "planned_area_km2": "规划面积（km²）",
    "startup_area_km2": "启动区面积（km²）",
    "lead_clusters": "主导产业（来源所述）",
    "zone": "片区",
    "location_note": "位置说明",
    "line_id": "区块线编号",
    "area_m2": "面积（㎡）",
    "inside_control_line": "位于工业区块线内",
    "export_time": "导出时间（北京时间）",
    "export_user": "导出人",
    "export_as_of": "统计截止日",
    "export_filters": "筛选条件",
    "export_crs": "坐标系",
    "wkt": "几何（WKT）",
}
# the name column says what is named on each sheet
NAME_HEADERS = {
    "districts": ("行政区名称", "行政区英文名称"),
    "parks": ("园区名称", "园区英文名称"),
    "control_lines": ("名称", "英文名称"),
    "projects": ("项目名称", "英文名称"),
    "sites": ("地块名称", "英文名称"),
}
# columns whose own value is the layer's identifier, kept as it is
ID_HEADERS = {
    "districts": {"district_id": "行政区代码"},
    "parks": {"park_id": "园区编号"},
    "sites": {"site_id": "地块编号"},
}
QUALITY_COLUMNS = (
    "quality",
    "location_quality",
    "figures_quality",
    "dates_quality",
    "boundary_quality",
    "control_lines_quality",
)


def _vocabulary(labels: Mapping) -> Callable[[object], object]:
    return lambda v: label(labels, v, "zh") if v not in (None, "", "none") else None


def _names(names: Mapping[str, str], separator: str = ";") -> Callable[[object], object]:
    def read(v: object) -> object:
        if not isinstance(v, str) or not v:
            return None
        return "、".join(names.get(code, code) for code in v.split(separator) if code)

    return read


def _code_text(value: object) -> str | None:
    """A numeric code (an adcode) as its digits, not as a float with '.0'."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    try:
        return str(int(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def coded_columns(
    districts: Mapping[str, str], parks: Mapping[str, str], clusters: Mapping[str, str]
) -> dict[str, tuple[str, str, Callable[[object], object]]]:
    """Coded column → (label header, code header, code → label), for one store's names."""
    quality = _vocabulary(QUALITY_LABELS)
    columns: dict[str, tuple[str, str, Callable[[object], object]]] = {
        "district_id": ("行政区", "行政区代码", _names(districts)),
        "located_district_id": ("所在行政区（按位置）", "所在行政区代码", _names(districts)),
        "district_ids": ("所属行政区", "所属行政区代码", _names(districts)),
        "park_id": ("所在园区", "所在园区编号", _names(parks)),
        "declared_park_id": ("来源所述园区", "来源所述园区编号", _names(parks)),
        "status": ("状态", "状态代码", _vocabulary(STATUS_LABELS)),
        "control_level": ("区块线级别", "区块线级别代码", _vocabulary(CONTROL_LEVEL_LABELS)),
        "level": ("区块线级别", "区块线级别代码", _vocabulary(CONTROL_LEVEL_LABELS)),
        "clusters": ("产业集群（关键词匹配）", "产业集群代码", _names(clusters)),
        "park_basis": ("园区判定依据", "园区判定依据代码", lambda v: t(f"basis_{v}", "zh")),
        "name_status": ("名称核实", "名称核实代码", lambda v: t(f"name_{v}", "zh")),
        "readiness": ("用地状态", "用地状态代码", _vocabulary(READINESS)),
    }
    for column in ("start_evidence", "completion_evidence", "delivery_evidence"):
        head = FIELD_LABELS[column][0]
        columns[column] = (head, f"{head}代码", _vocabulary(EVIDENCE_LABELS))
    for column in QUALITY_COLUMNS:
        head = HEADERS.get(column, FIELD_LABELS.get(column, (column,))[0])
        columns[column] = (head, f"{head}代码", quality)
    return columns


def point_headers(crs_key: str) -> tuple[str, str]:
    """The headers of a point's two coordinates, named for what they hold."""
    if crs_key == "epsg4547":
        return "X 东坐标（米，EPSG:4547）", "Y 北坐标（米，EPSG:4547）"
    if crs_key == "gcj02":
        return "经度（GCJ-02，仅供显示）", "纬度（GCJ-02，仅供显示）"
    if crs_key == "cgcs2000":
        return "经度（CGCS2000）", "纬度（CGCS2000）"
    return "经度（WGS84）", "纬度（WGS84）"


def readable_sheet(
    frame: gpd.GeoDataFrame,
    layer: str,
    coded: Mapping[str, tuple[str, str, Callable[[object], object]]],
    crs_key: str,
) -> pd.DataFrame:
    """One layer as a sheet: labels where codes were, codes beside them, Chinese headers,
    the geometry as WKT and a point's coordinates in two columns."""
    geoms = frame.geometry
    table = pd.DataFrame(frame.drop(columns=geoms.name))
    out: dict[str, pd.Series] = {}
    ids = ID_HEADERS.get(layer, {})
    name_zh, name_en = NAME_HEADERS[layer]
    for column in table.columns:
        values = table[column]
        if column in ids:
            out[ids[column]] = values
        elif column in coded:
            head, code_head, read = coded[column]
            out[head] = values.map(read)
            out[code_head] = values
        elif values.dtype == bool or set(values.dropna().map(type)) == {bool}:
            out[HEADERS.get(column, column)] = values.map({True: "是", False: "否"})
        elif column == "name_zh":
            out[name_zh] = values
        elif column == "name_en":
            out[name_en] = values
        elif column == "adcode":
            out[HEADERS[column]] = values.map(_code_text)
        else:
            out[HEADERS.get(column, column)] = values
    sheet = pd.DataFrame(out, index=table.index)
    wkt = [g.wkt if g is not None and not g.is_empty else None for g in geoms]
    sheet[HEADERS["wkt"]] = [  # an Excel cell holds 32,767 characters: no cut geometries
        w
        if w is None or len(w) < 32_000
        else "（几何过长，请用 GeoPackage 导出 / too long: use the GeoPackage export）"
        for w in wkt
    ]
    points = (geoms.geom_type == "Point").to_numpy()
    x_head, y_head = point_headers(crs_key)
    sheet[x_head] = [g.x if p else None for g, p in zip(geoms, points, strict=True)]
    sheet[y_head] = [g.y if p else None for g, p in zip(geoms, points, strict=True)]
    return sheet


def write_workbook(
    frames: Mapping[str, gpd.GeoDataFrame],
    path: Path,
    coded: Mapping[str, tuple[str, str, Callable[[object], object]]],
    crs_key: str,
) -> None:
    """Write the layers to ``path``, one sheet each; no cell of ours is a formula."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            readable_sheet(frame, name, coded, crs_key).to_excel(
                writer, sheet_name=SHEET_NAMES[name], index=False
            )
    text_only_workbook(path)  # uploaded '=…' stays text
