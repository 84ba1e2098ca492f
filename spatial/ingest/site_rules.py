"""A sites (地块) upload, from a file to checked parcel rows and a report.

The same stages as a project upload (:mod:`spatial.ingest.upload`) — read by the format's own
reader within the limits, the coordinate system resolved — then the sites' own rules, each
vectorised over all rows and naming the feature, the field and the fix in Chinese and
English:

- columns: Chinese or English headers (``SITE_ALIASES``); 地块编号 and 用地状态 are required;
- text: no control character, not over ``MAX_TEXT_CHARS``;
- ids: present, at most 64 characters, once in the file, not a site of another district;
- numbers: land area, existing floor area and plot ratio are numbers (units and 万 allowed),
  not negative, a plot ratio at most ``MAX_SITE_FAR`` and a land area at most
  ``MAX_SITE_AREA_M2``;
- readiness: 已出让 / 整备中 / 储备 (or their English names);
- geometry: a valid polygon (a site is a parcel outline, not a point) that lies in the
  uploading district (at least half of its area); the stated land area is compared with the
  outline's (a warning beyond ``AREA_TOLERANCE``), and an absent one is measured from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import METRIC
from spatial.ingest.columns import INTERNAL
from spatial.ingest.district_rules import MIN_SITE_SHARE, district_names, site_share_in
from spatial.ingest.field_rules import CONTROL_CHARACTERS, MAX_SITE_FAR, MAX_TEXT_CHARS
from spatial.ingest.fields import field_label, map_columns, parse_numbers, parse_vocabulary
from spatial.ingest.findings import RowFindings, ValidationReport, error, warning
from spatial.ingest.geometry_rules import VALID, geometry_checks, to_stored_precision
from spatial.ingest.upload import UploadOptions, crs_stage, read_stage
from spatial.layers import READINESS, SITE_FIELDS, SITE_NUMERIC_FIELDS, Quality

SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "id", "地块编号", "宗地编号", "宗地号", "地块号", "地块代码", "编号"),
    "name": ("name", "site_name", "地块名称", "宗地名称", "名称"),
    "district": ("district", "district_id", "行政区", "所属区", "所在区", "区"),
    "land_use": ("land_use", "用地性质", "用地类型", "土地用途", "用途", "用地代码"),
    "land_area_m2": (
        "land_area_m2",
        "land_area",
        "land_m2",
        "用地面积",
        "宗地面积",
        "土地面积",
        "占地面积",
    ),
    "existing_floor_area_m2": (
        "existing_floor_area_m2",
        "existing_floor_area",
        "exist_m2",  # a Shapefile's 10-character name, as the export writes it
        "现状建筑面积",
        "现有建筑面积",
        "已建建筑面积",
    ),
    "plot_ratio": ("plot_ratio", "far", "容积率", "规划容积率", "许可容积率"),
    "readiness": ("readiness", "用地状态", "土地状态", "供应状态", "状态"),
    "owner_type": ("owner_type", "权属", "权属类型", "土地权属", "权属性质"),
    "source": ("source", "来源", "数据来源"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "wkt": ("wkt", "geometry", "geom", "几何", "the_geom"),
}
SITE_REQUIRED = ("site_id", "readiness")
SITE_TEXT_FIELDS = ("site_id", "name", "land_use", "owner_type", "source")
READINESS_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("transferred", "land transferred", "已出让", "出让", "已供应", "已供地"), "transferred"
    ),
    **dict.fromkeys(
        ("preparing", "being prepared", "整备中", "整备", "土地整备", "在整备"), "preparing"
    ),
    **dict.fromkeys(("reserve", "in reserve", "储备", "储备用地", "未出让", "待出让"), "reserve"),
}
MAX_SITE_AREA_M2 = 5_000_000.0  # 5 km²: beyond any one industrial parcel (a park is ~10 km²)
AREA_TOLERANCE = 0.2  # a stated land area more than 20 % off the outline's is questioned
MAX_ID_CHARS = 64


@dataclass
class CheckedSites:
    """A checked sites upload: the report, the rows as the store keeps them (``SITE_FIELDS``
    + geometry, lon-lat) and which rows have no error."""

    report: ValidationReport
    sites: gpd.GeoDataFrame
    row_ok: pd.Series

    @property
    def accepted(self) -> bool:
        return self.report.accepted


def empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {f: pd.Series(dtype=object) for f in SITE_FIELDS}, geometry=[], crs="EPSG:4326"
    )


def check_site_upload(
    filename: str,
    data: bytes,
    options: UploadOptions,
    districts: gpd.GeoDataFrame,
    owners: dict[str, str] | None = None,
) -> CheckedSites:
    """Validate an upload of a district's sites. ``owners`` maps the stored site ids to their
    district, so an id another district holds is refused."""
    report = ValidationReport(filename=filename)
    raw = read_stage(filename, data, options.limits, report)
    frame = crs_stage(raw, options.crs_choice, districts, report) if raw else None
    if frame is None:
        return CheckedSites(report, empty_sites(), pd.Series(dtype=bool))
    attrs, rows = _site_columns(frame, report)
    text = _text_rules(attrs, rows)
    _id_rules(text["site_id"], rows, owners or {}, options.district_id, districts)
    numbers = _number_rules(attrs, rows)
    readiness = _readiness_rule(attrs, rows)
    geoms = _geometry_rules(frame, rows, options.district_id, districts)
    land = _land_area_rule(numbers["land_area_m2"], geoms, rows)
    report.features = len(frame)
    sites = gpd.GeoDataFrame(
        {
            "site_id": text["site_id"],
            "name": text["name"],
            "district_id": options.district_id,
            "land_use": text["land_use"].str.upper().where(text["land_use"].notna(), None),
            "land_area_m2": land,
            "existing_floor_area_m2": numbers["existing_floor_area_m2"],
            "plot_ratio": numbers["plot_ratio"],
            "readiness": readiness,
            "owner_type": text["owner_type"],
            "quality": Quality.OFFICIAL.value,
            # without a source column: the district's upload (the version names the file), so
            # sending the same sites under another file name changes nothing
            "source": text["source"].fillna(f"{options.district_id} upload"),
        },
        geometry=to_stored_precision(geoms.to_numpy()),
        crs="EPSG:4326",
        index=frame.index,
    )
    return CheckedSites(report, sites, ~rows.bad)


def _site_columns(
    frame: gpd.GeoDataFrame, report: ValidationReport
) -> tuple[pd.DataFrame, RowFindings]:
    """The file's columns named as site fields; unknown headers warned, required ones
    missing refused for the whole file."""
    columns = [c for c in frame.columns if c not in INTERNAL and c != frame.geometry.name]
    mapping, unknown = map_columns(columns, SITE_ALIASES)
    attrs = pd.DataFrame({field: frame[col] for col, field in mapping.items()}, index=frame.index)
    ids = attrs["site_id"] if "site_id" in attrs else pd.Series(None, index=frame.index)
    ids = ids.astype("object").where(ids.notna(), None)
    rows = RowFindings(report, frame["_feature"], ids.map(lambda v: None if v is None else str(v)))
    rows.bad |= frame["_broken"].astype(bool)
    if unknown:
        names = "、".join(map(str, unknown))
        report.add(
            warning(
                "unknown_columns",
                f"以下列无法识别，未导入：{names}",
                f"these columns are not recognised and are not imported: {names}",
                "列名参照地块模板（中文或英文均可）。",
                "Name the columns as in the sites template (Chinese or English).",
            )
        )
    for req in SITE_REQUIRED:
        if req not in attrs:
            label = field_label(req)
            report.add(
                error(
                    "missing_column",
                    f"缺少必填字段“{label.zh}”",
                    f"the required field '{label.en}' is missing",
                    f"加上“{label.zh}”列（英文列名 {req}），可下载地块模板参考。",
                    f"Add a '{req}' column (Chinese header {label.zh}); see the sites template.",
                    field=req,
                )
            )
            attrs[req] = None
    return attrs, rows


def _text(attrs: pd.DataFrame, field: str) -> pd.Series:
    """A field's values as trimmed text; None for missing and blank values."""
    if field not in attrs:
        return pd.Series(None, index=attrs.index, dtype=object)
    text = attrs[field].astype(object).map(str, na_action="ignore").str.strip()
    return text.where(text.notna() & (text != ""), None).astype(object)


