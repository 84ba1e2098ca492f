"""进度报告 The progress report from the app: full controls on the export page, one click on the
dashboard. Both call :func:`spatial.outputs.report.progress_report`, which checks the permission."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from spatial.auth import Action, PermissionDenied
from spatial.figures.scenarios import ScenarioError, scenario_list
from spatial.i18n import t
from spatial.layers import STAGE_CHOICES, STAGE_LABELS, Stage, label
from spatial.outputs.printing import PrintError
from spatial.outputs.report import (
    REPORT_FORMATS,
    ReportError,
    ReportRequest,
    progress_report,
)
from spatial.ui.common import kept_choice, principal, store


def offer(request: ReportRequest, lg: str, key: str) -> None:
    """Build the report and show its download button, or say why it cannot be made."""
    try:
        with st.spinner("正在生成…" if lg == "zh" else "Building…"):
            result = progress_report(store(), principal(), request)
    except (ReportError, PrintError, PermissionDenied, ScenarioError) as exc:
        st.error(exc.text(lg))
        return
    st.success(f"{result.filename}（{len(result.content):,} bytes）")
    st.download_button(
        "下载进度报告" if lg == "zh" else "Download the report",
        result.content,
        result.filename,
        result.media_type,
        key=f"{key}_download",
        on_click="ignore",  # no rerun: the file stays until it is fetched
    )


def dashboard_buttons(lg: str, year: int, as_of: date, stage: Stage) -> None:
    """The report of what the dashboard shows (year, as-of date, stage), as HTML or PDF."""
    who = principal()
    if who is None or not who.can(Action.EXPORT, who.district_id):
        return
    st.divider()
    st.caption(
        f"进度报告：{year}年，截至 {as_of.isoformat()}，按{label(STAGE_LABELS, stage, lg)}计"
        "（更多选项见“导出”页）"
        if lg == "zh"
        else f"Progress report: {year}, as of {as_of.isoformat()}, counted at "
        f"{label(STAGE_LABELS, stage, lg)} (more options on the Export page)"
    )
    left, right, _ = st.columns([1, 1, 3])
    for column, fmt in ((left, "html"), (right, "pdf")):
        text = ("进度报告 " if lg == "zh" else "Report ") + fmt.upper()
        if column.button(text, key=f"dashboard_report_{fmt}"):
            offer(ReportRequest(year, as_of, stage, lg, fmt), lg, "dashboard_report")


def report_section(lg: str, pledge: pd.DataFrame, official: Stage, as_of: date) -> None:
    """进度报告: the progress report for a pledge year, as HTML or PDF, for the signed-in user,
    as of the page's own as-of date (one date on the page). ``pledge``: the page's cached
    snapshot's schedule, so a rerun reads nothing more; ``official``: the official counting
    stage, the report's default."""
    i = 0 if lg == "zh" else 1
    st.divider()
    st.subheader("进度报告（领导汇报用）" if lg == "zh" else "Progress report (for leadership)")
    st.caption(
        "承诺表与图表、按区与园区的进度、逾期项目和数据覆盖说明；HTML 可在任何浏览器打开，"
        "PDF 由无头 Chromium 打印（A4、带页码）。"
        if lg == "zh"
        else "The pledge table and charts, progress by district and park, the overdue list and "
        "the data-coverage note; HTML opens in any browser, the PDF is printed by headless "
        "Chromium (A4, page numbers)."
    )
    years = [y for y in sorted(pledge["year"].astype(int)) if y <= as_of.year]
    if not years:
        st.info(
            f"截至 {as_of.isoformat()} 承诺期尚未开始。"
            if lg == "zh"
            else f"As of {as_of.isoformat()} the pledge period has not begun."
        )
        return
    c1, c3, c4 = st.columns(3)
    year = kept_choice(
        c1.selectbox, "报告年份" if lg == "zh" else "Year", years, str, "report_year", years[-1]
    )
    st.caption(
        f"统计截止日：{as_of.isoformat()}（即左侧的统计截止日；{year}年已过完时报告其全年结果）"
        if lg == "zh"
        else f"As of {as_of.isoformat()} (the as-of date on the left; for a year that has "
        "ended, the report gives its whole-year result)"
    )
    report_stage = kept_choice(
        c3.selectbox,
        t("stage", lg),
        [s.value for s in STAGE_CHOICES],
        lambda v: (
            label(STAGE_LABELS, v, lg)
            + (f"（{t('official_mark', lg)}）" if v == official.value else "")
        ),
        key="report_stage",
        default=official.value,
    )
    report_lang = kept_choice(
        c4.selectbox,
        "报告语言" if lg == "zh" else "Report language",
        ["zh", "en"],
        lambda v: {"zh": "中文", "en": "English"}[v],
        "report_lang",
        lg,
    )
    fmt = kept_choice(
        lambda *a, **k: st.radio(*a, horizontal=True, **k),
        "格式" if lg == "zh" else "Format",
        list(REPORT_FORMATS),
        lambda v: {"html": ("HTML（网页）", "HTML (web page)"), "pdf": ("PDF", "PDF")}[v][i],
        "report_format",
    )
    names = scenario_list(store(), principal())["name"].tolist()
    chosen = st.multiselect(
        "附加方案比较（预测，可选，最多 4 个）"
        if lg == "zh"
        else "Add a scenario comparison (projections; optional, up to 4)",
        names,
        max_selections=4,
        key=f"report_scenarios_{lg}",
    )
    if st.button("生成进度报告" if lg == "zh" else "Build the report", key="report_build"):
        request = ReportRequest(year, as_of, Stage(report_stage), report_lang, fmt, tuple(chosen))
        offer(request, lg, "report")
