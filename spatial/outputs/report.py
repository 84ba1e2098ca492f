"""进度报告 The progress report for leadership: the pledge for one year, as of a date.

The pledge table and charts, progress by district and by park, the overdue list and the
data-coverage note, as one self-contained HTML page (inline CSS and SVG charts, no script, a
Content-Security-Policy that forbids every fetch) or as a PDF printed from that page by headless
Chromium (:mod:`spatial.outputs.printing`). Chinese by default, English on request.

The figures come from the same :class:`~spatial.figures.snapshot.Snapshot` and ledger as the
dashboard, so the report, the app and ``spatial ledger`` agree for the same date and stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd

from spatial.auth import Action, Principal, require
from spatial.clock import BEIJING_LABEL, beijing_text, shenzhen_today
from spatial.figures.counting import (
    VERDICT_LABELS,
    Judgement,
    StagePosition,
    Verdict,
    pipeline,
    verdict_reason,
)
from spatial.figures.ledger import (
    COUNTING_RULE,
    STAGES,
    Ledger,
    build_ledger,
    counted_area,
    open_year,
)
from spatial.figures.scenarios import compare_scenarios, scenario_list
from spatial.figures.snapshot import COVERAGE_ASPECTS, Snapshot, coverage, take_snapshot
from spatial.i18n import TEXT, BilingualError, fmt_area, t
from spatial.layers import LAYERS, QUALITY_LABELS, STAGE_LABELS, STATUS_LABELS, Stage, label
from spatial.outputs.charts import area_bars, chart_svg, year_chart
from spatial.outputs.printing import html_to_pdf
from spatial.outputs.scenario_table import readable_comparison
from spatial.store.database import Store, utcnow
from spatial.store.reference import source_location

REPORT_FORMATS: dict[str, tuple[str, str]] = {  # key -> (suffix, media type)
    "html": (".html", "text/html"),
    "pdf": (".pdf", "application/pdf"),
}
TEMPLATE = Path(__file__).with_name("report_template.html.j2")


class ReportError(BilingualError):
    """A report that cannot be made as asked; says why and what to do instead."""


@dataclass(frozen=True)
class ReportRequest:
    year: int
    as_of: date | None = None  # default: today in the year itself, 31 December for a past year
    stage: Stage | None = None  # default: the official counting stage
    lang: str = "zh"
    format: str = "html"
    scenarios: tuple[str, ...] = ()  # 方案 compared with the baseline in a last section


@dataclass(frozen=True)
class YearStatus:
    """Where the pledge stands for the reporting year."""

    year: int
    as_of: date
    stage: Stage
    year_open: bool  # the as-of date falls before the reporting year's last day
    year_target_m2: float
    year_counted_m2: float  # at the chosen stage
    period_start: int
    period_end: int
    period_target_m2: float
    cumulative_m2: float  # period start to the reporting year, chosen stage
    cumulative_target_m2: float
    expected_m2: float  # what the pace requires by the as-of date (or by the year's end)
    on_track: bool
    remaining_m2: float
    remaining_years: int  # pledge years left after this report's point in time
    required_pace_m2: float


@dataclass(frozen=True)
class ProgressReport:
    year: int
    as_of: date
    stage: Stage
    scope: tuple[str, ...] | None  # district ids when the reader sees only some districts
    judgement: Judgement  # the verdict at the official stage, with register coverage
    pipeline: tuple[StagePosition, ...]  # 开工 → 竣工 → 交付 against the same targets
    status: YearStatus
    by_year: pd.DataFrame
    by_district: pd.DataFrame
    by_park: pd.DataFrame
    overdue: pd.DataFrame
    coverage: pd.DataFrame
    programme_reports: pd.DataFrame
    sources: pd.DataFrame
    projects: int
    before_period_m2: float
    undated_projects: int
    projects_without_area: int
    scenarios: pd.DataFrame | None = None  # compare_scenarios' table, when asked for
    scenario_notes: dict[str, str | None] = field(default_factory=dict)


def report_as_of(year: int, as_of: date | None, pledge: pd.DataFrame, today: date) -> date:
    """The as-of date of a report on ``year``; refuses a year outside the pledge or not begun."""
    years = sorted(pledge["year"].astype(int))
    if year not in years:
        raise ReportError(
            f"{year} 年不在承诺期（{years[0]}—{years[-1]}年）内，请选择承诺期内的年份。",
            f"{year} is outside the pledge period ({years[0]}–{years[-1]}); choose a year in it.",
        )
    if as_of is None:
        if year > today.year:
            raise ReportError(
                f"{year} 年尚未开始（今天是 {today.isoformat()}），请选择已开始的年份。",
                f"{year} has not begun (today is {today.isoformat()}); choose a year that has.",
            )
        as_of = today if year == today.year else date(year, 12, 31)
    if as_of < date(year, 1, 1):
        raise ReportError(
            f"统计截止日 {as_of.isoformat()} 早于 {year} 年，请选择 {year}-01-01 或之后的日期。",
            f"The as-of date {as_of.isoformat()} is before {year}; choose {year}-01-01 or later.",
        )
    return as_of


def year_status(ledger: Ledger, year: int) -> YearStatus:
    """The reporting year's figures: the ledger's summary while the year runs, the year's
    closing position once the as-of date is past its end."""
    s = ledger.summary
    row = ledger.by_year.set_index("year").loc[year]
    year_open = open_year(ledger.as_of) == year
    cumulative = float(row["cumulative_m2"])
    cumulative_target = float(row["cumulative_target_m2"])
    expected = s.expected_to_date_m2 if year_open else cumulative_target
    remaining = max(s.period_target_m2 - cumulative, 0.0)
    remaining_years = s.period_end - year + (1 if year_open else 0)
    return YearStatus(
        year=year,
        as_of=ledger.as_of,
        stage=ledger.stage,
        year_open=year_open,
        year_target_m2=float(row["target_m2"]),
        year_counted_m2=float(row[f"{ledger.stage.value}_m2"]),
        period_start=s.period_start,
        period_end=s.period_end,
        period_target_m2=s.period_target_m2,
        cumulative_m2=cumulative,
        cumulative_target_m2=cumulative_target,
        expected_m2=expected,
        on_track=cumulative >= expected,
        remaining_m2=remaining,
        remaining_years=remaining_years,
        required_pace_m2=remaining / remaining_years if remaining_years else 0.0,
    )


def progress_by(ledger: Ledger, key: str, year: int, keys: Iterable[str]) -> pd.DataFrame:
    """Per value of ``key`` (each of ``keys``, plus '' for projects with none): the area started,
    completed and delivered in ``year``, the chosen stage's cumulative from the period start to
    ``year``, the number of projects and of overdue projects. Largest first, '' last."""
    detail = ledger.projects
    start = ledger.summary.period_start
    area = detail["counted_area_m2"].fillna(0.0)
    frame = pd.DataFrame(
        {
            key: detail[key].fillna("").astype(str),
            "area": area,
            "cumulative_m2": area.where(detail["ledger_year"].between(start, year), 0.0),
            "overdue": detail["project_id"].isin(ledger.overdue["project_id"]).astype(int),
        }
        | {f"{s.value}_m2": area.where(detail[f"{s.value}_year"] == year, 0.0) for s in STAGES}
    )
    grouped = frame.groupby(key).agg(
        **{f"{s.value}_m2": (f"{s.value}_m2", "sum") for s in STAGES},
        cumulative_m2=("cumulative_m2", "sum"),
        projects=("area", "size"),
        overdue=("overdue", "sum"),
    )
    keys = list(keys) + ([""] if "" in grouped.index else [])
    table = grouped.reindex(keys, fill_value=0).rename_axis(key).reset_index()
    measure = f"{ledger.stage.value}_m2"
    total = table[measure].sum()
    table["share"] = table[measure] / total if total else float("nan")  # shown as "—"
    ranked = table.sort_values([measure, "cumulative_m2", "projects"], ascending=False)
    return ranked.sort_values(key, key=lambda k: k == "", kind="stable").reset_index(drop=True)


def build_report(
    snapshot: Snapshot,
    year: int,
    stage: Stage | None = None,
    scope: tuple[str, ...] | None = None,
    judgement: Judgement | None = None,
) -> ProgressReport:
    """Everything the report shows, computed from one snapshot (pure: no store, no printing).
    ``stage``: the stage of the tables (the official stage when None). ``scope``: the districts
    a reader may see, when not all of them (listed alone). ``judgement``: the verdict for that
    scope, taken from the whole city's snapshot (default: the city's, from ``snapshot``). The
    targets are the judgement's: the city's pledge, or a district's allocation."""
    judgement = judgement or snapshot.judgement(None)
    stage = Stage(stage) if stage else judgement.official_stage.stage
    targets = judgement.ledger.by_year[["year", "target_m2"]]
    ledger = build_ledger(snapshot.projects, targets, stage, snapshot.as_of)
    s = ledger.summary
    overdue = ledger.overdue
    return ProgressReport(
        year=year,
        as_of=snapshot.as_of,
        stage=stage,
        scope=scope,
        judgement=judgement,
        pipeline=pipeline(judgement),
        status=year_status(ledger, year),
        by_year=ledger.by_year,
        by_district=progress_by(
            ledger, "district_id", year, scope or snapshot.districts["district_id"]
        ),
        by_park=progress_by(ledger, "park_id", year, snapshot.parks["park_id"]),
        overdue=overdue,
        coverage=coverage(snapshot),
        programme_reports=snapshot.programme_reports,
        sources=snapshot.sources,
        projects=len(snapshot.projects),
        before_period_m2=s.before_period_m2,
        undated_projects=s.undated_projects,
        projects_without_area=s.projects_without_area,
    )