def _text_rules(attrs: pd.DataFrame, rows: RowFindings) -> dict[str, pd.Series]:
    values = {f: _text(attrs, f) for f in SITE_TEXT_FIELDS}
    for field, value in values.items():
        label, shown = field_label(field), value.fillna("")
        rows.error(
            shown.str.contains(CONTROL_CHARACTERS, regex=True),
            "control_character",
            f"“{label.zh}”含有不可见的控制字符（如 NUL）",
            f"'{label.en}' contains an invisible control character (such as NUL)",
            "删除该字符：在 Excel 中用 CLEAN() 清理，或重新输入该单元格。",
            "Remove it: clean the cell with Excel's CLEAN(), or type the value again.",
            fld=field,
        )
        rows.error(
            shown.str.len() > MAX_TEXT_CHARS,
            "text_too_long",
            f"“{label.zh}”超过 {MAX_TEXT_CHARS:,} 个字符",
            f"'{label.en}' is longer than {MAX_TEXT_CHARS:,} characters",
            "缩短该值。",
            "Shorten the value.",
            fld=field,
        )
    return values


def _id_rules(
    ids: pd.Series,
    rows: RowFindings,
    owners: dict[str, str],
    district_id: str | None,
    districts: gpd.GeoDataFrame,
) -> None:
    rows.error(
        ids.isna(),
        "missing_value",
        "“地块编号”为空",
        "'site id' is empty",
        "填写地块编号（如宗地号）。",
        "Fill in the site id (the parcel number, say).",
        fld="site_id",
    )
    rows.error(
        ids.fillna("").str.len() > MAX_ID_CHARS,
        "id_too_long",
        f"地块编号超过 {MAX_ID_CHARS} 个字符",
        f"the site id is longer than {MAX_ID_CHARS} characters",
        "使用更短的编号。",
        "Use a shorter id.",
        fld="site_id",
    )
    rows.error(
        ids.notna() & ids.duplicated(keep=False),
        "duplicate_id",
        "地块编号 {id} 在文件中出现多次",
        "site id {id} appears more than once in the file",
        "每个地块只写一行；合并或改正重复的编号。",
        "One row per site: merge the rows or correct the repeated id.",
        fld="site_id",
        fmt=lambda i: {"id": ids[i]},
    )
    names = district_names(districts)
    other = ids.map(owners).where(ids.notna())
    foreign = other.notna() & (other != district_id)
    rows.error(
        foreign,
        "id_of_another_district",
        "地块编号 {id} 已属于{owner}",
        "site id {id} already belongs to {owner_en}",
        "换用本区的编号；如确属本区，请该区或管理员先移除。",
        "Use your district's own id; if it is yours, ask that district or an admin first.",
        fld="site_id",
        fmt=lambda i: {
            "id": ids[i],
            "owner": names.get(other[i], (other[i], other[i]))[0],
            "owner_en": names.get(other[i], (other[i], other[i]))[1],
        },
    )


