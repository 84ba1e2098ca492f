"""总览 Dashboard: the pledge this year and over five years, by district, park and cluster."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.charts import area_bars, year_chart
from spatial.i18n import fmt_area, t
from spatial.layers import STAGE_CHOICES, STAGE_LABELS, STATUS_LABELS, Stage, label
from spatial.ledger import COUNTING_RULE, split_by
from spatial.ui import report
from spatial.ui.common import as_of_input, lang, snapshot


def _split_table(frame: pd.DataFrame, key_label: str, lg: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            key_label: frame["label"].replace("", t("unassigned", lg)),
            t("area_m2", lg): frame["area_m2"].round(0),
            t("projects_count", lg): frame["projects"],
            t("share", lg): (frame["share"] * 100).round(1).astype(str) + "%",
        }
    )
    return out


def render() -> None:
    lg = lang()
    st.title(t("nav_dashboard", lg))
    as_of = as_of_input()
    stage = st.sidebar.radio(
        t("stage", lg),
        options=[s.value for s in STAGE_CHOICES],
        format_func=lambda v: label(STAGE_LABELS, v, lg),
        key="stage",
    )
    snap = snapshot(as_of)
    ledger = snap.ledger(Stage(stage))
    s = ledger.summary
    stage_text = label(STAGE_LABELS, s.stage, lg)

    c1, c2, c3 = st.columns(3)
    pct_year = s.year_counted_m2 / s.year_target_m2 * 100 if s.year_target_m2 else 0.0
    c1.metric(
        t("this_year", lg, year=s.year, stage=stage_text),
        fmt_area(s.year_counted_m2, lg),
        f"{pct_year:.1f}% · " + t("of_target", lg, target=fmt_area(s.year_target_m2, lg)),
        delta_color="off",
        delta_arrow="off",
    )
    pct_total = s.cumulative_m2 / s.period_target_m2 * 100 if s.period_target_m2 else 0.0
    c2.metric(
        t("cumulative", lg, start=s.period_start, end=s.period_end),
        fmt_area(s.cumulative_m2, lg),
        f"{pct_total:.1f}% · " + t("of_period_target", lg, target=fmt_area(s.period_target_m2, lg)),
        delta_color="off",
        delta_arrow="off",
    )
    c3.metric(
        t("required_pace", lg),
        fmt_area(s.required_pace_m2, lg),
        t("remaining_years", lg, n=s.remaining_years)
        + " · "
        + (t("on_track", lg) if s.on_track else t("behind", lg)),
        delta_color="green" if s.on_track else "red",
        delta_arrow="off",
    )
    st.caption(t("expected_to_date", lg, value=fmt_area(s.expected_to_date_m2, lg)))
    st.info(
        f"**{t('counting_rule', lg)}**：{COUNTING_RULE[lg]}"
        if lg == "zh"
        else f"**{t('counting_rule', lg)}**: {COUNTING_RULE[lg]}"
    )
    st.warning(t("data_note", lg, n=len(snap.projects)))

    st.subheader(t("by_year", lg))
    st.altair_chart(year_chart(ledger.by_year, lg), width="stretch")
    names = {c: t(f"col_{c}", lg) for c in ledger.by_year.columns if c != "year"}
    table = ledger.by_year.rename(columns={"year": t("year", lg), **names}).round(0)
    st.dataframe(table, hide_index=True, width="stretch")

    left, right = st.columns(2)
    with left:
        st.subheader(t("by_district", lg))
        by_d = split_by(ledger, "district_id", snap.district_names(lg))
        if not by_d.empty:
            st.altair_chart(area_bars(by_d, lg), width="stretch")
        st.dataframe(_split_table(by_d, t("district", lg), lg), hide_index=True, width="stretch")
    with right:
        st.subheader(t("by_park", lg))
        by_p = split_by(ledger, "park_id", snap.park_names(lg))
        st.dataframe(_split_table(by_p, t("park", lg), lg), hide_index=True, width="stretch")
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

    st.subheader(t("by_cluster", lg))
    exploded = ledger.projects.assign(
        cluster=ledger.projects["clusters"].fillna("").str.split(";")
    ).explode("cluster")
    by_k = split_by(ledger, "cluster", snap.cluster_names(lg), detail=exploded)
    st.caption(
        "一个项目涉及多个集群时，面积计入每个集群，合计可能超过总量。"
        if lg == "zh"
        else "A project in several clusters counts in each; the column can add up to more than "
        "the total."
    )
    st.dataframe(_split_table(by_k, t("cluster", lg), lg), hide_index=True, width="stretch")

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

    with st.expander(t("reported_totals", lg)):
        st.dataframe(snap.programme_reports, hide_index=True, width="stretch")
    st.caption(
        f"{t('before_period', lg)}: {fmt_area(s.before_period_m2, lg)} · "
        f"{t('undated', lg)}: {s.undated_projects} · {t('no_area', lg)}: {s.projects_without_area}"
    )
    report.dashboard_buttons(lg, s.year, as_of, s.stage)
