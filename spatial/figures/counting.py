"""How the pledge is judged: the official counting stage, register coverage and the verdict.

* The **official stage** is the stage the verdict uses. The pledge's words (每年建设/推出不少于
  2000万平方米) do not name one, so it is a setting owned by admins, stored with its reason and
  source and written to the audit trail. Its default, 开工 (started), is this tool's reading of
  建设 ("build").
* **Register coverage** compares what the register holds (projects, planned factory floor
  area) with the latest programme totals reported in public sources (``seeds/
  programme_reports.csv``), and lists per district the projects held and the last accepted
  upload.
* The **verdict** is one of 进度正常 / 落后 / 数据不足 (on track / behind / insufficient data):
  insufficient data while the register holds less than the threshold share (a setting, 100 %
  by default) of the reported programme, in projects or in planned floor area; otherwise on
  track when the official stage's total reaches the target expected by the as-of date.
* A district is never judged against the city's target: with an allocation (分解指标 for every
  pledge year, entered by an admin with its source) it gets its own verdict — insufficient data
  unless its last accepted upload is within a quarter —, without one it sees its share of the
  city's counted total and no verdict.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import pandas as pd

from spatial.auth import Action, Principal, require
from spatial.districts import UnknownDistrict, resolve_district
from spatial.figures.ledger import STAGES, Ledger, build_ledger, counted_area
from spatial.i18n import BilingualError, fmt_area, t
from spatial.layers import Stage
from spatial.store.database import Store, utcnow

OFFICIAL_STAGE_KEY = "official_stage"
COVERAGE_THRESHOLD_KEY = "coverage_threshold"
DEFAULT_OFFICIAL_STAGE = Stage.STARTED
DEFAULT_COVERAGE_THRESHOLD = 1.0  # the register must hold the whole reported programme
STALE_AFTER = timedelta(days=92)  # one quarter: a district's upload older than this is stale
PROGRAMME_PROJECTS = "projects"
PROGRAMME_AREA = "planned_factory_floor_area"

DEFAULT_STAGE_REASON = {
    "zh": (
        "承诺原文为“每年建设/推出不少于2000万平方米”。本工具默认把“建设”解读为开工；"
        "“推出”也可解读为交付，竣工介于二者之间。这是本工具的解读，不是政策原文。"
    ),
    "en": (
        "The pledge reads 'build / put on offer at least 20 million m² a year'. By default this "
        "tool reads 'build' as started; 'put on offer' can be read as delivered, and completed "
        "lies between them. This is the tool's reading, not the policy's words."
    ),
}
DEFAULT_STAGE_SOURCE = (
    "S20 (每年建设不少于2000万平方米); SRC003 (每年推出不少于2000万平方米厂房空间)"
)


class CountingError(BilingualError):
    """A counting setting refused, in Chinese and English."""


class Verdict(StrEnum):
    ON_TRACK = "on_track"
    BEHIND = "behind"
    INSUFFICIENT_DATA = "insufficient_data"


VERDICT_LABELS: dict[Verdict, tuple[str, str]] = {
    Verdict.ON_TRACK: ("进度正常", "on track"),
    Verdict.BEHIND: ("落后", "behind"),
    Verdict.INSUFFICIENT_DATA: ("数据不足", "insufficient data"),
}


# -- settings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfficialStage:
    stage: Stage
    reason: str
    source: str | None
    set_by: str | None  # None while the default applies
    set_at: datetime | None

    @property
    def is_default(self) -> bool:
        return self.set_by is None


@contextmanager
def _audited_setting(store: Store, actor: Principal, action: str, target: str, detail: dict):
    """One admin write of a counting setting: permission re-checked, the change and its audit
    event in the same transaction (serialised with every other settings write). Yields the
    connection and the time written."""
    require(actor, Action.SET_COUNTING)
    now = utcnow()
    with store.transaction(lock="settings") as conn:
        yield conn, now
        store.record_event(actor.user_name, action, target, detail=detail, conn=conn, at=now)


def official_stage(store: Store, lang: str = "zh") -> OfficialStage:
    """The stage the verdict uses, with who set it, why and on what source."""
    row = store.setting(OFFICIAL_STAGE_KEY)
    if row is None:
        return OfficialStage(
            DEFAULT_OFFICIAL_STAGE, DEFAULT_STAGE_REASON[lang], DEFAULT_STAGE_SOURCE, None, None
        )
    return OfficialStage(
        Stage(row["value"]), row["reason"], row["source"], row["set_by"], row["set_at"]
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise CountingError(
            "请写明理由（例如依据哪份文件或会议）", "give a reason (e.g. which document or meeting)"
        )
    return reason


def set_official_stage(
    store: Store, actor: Principal, stage: Stage | str, reason: str, source: str | None = None
) -> None:
    """Change the official stage (admins only, re-checked here), audited in the same write."""
    require(actor, Action.SET_COUNTING)
    try:
        stage = Stage(stage)
    except ValueError:
        raise CountingError(
            f"口径须为 {', '.join(s.value for s in Stage)} 之一",
            f"the stage must be one of {', '.join(s.value for s in Stage)}",
        ) from None
    reason = _require_reason(reason)
    detail = {"reason": reason, "source": source}
    with _audited_setting(store, actor, "set_official_stage", stage.value, detail) as (conn, now):
        before = store.setting(OFFICIAL_STAGE_KEY, conn)
        detail["from"] = before["value"] if before else f"{DEFAULT_OFFICIAL_STAGE.value} (default)"
        store.put_setting(
            conn,
            OFFICIAL_STAGE_KEY,
            stage.value,
            reason=reason,
            source=source or None,
            set_by=actor.user_name,
            set_at=now,
        )


def coverage_threshold(store: Store) -> float:
    row = store.setting(COVERAGE_THRESHOLD_KEY)
    return float(row["value"]) if row else DEFAULT_COVERAGE_THRESHOLD


def set_coverage_threshold(store: Store, actor: Principal, share: float, reason: str) -> None:
    """The share of the reported programme the register must hold before a verdict is given."""
    require(actor, Action.SET_COUNTING)
    if not (isinstance(share, int | float) and math.isfinite(share) and 0 < share <= 1):
        raise CountingError(
            "阈值须在 0 与 1 之间（如 0.8）", "the threshold must be in (0, 1], e.g. 0.8"
        )
    reason = _require_reason(reason)
    detail = {"reason": reason}
    with _audited_setting(store, actor, "set_coverage_threshold", str(share), detail) as (
        conn,
        now,
    ):
        store.put_setting(
            conn,
            COVERAGE_THRESHOLD_KEY,
            float(share),
            reason=reason,
            source=None,
            set_by=actor.user_name,
            set_at=now,
        )


def set_allocation(
    store: Store,
    actor: Principal,
    district_id: str,
    year: int,
    target_m2: float | None,
    source: str,
) -> None:
    """A district's yearly share of the city target (分解指标), with its source; ``None``
    removes it. Admins only, audited."""
    set_allocations(store, actor, district_id, {int(year): target_m2}, source)


def set_allocations(
    store: Store,
    actor: Principal,
    district_id: str,
    targets: dict[int, float | None],
    source: str,
) -> None:
    """Several years of a district's allocation at once (``None`` removes a year), from one
    source: every value checked first, then all written in one transaction with one audit
    event per year — a refused value leaves every year as it was."""
    require(actor, Action.SET_COUNTING)
    try:
        district_id = resolve_district(district_id, store.layer("districts"))
    except UnknownDistrict as exc:
        raise CountingError(exc.zh, exc.en) from None
    source = (source or "").strip()
    for year, target_m2 in targets.items():
        if not 2023 <= int(year) <= 2027:
            raise CountingError("年份须在 2023–2027 之间", "the year must be within 2023–2027")
        if target_m2 is not None and not (math.isfinite(target_m2) and 0 < target_m2 <= 20_000_000):
            raise CountingError(
                f"{year} 年的分解指标须为正数且不超过全市年度目标 2000 万㎡",
                f"the {year} allocation must be positive and at most the city's 20 million m²",
            )
        if target_m2 is not None and not source:
            raise CountingError(
                "请注明分解指标的来源（文件名、文号）", "name the allocation's source"
            )
    now = utcnow()
    with store.transaction(lock="settings") as conn:
        require(actor, Action.SET_COUNTING)  # re-checked inside the write
        for year, target_m2 in targets.items():
            store.put_allocation(
                conn,
                district_id,
                int(year),
                target_m2=target_m2,
                source=source,
                set_by=actor.user_name,
                set_at=now,
            )
            store.record_event(
                actor.user_name,
                "set_allocation",
                f"{district_id}:{year}",
                detail={"target_m2": target_m2, "source": source},
                conn=conn,
                at=now,
            )


# -- register coverage --------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgrammeTotal:
    metric: str
    value: float
    report_date: str
    source_ids: str


@dataclass(frozen=True)
class RegisterCoverage:
    """What the register holds against the latest programme totals reported in public sources."""

    registered_projects: int
    registered_area_m2: float  # planned factory floor area: the counted area of every project
    reported_projects: ProgrammeTotal | None
    reported_area: ProgrammeTotal | None
    threshold: float
    districts: pd.DataFrame  # district_id, projects, area_m2, last_upload_at, uploads, state

    @property
    def project_share(self) -> float | None:
        if not self.reported_projects:
            return None
        return self.registered_projects / self.reported_projects.value

    @property
    def area_share(self) -> float | None:
        if not self.reported_area:
            return None
        return self.registered_area_m2 / self.reported_area.value

    @property
    def sufficient(self) -> bool:
        """The register holds at least the threshold share of every reported total."""
        shares = [s for s in (self.project_share, self.area_share) if s is not None]
        return all(s >= self.threshold for s in shares)

    def as_json(self) -> dict:
        def total(t: ProgrammeTotal | None) -> dict | None:
            return None if t is None else t.__dict__.copy()

        districts = self.districts.copy()
        districts["last_upload_at"] = districts["last_upload_at"].map(
            lambda v: None if pd.isna(v) else pd.Timestamp(v).isoformat()
        )
        return {
            "registered_projects": self.registered_projects,
            "registered_area_m2": self.registered_area_m2,
            "reported_projects": total(self.reported_projects),
            "reported_area_m2": total(self.reported_area),
            "project_share": self.project_share,
            "area_share": self.area_share,
            "threshold": self.threshold,
            "sufficient": self.sufficient,
            "districts": districts.astype(object).where(districts.notna(), None).to_dict("records"),
        }


def latest_programme_total(reports: pd.DataFrame, metric: str) -> ProgrammeTotal | None:
    rows = reports[reports["metric"] == metric]
    if rows.empty:
        return None
    row = rows.sort_values("report_date").iloc[-1]
    return ProgrammeTotal(
        metric, float(row["value"]), str(row["report_date"]), str(row["source_ids"])
    )


def register_coverage(
    projects: pd.DataFrame,
    reports: pd.DataFrame,
    uploads: pd.DataFrame,
    district_ids: list[str],
    as_of: date,
    threshold: float = DEFAULT_COVERAGE_THRESHOLD,
) -> RegisterCoverage:
    """Register against the programme, and per district: projects held, their planned area,
    the last accepted upload, and whether the district has never submitted (``never``) or not
    within a quarter of ``as_of`` (``stale``)."""
    area = counted_area(projects)
    held = (
        pd.DataFrame({"district_id": projects["district_id"], "area": area})
        .groupby("district_id")
        .agg(projects=("area", "size"), area_m2=("area", "sum"))
    )
    table = pd.DataFrame({"district_id": district_ids}).set_index("district_id")
    table = table.join(held).join(uploads.set_index("district_id"))
    table["projects"] = table["projects"].fillna(0).astype(int)
    table["area_m2"] = table["area_m2"].fillna(0.0)
    table["uploads"] = table["uploads"].fillna(0).astype(int)
    last = pd.to_datetime(table["last_upload_at"])
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1) - pd.Timedelta(STALE_AFTER)
    table["state"] = "current"
    table.loc[last < cutoff, "state"] = "stale"
    table.loc[last.isna(), "state"] = "never"
    return RegisterCoverage(
        registered_projects=len(projects),
        registered_area_m2=float(area.sum()),
        reported_projects=latest_programme_total(reports, PROGRAMME_PROJECTS),
        reported_area=latest_programme_total(reports, PROGRAMME_AREA),
        threshold=threshold,
        districts=table.reset_index(),
    )


# -- the verdict --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Judgement:
    """The first screen's verdict, for the city or one district."""

    verdict: Verdict | None  # None: a district without an allocation is not judged
    official_stage: OfficialStage
    ledger: Ledger  # at the official stage
    coverage: RegisterCoverage
    scope: str | None  # a district id, or None for the city
    allocation: pd.DataFrame | None = None  # the district's targets by year, when it has them
    city_share: float | None = None  # a district's share of the city's counted total

    def as_json(self) -> dict:
        return {
            "verdict": self.verdict.value if self.verdict else None,
            "official_stage": {
                "stage": self.official_stage.stage.value,
                "reason": self.official_stage.reason,
                "source": self.official_stage.source,
                "set_by": self.official_stage.set_by,
                "set_at": self.official_stage.set_at.isoformat()
                if self.official_stage.set_at
                else None,
                "default": self.official_stage.is_default,
            },
            "scope": self.scope or "city",
            "city_share": self.city_share,
            "coverage": self.coverage.as_json(),
        }