def _number_rules(attrs: pd.DataFrame, rows: RowFindings) -> dict[str, pd.Series]:
    numbers: dict[str, pd.Series] = {}
    limits = {"plot_ratio": MAX_SITE_FAR, "land_area_m2": MAX_SITE_AREA_M2}
    for field in SITE_NUMERIC_FIELDS:
        label = field_label(field)
        written = attrs[field] if field in attrs else pd.Series(None, index=attrs.index)
        parsed, bad = parse_numbers(written)
        numbers[field] = parsed
        rows.error(
            bad,
            "not_a_number",
            f"“{label.zh}”的值 “{{value}}” 不是数字",
            f"'{label.en}' value '{{value}}' is not a number",
            "写成数字，可带单位或“万”，如 52000、5.2万㎡。",
            "Write a number, units and 万 allowed: 52000, 5.2万㎡.",
            fld=field,
            fmt=lambda i, w=written: {"value": str(w[i])[:40]},
        )
        rows.error(
            parsed < 0,
            "negative_value",
            f"“{label.zh}”为负数",
            f"'{label.en}' is negative",
            "面积和容积率不能为负。",
            "Areas and plot ratios cannot be negative.",
            fld=field,
        )
        if field in limits:
            rows.error(
                parsed > limits[field],
                "implausible_value",
                f"“{label.zh}”为 {{value}}，超过合理上限 {limits[field]:,.0f}",
                f"'{label.en}' is {{value}}, above the plausible limit of {limits[field]:,.0f}",
                "核对单位（㎡ 还是 万㎡）和数值。",
                "Check the unit (m² or 万m²) and the value.",
                fld=field,
                fmt=lambda i, p=parsed: {"value": f"{p[i]:,.2f}"},
            )
    return numbers


