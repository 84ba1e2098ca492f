"""总览 Dashboard: the pledge this year and over five years, by district, park and cluster."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from spatial.auth import Principal, Role
from spatial.clock import beijing_column, beijing_text
from spatial.figures.counting import VERDICT_LABELS, Verdict, pipeline, verdict_reason
from spatial.figures.filters import CountedAt
from spatial.figures.ledger import COUNTING_RULE, build_ledger, split_by
from spatial.i18n import fmt_area, t
from spatial.layers import STAGE_CHOICES, STAGE_LABELS, STATUS_LABELS, Stage, label
from spatial.outputs.charts import area_bars, year_chart
from spatial.store.database import default_database_url
from spatial.ui import report
from spatial.ui.common import (
    as_of_input,
    grouped_numbers,
    kept_choice,
    lang,
    markdown_text,
    principal,
    shared_snapshot,
    show_counted,
    snapshot,
    store,
)


def _split_table(frame: pd.DataFrame, key_label: str, lg: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            key_label: frame["label"].replace("", t("unassigned", lg)),
            t("area_m2", lg): frame["area_m2"].map(lambda v: f"{v:,.0f}"),
            t("projects_count", lg): frame["projects"],
            t("share", lg): (frame["share"] * 100).round(1).astype(str) + "%",
        }
    )
    return out


# a district without an allocation is never shown the city's targets beside its own figures
TARGET_COLUMNS = ("target_m2", "cumulative_target_m2", "gap_m2", "required_pace_m2")


def _numbers_table(frame: pd.DataFrame) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", column_config=grouped_numbers(frame))


def _verdict_box(judgement, names: dict, lg: str) -> None:
    official = judgement.official_stage
    stage_text = label(STAGE_LABELS, official.stage, lg)
    scope = judgement.scope
    st.caption(
        t("scope_district", lg, name=names.get(scope, scope)) if scope else t("scope_city", lg)
    )
    title = t("verdict_title", lg, stage=stage_text)
    reason = verdict_reason(judgement, lg)
    if judgement.verdict is None:
        st.info(f"**{title}** — {reason}")
    else:
        sep = "：" if lg == "zh" else ": "
        text = f"**{title}{sep}{label(VERDICT_LABELS, judgement.verdict, lg)}** — {reason}"
        if judgement.verdict == Verdict.INSUFFICIENT_DATA:
            st.warning(text)
        elif judgement.verdict == Verdict.BEHIND:
            st.error(text)
        else:
            st.success(text)
        if judgement.allocation is not None:
            sources = "; ".join(sorted(set(judgement.allocation["source"])))
            st.caption(t("district_allocation", lg, source=markdown_text(sources)))
    who = (
        t("official_stage_default", lg)
        if official.is_default
        else t(
            "official_stage_set",
            lg,
            who=markdown_text(official.set_by),
            when=beijing_text(official.set_at, False),
        )
    )
    reason, source = markdown_text(official.reason), markdown_text(official.source or "—")
    sep = "：" if lg == "zh" else ": "
    st.caption(f"{who} · {t('reason', lg)}{sep}{reason} · {t('source', lg)}{sep}{source}")


def _pipeline(positions: list, as_of: date, lg: str) -> None:
    """开工 → 竣工 → 交付 side by side, each against the target (no stage hides the others)."""
    st.subheader(t("pipeline", lg))
    for column, p in zip(st.columns(len(positions)), positions, strict=True):
        with column:
            heading = label(STAGE_LABELS, p.stage, lg)
            st.markdown(f"**{heading}**" + (f" · {t('official_mark', lg)}" if p.official else ""))
            st.metric(
                t("stage_year", lg, year=p.year, stage=heading),
                fmt_area(p.year_counted_m2, lg),
                t("of_target", lg, target=fmt_area(p.year_target_m2, lg)) if p.measured else None,
                delta_color="off",
                delta_arrow="off",
            )
            if p.measured:
                st.progress(min(p.year_share, 1.0), text=_gap(p.year_gap_m2, lg))
            st.metric(
                t("stage_period", lg, start=p.period_start, end=p.period_end),
                fmt_area(p.cumulative_m2, lg),
                (
                    t("of_period_target", lg, target=fmt_area(p.period_target_m2, lg))
                    if p.measured
                    else None
                ),
                delta_color="off",
                delta_arrow="off",
            )
            if p.measured:
                st.progress(min(p.period_share, 1.0), text=_gap(p.period_gap_m2, lg))
            if p.expected_m2:
                st.caption(t("expected_note", lg, value=fmt_area(p.expected_m2, lg)))
            links = (
                ("year", t("show_projects_year", lg, year=p.year), p.year, p.year),
                ("period", t("show_projects_period", lg), p.period_start, p.period_end),
            )
            figures = {"year": p.year_counted_m2, "period": p.cumulative_m2}
            for kind, text, first, last in links:  # the projects behind each figure
                key = f"show_{p.stage.value}_{kind}"
                if figures[kind] and st.button(text, key=key, type="tertiary"):
                    show_counted(CountedAt(p.stage, first, last, as_of), "projects")


def _gap(short_m2: float, lg: str) -> str:
    return t("reached", lg) if short_m2 <= 0 else t("gap", lg, value=fmt_area(short_m2, lg))


def _coverage(judgement, names: dict, lg: str) -> None:
    c = judgement.coverage
    with st.expander(
        t("register_coverage_title", lg), expanded=judgement.verdict == Verdict.INSUFFICIENT_DATA
    ):
        figures = (
            ("coverage_projects", c.reported_projects, c.project_share,
             f"{c.registered_projects:,}", lambda v: f"{v:,.0f}"),
            ("coverage_area", c.reported_area, c.area_share,
             fmt_area(c.registered_area_m2, lg), lambda v: fmt_area(v, lg)),
        )  # fmt: skip
        for column, (key, reported, share, held, shown) in zip(st.columns(2), figures, strict=True):
            if reported is None:
                continue
            column.metric(
                t(key, lg),
                f"{held} / {shown(reported.value)}",
                f"{share:.0%}",
                delta_color="off",
                delta_arrow="off",
            )
            column.caption(
                t("coverage_reported", lg, date=reported.report_date, source=reported.source_ids)
            )
        st.markdown(f"**{t('district_submissions', lg)}**")
        d = c.districts
        st.dataframe(
            pd.DataFrame(
                {
                    t("district", lg): d["district_id"].map(names),
                    t("projects_count", lg): d["projects"],
                    t("area_m2", lg): d["area_m2"].map(lambda v: f"{v:,.0f}"),
                    t("last_upload", lg): beijing_column(d["last_upload_at"], seconds=False),
                    t("upload_state", lg): d["state"].map(lambda v: t(f"state_{v}", lg)),
                }
            ),
            hide_index=True,
            width="stretch",
        )


FIGURES_KEPT = 16  # (revision, date, scope, stage, reader) whose figures stay computed


@st.cache_resource(show_spinner=False, max_entries=FIGURES_KEPT)
def _verdict(url: str, revision: tuple, as_of: date, scope: str | None):
    """The verdict (for the city, or a district against its allocation) and the pipeline,
    computed once per store revision and shared: at 10⁵ projects they are four ledgers,
    about a second, on every rerun otherwise. The page only reads them."""
    judgement = shared_snapshot(url, revision, as_of).judgement(scope)
    return judgement, pipeline(judgement)


@st.cache_resource(show_spinner=False, max_entries=FIGURES_KEPT)
def _stage_ledger(
    url: str, revision: tuple, as_of: date, scope: str | None, who: Principal | None, stage: str
):
    """The ledger of the projects ``who`` may read at ``stage``, against the verdict's
    targets (the city's pledge, or the district's allocation); shared like :func:`_verdict`."""
    judgement, _ = _verdict(url, revision, as_of, scope)
    snap = shared_snapshot(url, revision, as_of)
    projects = snap.projects if who is None else snap.readable_by(who).projects
    targets = judgement.ledger.by_year[["year", "target_m2"]]
    return build_ledger(projects, targets, Stage(stage), as_of)


def render() -> None:
    lg = lang()
    st.title(t("nav_dashboard", lg))
    as_of = as_of_input()
    who = principal()
    scope = who.district_id if who is not None and who.role == Role.DISTRICT else None
    url, revision = default_database_url(), store().revision()
    city = shared_snapshot(url, revision, as_of)  # the city's, read only here
    judgement, positions = _verdict(url, revision, as_of, scope)
    names = city.district_names(lg)
    _verdict_box(judgement, names, lg)
    _pipeline(positions, judgement.ledger.as_of, lg)
    _coverage(judgement, names, lg)

    stage = kept_choice(
        st.sidebar.radio,
        t("stage", lg),
        [s.value for s in STAGE_CHOICES],
        lambda v: label(STAGE_LABELS, v, lg),
        key="stage",
        default=judgement.official_stage.stage.value,
    )
    snap = snapshot(as_of)
    # the same targets as the verdict: the city's pledge, or the district's allocation
    ledger = _stage_ledger(url, revision, as_of, scope, who, stage)
    s = ledger.summary
    measured = judgement.verdict is not None or judgement.scope is None
    if measured:
        st.caption(t("expected_to_date", lg, value=fmt_area(s.expected_to_date_m2, lg)))
    st.info(
        f"**{t('counting_rule', lg)}**：{COUNTING_RULE[lg]}"
        if lg == "zh"
        else f"**{t('counting_rule', lg)}**: {COUNTING_RULE[lg]}"
    )
    st.warning(t("data_note", lg, n=len(snap.projects)))

    _by_year(ledger, measured, lg)
    _by_district_park_and_line(ledger, snap, lg)
    _by_cluster(ledger, snap, lg)
    _overdue(ledger, snap, lg)
    with st.expander(t("reported_totals", lg)):
        st.dataframe(snap.programme_reports, hide_index=True, width="stretch")
    st.caption(
        f"{t('before_period', lg)}: {fmt_area(s.before_period_m2, lg)} · "
        f"{t('undated', lg)}: {s.undated_projects} · {t('no_area', lg)}: {s.projects_without_area}"
    )
    report.dashboard_buttons(lg, s.year, as_of, s.stage)


def _by_year(ledger, measured: bool, lg: str) -> None:
    """The ledger year by year (targets only where the viewer is measured against them)."""
    st.subheader(t("by_year", lg))
    by_year = ledger.by_year if measured else ledger.by_year.drop(columns=list(TARGET_COLUMNS))
    st.altair_chart(year_chart(by_year, lg), width="stretch")
    names = {c: t(f"col_{c}", lg) for c in by_year.columns if c != "year"}
    table = by_year.rename(columns={"year": t("year", lg), **names}).round(0)
    st.dataframe(table, hide_index=True, width="stretch", column_config=grouped_numbers(table))


def _by_district_park_and_line(ledger, snap, lg: str) -> None:
    """The counted area by district, by park, and inside / outside the control lines."""
    left, right = st.columns(2)
    with left:
        st.subheader(t("by_district", lg))
        by_d = split_by(ledger, "district_id", snap.district_names(lg))
        if not by_d.empty:
            st.altair_chart(area_bars(by_d, lg), width="stretch")
        _numbers_table(_split_table(by_d, t("district", lg), lg))
    with right:
        st.subheader(t("by_park", lg))
        by_p = split_by(ledger, "park_id", snap.park_names(lg))
        _numbers_table(_split_table(by_p, t("park", lg), lg))
        st.subheader(t("control_share", lg))
        detail = ledger.projects.copy()
        detail["inside_label"] = (
            detail["inside_control_line"]
            .map({True: t("inside", lg), False: t("outside", lg)})
            .fillna(t("no_location", lg))
        )
        by_c = split_by(ledger, "inside_label", detail=detail)
        by_c["label"] = by_c["inside_label"]
        st.dataframe(
            _split_table(by_c, t("control_share", lg), lg), hide_index=True, width="stretch"
        )
        quality = detail["control_lines_quality"].iloc[0] if len(detail) else "missing"
        if "illustrative" in str(quality):
            st.caption(t("legend_illustrative", lg) + " — " + t("layer_control_level1", lg))


def _by_cluster(ledger, snap, lg: str) -> None:
    st.subheader(t("by_cluster", lg))
    exploded = ledger.projects.assign(
        cluster=ledger.projects["clusters"].fillna("").str.split(";")
    ).explode("cluster")
    by_k = split_by(ledger, "cluster", snap.cluster_names(lg), detail=exploded)
    st.caption(t("cluster_matching", lg) + " " + t("cluster_double_count", lg))
    _numbers_table(_split_table(by_k, t("cluster", lg), lg))


def _overdue(ledger, snap, lg: str) -> None:
    """Projects past their planned completion date and not completed."""
    st.subheader(t("overdue", lg))
    if ledger.overdue.empty:
        st.success(t("no_overdue", lg))
    else:
        names = snap.district_names(lg)
        late = ledger.overdue
        st.dataframe(
            pd.DataFrame(
                {
                    "ID": late["project_id"],
                    t("name", lg): late["name_zh"] if lg == "zh" else late["name_en"],
                    t("district", lg): late["district_id"].map(names),
                    t("status", lg): late["status"].map(lambda v: label(STATUS_LABELS, v, lg)),
                    t("completion_date", lg): late["completion_date"],
                    t("days_overdue", lg): late["days_overdue"],
                }
            ),
            hide_index=True,
            width="stretch",
        )