# -- HTML ---------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=True,  # every value from the store (uploaded names included) is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["m2"] = lambda v: "—" if v is None or v != v else f"{v:,.0f}"
    env.filters["pct"] = lambda v: "—" if v is None or v != v else f"{v * 100:.1f}%"
    return env


def _texts(lang: str) -> dict[str, str]:
    """Every label in ``lang``; templates use ``L.key`` for fixed text."""
    i = 0 if lang == "zh" else 1
    return {key: pair[i] for key, pair in TEXT.items() if "{" not in pair[i]}


def _pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "—"


def _verdict(report: ProgressReport, lg: str) -> dict:
    """The verdict at the official stage, its explanation and the register coverage."""
    j = report.judgement
    c = j.coverage
    official = label(STAGE_LABELS, j.official_stage.stage, lg)
    value = (
        t("report_not_judged", lg) if j.verdict is None else label(VERDICT_LABELS, j.verdict, lg)
    )
    title = t("verdict_title", lg, stage=official)
    return {
        "title": title,
        "value": value,
        "heading": f"{title}：{value}" if lg == "zh" else f"{title}: {value}",
        "reason": verdict_reason(j, lg),
        "kind": j.verdict.value if j.verdict else "not_judged",
        "stage_reason": (
            t("official_stage_default", lg)
            if j.official_stage.is_default
            else t(
                "official_stage_set",
                lg,
                who=j.official_stage.set_by,
                when=beijing_text(j.official_stage.set_at, False),
            )
        )
        + (" · {}：{} · {}：{}" if lg == "zh" else " · {}: {} · {}: {}").format(
            t("reason", lg),
            j.official_stage.reason,
            t("source", lg),
            j.official_stage.source or "—",
        ),
        "coverage": [
            t(
                key,
                lg,
                held=held,
                reported=shown(total.value),
                share=f"{share:.0%}",
                date=total.report_date,
                source=total.source_ids,
            )
            for key, total, share, held, shown in (
                (
                    "report_coverage_projects",
                    c.reported_projects,
                    c.project_share,
                    f"{c.registered_projects:,}",
                    lambda v: f"{v:,.0f}",
                ),
                (
                    "report_coverage_area",
                    c.reported_area,
                    c.area_share,
                    fmt_area(c.registered_area_m2, lg),
                    lambda v: fmt_area(v, lg),
                ),
            )  # fmt: skip
            if total is not None
        ],
        "allocation": (
            t("district_allocation", lg, source="; ".join(sorted(set(j.allocation["source"]))))
            if j.allocation is not None
            else None
        ),
    }


