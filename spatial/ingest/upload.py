"""From an uploaded file to validated, normalised project rows and a report (DESIGN.md §6).

read (``spatial.ingest.formats``) → resolve the CRS (``spatial.ingest.crs_detect``) → check
geometry and attributes, vectorised over all features → a :class:`CheckedUpload` with one
finding per problem (feature, field, what is wrong, how to fix it; Chinese and English). Errors
block a commit; warnings do not. Nothing here writes to the store.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.clock import shenzhen_today
from spatial.crs import METRIC
from spatial.districts import resolve_districts
from spatial.ingest.crs_detect import AUTO, resolve_crs
from spatial.ingest.fields import (
    ASPECT_QUALITY_FIELDS,
    DATE_FIELDS,
    NUMERIC_FIELDS,
    REQUIRED_FIELDS,
    TEXT_FIELDS,
    field_label,
    map_columns,
    parse_aspect_quality,
    parse_dates,
    parse_evidence,
    parse_numbers,
    parse_statuses,
)
from spatial.ingest.findings import UploadRejected, ValidationReport, error, warning
from spatial.ingest.formats import read_upload
from spatial.ingest.limits import UploadLimits
from spatial.layers import (
    PROJECT_EVIDENCE_FIELDS,
    PROJECT_FIELDS,
    STAGE_DATE_COLUMN,
    STAGE_EVIDENCE_COLUMN,
    STAGE_STATUS,
    STATUS_LABELS,
    STATUS_ORDER,
    Evidence,
    Quality,
    Status,
)

PROJECT_GEOMETRY_TYPES = ("Point", "Polygon", "MultiPolygon")
DISTRICT_TOLERANCE_DEG = 0.001  # ~100 m: outlines are approximate
MAX_SITE_FAR = 20.0  # floor area / site area above this is not a building in Shenzhen
PLOT_RATIO_TOLERANCE = 0.2
INTERNAL = ("_feature", "_id", "_broken", "_outside_shenzhen", "_bbox")
MANY_VERTICES = 1_000
# Upper bounds of a single project's figures, each with its reason: one wrong unit or a stray
# 1e15 would otherwise decide the city's pledge verdict on its own.
PLAUSIBLE_MAX: dict[str, tuple[float, str, str]] = {
    "floor_area_m2": (
        10_000_000,
        "半年的全市目标；公开来源中单个项目最大约 380 万㎡",
        "half a year of the city's pledge; the largest single project in public sources is "
        "about 3.8 M m²",
    ),
    "factory_floor_area_m2": (
        10_000_000,
        "同总建筑面积",
        "as for the total floor area",
    ),
    "land_area_m2": (
        10_000_000,
        "10 km²，大于任何一个园区的首期用地",
        "10 km², larger than any park's first phase",
    ),
    "plot_ratio": (MAX_SITE_FAR, "深圳没有更高的建筑", "no building in Shenzhen is denser"),
    "storeys": (150, "深圳最高楼约 118 层", "Shenzhen's tallest tower has about 118 floors"),
    "height_m": (600, "深圳最高楼 599 米", "Shenzhen's tallest tower is 599 m"),
}
MAX_ID_CHARS = 64  # the store's id column (PostgreSQL refuses longer; SQLite would not)
MAX_TEXT_CHARS = 4_000
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # NUL etc.; tab and newlines allowed
INVISIBLE_CHARACTERS = (  # controls, soft hyphen, zero-width, direction marks, odd spaces
    r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    r"\ufeff\u00a0\u2000-\u200a\u3000]"
)
MIN_SITE_SHARE = 0.5  # a site polygon belongs to a district holding at least half of it
STRADDLE_SHARE = 0.95  # below this a site is said to cross the district boundary


@dataclass
class UploadOptions:
    district_id: str | None  # None: check the file alone (``spatial validate`` without --district)
    crs_choice: str = AUTO
    repair_invalid: bool = False
    limits: UploadLimits = field(default_factory=UploadLimits.from_env)


@dataclass
class CheckedUpload:
    report: ValidationReport
    projects: gpd.GeoDataFrame  # normalised rows (PROJECT_FIELDS + geometry, lon-lat)
    row_ok: pd.Series  # rows without errors
    repaired: gpd.GeoSeries | None = None  # repaired shapes offered for invalid geometries
    source_frame: gpd.GeoDataFrame | None = None  # lon-lat, the file's own columns
    present_fields: frozenset[str] = frozenset()  # project fields the file has a column for

    @property
    def accepted(self) -> bool:
        return self.report.accepted


def _vocabulary_column(
    attrs: pd.DataFrame, column: str, parse, rows: _Rows, code: str, fix_zh: str, fix_en: str
) -> tuple[pd.Series, pd.Series]:
    """An optional column of a small vocabulary (evidence, quality): the parsed values, and an
    error naming the value and the accepted words for each one that is not recognised."""
    values = attrs[column] if column in attrs else pd.Series(None, index=attrs.index)
    given, bad = parse(values)
    label = field_label(column)
    rows.error(
        bad,
        code,
        f"“{label.zh}” “{{value}}” 无法识别",
        f"'{label.en}' '{{value}}' is not recognised",
        fix_zh,
        fix_en,
        fld=column,
        fmt=lambda i: {"value": str(values[i])[:30]},
    )
    return given, bad


def _stage_evidence(
    status: pd.Series, dates: dict[str, pd.Series], attrs: pd.DataFrame, rows: _Rows, today: str
) -> dict[str, pd.Series]:
    """How each stage's date is known. A district may say so in ``<stage>_evidence`` columns
    (已证实 / 计划 / 推断); where it does not, its own date is confirmed where its status has
    reached the stage (the district reports that it happened) and planned where it has not, or
    where the date is still ahead (a date in the future is a plan). No date, no evidence."""
    order = [s.value for s in sorted(STATUS_ORDER, key=STATUS_ORDER.get)]
    rank = pd.Series(pd.Categorical(status, categories=order).codes, index=status.index)
    status_zh = status.map({s.value: STATUS_LABELS[s][0] for s in Status}).fillna("—")
    status_en = status.map({s.value: STATUS_LABELS[s][1] for s in Status}).fillna("—")
    out = {}
    for stage, date_column in STAGE_DATE_COLUMN.items():
        column = STAGE_EVIDENCE_COLUMN[stage]
        label, date_label = field_label(column), field_label(date_column)
        dated = dates[date_column].notna()
        reached = rank >= STATUS_ORDER[STAGE_STATUS[stage]]
        ahead = dated & (dates[date_column].astype(object).fillna("") > today)
        derived = pd.Series(
            np.where(reached & ~ahead, Evidence.CONFIRMED.value, Evidence.PLANNED.value),
            index=status.index,
            dtype=object,
        )
        given, bad = _vocabulary_column(
            attrs, column, parse_evidence, rows, "unknown_evidence",
            "可用：已证实、计划、推断（或 confirmed、planned、inferred）；不确定可留空。",
            "Use 已证实/计划/推断 or confirmed / planned / inferred; leave it empty if unsure.",
        )  # fmt: skip
        confirmed = given == Evidence.CONFIRMED.value
        rows.error(
            confirmed & dated & ~reached & ~bad,
            "confirmed_ahead_of_status",
            f"“{label.zh}”为已证实，但项目状态为{{status}}",
            f"'{label.en}' says confirmed, but the project's status is {{status_en}}",
            f"更新项目状态；若{date_label.zh}只是计划，把依据改为“计划”。",
            f"Update the status; if the {date_label.en} is only planned, write 'planned'.",
            fld=column,
            fmt=lambda i: {"status": status_zh[i], "status_en": status_en[i]},
        )
        rows.error(
            confirmed & ahead & ~bad,
            "confirmed_in_future",
            f"“{label.zh}”为已证实，但{date_label.zh} {{date}} 还未到",
            f"'{label.en}' says confirmed, but the {date_label.en} {{date}} is still ahead",
            "已发生的日期不能晚于今天；未来的日期请把依据写为“计划”。",
            "A date that happened cannot be after today; write 'planned' for a future date.",
            fld=column,
            fmt=lambda i, c=date_column: {"date": dates[c][i]},
        )
        rows.warn(
            given.isna() & dated & reached & ahead,
            "future_date_taken_as_plan",
            f"状态为{{status}}，但{date_label.zh} {{date}} 还未到，按计划日期处理，不计入",
            f"the status is {{status_en}} but the {date_label.en} {{date}} is still ahead; it "
            "is taken as planned and not counted",
            f"核对{date_label.zh}；如确已发生，填写实际日期。",
            f"Check the {date_label.en}; if it happened, give the actual date.",
            fld=date_column,
            fmt=lambda i, c=date_column: {
                "date": dates[c][i],
                "status": status_zh[i],
                "status_en": status_en[i],
            },
        )
        rows.warn(
            given.notna() & ~dated,
            "evidence_without_date",
            f"填写了“{label.zh}”但没有{date_label.zh}，依据不起作用",
            f"'{label.en}' is given without a {date_label.en}; it has no effect",
            f"补充{date_label.zh}，或清空该依据。",
            f"Add the {date_label.en}, or clear the evidence.",
            fld=column,
        )
        out[column] = given.astype(object).where(given.notna(), derived).where(dated, None)
    return out


def _aspect_quality(
    numbers: dict[str, pd.Series], dates: dict[str, pd.Series], attrs: pd.DataFrame, rows: _Rows
) -> dict[str, pd.Series]:
    """How exact a district's figures, dates and location are. Stated in ``figures_quality``,
    ``dates_quality``, ``location_quality`` (准确 / 近似) or, where not stated, exact (the
    district's own register) — and missing wherever there is no figure or no date at all."""
    has_area = numbers["factory_floor_area_m2"].notna() | numbers["floor_area_m2"].notna()
    has_date = pd.concat([d.notna() for d in dates.values()], axis=1).any(axis=1)
    present = {"figures_quality": has_area, "dates_quality": has_date}
    out = {}
    for column in ASPECT_QUALITY_FIELDS:
        given, _ = _vocabulary_column(
            attrs, column, parse_aspect_quality, rows, "unknown_quality",
            "可用：准确、近似（或 exact、approximate）；留空表示准确。",
            "Use 准确/近似 or exact / approximate; empty means exact.",
        )  # fmt: skip
        if column == "location_quality":  # a district's own location is official unless rough
            given = given.where(given != Quality.EXACT.value, Quality.OFFICIAL.value)
            out[column] = given.fillna(Quality.OFFICIAL.value)
            continue
        quality = given.fillna(Quality.EXACT.value)
        out[column] = quality.where(present[column], Quality.MISSING.value)
    return out


def empty_projects() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {f: pd.Series(dtype=object) for f in PROJECT_FIELDS}, geometry=[], crs="EPSG:4326"
    )