@dataclass(frozen=True)
class StagePosition:
    """One stage of the pipeline (开工 → 竣工 → 交付) against the target: the year and the
    pledge period, the gap, and what is dated but not counted (planned or inferred)."""

    stage: Stage
    official: bool  # the stage the verdict uses
    measured: bool  # False: a district without an allocation sees no target
    year: int
    year_counted_m2: float
    year_target_m2: float
    period_start: int
    period_end: int
    cumulative_m2: float
    period_target_m2: float
    expected_m2: float  # this year, dated at the stage but not confirmed (or still ahead)

    @property
    def year_gap_m2(self) -> float:
        return max(self.year_target_m2 - self.year_counted_m2, 0.0)

    @property
    def period_gap_m2(self) -> float:
        return max(self.period_target_m2 - self.cumulative_m2, 0.0)

    @property
    def year_share(self) -> float:
        return self.year_counted_m2 / self.year_target_m2 if self.year_target_m2 else 0.0

    @property
    def period_share(self) -> float:
        return self.cumulative_m2 / self.period_target_m2 if self.period_target_m2 else 0.0


def pipeline(judgement: Judgement) -> tuple[StagePosition, ...]:
    """All three stages side by side for the judgement's scope, each against the same targets
    (the city's pledge, or the district's allocation), as of the judgement's date."""
    targets = judgement.ledger.by_year[["year", "target_m2"]]
    projects = judgement.ledger.projects
    measured = judgement.verdict is not None or judgement.scope is None
    out = []
    for stage in STAGES:
        ledger = build_ledger(projects, targets, stage, judgement.ledger.as_of)
        s = ledger.summary
        row = ledger.by_year.set_index("year").loc[s.year]
        out.append(
            StagePosition(
                stage=stage,
                official=stage == judgement.official_stage.stage,
                measured=measured,
                year=s.year,
                year_counted_m2=s.year_counted_m2,
                year_target_m2=s.year_target_m2,
                period_start=s.period_start,
                period_end=s.period_end,
                cumulative_m2=s.cumulative_m2,
                period_target_m2=s.period_target_m2,
                expected_m2=float(row[f"{stage.value}_expected_m2"]),
            )
        )
    return tuple(out)