def _pipeline_rows(report: ProgressReport, lg: str) -> list[dict]:
    """One row per stage (开工 → 竣工 → 交付): this year and the period, against the target."""
    return [
        {
            "stage": label(STAGE_LABELS, p.stage, lg)
            + (f"（{t('official_mark', lg)}）" if lg == "zh" and p.official else "")
            + (f" ({t('official_mark', lg)})" if lg != "zh" and p.official else ""),
            "official": p.official,
            "year_counted": p.year_counted_m2,
            "year_target": p.year_target_m2 if p.measured else None,
            "year_gap": p.year_gap_m2 if p.measured else None,
            "cumulative": p.cumulative_m2,
            "period_target": p.period_target_m2 if p.measured else None,
            "period_gap": p.period_gap_m2 if p.measured else None,
            "expected": p.expected_m2,
        }
        for p in report.pipeline
    ]


def _headline(report: ProgressReport, lg: str, stage: str) -> tuple[str, list[dict]]:
    """The summary sentence and the four key figures, at the report's stage."""
    verdict = _verdict(report, lg)
    return _summary(report, lg, stage, verdict), _kpis(report, lg, stage, verdict)


def _summary(report: ProgressReport, lg: str, stage: str, verdict: dict) -> str:
    """One sentence: the year and the cumulative at the stage, and the pace (or, for a scope
    not measured against a target, its share of the city)."""
    st, j = report.status, report.judgement
    common = {
        "as_of": report.as_of.isoformat(),
        "year": report.year,
        "stage": stage,
        "counted": fmt_area(st.year_counted_m2, lg),
        "start": st.period_start,
        "cumulative": fmt_area(st.cumulative_m2, lg),
    }
    if not report.pipeline[0].measured:
        share = "—" if j.city_share is None else f"{j.city_share:.1%}"
        return t("report_summary_unmeasured", lg, share=share, **common)
    if j.verdict == Verdict.INSUFFICIENT_DATA:  # no word on pace the register cannot carry
        pace = verdict["heading"]
    elif st.on_track:
        pace = t("report_verdict_on_track", lg)
    else:
        pace = t(
            "report_verdict_behind", lg, behind=fmt_area(st.expected_m2 - st.cumulative_m2, lg)
        )
    summary = t(
        "report_summary",
        lg,
        target=fmt_area(st.year_target_m2, lg),
        pct=_pct(st.year_counted_m2, st.year_target_m2),
        verdict=pace,
        **common,
    )
    if j.verdict != Verdict.INSUFFICIENT_DATA and report.stage != j.official_stage.stage:
        summary += " " + verdict["heading"] + ("。" if lg == "zh" else ".")
    return summary


