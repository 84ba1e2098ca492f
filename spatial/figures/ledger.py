"""The pledge ledger: 20 million m² of new factory space a year, 2023–2027 (DESIGN.md §4).

Counting rule (the same text is shown beside the figures in the app and in the README):

* The pledge, in its sources' words: 每年建设/推出**不少于**2000万平方米 — build, or put on
  offer, at least 20 million m² of factory space a year, five years from 2023. The sources do
  not say at which stage space counts; which stage the verdict uses (the **official stage**) is
  a setting owned by admins, shown with its reason. Its default, 开工 (started), is this tool's
  reading of 建设 ("build"); 推出 ("put on offer") can be read as 交付 (delivered), and
  竣工 (completed) is the building-law milestone between them. All three are always shown.
* A project's **counted floor area** is its factory floor area (厂房面积) where the source
  reports it separately, otherwise its total floor area (总建筑面积 / 计容建筑面积). A gross
  figure whose factory share is unknown is not stored as floor area: the area is unknown.
* It counts toward the year of the stage's date: started (``start_date``), completed
  (``completion_date``) or delivered (``delivery_date``).
* A stage counts only when it is **confirmed** (a source or the district reports that it
  happened), the project's status has reached it, and its date is on or before the as-of date.
  Planned and inferred dates are shown as expected, never counted.
* Dates known only to the month or year are stored as that period's last day, so a stage is
  never counted before it can be sure to have happened.
* As of a past date, each project is read in the version the store held on that date.
* Past expected completion (逾期): an expected completion date before the as-of date and no
  confirmed completion by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.clock import shenzhen_today
from spatial.layers import (
    STAGE_DATE_COLUMN,
    STAGE_EVIDENCE_COLUMN,
    STAGE_STATUS,
    STATUS_ORDER,
    Evidence,
    Stage,
    Status,
)

COUNTING_RULE = {
    "zh": (
        "承诺原文：“每年建设不少于2000万平方米”“每年推出不少于2000万平方米厂房空间”，连续5年，"
        "自2023年起。原文未规定按哪个阶段计；判定所用的“官方口径”由管理员设定并注明理由。"
        "默认口径“开工”是本工具对“建设”的解读；“推出”也可解读为“交付”，“竣工”介于二者之间。"
        "三个阶段始终并列显示。"
        "计入面积：来源单独报告厂房面积的取厂房面积，否则取总建筑面积；厂房占比不明的毛面积不计。"
        "计入年份：按该阶段的日期（开工日期、竣工日期、交付日期）。"
        "只有“已证实”（来源或区里报告已发生）、项目状态已达到该阶段、且日期不晚于统计截止日的阶段才计入；"
        "计划或推断的日期只显示为预计，不计入。"
        "只知道年份或月份的日期按该年/月最后一天计。按截止日统计时，每个项目取当日数据库中的版本。"
        "逾期：预计竣工日期早于截止日且截至当日未有已证实的竣工。"
    ),
    "en": (
        "The pledge, in its sources' words: 'build at least 20 million m² a year' and 'put at "
        "least 20 million m² of factory space on offer a year', for 5 years from 2023. The "
        "sources do not say at which stage space counts; the official stage used for the verdict "
        "is set by admins with its reason. Its default, started, is this tool's reading of "
        "'build'; 'put on offer' can be read as delivered, and completed lies between them. All "
        "three stages are always shown. "
        "Counted area: the factory floor area where the source reports it separately, otherwise "
        "the total floor area; a gross figure whose factory share is unknown is not counted. "
        "Year: the date of the stage (start, completion or delivery date). A stage counts only "
        "when it is confirmed (a source or the district reports that it happened), the project's "
        "status has reached it, and its date is on or before the as-of date; planned and "
        "inferred dates are shown as expected, never counted. "
        "Dates known only to the month or year count on that period's last day. "
        "As of a past date each project is read in the version the store held on that date. "
        "Past expected completion: expected completion before the as-of date and no confirmed "
        "completion by then."
    ),
}

STAGES: tuple[Stage, ...] = (Stage.STARTED, Stage.COMPLETED, Stage.DELIVERED)


def stage_confirmed(projects: pd.DataFrame, stage: Stage) -> pd.Series:
    """True where the stage's evidence is confirmed. A project with no evidence stated (a
    district's own data, or a store from before evidence was recorded) counts as confirmed:
    a district reporting its own project is the confirming source."""
    column = STAGE_EVIDENCE_COLUMN[stage]
    if column not in projects.columns:
        return pd.Series(True, index=projects.index)
    evidence = projects[column].fillna("").astype(str).str.strip()
    return evidence.isin(["", Evidence.CONFIRMED.value])


def counted_area(projects: pd.DataFrame) -> pd.Series:
    """Factory floor area where reported, else total floor area (m²); NaN when neither is, or
    when the figure is not finite (an infinity never decides the verdict, whatever the store
    holds)."""
    factory = pd.to_numeric(projects["factory_floor_area_m2"], errors="coerce").astype(float)
    total = pd.to_numeric(projects["floor_area_m2"], errors="coerce").astype(float)
    area = factory.where(factory.notna(), total)
    return area.where(np.isfinite(area))


def area_basis(projects: pd.DataFrame) -> pd.Series:
    factory = pd.to_numeric(projects["factory_floor_area_m2"], errors="coerce")
    total = pd.to_numeric(projects["floor_area_m2"], errors="coerce")
    code = np.where(factory.notna(), 2, np.where(total.notna(), 1, 0))
    basis = pd.Categorical.from_codes(code, categories=["none", "total", "factory"])
    return pd.Series(basis, index=projects.index)


def iso_dates(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text as timestamps (NaT where empty or not such a date). Each distinct
    text is parsed once: a register holds a few thousand dates over many rows."""
    codes, uniques = pd.factorize(values)  # −1 where empty
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce", format="%Y-%m-%d")
    table = np.append(parsed.to_numpy(dtype="datetime64[us]"), np.datetime64("NaT", "us"))
    return pd.Series(table[codes], index=values.index)


