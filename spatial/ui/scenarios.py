"""方案 Scenarios: make a named set of changes on top of the official register and compare it
with the baseline. Nothing here changes the register or the ledger; the rules (who may change
what, what may be moved) are :mod:`spatial.figures.scenarios`'s, checked inside the write."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.auth import Action, PermissionDenied, Principal
from spatial.clock import beijing_text, shenzhen_today
from spatial.figures.capacity import PLOT_RATIO_SCOPES
from spatial.figures.scenarios import (
    MAX_COMPARED,
    ScenarioError,
    change_scenario,
    compare_scenarios,
    create_scenario,
    scenario_list,
)
from spatial.i18n import fmt_area, t
from spatial.layers import STAGE_LABELS, Stage, label
from spatial.outputs.scenario_table import comparison_csv, comparison_workbook
from spatial.store.database import default_database_url
from spatial.ui.common import T, _store, lang, markdown_text, principal, snapshot, store

SCOPES = {"park": ("园区", "park"), "district": ("区", "district"),
          "land_use": ("用地性质", "land use"), "city": ("全市", "city")}  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=16)
def _compared(url: str, revision: tuple, names: tuple, who: tuple) -> pd.DataFrame:
    """The comparison, computed once per store revision, choice and user."""
    return compare_scenarios(_store(url), Principal(*who), list(names), draws=100)


def render() -> None:
    lg = lang()
    st.title(t("nav_scenarios", lg))
    st.caption(
        T(
            "方案是在官方登记之上的一组假设变更，单独保存，不改变官方台账；只能改计划，不能改已发生的事。",
            "A scenario is a set of changes on top of the official register, stored apart; it "
            "never changes the official ledger, and it changes plans, not what happened.",
        )
    )
    who = principal()
    listed = scenario_list(store(), who)
    _list(listed, lg)
    if who.can(Action.PLAN, who.district_id):
        left, right = st.columns(2)
        with left:
            _create_form(who, lg)
        with right:
            _change_form(who, listed, lg)
    _compare(who, listed, lg)


def _list(listed: pd.DataFrame, lg: str) -> None:
    names = snapshot(shenzhen_today()).district_names(lg)
    st.dataframe(
        pd.DataFrame(
            {
                T("方案", "Scenario"): listed["name"],
                T("范围", "Scope"): listed["district_id"].map(
                    lambda d: T("全市", "city") if d is None or d != d else names.get(d, d)
                ),
                T("变更数", "Changes"): listed["changes"],
                T("说明", "Note"): listed["note"].fillna(""),
                T("最后修改", "Last changed by"): listed["updated_by"],
                T("时间（北京时间）", "Time (Beijing)"): listed["updated_at"].map(beijing_text),
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _refusal(exc: Exception, lg: str) -> None:
    st.error(markdown_text(exc.text(lg) if hasattr(exc, "text") else str(exc)))


def _create_form(who, lg: str) -> None:
    with st.form("scenario_create"):
        st.subheader(T("新建方案", "New scenario"))
        name = st.text_input(T("名称", "Name"), key="scenario_name")
        note = st.text_input(T("说明", "Note"), key="scenario_note")
        if st.form_submit_button(T("新建", "Create")):
            try:
                create_scenario(store(), who, name.strip(), note)
            except (ScenarioError, PermissionDenied) as exc:
                _refusal(exc, lg)
            else:
                st.rerun()


def _change_form(who, listed: pd.DataFrame, lg: str) -> None:
    if listed.empty:
        return
    st.subheader(T("添加变更", "Add a change"))
    kinds = {"move": T("移动计划日期", "Move a planned date"),
             "plot_ratio": T("设定容积率", "Set a plot ratio"),
             "site": T("地块转为计划项目", "Turn a site into a project")}  # fmt: skip
    kind = st.radio(T("类型", "Kind"), list(kinds), format_func=kinds.get, horizontal=True,
                    key=f"scenario_kind_{lg}")  # fmt: skip
    with st.form("scenario_change"):
        name = st.selectbox(T("方案", "Scenario"), listed["name"].tolist(), key="scenario_pick")
        change = _change_fields(kind, lg)
        if st.form_submit_button(T("添加", "Add")):
            try:
                change_scenario(store(), who, name, change)
            except (ScenarioError, PermissionDenied) as exc:
                _refusal(exc, lg)
            else:
                st.rerun()


def _change_fields(kind: str, lg: str) -> dict:
    if kind == "move":
        projects = snapshot(shenzhen_today()).projects
        stage = st.selectbox(T("阶段", "Stage"), [s.value for s in Stage],
                             format_func=lambda s: label(STAGE_LABELS, s, lg))  # fmt: skip
        project = st.selectbox(T("项目", "Project"), projects["project_id"].tolist())
        days = st.number_input(T("推迟天数（负数为提前）", "Days later (negative: earlier)"),
                               value=365, step=30)  # fmt: skip
        return {"kind": "move", "project_id": project, "stage": stage, "days": int(days)}
    if kind == "plot_ratio":
        scope = st.selectbox(T("范围", "Scope"), list(PLOT_RATIO_SCOPES),
                             format_func=lambda s: SCOPES[s][0 if lg == "zh" else 1])  # fmt: skip
        key = st.text_input(
            T(
                "对象（园区、区代码、用地性质或 all）",
                "Applies to (park, district id, land use or all)",
            ),
            value="all",
        )
        ratio = st.number_input(T("容积率", "Plot ratio"), min_value=0.1, max_value=20.0,
                                value=4.0, step=0.5)  # fmt: skip
        return {"kind": "plot_ratio", "scope": scope, "key": key.strip(), "plot_ratio": ratio}
    site = st.text_input(T("地块编号", "Site id"), value="S-00001")
    start = st.date_input(T("计划开工日期", "Planned start"), value=shenzhen_today())
    return {"kind": "site", "site_id": site.strip(), "start_date": start.isoformat()}


def _compare(who, listed: pd.DataFrame, lg: str) -> None:
    st.subheader(T("与基准比较", "Compare with the baseline"))
    chosen = st.multiselect(
        T(f"方案（最多 {MAX_COMPARED} 个）", f"Scenarios (at most {MAX_COMPARED})"),
        listed["name"].tolist(),
        max_selections=MAX_COMPARED,
        key=f"scenario_compare_{lg}",
    )
    key = (who.user_name, who.role, who.district_id)
    table = _compared(default_database_url(), store().revision(), tuple(chosen), key)
    shown = pd.DataFrame(
        {
            T("方案", "Scenario"): table["scenario"].replace("baseline", T("基准", "baseline")),
            T("预计完成年份", "Pledge met"): table["year_met"].map(
                lambda y: (
                    T("2030年前无法完成", "not by 2030") if y is None or y != y else str(int(y))
                )
            ),
            T("2027年底前完成概率", "Chance by 2027"): table["met_by_pledge_end"].map(
                lambda v: "—" if v is None or v != v else f"{v:.0%}"
            ),
            T("2027年底累计 P50", "Cumulative P50, end 2027"): table["cumulative_p50_m2"].map(
                lambda v: fmt_area(v, lg)
            ),
            T("供给年数", "Years of supply"): table["years_of_supply"].map(
                lambda v: "—" if v is None or v != v else f"{v:.2f}"
            ),
            T("用地潜力", "Capacity"): table["capacity_m2"].map(lambda v: fmt_area(v, lg)),
            T("占用潜力", "Capacity used"): table["capacity_used_m2"].map(
                lambda v: fmt_area(v, lg)
            ),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    gone = table[table["sites_missing"].astype(bool)]
    for row in gone.itertuples(index=False):
        ids = markdown_text(row.sites_missing)  # site ids come from uploads: shown as text
        name = markdown_text(row.scenario)
        st.warning(
            T(
                f"方案“{name}”中的地块 {ids} 已不在地块图层中（被区上传替换），未计入。",
                f"Scenario '{name}' names sites no longer in the layer (a district's "
                f"upload replaced them): {ids}; they are left out.",
            )
        )
    notes = dict(zip(listed["name"], listed["note"], strict=True))
    left, right = st.columns(2)
    left.download_button(
        T("下载比较表（Excel）", "Download the comparison (Excel)"),
        comparison_workbook(table, notes, lg, shenzhen_today().isoformat()),
        file_name=f"scenarios_{shenzhen_today().isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
    )
    right.download_button(T("下载比较表（CSV）", "Download the comparison (CSV)"),
                          comparison_csv(table, notes, lg),
                          file_name=f"scenarios_{shenzhen_today().isoformat()}.csv",
                          mime="text/csv", on_click="ignore")  # fmt: skip