def _of_target(measured: bool, key: str, counted: float, target: float, lg: str) -> str:
    """A figure's note: its share of its target, or that the scope has no target."""
    if not measured:
        return t("report_no_target", lg)
    return t(key, lg, target=fmt_area(target, lg), pct=_pct(counted, target))


def _kpis(report: ProgressReport, lg: str, stage: str, verdict: dict) -> list[dict]:
    """The four key figures: the year, the cumulative, the verdict, the pace required."""
    st, j = report.status, report.judgement
    measured = report.pipeline[0].measured
    required = (
        fmt_area(st.required_pace_m2, lg) if st.remaining_years else t("report_period_over", lg)
    )
    return [
        {
            "label": t("report_year_counted", lg, year=report.year, stage=stage),
            "value": fmt_area(st.year_counted_m2, lg),
            "note": _of_target(
                measured, "report_of_year_target", st.year_counted_m2, st.year_target_m2, lg
            ),
            "id": "kpi-year",
        },
        {
            "label": t(
                "report_cumulative", lg, start=st.period_start, year=report.year, stage=stage
            ),
            "value": fmt_area(st.cumulative_m2, lg),
            "note": _of_target(
                measured,
                "report_of_cumulative_target",
                st.cumulative_m2,
                st.cumulative_target_m2,
                lg,
            ),
            "id": "kpi-cumulative",
        },
        {
            "label": verdict["title"],
            "value": verdict["value"],
            "note": verdict["reason"],
            "id": "kpi-verdict",
            "alert": j.verdict in (Verdict.BEHIND, Verdict.INSUFFICIENT_DATA),
        },
        {
            "label": t("required_pace", lg),
            "value": required if measured else "—",
            "note": (
                t(
                    "report_required_note",
                    lg,
                    n=st.remaining_years,
                    gap=fmt_area(st.remaining_m2, lg),
                )
                if measured
                else t("report_no_target", lg)
            ),
            "id": "kpi-required",
        },
    ]


def report_html(
    report: ProgressReport,
    snapshot: Snapshot,
    lang: str = "zh",
    generated_by: str = "",
    generated_at: datetime | None = None,
) -> str:
    """The report as one self-contained HTML page (print-ready: A4, page numbers): the verdict
    and the pipeline first, then the tables by year, district and park, the overdue list and
    the data coverage."""
    lg = "zh" if lang == "zh" else "en"
    districts, parks = snapshot.district_names(lg), snapshot.park_names(lg)
    context = (
        {"lang": "zh-CN" if lg == "zh" else "en", "L": _texts(lg)}
        | _front(report, lg, districts, generated_by, generated_at or utcnow())
        | _tables(report, lg, districts, parks)
        | {
            "overdue": _overdue_rows(report, districts, parks, lg),
            "no_overdue": t("no_overdue", lg),
        }
        | _coverage_section(report, lg)
        | _scenario_section(report, lg)
    )
    return _environment().get_template(TEMPLATE.name).render(**context)


