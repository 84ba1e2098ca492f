"""The project layer's field rules, each a function over all rows at once: text (no control
characters, bounded length), required values, numbers (parsed, not negative, plausible),
areas that agree with each other, the status, dates in their order, how each stage's date is
known (已证实 / 计划 / 推断) and how exact the figures are. The README's upload rules in code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spatial.clock import shenzhen_today
from spatial.ingest.columns import ProjectTable, blank_as_none
from spatial.ingest.fields import (
    ASPECT_QUALITY_FIELDS,
    DATE_FIELDS,
    NUMERIC_FIELDS,
    TEXT_FIELDS,
    as_text,
    as_vocabulary_series,
    field_label,
    parse_aspect_quality,
    parse_dates,
    parse_evidence,
    parse_numbers,
    parse_statuses,
)
from spatial.ingest.findings import warning
from spatial.layers import (
    STAGE_DATE_COLUMN,
    STAGE_EVIDENCE_COLUMN,
    STAGE_STATUS,
    STATUS_LABELS,
    STATUS_ORDER,
    Evidence,
    Quality,
    Status,
)

MAX_SITE_FAR = 20.0  # floor area / site area above this is not a building in Shenzhen
PLOT_RATIO_TOLERANCE = 0.2
# Upper bounds of a single project's figures, each with its reason: one wrong unit or a stray
# 1e15 would otherwise decide the city's pledge verdict on its own.
PLAUSIBLE_MAX: dict[str, tuple[float, str, str]] = {
    "floor_area_m2": (
        10_000_000,
        "半年的全市目标；公开来源中单个项目最大约 380 万㎡",
        "half a year of the city's pledge; the largest single project in public sources is "
        "about 3.8 M m²",
    ),
    "factory_floor_area_m2": (10_000_000, "同总建筑面积", "as for the total floor area"),
    "land_area_m2": (
        10_000_000,
        "10 km²，大于任何一个园区的首期用地",
        "10 km², larger than any park's first phase",
    ),
    "plot_ratio": (MAX_SITE_FAR, "深圳没有更高的建筑", "no building in Shenzhen is denser"),
    "storeys": (150, "深圳最高楼约 118 层", "Shenzhen's tallest tower has about 118 floors"),
    "height_m": (600, "深圳最高楼 599 米", "Shenzhen's tallest tower is 599 m"),
}
MAX_TEXT_CHARS = 4_000
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # NUL etc.; tab and newlines allowed


@dataclass
class ProjectFields:
    """Every project field parsed, one Series per field over the upload's rows."""

    values: dict[str, pd.Series]  # text fields, trimmed; None where blank
    numbers: dict[str, pd.Series]  # NaN where missing or not a number
    status: pd.Series  # status codes; None where missing or not recognised
    dates: dict[str, pd.Series]  # ISO dates; None where missing or not a date
    evidence: dict[str, pd.Series]  # per stage: confirmed / planned / inferred
    aspect_quality: dict[str, pd.Series]  # figures / dates / location: exact or approximate


def check_fields(table: ProjectTable) -> ProjectFields:
    """All field rules in the order the report lists them; the parsed fields."""
    values = text_rules(table)
    required_values(table, values)
    numbers = number_rules(table)
    area_rules(table, numbers)
    status = status_rules(table)
    dates = date_rules(table, status)
    evidence = stage_evidence(table, status, dates, shenzhen_today().isoformat())
    quality = aspect_quality(table, numbers, dates)
    return ProjectFields(values, numbers, status, dates, evidence, quality)


def text_rules(table: ProjectTable) -> dict[str, pd.Series]:
    """Text fields as trimmed text: no control character (NUL etc.), at most
    ``MAX_TEXT_CHARS``."""
    values = {}
    lacking = pd.Series(np.nan, index=table.index, dtype="str")  # every field the file lacks
    for col in TEXT_FIELDS:
        label = field_label(col)
        if col not in table.attrs:  # one column of nothing, shared (CoW): 0.8 MB each at 10⁵
            values[col] = lacking
            continue
        shown = as_text(table.column(col))  # checked in Arrow; kept as str/None
        values[col] = blank_as_none(shown)
        table.rows.error(
            shown.str.contains(CONTROL_CHARACTERS, regex=True).astype(bool),
            "control_character",
            f"“{label.zh}”含有不可见的控制字符（如 NUL）",
            f"'{label.en}' contains an invisible control character (such as NUL)",
            "删除该字符：在 Excel 中用 CLEAN() 清理，或重新输入该单元格。",
            "Remove it: clean the cell with Excel's CLEAN(), or type the value again.",
            fld=col,
        )
        table.rows.error(
            (shown.str.len() > MAX_TEXT_CHARS).astype(bool),
            "text_too_long",
            f"“{label.zh}”长 {{n:,}} 个字符，超过上限 {MAX_TEXT_CHARS:,}",
            f"'{label.en}' is {{n:,}} characters long, over the limit of {MAX_TEXT_CHARS:,}",
            "缩短该值；附件请另行提交。",
            "Shorten the value; send attachments separately.",
            fld=col,
            fmt=lambda i, v=shown: {"n": len(v[i])},
        )
    return values