class _Rows:
    """Collects per-row findings for a frame whose rows carry ``_feature`` and an id."""

    def __init__(self, report: ValidationReport, positions: pd.Series, ids: pd.Series):
        self.report = report
        self.positions = positions
        self.ids = ids
        self.bad = pd.Series(False, index=positions.index)

    def _where(self, idx, fld):
        fid = self.ids.get(idx)
        fid = None if fid is None or (isinstance(fid, float) and np.isnan(fid)) else str(fid)
        return {"feature": int(self.positions[idx]), "feature_id": fid, "field": fld}

    def _add(self, make, mask: pd.Series, code, zh, en, fix_zh, fix_en, fld, fmt) -> None:
        for idx in mask[mask].index:
            extra = fmt(idx) if fmt else {}
            self.report.add(
                make(
                    code,
                    zh.format(**extra),
                    en.format(**extra),
                    fix_zh,
                    fix_en,
                    **self._where(idx, fld),
                )
            )

    def error(self, mask: pd.Series, code, zh, en, fix_zh="", fix_en="", fld=None, fmt=None):
        """One error finding per True row of ``mask``; those rows cannot be committed."""
        self._add(error, mask, code, zh, en, fix_zh, fix_en, fld, fmt)
        self.bad |= mask

    def warn(self, mask: pd.Series, code, zh, en, fix_zh="", fix_en="", fld=None, fmt=None):
        """One warning per True row of ``mask``."""
        self._add(warning, mask, code, zh, en, fix_zh, fix_en, fld, fmt)