def _front(
    report: ProgressReport, lg: str, districts: dict, generated_by: str, generated_at: datetime
) -> dict:
    """The first page: title, scope and date, the summary, the verdict, the pipeline and the
    key figures."""
    st = report.status
    stage = label(STAGE_LABELS, report.stage, lg)
    official = label(STAGE_LABELS, report.judgement.official_stage.stage, lg)
    scope = (
        t("report_scope_city", lg)
        if report.scope is None
        else t(
            "report_scope_some",
            lg,
            names=("、" if lg == "zh" else ", ").join(districts.get(d, d) for d in report.scope),
        )
    )
    summary, kpis = _headline(report, lg, stage)
    return {
        "title": t("report_title", lg, year=report.year),
        "meta": t(
            "report_meta",
            lg,
            as_of=report.as_of.isoformat(),
            stage=stage,
            official=official,
            scope=scope,
        ),
        "generated": t(
            "report_generated",
            lg,
            at=f"{beijing_text(generated_at, seconds=False)} {BEIJING_LABEL[lg]}",
            user=generated_by,
        ),
        "summary": summary,
        "verdict": _verdict(report, lg),
        "pipeline": _pipeline_rows(report, lg),
        "pipeline_year": t("report_pipeline_year", lg, year=report.pipeline[0].year),
        "pipeline_period": t(
            "report_pipeline_period", lg, start=st.period_start, end=st.period_end
        ),
        "kpis": kpis,
    }


def _tables(report: ProgressReport, lg: str, districts: dict, parks: dict) -> dict:
    """The tables by year, district and park, and their charts, at the report's stage."""
    st = report.status
    stage = label(STAGE_LABELS, report.stage, lg)
    measure = f"{report.stage.value}_m2"
    by_district = report.by_district.assign(
        label=report.by_district["district_id"].map(districts).fillna(t("unassigned", lg))
    )
    by_park = report.by_park.assign(
        label=report.by_park["park_id"].map(parks).fillna(t("report_not_in_park", lg))
    )
    parks_with_projects = by_park[by_park["projects"] > 0]
    empty_parks = len(by_park) - len(parks_with_projects)
    measured = report.pipeline[0].measured
    by_year = report.by_year if measured else report.by_year.drop(columns=["target_m2"])
    charts = {
        "by_year": chart_svg(year_chart(by_year, lg, height=260), width=620),
        "by_district": (
            chart_svg(area_bars(by_district[by_district[measure] > 0], lg, value=measure), 560)
            if (by_district[measure] > 0).any()
            else None
        ),
    }
    return {
        "measured": measured,
        "stage_column": measure,
        "by_year": report.by_year.to_dict("records"),
        "report_year": report.year,
        "group_headers": {
            "year": [
                (
                    f"{s.value}_m2",
                    t("report_group_year", lg, year=report.year, stage=label(STAGE_LABELS, s, lg)),
                )
                for s in STAGES
            ],
            "cumulative": t(
                "report_group_cumulative", lg, start=st.period_start, year=report.year, stage=stage
            ),
        },
        "by_district": by_district.to_dict("records"),
        "by_park": parks_with_projects.to_dict("records"),
        "parks_note": t("report_parks_shown", lg, n=empty_parks) if empty_parks else None,
        "charts": charts,
        "chart_district_title": t("report_chart_district", lg, year=report.year, stage=stage),
        "no_area_year": t("report_no_area_year", lg, year=report.year, stage=stage),
    }


def _coverage_section(report: ProgressReport, lg: str) -> dict:
    """The data coverage: what the figures rest on, the counting rule, what is not counted,
    the programme totals reported in public sources, and the sources."""
    stage = label(STAGE_LABELS, report.stage, lg)
    return {
        "data_note": t("data_note", lg, n=report.projects),
        "coverage": _coverage_rows(report, lg),
        "counting_rule": COUNTING_RULE[lg],
        "excluded": t(
            "report_excluded",
            lg,
            stage=stage,
            before=fmt_area(report.before_period_m2, lg),
            undated=report.undated_projects,
            no_area=report.projects_without_area,
        ),
        "quality_labels": {q.value: label(QUALITY_LABELS, q, lg) for q in QUALITY_LABELS},
        "programme": report.programme_reports.to_dict("records"),
        "sources": report.sources.assign(
            url_or_file=report.sources["url_or_file"].map(lambda v: source_location(v, lg))
        ).to_dict("records"),
    }


