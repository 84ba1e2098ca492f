"""Project fields as districts write them: Chinese or English headers, areas like ``12万㎡``,
statuses like ``在建``, dates like ``2024年3月``. Everything here is vectorised over columns."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spatial.layers import PROJECT_DATE_FIELDS, PROJECT_NUMERIC_FIELDS, Evidence, Quality, Status

# canonical field -> accepted headers (compared after normalise_header)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "project_id": ("project_id", "id", "项目编号", "项目id", "编号", "项目代码", "project id"),
    "name_zh": ("name_zh", "name", "项目名称", "名称", "项目名", "中文名称"),
    "name_en": ("name_en", "英文名称", "english name", "name (en)"),
    "district": ("district", "district_id", "行政区", "所属区", "所在区", "区"),
    "street": ("street", "街道", "所属街道"),
    "park": ("park", "park_id", "园区", "所属园区"),
    "land_area_m2": ("land_area_m2", "land_area", "用地面积", "占地面积", "宗地面积"),
    "floor_area_m2": (
        "floor_area_m2",
        "floor_area",
        "gfa",
        "总建筑面积",
        "建筑面积",
        "计容建筑面积",
    ),
    "factory_floor_area_m2": (
        "factory_floor_area_m2",
        "factory_area",
        "厂房面积",
        "厂房建筑面积",
        "产业用房面积",
    ),
    "plot_ratio": ("plot_ratio", "far", "容积率"),
    "storeys": ("storeys", "floors", "层数", "楼层数", "地上层数"),
    "height_m": ("height_m", "height", "建筑高度", "高度"),
    "status": ("status", "状态", "项目状态", "建设状态"),
    "start_date": ("start_date", "开工日期", "开工时间"),
    "completion_date": ("completion_date", "竣工日期", "竣工时间", "预计竣工日期", "计划竣工日期"),
    "delivery_date": ("delivery_date", "交付日期", "交付时间"),
    "developer": ("developer", "建设单位", "实施主体", "开发主体", "建设主体"),
    "industries": ("industries", "产业方向", "主导产业", "产业"),
    "clusters": ("clusters", "产业集群"),
    "source": ("source", "来源", "数据来源"),
    # optional: how each stage's date is known, and how exact the figures/dates/location are
    "start_evidence": ("start_evidence", "开工依据", "开工日期依据", "开工证据"),
    "completion_evidence": ("completion_evidence", "竣工依据", "竣工日期依据", "竣工证据"),
    "delivery_evidence": ("delivery_evidence", "交付依据", "交付日期依据", "交付证据"),
    "figures_quality": ("figures_quality", "面积精度", "面积数据质量", "数据精度"),
    "dates_quality": ("dates_quality", "日期精度", "日期数据质量"),
    "location_quality": ("location_quality", "位置精度", "定位精度", "位置数据质量"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "wkt": ("wkt", "geometry", "geom", "几何", "the_geom"),
}
REQUIRED_FIELDS = ("project_id", "name_zh", "status", "floor_area_m2")
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "project_id": ("项目编号", "project id"),
    "name_zh": ("项目名称", "project name"),
    "name_en": ("英文名称", "English name"),
    "district": ("行政区", "district"),
    "street": ("街道", "street"),
    "park": ("园区", "park"),
    "land_area_m2": ("用地面积（㎡）", "land area (m²)"),
    "floor_area_m2": ("总建筑面积（㎡）", "total floor area (m²)"),
    "factory_floor_area_m2": ("厂房面积（㎡）", "factory floor area (m²)"),
    "plot_ratio": ("容积率", "plot ratio"),
    "storeys": ("层数", "storeys"),
    "height_m": ("建筑高度（m）", "height (m)"),
    "status": ("状态", "status"),
    "start_date": ("开工日期", "start date"),
    "completion_date": ("竣工日期", "completion date"),
    "delivery_date": ("交付日期", "delivery date"),
    "developer": ("建设单位", "developer"),
    "industries": ("产业方向", "industries"),
    "clusters": ("产业集群", "clusters"),
    "source": ("来源", "source"),
    "start_evidence": ("开工依据", "start evidence"),
    "completion_evidence": ("竣工依据", "completion evidence"),
    "delivery_evidence": ("交付依据", "delivery evidence"),
    "figures_quality": ("面积精度", "figures quality"),
    "dates_quality": ("日期精度", "dates quality"),
    "location_quality": ("位置精度", "location quality"),
    "geometry": ("位置/几何", "location / geometry"),
    # the sites layer (地块)
    "site_id": ("地块编号", "site id"),
    "name": ("地块名称", "site name"),
    "land_use": ("用地性质", "land use"),
    "existing_floor_area_m2": ("现状建筑面积（㎡）", "existing floor area (m²)"),
    "readiness": ("用地状态", "readiness"),
    "owner_type": ("权属", "owner type"),
    "bbox": ("bbox 范围框", "bbox"),
}
NUMERIC_FIELDS = PROJECT_NUMERIC_FIELDS  # an upload's numbers and dates are the project's own
DATE_FIELDS = PROJECT_DATE_FIELDS
TEXT_FIELDS = (
    "project_id",
    "name_zh",
    "name_en",
    "district",
    "street",
    "park",
    "developer",
    "industries",
    "clusters",
    "source",
)
EVIDENCE_FIELDS = ("start_evidence", "completion_evidence", "delivery_evidence")
ASPECT_QUALITY_FIELDS = ("figures_quality", "dates_quality", "location_quality")

STATUS_ALIASES: dict[str, Status] = {}
for _status, _names in {
    Status.PLANNED: (
        "planned",
        "planning",
        "plan",
        "规划",
        "计划",
        "拟建",
        "筹建",
        "前期",
        "规划中",
        "未开工",
    ),
    Status.UNDER_CONSTRUCTION: (
        "under_construction",
        "under construction",
        "construction",
        "started",
        "building",
        "在建",
        "施工",
        "施工中",
        "建设中",
        "开工",
        "已开工",
        "在建中",
    ),
    Status.COMPLETED: (
        "completed",
        "complete",
        "built",
        "finished",
        "竣工",
        "已竣工",
        "完工",
        "建成",
        "已建成",
    ),
    Status.DELIVERED: (
        "delivered",
        "operating",
        "in operation",
        "handed over",
        "交付",
        "已交付",
        "运营",
        "运营中",
        "投产",
        "已投产",
        "投入使用",
        "交付/运营",
    ),
}.items():
    for _name in _names:
        STATUS_ALIASES[_name] = _status


def normalise_header(name: str) -> str:
    text = str(name).strip().lower()
    text = re.sub(r"[（(][^）)]*[）)]", "", text)  # units in brackets: 用地面积(㎡)
    text = re.sub(r"\s+", " ", text).strip()
    return text


def map_columns(columns, aliases: dict | None = None) -> tuple[dict[str, str], list[str]]:
    """{original header: canonical field} and the headers that matched nothing; ``aliases``
    is a layer's field → accepted headers (the projects' by default)."""
    aliases = FIELD_ALIASES if aliases is None else aliases
    lookup = {alias: field for field, names in aliases.items() for alias in names}
    mapping, unknown, taken = {}, [], set()
    for col in columns:
        field = lookup.get(normalise_header(col))
        if field and field not in taken:
            mapping[col] = field
            taken.add(field)
        else:
            unknown.append(col)
    return mapping, unknown


_UNITS = r"(?i)(平方米|平米|㎡|m²|m\^?2|sqm|米|m)$"


def as_text(values: pd.Series) -> pd.Series:
    """``values`` as trimmed text in an Arrow string column ("" where missing), so pandas'
    string methods run over the whole column in Arrow's compute kernels, not per value."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        text = values.astype("string[pyarrow]")  # text already: kept in Arrow, not boxed
    elif values.dtype == object and not values.notna().any():  # a column the file lacks
        return pd.Series("", index=values.index, dtype="string[pyarrow]")
    else:
        raw = values.astype("object")
        text = raw.where(raw.notna(), "").astype("string[pyarrow]")
    return text.fillna("").str.strip()