def required_values(table: ProjectTable, values: dict[str, pd.Series]) -> None:
    """Every row has a project id, and a Chinese name where the file has a name column."""
    for req in ("project_id", "name_zh"):
        if req in table.mapping.values() or req == "project_id":
            label = field_label(req)
            table.rows.error(
                values[req].isna(),
                "missing_value",
                f"“{label.zh}”为空",
                f"'{label.en}' is empty",
                f"填写{label.zh}。",
                f"Fill in the {label.en}.",
                fld=req,
            )


def number_rules(table: ProjectTable) -> dict[str, pd.Series]:
    """Numeric fields parsed (units and 万 allowed): numbers, not negative, below the
    plausible maximum of each (``PLAUSIBLE_MAX``, with its reason)."""
    numbers: dict[str, pd.Series] = {}
    lacking = pd.Series(np.nan, index=table.index)  # every field the file lacks, shared (CoW)
    for col in NUMERIC_FIELDS:
        label = field_label(col)
        if col not in table.attrs:
            numbers[col] = lacking
            continue
        written = table.attrs[col]
        parsed, bad = parse_numbers(written)
        numbers[col] = parsed
        table.rows.error(
            bad,
            "not_a_number",
            f"“{label.zh}”的值 “{{value}}” 不是数字",
            f"'{label.en}' value '{{value}}' is not a number",
            "写成数字，可带单位或“万”，如 120000、12万、12万㎡。",
            "Write a number, units and 万 allowed: 120000, 12万, 12万㎡.",
            fld=col,
            fmt=lambda i, w=written: {"value": str(w[i])[:40]},
        )
        table.rows.error(
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
        table.rows.error(
            parsed > limit,
            "implausible_value",
            f"“{label.zh}”为 {{value}}，超过合理上限 {limit:,.0f}（{reason_zh}）",
            f"'{label.en}' is {{value}}, above the plausible limit of {limit:,.0f} ({reason_en})",
            "核对单位（㎡ 还是 万㎡）和数值；确属实的请联系管理员。",
            "Check the unit (m² or 万m²) and the value; if it is right, tell the administrator.",
            fld=col,
            fmt=lambda i, p=parsed: {"value": f"{p[i]:,.0f}"},
        )
    return numbers


def area_rules(table: ProjectTable, numbers: dict[str, pd.Series]) -> None:
    """The total floor area is given and not zero; the factory area is not above it; the
    plot ratio agrees with floor area ÷ land area within ``PLOT_RATIO_TOLERANCE``."""
    rows = table.rows
    floor = numbers["floor_area_m2"]
    if "floor_area_m2" in table.attrs:
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


def status_rules(table: ProjectTable) -> pd.Series:
    """The status in any of its spellings (规划 / 在建 / 竣工 / 交付 or English); given
    wherever the file has a status column."""
    written = table.column("status")
    status, bad = parse_statuses(written)
    table.rows.error(
        bad,
        "unknown_status",
        "状态 “{value}” 无法识别",
        "status '{value}' is not recognised",
        "可用：规划、在建、竣工、交付/运营（或 planned、under construction、completed、"
        "delivered）。",
        "Use 规划/在建/竣工/交付 or planned / under construction / completed / delivered.",
        fld="status",
        fmt=lambda i: {"value": str(written[i])[:30]},
    )
    if "status" in table.attrs:
        table.rows.error(
            status.isna() & ~bad,
            "missing_value",
            "“状态”为空",
            "'status' is empty",
            "填写项目状态。",
            "Fill in the status.",
            fld="status",
        )
    return status


def date_rules(table: ProjectTable, status: pd.Series) -> dict[str, pd.Series]:
    """Dates in the ways people write them, as ISO dates; start ≤ completion ≤ delivery; a
    delivered project has a delivery date; dates to the month or year are said so."""
    rows = table.rows
    dates: dict[str, pd.Series] = {}
    partial_any = pd.Series(False, index=table.index)
    for col in DATE_FIELDS:
        label = field_label(col)
        if col not in table.attrs:
            dates[col] = pd.Series(None, index=table.index, dtype=object)
            continue
        written = table.attrs[col]
        iso, bad, partial = parse_dates(written)
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
            fmt=lambda i, w=written: {"value": str(w[i])[:30]},
        )
    start, done, handed = (
        pd.to_datetime(dates[c], errors="coerce")
        for c in ("start_date", "completion_date", "delivery_date")
    )
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
        n = int(partial_any.sum())
        rows.report.add(
            warning(
                "partial_dates",
                f"{n} 个要素的日期只写到年或月，按该年/月最后一天计",
                f"{n} features have dates to the year or month only; they count on that "
                "period's last day",
                "尽量填写到日。",
                "Give full dates where known.",
            )
        )
    return dates