def _scenario_section(report: ProgressReport, lg: str) -> dict:
    """The scenarios compared with the baseline, as the comparison table reads them; said to
    be projections that never change the ledger above."""
    if report.scenarios is None:
        return {"scenarios": None}
    table = readable_comparison(report.scenarios, report.scenario_notes, lg)
    return {
        "scenarios": {
            "headers": list(table.columns),
            "rows": [[_cell(v) for v in row] for row in table.itertuples(index=False)],
            "note": t("report_scenarios_note", lg),
        }
    }


def _cell(value) -> str:
    """A comparison value as printed: text as it is, whole numbers grouped, others to 0.01."""
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _overdue_rows(report: ProgressReport, districts: dict, parks: dict, lg: str) -> list[dict]:
    late = report.overdue.assign(counted_area_m2=counted_area(report.overdue))
    return [
        {
            "id": r.project_id,
            "name": r.name_zh if lg == "zh" else (r.name_en or r.name_zh),
            "district": districts.get(r.district_id, r.district_id or ""),
            "park": parks.get(r.park_id, "") if isinstance(r.park_id, str) else "",
            "status": label(STATUS_LABELS, r.status, lg) if r.status else "",
            "completion": r.completion_date,
            "days": int(r.days_overdue),
            "area": r.counted_area_m2,
        }
        for r in late.itertuples(index=False)
    ]


def _coverage_rows(report: ProgressReport, lg: str) -> list[dict]:
    layer_names = {k: (v.label_zh if lg == "zh" else v.label_en) for k, v in LAYERS.items()}
    cov = report.coverage.assign(
        layer=report.coverage["layer"].map(layer_names),
        aspect=report.coverage["aspect"].map(lambda a: label(COVERAGE_ASPECTS, a, lg)),
        source=report.coverage[f"source_{lg}"],
    )
    return cov.to_dict("records")


# -- the whole job: permission, snapshot, render, print, audit ----------------------------------


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    filename: str
    media_type: str
    report: ProgressReport


def progress_report(
    store: Store, actor: Principal, request: ReportRequest, today: date | None = None
) -> ReportFile:
    """Make the report ``actor`` may read (their district only for a district officer), as HTML
    or PDF, and record it in the audit trail."""
    require(actor, Action.EXPORT, actor.district_id)
    if request.format not in REPORT_FORMATS:
        raise ReportError(
            f"不支持的报告格式 {request.format!r}，可选 html 或 pdf。",
            f"Unknown report format {request.format!r}; choose html or pdf.",
        )
    pledge = store.table("pledge")
    as_of = report_as_of(request.year, request.as_of, pledge, today or shenzhen_today())
    whole = take_snapshot(store, as_of)
    snap = whole.readable_by(actor)
    readable = tuple(actor.readable_districts(snap.districts["district_id"]))
    scope = None if len(readable) == len(snap.districts) else readable
    judgement = whole.judgement(readable[0] if scope and len(scope) == 1 else None)
    report = build_report(snap, request.year, request.stage, scope, judgement)
    if request.scenarios:  # projections beside the ledger, never in it
        listed = scenario_list(store, actor)
        report = replace(
            report,
            scenarios=compare_scenarios(store, actor, list(request.scenarios), as_of),
            scenario_notes=dict(zip(listed["name"], listed["note"], strict=True)),
        )
    page = report_html(report, snap, request.lang, actor.user_name)
    content = page.encode("utf-8")
    if request.format == "pdf":
        content = html_to_pdf(page)
    suffix, media_type = REPORT_FORMATS[request.format]
    lang_tag = "" if request.lang == "zh" else "_en"
    filename = f"progress_report_{request.year}_{as_of.isoformat()}{lang_tag}{suffix}"
    store.record_event(
        actor.user_name,
        "export",
        "progress_report",
        detail={
            "format": request.format,
            "year": request.year,
            "as_of": as_of.isoformat(),
            "stage": report.stage.value,
            "lang": request.lang,
            "bytes": len(content),
        },
    )
    return ReportFile(content, filename, media_type, report)