def as_vocabulary(values, n: int) -> pd.Categorical:
    """A column of few distinct values (a status, an evidence or quality grade, the district,
    the upload's source; one value or none for every row) as categories: a byte per row
    where text takes an offset and its characters (10⁵ rows: 0.1 MB against 1.3-2 MB)."""
    if values is None or isinstance(values, str):  # one value for every row, or none
        codes = np.full(n, -1 if values is None else 0, dtype=np.int8)
        return pd.Categorical.from_codes(codes, pd.Index([] if values is None else [values]))
    return pd.Categorical(values)


def as_vocabulary_series(values: pd.Series) -> pd.Series:
    """:func:`as_vocabulary` of a column, on its index."""
    return pd.Series(as_vocabulary(values, len(values)), index=values.index)


def per_distinct_text(parse):
    """Run a text parser once per distinct text of the column and spread its results back to
    the rows. A register's columns hold few distinct values (statuses, dates, areas repeat), so
    the pattern work is per value, not per row. The key is the value as :func:`as_text` gives
    it, which is all a parser below reads."""

    @functools.wraps(parse)
    def parse_distinct(values: pd.Series, *args):
        text = as_text(values)
        codes, uniques = pd.factorize(text)
        if len(uniques) * 2 > len(values):  # mostly distinct: nothing to gain
            return parse(values, *args)
        results = parse(pd.Series(uniques, dtype=text.dtype), *args)
        return tuple(r.iloc[codes].set_axis(values.index) for r in results)

    return parse_distinct