class _Prepared:
    """Status ranks, parsed stage dates and evidence of one frame, each computed once, when
    first asked for (vectorised): a caller that needs one stage parses one date column."""

    def __init__(self, projects: pd.DataFrame) -> None:
        self._projects = projects
        self._dates: dict[str, pd.Series] = {}
        self._years: dict[str, pd.Series] = {}
        self._confirmed: dict[Stage, pd.Series] = {}
        self._reached: dict[tuple[Stage, date], pd.Series] = {}
        self._rank: np.ndarray | None = None

    @property
    def rank(self) -> np.ndarray:
        if self._rank is None:
            order = [s.value for s in sorted(STATUS_ORDER, key=STATUS_ORDER.get)]
            self._rank = pd.Index(order).get_indexer(self._projects["status"])  # -1: unknown
        return self._rank

    def date(self, column: str) -> pd.Series:
        if column not in self._dates:
            self._dates[column] = iso_dates(self._projects[column])
        return self._dates[column]

    def calendar_year(self, column: str) -> pd.Series:
        if column not in self._years:
            self._years[column] = self.date(column).dt.year
        return self._years[column]

    def confirmed(self, stage: Stage) -> pd.Series:
        if stage not in self._confirmed:
            self._confirmed[stage] = stage_confirmed(self._projects, stage)
        return self._confirmed[stage]

    def reached(self, stage: Stage, as_of: date) -> pd.Series:
        key = (stage, as_of)
        if key not in self._reached:
            when = self.date(STAGE_DATE_COLUMN[stage])
            needed = STATUS_ORDER[STAGE_STATUS[stage]]
            on_time = when.notna() & (when <= pd.Timestamp(as_of))
            self._reached[key] = (self.rank >= needed) & on_time & self.confirmed(stage)
        return self._reached[key]

    def expected(self, stage: Stage, as_of: date) -> pd.Series:
        """Dated for ``stage`` but not counted: a plan, an inference, or a date still ahead."""
        when = self.date(STAGE_DATE_COLUMN[stage])
        return when.notna() & ~self.reached(stage, as_of)

    def undated(self, stage: Stage) -> pd.Series:
        when = self.date(STAGE_DATE_COLUMN[stage])
        return (self.rank >= STATUS_ORDER[STAGE_STATUS[stage]]) & when.isna()

    def year(self, stage: Stage, as_of: date) -> pd.Series:
        return self.calendar_year(STAGE_DATE_COLUMN[stage]).where(self.reached(stage, as_of))

    def overdue_mask(self, as_of: date) -> pd.Series:
        expected = self.date("completion_date")
        late = expected.notna() & (expected < pd.Timestamp(as_of))
        return late & ~self.reached(Stage.COMPLETED, as_of)