def _readiness_rule(attrs: pd.DataFrame, rows: RowFindings) -> pd.Series:
    written = attrs["readiness"]
    parsed, bad = parse_vocabulary(written, READINESS_ALIASES)
    known = "、".join(zh for zh, _ in READINESS.values())
    known_en = ", ".join(en for _, en in READINESS.values())
    rows.error(
        bad,
        "unknown_readiness",
        f"“用地状态”的值 “{{value}}” 无法识别（可用：{known}）",
        f"readiness '{{value}}' is not recognised (use: {known_en})",
        f"写成 {known} 之一。",
        f"Write one of: {known_en}.",
        fld="readiness",
        fmt=lambda i: {"value": str(written[i])[:40]},
    )
    rows.error(
        parsed.isna() & ~bad,
        "missing_value",
        "“用地状态”为空",
        "'readiness' is empty",
        f"填写 {known} 之一。",
        f"Fill in one of: {known_en}.",
        fld="readiness",
    )
    return parsed.astype(object).where(parsed.notna(), None)


def _geometry_rules(
    frame: gpd.GeoDataFrame, rows: RowFindings, district_id: str | None, districts
) -> gpd.GeoSeries:
    """The outlines; a missing, non-polygonal, invalid or out-of-district one is refused."""
    geoms = frame.geometry
    present = ~(geoms.isna() | geoms.is_empty)
    reasons = geometry_checks(frame, rows, geographic=True)
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    rows.error(
        ~present & ~frame["_broken"].astype(bool),
        "null_geometry",
        "地块没有几何（轮廓为空）",
        "the site has no geometry",
        "导出地块的面（多边形）。",
        "Export the parcel's polygon.",
        fld="geometry",
    )
    rows.error(
        present & ~polygonal,
        "site_not_polygon",
        "地块须为面（多边形），此处为 {kind}",
        "a site must be a polygon (its outline); this is a {kind}",
        "导出宗地的轮廓面，而不是点或线。",
        "Export the parcel's outline, not a point or a line.",
        fld="geometry",
        fmt=lambda i: {"kind": geoms[i].geom_type},
    )
    rows.error(
        present & polygonal & (reasons != VALID),
        "invalid_geometry",
        "几何无效：{reason}",
        "invalid geometry: {reason}",
        "在 GIS 中修正（如自相交）后重新上传。",
        "Fix it in your GIS (the self-intersection, say) and upload again.",
        fld="geometry",
        fmt=lambda i: {"reason": reasons[i]},
    )
    zone = districts[districts["district_id"] == district_id].geometry.dropna()
    if district_id is not None and len(zone):
        usable = present & polygonal
        share = site_share_in(geoms, usable, zone.iloc[0])
        zh, en = district_names(districts).get(district_id, (district_id, district_id))
        rows.error(
            usable & (share.fillna(0.0) < MIN_SITE_SHARE),
            "outside_district",
            f"地块大部分不在{zh}内（仅 {{share:.0%}}）",
            f"most of the site lies outside {en} (only {{share:.0%}} inside)",
            "核对坐标系，或由地块所在区上传。",
            "Check the coordinate system, or let the site's own district upload it.",
            fld="geometry",
            fmt=lambda i: {"share": float(share[i])},
        )
    return geoms


def _land_area_rule(stated: pd.Series, geoms: gpd.GeoSeries, rows: RowFindings) -> pd.Series:
    """The stated land area, or the outline's where none is stated; a stated one more than
    ``AREA_TOLERANCE`` off the outline's is questioned."""
    polygonal = geoms.notna() & geoms.geom_type.isin(["Polygon", "MultiPolygon"]).fillna(False)
    measured = pd.Series(np.nan, index=geoms.index)
    if polygonal.any():
        measured[polygonal] = shapely.area(
            shapely.make_valid(geoms[polygonal].to_crs(METRIC).to_numpy())
        )
    off = (stated - measured).abs() > AREA_TOLERANCE * measured
    rows.warn(
        stated.notna() & measured.notna() & off,
        "land_area_differs",
        "填写的用地面积 {stated:,.0f} ㎡ 与轮廓面积 {measured:,.0f} ㎡ 相差超过 20%",
        "the stated land area {stated:,.0f} m² is over 20% off the outline's {measured:,.0f} m²",
        "核对面积或轮廓；计算潜力时采用填写的面积。",
        "Check the area or the outline; capacity uses the stated area.",
        fld="land_area_m2",
        fmt=lambda i: {"stated": float(stated[i]), "measured": float(measured[i])},
    )
    return stated.where(stated.notna(), measured.round(0))