@per_distinct_text
def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse '12万', '12万㎡', '120,000', '1.2e5', 120000 → float. Returns (numbers, bad) where
    ``bad`` marks non-empty values that are not numbers."""
    text = as_text(values)
    empty = text.isin(["", "nan", "None", "NaN", "-", "—", "/"]).to_numpy(bool)
    cleaned = text.str.replace(r"[,，\s]", "", regex=True).str.replace(_UNITS, "", regex=True)
    multiplier = np.where(
        cleaned.str.endswith("亿").to_numpy(bool),
        1e8,
        np.where(cleaned.str.endswith("万").to_numpy(bool), 1e4, 1.0),
    )
    cleaned = cleaned.str.rstrip("万亿").astype(object)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float) * multiplier
    numbers = numbers.where(~empty)
    numbers = numbers.where(np.isfinite(numbers.astype(float)))  # Infinity is not an amount
    bad = ~empty & numbers.isna()
    return numbers.astype(float), bad


EVIDENCE_ALIASES: dict[str, Evidence] = {
    **dict.fromkeys(
        ("confirmed", "actual", "happened", "已证实", "证实", "实际", "已发生", "已确认", "确认"),
        Evidence.CONFIRMED,
    ),
    **dict.fromkeys(
        ("planned", "plan", "expected", "计划", "预计", "计划日期", "预计日期", "拟"),
        Evidence.PLANNED,
    ),
    **dict.fromkeys(
        ("inferred", "estimated", "estimate", "推断", "推算", "估计", "估算"), Evidence.INFERRED
    ),
}
ASPECT_QUALITY_ALIASES: dict[str, Quality] = {
    **dict.fromkeys(("exact", "precise", "准确", "精确", "实测", "确切"), Quality.EXACT),
    **dict.fromkeys(
        ("approximate", "approx", "rounded", "近似", "约", "约数", "大约", "概数", "估算"),
        Quality.APPROXIMATE,
    ),
}


@per_distinct_text
def parse_vocabulary(values: pd.Series, aliases: dict) -> tuple[pd.Series, pd.Series]:
    """Written names → vocabulary values (``aliases``: name → an enum member or its value).
    Returns (values, bad) where ``bad`` marks non-empty names that are not known."""
    text = as_text(values).str.lower().str.replace(r"\s+", " ", regex=True).astype(object)
    mapped = text.map({k: getattr(v, "value", v) for k, v in aliases.items()})
    bad = (text != "") & mapped.isna()
    return mapped, bad


def parse_statuses(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Chinese or English status names → Status values. Returns (statuses, bad)."""
    return parse_vocabulary(values, STATUS_ALIASES)


def parse_evidence(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """已证实 / 计划 / 推断 (or confirmed / planned / inferred) → Evidence values."""
    return parse_vocabulary(values, EVIDENCE_ALIASES)


def parse_aspect_quality(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """准确 / 近似 (or exact / approximate) → Quality values."""
    return parse_vocabulary(values, ASPECT_QUALITY_ALIASES)


@per_distinct_text
def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """'2024-03-05', '2024/3/5', '2024年3月5日', '2024-03', '2024年', 2024, Excel serials →
    ISO dates. A year or month alone becomes its last day. Returns (iso, bad, partial)."""
    text = as_text(values).str.replace(r"\.0$", "", regex=True)
    empty = text.isin(["", "nan", "None", "NaT", "-", "—", "/"]).to_numpy(bool)
    norm = (
        text.str.replace("年", "-", regex=False)
        .str.replace("月", "-", regex=False)
        .str.replace("日", "", regex=False)
        .str.replace(r"[/.]", "-", regex=True)
        .str.replace(r"\s.*$", "", regex=True)
        .str.strip("-")
    )
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    partial = pd.Series(False, index=values.index)
    # years 1900–2099 only: a typo like 3024 is refused, and pandas' range is never left
    full = norm.str.fullmatch(r"(19|20)\d{2}-\d{1,2}-\d{1,2}").astype(bool)
    out[full] = pd.to_datetime(norm[full], format="%Y-%m-%d", errors="coerce")
    month = norm.str.fullmatch(r"(19|20)\d{2}-\d{1,2}").astype(bool)
    month_start = pd.to_datetime(norm[month] + "-1", format="%Y-%m-%d", errors="coerce")
    out[month] = month_start + pd.offsets.MonthEnd(0)
    year = norm.str.fullmatch(r"(19|20)\d{2}").astype(bool)
    out[year] = pd.to_datetime(norm[year] + "-12-31", format="%Y-%m-%d", errors="coerce")
    serial = norm.str.fullmatch(r"[2-6]\d{4}").astype(bool)  # Excel day numbers 1954–2064
    out[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(
        pd.to_numeric(norm[serial]), unit="D"
    )
    partial[month | year] = True
    iso = out.dt.strftime("%Y-%m-%d").where(out.notna())
    bad = ~empty & out.isna()
    return iso, bad, partial & out.notna()


@dataclass(frozen=True)
class FieldLabel:
    zh: str
    en: str


def field_label(field: str) -> FieldLabel:
    zh, en = FIELD_LABELS.get(field, (field, field))
    return FieldLabel(zh, en)