def geometry_checks(frame: gpd.GeoDataFrame, rows: _Rows, geographic: bool) -> pd.Series:
    """Checks every layer's geometry needs, vectorised. Returns GEOS's validity reasons."""
    geoms = frame.geometry
    arr = geoms.to_numpy()
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    reasons = pd.Series(shapely.is_valid_reason(arr), index=frame.index)
    present = pd.Series(~missing, index=frame.index)
    if geographic:
        bounds = pd.DataFrame(
            shapely.bounds(arr), index=frame.index, columns=["minx", "miny", "maxx", "maxy"]
        )
        out = present & (
            (bounds["minx"] < -180)
            | (bounds["maxx"] > 180)
            | (bounds["miny"] < -90)
            | (bounds["maxy"] > 90)
        )
        rows.error(
            out,
            "coordinates_out_of_range",
            "坐标超出经纬度范围（经度 ±180°，纬度 ±90°）",
            "coordinates outside longitude ±180° / latitude ±90°",
            "检查坐标是否为经纬度、顺序是否为 [经度, 纬度]。",
            "Check the coordinates are lon-lat, in [lon, lat] order.",
            fld="geometry",
        )
    counts = pd.Series(shapely.get_num_coordinates(arr), index=frame.index)
    coords, owner = shapely.get_coordinates(arr, return_index=True)
    same = np.all(coords[1:] == coords[:-1], axis=1) & (owner[1:] == owner[:-1])
    repeats = pd.Series(np.bincount(owner[1:][same], minlength=len(arr)), index=frame.index)
    rows.warn(
        present & (repeats > 0) & (reasons == "Valid Geometry"),
        "duplicate_vertices",
        "几何中有重复的连续顶点，已去除",
        "the geometry repeats consecutive vertices; removed",
        "",
        "",
        fld="geometry",
    )
    rows.warn(
        present & (counts > MANY_VERTICES),
        "many_vertices",
        "几何有 {n:,} 个顶点，建议简化",
        "the geometry has {n:,} vertices; consider simplifying",
        "在 GIS 中简化（容差 0.5 米即可）。",
        "Simplify it in your GIS (0.5 m tolerance is enough).",
        fld="geometry",
        fmt=lambda i: {"n": int(counts[i])},
    )
    multi = geoms.geom_type.isin(["MultiPoint", "MultiLineString", "MultiPolygon"])
    rows.warn(
        present & multi & (pd.Series(shapely.get_num_geometries(arr), index=frame.index) == 1),
        "single_part_multi",
        "多部件几何只含一个部件",
        "a multi-part geometry holds a single part",
        "",
        "",
        fld="geometry",
    )
    lines = geoms.geom_type.eq("LineString") & present
    simple = pd.Series(True, index=frame.index)
    if lines.any():
        simple[lines] = shapely.is_simple(arr[lines.to_numpy()])
    rows.warn(
        lines & ~simple & (reasons == "Valid Geometry"),
        "self_crossing_line",
        "线自身交叉",
        "the line crosses itself",
        "",
        "",
        fld="geometry",
    )
    if "_bbox" in frame:
        boxes = frame["_bbox"]
        has_box = boxes.map(lambda b: isinstance(b, list) and len(b) in (4, 6)) & present
        if has_box.any():
            b = np.array([[v[0], v[1], v[len(v) // 2], v[len(v) // 2 + 1]] for v in boxes[has_box]])
            gb = shapely.bounds(arr[has_box.to_numpy()])
            eps = 1e-9
            outside = (
                (gb[:, 0] < b[:, 0] - eps)
                | (gb[:, 1] < b[:, 1] - eps)
                | (gb[:, 2] > b[:, 2] + eps)
                | (gb[:, 3] > b[:, 3] + eps)
            )
            mask = pd.Series(False, index=frame.index)
            mask[has_box] = outside
            rows.warn(
                mask,
                "bbox_mismatch",
                "bbox 未包含整个几何",
                "the bbox does not contain the geometry",
                "删除 bbox 或按几何重新计算。",
                "Delete the bbox or compute it from the geometry.",
                fld="bbox",
            )
    return reasons


def check_file(filename: str, data: bytes, limits: UploadLimits | None = None) -> ValidationReport:
    """Is this file valid spatial data at all (format, structure, geometry)? No layer rules,
    no coordinate system checks: what a GeoJSON validator would say."""
    report = ValidationReport(filename=filename)
    try:
        raw = read_upload(filename, data, limits or UploadLimits.from_env())
    except UploadRejected as exc:
        report.extend(exc.findings)
        return report
    report.format, report.features = raw.format, len(raw.frame)
    report.extend(raw.findings)
    frame = raw.frame
    rows = _Rows(report, frame["_feature"], frame["_id"])
    geoms = frame.geometry
    missing = (geoms.isna() | geoms.is_empty) & ~frame["_broken"].astype(bool)
    rows.warn(
        missing,
        "null_geometry",
        "要素没有几何（位置为空）",
        "the feature has no geometry",
        "",
        "",
        fld="geometry",
    )
    reasons = geometry_checks(
        frame, rows, geographic=raw.declared_crs in (None, "OGC:CRS84", "EPSG:4326")
    )
    present = ~(geoms.isna() | geoms.is_empty)
    invalid = present & (reasons != "Valid Geometry")
    rows.error(
        invalid,
        "invalid_geometry",
        "几何无效：{reason}",
        "invalid geometry: {reason}",
        "在 GIS 中修正（如自相交），或上传时采用修复后的形状。",
        "Fix it in your GIS (e.g. the self-intersection), or use the repaired shape.",
        fld="geometry",
        fmt=lambda i: {"reason": reasons[i]},
    )
    return report


def _id_key(project_id: str) -> str:
    """What two ids that look alike share: NFKC (full/half width) and case folded."""
    return unicodedata.normalize("NFKC", project_id).casefold()


def site_share_in(geoms: gpd.GeoSeries, usable: pd.Series, district_area) -> pd.Series:
    """For each usable site polygon, the share of its area (EPSG:4547) inside
    ``district_area`` (lon-lat); NaN for points and unusable rows. Vectorised."""
    share = pd.Series(np.nan, index=geoms.index)
    polys = usable & geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.any():
        return share
    sites = shapely.make_valid(geoms[polys].to_crs(METRIC).to_numpy())  # invalid ones too
    zone = gpd.GeoSeries([district_area], crs=geoms.crs).to_crs(METRIC).iloc[0]
    total = shapely.area(sites)
    inside = shapely.area(shapely.intersection(sites, zone))
    share[polys] = np.where(total > 0, inside / np.where(total > 0, total, 1), 0.0)
    return share


def _district_of(points: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> pd.Series:
    polys = districts[districts.geometry.notna()][["district_id", "geometry"]]
    frame = gpd.GeoDataFrame(geometry=points, crs=points.crs)
    joined = gpd.sjoin(frame, polys.to_crs(points.crs), how="left", predicate="within")
    return joined[~joined.index.duplicated()]["district_id"].reindex(points.index)


def check_upload(
    filename: str,
    data: bytes,
    options: UploadOptions,
    districts: gpd.GeoDataFrame,
    existing: pd.DataFrame | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> CheckedUpload:
    """Validate an upload of district projects. ``existing`` is the store's current projects
    (``project_id``, ``district_id``) so ids owned by another district are refused.
    ``progress(fraction, stage)`` is called as the stages pass (for a progress bar)."""
    step = progress or (lambda fraction, stage: None)
    step(0.05, "read")
    report = ValidationReport(filename=filename)
    empty = CheckedUpload(report, empty_projects(), pd.Series(dtype=bool))
    try:
        raw = read_upload(filename, data, options.limits)
    except UploadRejected as exc:
        report.extend(exc.findings)
        return empty
    report.format = raw.format
    report.features = len(raw.frame)
    report.extend(raw.findings)
    if raw.frame.empty:
        report.add(
            error(
                "no_features",
                "文件中没有任何要素",
                "the file holds no features",
                "检查导出范围。",
                "Check what was exported.",
            )
        )
        return empty

    step(0.4, "crs")
    resolved = resolve_crs(raw.frame, raw.declared_crs, options.crs_choice, raw.format, districts)
    report.extend(resolved.findings)
    report.crs = resolved.crs_label
    if resolved.fatal:
        return empty
    frame = resolved.frame.reset_index(drop=True)
    names = {
        d: (zh, en)
        for d, zh, en in districts[["district_id", "name_zh", "name_en"]].itertuples(index=False)
    }

    step(0.55, "attributes")
    # -- attributes ---------------------------------------------------------------------------
    columns = [c for c in frame.columns if c not in INTERNAL and c != frame.geometry.name]
    mapping, unknown = map_columns(columns)
    attrs = pd.DataFrame(index=frame.index)
    for original, canonical in mapping.items():
        attrs[canonical] = frame[original]
    if "project_id" not in attrs and frame["_id"].notna().any():
        attrs["project_id"] = frame["_id"]
    ids = attrs["project_id"] if "project_id" in attrs else frame["_id"]
    ids = ids.astype("object").where(ids.notna(), None)
    rows = _Rows(report, frame["_feature"], ids.map(lambda v: None if v is None else str(v)))
    rows.bad |= frame["_broken"].astype(bool)
    if unknown:
        report.add(
            warning(
                "unknown_columns",
                f"以下列无法识别，未导入：{'、'.join(map(str, unknown))}",
                f"these columns are not recognised and are not imported: "
                f"{', '.join(map(str, unknown))}",
                "列名参照模板（中文或英文均可）。",
                "Name the columns as in the template (Chinese or English).",
            )
        )
    for req in REQUIRED_FIELDS:
        if req not in attrs:
            label = field_label(req)
            report.add(
                error(
                    "missing_column",
                    f"缺少必填字段“{label.zh}”",
                    f"the required field '{label.en}' is missing",
                    f"加上“{label.zh}”列（英文列名 {req}），可下载模板参考。",
                    f"Add a '{req}' column (Chinese header {label.zh}); see the template.",
                    field=req,
                )
            )
            attrs[req] = None

    def text(col: str) -> pd.Series:
        if col not in attrs:
            return pd.Series(None, index=frame.index, dtype=object)
        s = attrs[col].astype("object")
        s = s.where(s.notna(), None).map(lambda v: None if v is None else str(v).strip())
        return s.where(s != "", None)

    values = {c: text(c) for c in TEXT_FIELDS}
    for col in TEXT_FIELDS:
        label = field_label(col)
        shown = values[col].fillna("")
        rows.error(
            shown.str.contains(CONTROL_CHARACTERS, regex=True),
            "control_character",
            f"“{label.zh}”含有不可见的控制字符（如 NUL）",
            f"'{label.en}' contains an invisible control character (such as NUL)",
            "删除该字符：在 Excel 中用 CLEAN() 清理，或重新输入该单元格。",
            "Remove it: clean the cell with Excel's CLEAN(), or type the value again.",
            fld=col,
        )
        rows.error(
            shown.str.len() > MAX_TEXT_CHARS,
            "text_too_long",
            f"“{label.zh}”长 {{n:,}} 个字符，超过上限 {MAX_TEXT_CHARS:,}",
            f"'{label.en}' is {{n:,}} characters long, over the limit of {MAX_TEXT_CHARS:,}",
            "缩短该值；附件请另行提交。",
            "Shorten the value; send attachments separately.",
            fld=col,
            fmt=lambda i, v=shown: {"n": len(v[i])},
        )
    for req, col in (("project_id", "project_id"), ("name_zh", "name_zh")):
        if req in mapping.values() or req == "project_id":
            label = field_label(req)
            rows.error(
                values[col].isna(),
                "missing_value",
                f"“{label.zh}”为空",
                f"'{label.en}' is empty",
                f"填写{label.zh}。",
                f"Fill in the {label.en}.",
                fld=req,
            )

    numbers: dict[str, pd.Series] = {}
    for col in NUMERIC_FIELDS:
        label = field_label(col)
        if col not in attrs:
            numbers[col] = pd.Series(np.nan, index=frame.index)
            continue
        parsed, bad = parse_numbers(attrs[col])
        numbers[col] = parsed
        rows.error(
            bad,
            "not_a_number",
            f"“{label.zh}”的值 “{{value}}” 不是数字",
            f"'{label.en}' value '{{value}}' is not a number",
            "写成数字，可带单位或“万”，如 120000、12万、12万㎡。",
            "Write a number, units and 万 allowed: 120000, 12万, 12万㎡.",
            fld=col,
            fmt=lambda i, c=col: {"value": str(attrs[c][i])[:40]},
        )
        rows.error(
            parsed < 0,
            "negative_value",
            f"“{label.zh}”为负数 {{value}}",
            f"'{label.en}' is negative ({{value}})",
            "面积、高度等不能为负。",
            "Areas and heights cannot be negative.",
            fld=col,
            fmt=lambda i, p=parsed: {"value": f"{p[i]:,.0f}"},
        )
        limit, reason_zh, reason_en = PLAUSIBLE_MAX[col]
        rows.error(
            parsed > limit,
            "implausible_value",
            f"“{label.zh}”为 {{value}}，超过合理上限 {limit:,.0f}（{reason_zh}）",
            f"'{label.en}' is {{value}}, above the plausible limit of {limit:,.0f} ({reason_en})",
            "核对单位（㎡ 还是 万㎡）和数值；确属实的请联系管理员。",
            "Check the unit (m² or 万m²) and the value; if it is right, tell the administrator.",
            fld=col,
            fmt=lambda i, p=parsed: {"value": f"{p[i]:,.0f}"},
        )
    floor = numbers["floor_area_m2"]
    if "floor_area_m2" in attrs:
        rows.error(
            floor.isna() & ~rows.bad,
            "missing_value",
            "“总建筑面积”为空",
            "'total floor area' is empty",
            "填写总建筑面积（㎡）。",
            "Fill in the total floor area (m²).",
            fld="floor_area_m2",
        )
        rows.error(
            floor == 0,
            "zero_area",
            "总建筑面积为 0",
            "the total floor area is 0",
            "填写实际面积。",
            "Fill in the real area.",
            fld="floor_area_m2",
        )
    factory = numbers["factory_floor_area_m2"]
    rows.error(
        factory > floor * 1.0001,
        "factory_exceeds_total",
        "厂房面积 {f:,.0f} ㎡ 大于总建筑面积 {t:,.0f} ㎡",
        "factory floor area {f:,.0f} m² exceeds the total floor area {t:,.0f} m²",
        "厂房面积应不大于总建筑面积。",
        "Factory floor area cannot exceed the total.",
        fld="factory_floor_area_m2",
        fmt=lambda i: {"f": factory[i], "t": floor[i]},
    )
    land, ratio = numbers["land_area_m2"], numbers["plot_ratio"]
    computed = floor / land
    inconsistent = (
        (ratio > 0)
        & (land > 0)
        & (floor > 0)
        & ((computed - ratio).abs() / ratio > PLOT_RATIO_TOLERANCE)
    )
    rows.error(
        inconsistent,
        "plot_ratio_inconsistent",
        "容积率 {r:.2f} 与 总建筑面积/用地面积 = {c:.2f} 不一致",
        "plot ratio {r:.2f} disagrees with floor area / land area = {c:.2f}",
        "核对容积率、总建筑面积和用地面积（容积率 = 计容建筑面积 ÷ 用地面积）。",
        "Check plot ratio, floor area and land area (ratio = floor area ÷ land area).",
        fld="plot_ratio",
        fmt=lambda i: {"r": ratio[i], "c": computed[i]},
    )

    status, bad_status = parse_statuses(
        attrs["status"] if "status" in attrs else pd.Series(None, index=frame.index)
    )
    rows.error(
        bad_status,
        "unknown_status",
        "状态 “{value}” 无法识别",
        "status '{value}' is not recognised",
        "可用：规划、在建、竣工、交付/运营（或 planned、under construction、completed、"
        "delivered）。",
        "Use 规划/在建/竣工/交付 or planned / under construction / completed / delivered.",
        fld="status",
        fmt=lambda i: {"value": str(attrs["status"][i])[:30]},
    )
    if "status" in attrs:
        rows.error(
            status.isna() & ~bad_status,
            "missing_value",
            "“状态”为空",
            "'status' is empty",
            "填写项目状态。",
            "Fill in the status.",
            fld="status",
        )

    dates: dict[str, pd.Series] = {}
    partial_any = pd.Series(False, index=frame.index)
    for col in DATE_FIELDS:
        label = field_label(col)
        if col not in attrs:
            dates[col] = pd.Series(None, index=frame.index, dtype=object)
            continue
        iso, bad, partial = parse_dates(attrs[col])
        dates[col] = iso
        partial_any |= partial
        rows.error(
            bad,
            "bad_date",
            f"“{label.zh}” “{{value}}” 不是有效日期",
            f"'{label.en}' '{{value}}' is not a date",
            "写成 2024-03-05、2024/3/5、2024年3月5日 或 2024-03（年份 1900–2099）。",
            "Write 2024-03-05, 2024/3/5, 2024年3月5日 or 2024-03 (years 1900–2099).",
            fld=col,
            fmt=lambda i, c=col: {"value": str(attrs[c][i])[:30]},
        )
    start = pd.to_datetime(dates["start_date"], errors="coerce")
    done = pd.to_datetime(dates["completion_date"], errors="coerce")
    handed = pd.to_datetime(dates["delivery_date"], errors="coerce")
    rows.error(
        done < start,
        "completion_before_start",
        "竣工日期 {d} 早于开工日期 {s}",
        "completion {d} is before the start {s}",
        "核对开工和竣工日期。",
        "Check the start and completion dates.",
        fld="completion_date",
        fmt=lambda i: {"d": dates["completion_date"][i], "s": dates["start_date"][i]},
    )
    rows.error(
        handed < done,
        "delivery_before_completion",
        "交付日期 {h} 早于竣工日期 {d}",
        "delivery {h} is before completion {d}",
        "核对竣工和交付日期。",
        "Check the completion and delivery dates.",
        fld="delivery_date",
        fmt=lambda i: {"h": dates["delivery_date"][i], "d": dates["completion_date"][i]},
    )
    rows.warn(
        (status == Status.DELIVERED.value) & handed.isna(),
        "delivered_without_date",
        "状态为交付但没有交付日期，该项目不会计入任何年份",
        "status is delivered but there is no delivery date; it counts in no year",
        "补充交付日期。",
        "Add the delivery date.",
        fld="delivery_date",
    )
    if partial_any.any():
        report.add(
            warning(
                "partial_dates",
                f"{int(partial_any.sum())} 个要素的日期只写到年或月，按该年/月最后一天计",
                f"{int(partial_any.sum())} features have dates to the year or month only; "
                "they count on that period's last day",
                "尽量填写到日。",
                "Give full dates where known.",
            )
        )

    evidence = _stage_evidence(status, dates, attrs, rows, shenzhen_today().isoformat())
    aspect_quality = _aspect_quality(numbers, dates, attrs, rows)

    step(0.75, "geometry")
    # -- geometry -----------------------------------------------------------------------------
    geoms = frame.geometry
    missing = geoms.isna() | geoms.is_empty
    rows.error(
        missing & ~frame["_broken"].astype(bool),
        "empty_geometry",
        "没有位置（几何为空）",
        "no location (empty or null geometry)",
        "为项目加上点位或用地红线。",
        "Give the project a point or a site polygon.",
        fld="geometry",
    )
    single = geoms.geom_type.eq("MultiPoint") & (shapely.get_num_geometries(geoms.to_numpy()) == 1)
    if single.any():
        frame.loc[single, frame.geometry.name] = shapely.get_geometry(geoms[single].to_numpy(), 0)
        geoms = frame.geometry
    wrong = ~missing & ~geoms.geom_type.isin(PROJECT_GEOMETRY_TYPES)
    rows.error(
        wrong,
        "wrong_geometry_type",
        "几何类型 {t} 不适用于项目图层",
        "geometry type {t} does not fit the projects layer",
        "项目用点（位置）或面（用地红线）表示。",
        "Use a point (location) or a polygon (site) for a project.",
        fld="geometry",
        fmt=lambda i: {"t": geoms[i].geom_type},
    )
    usable = ~missing & ~wrong
    reasons = geometry_checks(frame, rows, geographic=True)
    invalid = usable & (reasons != "Valid Geometry")
    repaired = None
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid].to_numpy())
        polygonal = [
            shapely.union_all(
                [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            )
            for g in fixed
        ]
        repaired = gpd.GeoSeries(polygonal, index=geoms[invalid].index, crs=frame.crs)
        repaired_area = repaired.to_crs(METRIC).area

        def describe(i):
            return {"reason": reasons[i], "area": float(repaired_area.loc[i])}

        if options.repair_invalid:
            rows.warn(
                invalid,
                "geometry_repaired",
                "几何无效（{reason}），已按修复后的形状导入",
                "invalid geometry ({reason}); the repaired shape is used",
                "",
                "",
                fld="geometry",
                fmt=describe,
            )
            frame.loc[invalid, frame.geometry.name] = repaired.to_numpy()
            geoms = frame.geometry
        else:
            rows.error(
                invalid,
                "invalid_geometry",
                "几何无效：{reason}；可采用修复后的形状（面积 {area:,.0f} ㎡）",
                "invalid geometry: {reason}; a repaired shape is offered ({area:,.0f} m²)",
                "在 GIS 中修正自相交，或在上传页选择“采用修复后的形状”。",
                "Fix the self-intersection in your GIS, or choose 'use the repaired "
                "shapes' on the upload page.",
                fld="geometry",
                fmt=describe,
            )
    outside = frame.get("_outside_shenzhen", pd.Series(False, index=frame.index)).astype(bool)
    rows.error(
        outside & usable,
        "outside_shenzhen",
        "位置不在深圳范围内",
        "the location is outside Shenzhen",
        "核对坐标和坐标系。",
        "Check the coordinates and the coordinate system.",
        fld="geometry",
    )

    # in the chosen district?
    probe = gpd.GeoSeries(
        shapely.point_on_surface(geoms.to_numpy()), index=frame.index, crs=frame.crs
    )
    target = districts[districts["district_id"] == options.district_id]
    located = _district_of(probe.where(usable), districts)
    if options.district_id is not None and not target.empty and target.geometry.notna().all():
        area = shapely.buffer(shapely.union_all(target.geometry.to_numpy()), DISTRICT_TOLERANCE_DEG)
        inside = pd.Series(
            shapely.contains_xy(area, probe.x.fillna(0), probe.y.fillna(0)), index=frame.index
        )
        zh_name, en_name = names.get(options.district_id, (options.district_id,) * 2)
        # a site polygon is placed by its area, not by one point: it belongs to the district
        # that holds at least half of it (measured in EPSG:4547)
        share = site_share_in(geoms, usable, area)
        sites = share.notna()
        inside = inside.where(~sites, share >= MIN_SITE_SHARE)
        rows.warn(
            sites & (share >= MIN_SITE_SHARE) & (share < STRADDLE_SHARE),
            "site_straddles_district",
            f"用地红线只有 {{share:.0%}} 在{zh_name}内，跨越区界",
            f"only {{share:.0%}} of the site polygon lies in {en_name}; it crosses the "
            "district boundary",
            "核对用地红线；跨区项目按面积占多数的区上传。",
            "Check the site polygon; a project crossing a boundary belongs to the district "
            "holding most of it.",
            fld="geometry",
            fmt=lambda i: {"share": share[i]},
        )
        rows.error(
            sites & (share < MIN_SITE_SHARE) & ~outside,
            "site_outside_district",
            f"用地红线只有 {{share:.0%}} 在{zh_name}内（须至少一半）",
            f"only {{share:.0%}} of the site polygon lies in {en_name} (at least half must)",
            "各区只能上传本区的项目：用地面积至少一半在本区的才属于本区；核对红线或所选行政区。",
            "A district uploads only its own projects: a site belongs to a district holding at "
            "least half of its area; check the polygon or the district.",
            fld="geometry",
            fmt=lambda i: {"share": share[i]},
        )
        rows.error(
            usable & ~sites & ~inside & ~outside,
            "outside_district",
            f"位置在{{where_zh}}，不在所选的{zh_name}",
            f"the location is in {{where_en}}, not in {en_name} as chosen",
            "各区只能上传本区的项目；核对位置或所选行政区。",
            "A district uploads only its own projects; check the location or the district.",
            fld="geometry",
            fmt=lambda i: {
                "where_zh": names.get(located[i], ("其他区域",))[0]
                if pd.notna(located[i])
                else "行政区之外",
                "where_en": names.get(located[i], ("", "another area"))[1]
                if pd.notna(located[i])
                else "no district",
            },
        )
    declared_district = values["district"]
    if options.district_id is not None and declared_district.notna().any():
        declared_ids = resolve_districts(declared_district, districts)
        rows.error(
            declared_district.notna() & (declared_ids != options.district_id),
            "other_district",
            "行政区字段为“{value}”，与所选行政区不符",
            "the district field says '{value}', not the district chosen",
            "各区只能上传本区的项目。",
            "A district uploads only its own projects.",
            fld="district",
            fmt=lambda i: {"value": declared_district[i]},
        )

    # -- ids -----------------------------------------------------------------------------------
    pid = values["project_id"]
    dupes = pid.notna() & pid.duplicated(keep=False)
    rows.error(
        dupes,
        "duplicate_id",
        "项目编号 {value} 在文件中重复出现",
        "project id {value} appears more than once in the file",
        "每个项目使用唯一编号。",
        "Give every project its own id.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i]},
    )
    rows.error(
        pid.fillna("").str.len() > MAX_ID_CHARS,
        "id_too_long",
        f"项目编号 “{{value}}” 超过 {MAX_ID_CHARS} 个字符",
        f"project id '{{value}}' is longer than {MAX_ID_CHARS} characters",
        "使用简短的编号，如 BA-2024-001。",
        "Use a short id such as BA-2024-001.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i][:40] + "…"},
    )
    rows.error(
        pid.fillna("").str.contains(INVISIBLE_CHARACTERS, regex=True),
        "id_invisible_character",
        "项目编号 “{value}” 含有看不见的字符（零宽、方向控制等），看起来相同的编号会变成另一个项目",
        "project id '{value}' holds invisible characters (zero-width, direction marks); a "
        "lookalike id would become another project",
        "重新输入编号，只用字母、数字、汉字和 - _ 等可见字符。",
        "Type the id again using visible letters, digits, Chinese and - _ only.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i].encode("unicode_escape").decode("ascii")[:60]},
    )
    folded = pid.fillna("").map(_id_key)
    if existing is not None and not existing.empty:
        known = pd.Series(existing["project_id"].astype(str).unique())
        spelling = dict(zip(known.map(_id_key), known, strict=True))
        other_spelling = folded.map(spelling)
        lookalike = pid.notna() & other_spelling.notna() & (other_spelling != pid)
        rows.error(
            lookalike,
            "id_lookalike",
            "项目编号 “{value}” 与已有编号 “{known}” 只差大小写或全角/半角",
            "project id '{value}' differs from the existing id '{known}' only in case or width",
            "使用已有编号的原样写法（更新该项目），或另取一个明显不同的编号。",
            "Spell it exactly as the existing id (to update that project), or choose a "
            "clearly different id.",
            fld="project_id",
            fmt=lambda i: {"value": pid[i], "known": other_spelling[i]},
        )
    same_folded = pid.notna() & folded.duplicated(keep=False) & ~dupes
    rows.error(
        same_folded,
        "id_lookalike",
        "项目编号 “{value}” 与文件中另一编号只差大小写或全角/半角",
        "project id '{value}' differs from another id in the file only in case or width",
        "每个项目使用明显不同的编号。",
        "Give every project a clearly different id.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i]},
    )
    if options.district_id is not None and existing is not None and not existing.empty:
        owner = existing.set_index("project_id")["district_id"]
        owner = owner[~owner.index.duplicated()]
        other = pid.map(owner)
        foreign = pid.notna() & other.notna() & (other != options.district_id)
        rows.error(
            foreign,
            "id_of_other_district",
            "项目编号 {value} 已属于{other}，不能由本区修改",
            "project id {value} belongs to {other_en}; this district cannot change it",
            "使用本区的项目编号；如需移交项目请联系管理员。",
            "Use this district's ids; ask the administrator to transfer a project.",
            fld="project_id",
            fmt=lambda i: {
                "value": pid[i],
                "other": names.get(other[i], (other[i],))[0],
                "other_en": names.get(other[i], ("", other[i]))[1],
            },
        )

    # site plausibility: floor area against the site polygon
    polys = usable & geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    site_area = pd.Series(np.nan, index=frame.index)
    if polys.any():
        site_area[polys] = geoms[polys].to_crs(METRIC).area
    site_far = floor / site_area
    rows.error(
        site_far > MAX_SITE_FAR,
        "implausible_floor_area",
        "总建筑面积 {f:,.0f} ㎡ 是用地红线面积 {s:,.0f} ㎡ 的 {r:.1f} 倍，不合理",
        "floor area {f:,.0f} m² is {r:.1f} times the site polygon's {s:,.0f} m²; implausible",
        "核对面积单位（㎡ 还是 万㎡）和用地红线。",
        "Check the unit (m² or 万m²) and the site polygon.",
        fld="floor_area_m2",
        fmt=lambda i: {"f": floor[i], "s": site_area[i], "r": site_far[i]},
    )
    mismatch = polys & (land > 0) & ((site_area - land).abs() / land > 0.5)
    rows.warn(
        mismatch,
        "land_area_vs_site",
        "用地面积 {l:,.0f} ㎡ 与红线面积 {s:,.0f} ㎡ 相差较大",
        "land area {l:,.0f} m² differs from the site polygon's {s:,.0f} m²",
        "核对用地面积或红线。",
        "Check the land area or the site polygon.",
        fld="land_area_m2",
        fmt=lambda i: {"l": land[i], "s": site_area[i]},
    )

    # -- normalised rows ------------------------------------------------------------------------
    projects = gpd.GeoDataFrame(
        {
            "project_id": pid,
            "name_zh": values["name_zh"],
            "name_en": values["name_en"],
            "district_id": options.district_id,
            "street": values["street"],
            "declared_park_id": values["park"],
            **{c: numbers[c] for c in NUMERIC_FIELDS},
            "status": status,
            "status_note": None,
            **{c: dates[c] for c in DATE_FIELDS},
            "developer": values["developer"],
            "clusters": values["clusters"],
            "industries": values["industries"],
            **evidence,
            "quality": Quality.OFFICIAL.value,
            **aspect_quality,
            "confidence": None,
            "source": values["source"].fillna(f"{options.district_id} upload: {filename}"),
        },
        geometry=geoms.to_numpy(),
        crs="EPSG:4326",
        index=frame.index,
    )
    projects[projects.geometry.name] = shapely.set_precision(
        projects.geometry.to_numpy(), 1e-7, mode="pointwise"
    )
    report.features = len(frame)
    step(1.0, "done")
    present = {"project_id", "district_id", "quality", "geometry"}
    present |= {*PROJECT_EVIDENCE_FIELDS, *ASPECT_QUALITY_FIELDS}  # derived here
    present |= {"declared_park_id" if c == "park" else c for c in attrs.columns}
    present |= {"source"}
    return CheckedUpload(report, projects, ~rows.bad, repaired, frame, frozenset(present))