def stage_reached(projects: pd.DataFrame, stage: Stage, as_of: date) -> pd.Series:
    """True where the project had reached ``stage`` on ``as_of`` (status and dated on or before)."""
    return _Prepared(projects).reached(stage, as_of)


def stage_undated(projects: pd.DataFrame, stage: Stage) -> pd.Series:
    """Projects whose status says the stage was reached but with no date: counted in no year."""
    return _Prepared(projects).undated(stage)


def stage_year(projects: pd.DataFrame, stage: Stage, as_of: date) -> pd.Series:
    """The ledger year a project's area counts in for ``stage`` (NaN where it does not count)."""
    return _Prepared(projects).year(stage, as_of)


def _overdue(projects: pd.DataFrame, prepared: _Prepared, as_of: date) -> pd.DataFrame:
    late = prepared.overdue_mask(as_of).to_numpy()
    days = (pd.Timestamp(as_of) - prepared.date("completion_date")[late]).dt.days.to_numpy()
    ids = projects["project_id"].to_numpy()[late] if "project_id" in projects else days
    order = np.lexsort((ids, -days))  # most overdue first; ties by project ID
    out = projects.iloc[np.flatnonzero(late)[order]].copy()
    out["days_overdue"] = days[order]
    return out


def overdue(projects: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Projects whose expected completion passed before ``as_of`` and that were not completed."""
    return _overdue(projects, _Prepared(projects), as_of)


@dataclass(frozen=True)
class PledgeSummary:
    as_of: date
    stage: Stage
    year: int
    year_target_m2: float
    year_counted_m2: float
    period_start: int
    period_end: int
    period_target_m2: float
    cumulative_m2: float
    expected_to_date_m2: float
    gap_m2: float
    remaining_years: int
    required_pace_m2: float
    on_track: bool
    before_period_m2: float
    undated_projects: int
    projects_without_area: int
    overdue_count: int


@dataclass(frozen=True)
class Ledger:
    """Everything the dashboard and ``spatial ledger`` show, for one stage and as-of date."""

    stage: Stage
    as_of: date
    by_year: pd.DataFrame
    summary: PledgeSummary
    projects: pd.DataFrame = field(repr=False)
    overdue: pd.DataFrame = field(repr=False)


def ledger_by_year(
    projects: pd.DataFrame,
    pledge: pd.DataFrame,
    stage: Stage,
    as_of: date,
    _prepared: _Prepared | None = None,
) -> pd.DataFrame:
    """Per pledge year: target, started, completed, delivered, and for ``stage``: cumulative,
    cumulative target, gap (cumulative target − cumulative) and the required pace (what each year
    from this one to the end must add, on average, to reach the period total)."""
    years = pledge["year"].astype(int).to_numpy()
    target = pledge["target_m2"].astype(float).to_numpy()
    prepared = _prepared or _Prepared(projects)
    area = counted_area(projects).fillna(0.0).to_numpy()
    table = pd.DataFrame({"year": years, "target_m2": target})
    for s in STAGES:
        slot = _year_slot(prepared.calendar_year(STAGE_DATE_COLUMN[s]), years)
        reached = prepared.reached(s, as_of).to_numpy()
        table[f"{s.value}_m2"] = _sum_in_slots(area, slot, reached, len(years))
        expected = prepared.expected(s, as_of).to_numpy()
        table[f"{s.value}_expected_m2"] = _sum_in_slots(area, slot, expected, len(years))
    measure = table[f"{stage.value}_m2"]
    table["cumulative_m2"] = measure.cumsum()
    table["cumulative_target_m2"] = table["target_m2"].cumsum()
    table["gap_m2"] = table["cumulative_target_m2"] - table["cumulative_m2"]
    total_target = float(table["target_m2"].sum())
    before = table["cumulative_m2"].shift(1, fill_value=0.0)
    remaining_years = len(years) - np.arange(len(years))
    table["required_pace_m2"] = np.maximum(total_target - before, 0.0) / remaining_years
    return table


def _year_slot(year: pd.Series, years: np.ndarray) -> np.ndarray:
    """Each row's position in ``years`` (−1 where its year is not one of them, or none)."""
    return pd.Index(years.astype(float)).get_indexer(year.to_numpy(dtype=float, na_value=np.nan))


def _sum_in_slots(area: np.ndarray, slot: np.ndarray, chosen: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``area`` over the ``chosen`` rows, per year slot (0.0 for a slot with none)."""
    kept = chosen & (slot >= 0)
    return np.bincount(slot[kept], weights=area[kept], minlength=n).astype(float)


def build_ledger(
    projects: gpd.GeoDataFrame | pd.DataFrame,
    pledge: pd.DataFrame,
    stage: Stage = Stage.DELIVERED,
    as_of: date | None = None,
) -> Ledger:
    as_of = as_of or shenzhen_today()
    stage = Stage(stage)
    prepared = _Prepared(projects)
    table = ledger_by_year(projects, pledge, stage, as_of, _prepared=prepared)
    years = table["year"].tolist()
    start, end = years[0], years[-1]
    area = counted_area(projects)
    yr = prepared.year(stage, as_of)
    this_year = min(max(as_of.year, start), end)
    row = table.set_index("year").loc[this_year]
    cumulative = float(area[(yr >= start) & (yr <= as_of.year) & (yr <= end)].sum())
    period_target = float(table["target_m2"].sum())
    targets = table.set_index("year")["target_m2"]
    if as_of.year < start:
        expected = 0.0
    elif as_of.year > end:
        expected = period_target
    else:
        elapsed = float(targets.loc[start : as_of.year - 1].sum())
        day_fraction = (as_of.timetuple().tm_yday) / (366 if _leap(as_of.year) else 365)
        expected = elapsed + float(targets.loc[as_of.year]) * day_fraction
    remaining_years = max(end - max(open_year(as_of), start) + 1, 0)
    gap = max(period_target - cumulative, 0.0)
    late = _overdue(projects, prepared, as_of)
    summary = PledgeSummary(
        as_of=as_of,
        stage=stage,
        year=this_year,
        year_target_m2=float(row["target_m2"]),
        year_counted_m2=float(row[f"{stage.value}_m2"]) if as_of.year >= start else 0.0,
        period_start=start,
        period_end=end,
        period_target_m2=period_target,
        cumulative_m2=cumulative,
        expected_to_date_m2=expected,
        gap_m2=gap,
        remaining_years=remaining_years,
        required_pace_m2=gap / remaining_years if remaining_years else gap,
        on_track=cumulative >= expected,
        before_period_m2=float(area[yr < start].sum()),
        undated_projects=int(prepared.undated(stage).sum()),
        projects_without_area=int(area.isna().sum()),
        overdue_count=len(late),
    )
    detail = projects.copy()
    detail["counted_area_m2"] = area
    detail["area_basis"] = area_basis(projects)
    detail["ledger_year"] = yr  # the chosen stage's year; every stage's year beside it
    for other in STAGES:
        detail[f"{other.value}_year"] = yr if other == stage else prepared.year(other, as_of)
    return Ledger(
        stage=stage, as_of=as_of, by_year=table, summary=summary, projects=detail, overdue=late
    )


def open_year(as_of: date) -> int:
    """The first year not yet over on ``as_of``: the as-of date counts to its end, so on
    31 December that year is over and the next one is open."""
    return as_of.year + (1 if (as_of.month, as_of.day) == (12, 31) else 0)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def split_by(
    ledger: Ledger, key: str, labels: dict | None = None, detail: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Counted area inside the pledge period up to the as-of date, grouped by ``key``.

    ``detail`` defaults to the ledger's projects; pass a derived frame (e.g. exploded by
    cluster) to group by a column that the ledger does not carry. Rows with no value for
    ``key`` are grouped as '' (shown as "unassigned").
    """
    detail = ledger.projects if detail is None else detail
    s = ledger.summary
    in_period = detail["ledger_year"].between(s.period_start, s.period_end)
    frame = detail.loc[in_period, [key, "counted_area_m2"]].copy()
    frame[key] = frame[key].fillna("").astype(str)
    grouped = (
        frame.groupby(key, dropna=False)["counted_area_m2"]
        .agg(["sum", "count"])
        .rename(columns={"sum": "area_m2", "count": "projects"})
        .reset_index()
        .sort_values("area_m2", ascending=False)
    )
    total = grouped["area_m2"].sum()
    grouped["share"] = grouped["area_m2"] / total if total else 0.0
    if labels is not None:
        grouped["label"] = grouped[key].map(labels).fillna(grouped[key])
    return grouped.reset_index(drop=True)


def required_status_for(stage: Stage) -> Status:
    return STAGE_STATUS[Stage(stage)]