def verdict_reason(judgement: Judgement, lang: str) -> str:
    """Why the verdict is what it is, in one sentence (for the dashboard and the report)."""
    j = judgement
    if j.verdict is None:
        share = "—" if j.city_share is None else f"{j.city_share:.1%}"
        return t("no_allocation", lang, share=share)
    if j.verdict == Verdict.INSUFFICIENT_DATA:
        if j.scope is None:
            return t("insufficient_rule", lang, threshold=j.coverage.threshold)
        return t("insufficient_district_rule", lang)
    s = j.ledger.summary
    return t(
        "verdict_pace",
        lang,
        as_of=s.as_of.isoformat(),
        expected=fmt_area(s.expected_to_date_m2, lang),
        counted=fmt_area(s.cumulative_m2, lang),
    )


def decide(ledger: Ledger, coverage: RegisterCoverage) -> Verdict:
    """数据不足 while the register holds less than the threshold share of the reported
    programme; otherwise 进度正常 when the official stage has reached the target expected by the
    as-of date, else 落后."""
    if not coverage.sufficient:
        return Verdict.INSUFFICIENT_DATA
    return Verdict.ON_TRACK if ledger.summary.on_track else Verdict.BEHIND


def judge(
    projects: pd.DataFrame,
    pledge: pd.DataFrame,
    coverage: RegisterCoverage,
    official: OfficialStage,
    as_of: date,
    district_id: str | None = None,
    allocations: pd.DataFrame | None = None,
) -> Judgement:
    """The verdict for the city (``district_id`` None) or one district. ``projects`` are the
    city's: a district's share is measured against them."""
    stage = official.stage
    city = build_ledger(projects, pledge, stage, as_of)
    if district_id is None:
        return Judgement(decide(city, coverage), official, city, coverage, None)
    own = projects[projects["district_id"] == district_id]
    own_ledger = build_ledger(own, pledge, stage, as_of)
    city_total = city.summary.cumulative_m2
    share = own_ledger.summary.cumulative_m2 / city_total if city_total else None
    allocation = None
    if allocations is not None and not allocations.empty:
        mine = allocations[allocations["district_id"] == district_id]
        if set(mine["year"].astype(int)) >= set(pledge["year"].astype(int)):
            allocation = mine[["year", "target_m2", "source"]].reset_index(drop=True)
    if allocation is None:  # never measured against the city's target
        return Judgement(None, official, own_ledger, coverage, district_id, None, share)
    ledger = build_ledger(own, allocation[["year", "target_m2"]], stage, as_of)
    return Judgement(
        decide_district(ledger, coverage, district_id),
        official,
        ledger,
        coverage,
        district_id,
        allocation,
        share,
    )


def decide_district(ledger: Ledger, coverage: RegisterCoverage, district_id: str) -> Verdict:
    """A district with an allocation: 数据不足 unless its last accepted upload is within a
    quarter (the district's own report is its register); else as :func:`decide`."""
    row = coverage.districts.set_index("district_id").loc[district_id]
    if row["state"] != "current":
        return Verdict.INSUFFICIENT_DATA
    return Verdict.ON_TRACK if ledger.summary.on_track else Verdict.BEHIND