def vocabulary_column(
    table: ProjectTable, column: str, parse, code: str, fix_zh: str, fix_en: str
) -> tuple[pd.Series, pd.Series]:
    """An optional column of a small vocabulary (evidence, quality): the parsed values, and an
    error naming the value and the accepted words for each one that is not recognised."""
    values = table.column(column)
    given, bad = parse(values)
    label = field_label(column)
    table.rows.error(
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


def stage_evidence(
    table: ProjectTable, status: pd.Series, dates: dict[str, pd.Series], today: str
) -> dict[str, pd.Series]:
    """How each stage's date is known. A district may say so in ``<stage>_evidence`` columns
    (已证实 / 计划 / 推断); where it does not, its own date is confirmed where its status has
    reached the stage (the district reports that it happened) and planned where it has not, or
    where the date is still ahead (a date in the future is a plan). No date, no evidence."""
    rows = table.rows
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
        # ISO dates compared as text (in Arrow for a text column: no Python string per row)
        ahead = dated & (dates[date_column].fillna("") > today).astype(bool)
        given, bad = vocabulary_column(
            table, column, parse_evidence, "unknown_evidence",
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
        out[column] = _evidence(given, derived_confirmed=reached & ~ahead, dated=dated)
    return out


EVIDENCE_CATEGORIES = pd.Index([e.value for e in Evidence])
_CONFIRMED, _PLANNED = (
    EVIDENCE_CATEGORIES.get_loc(e.value) for e in (Evidence.CONFIRMED, Evidence.PLANNED)
)


def _evidence(given: pd.Series, derived_confirmed: pd.Series, dated: pd.Series) -> pd.Series:
    """A stage's evidence as categories: as the file gives it, else confirmed where
    ``derived_confirmed`` and planned where not; none without a date."""
    codes = pd.Categorical(given, categories=EVIDENCE_CATEGORIES).codes
    derived = np.where(derived_confirmed.to_numpy(bool), _CONFIRMED, _PLANNED).astype(codes.dtype)
    codes = np.where(codes >= 0, codes, derived)
    codes[~dated.to_numpy(bool)] = -1
    return pd.Series(pd.Categorical.from_codes(codes, EVIDENCE_CATEGORIES), index=given.index)


def aspect_quality(
    table: ProjectTable, numbers: dict[str, pd.Series], dates: dict[str, pd.Series]
) -> dict[str, pd.Series]:
    """How exact a district's figures, dates and location are. Stated in ``figures_quality``,
    ``dates_quality``, ``location_quality`` (准确 / 近似) or, where not stated, exact (the
    district's own register) — and missing wherever there is no figure or no date at all."""
    has_area = numbers["factory_floor_area_m2"].notna() | numbers["floor_area_m2"].notna()
    has_date = pd.concat([d.notna() for d in dates.values()], axis=1).any(axis=1)
    present = {"figures_quality": has_area, "dates_quality": has_date}
    out = {}
    for column in ASPECT_QUALITY_FIELDS:
        given, _ = vocabulary_column(
            table, column, parse_aspect_quality, "unknown_quality",
            "可用：准确、近似（或 exact、approximate）；留空表示准确。",
            "Use 准确/近似 or exact / approximate; empty means exact.",
        )  # fmt: skip
        if column == "location_quality":  # a district's own location is official unless rough
            given = given.where(given != Quality.EXACT.value, Quality.OFFICIAL.value)
            out[column] = as_vocabulary_series(given.fillna(Quality.OFFICIAL.value))
            continue
        quality = given.fillna(Quality.EXACT.value)
        out[column] = as_vocabulary_series(quality.where(present[column], Quality.MISSING.value))
    return out
