"""供给轨迹 Supply trajectory: the pipeline projected year by year with the slippage actually
observed — the band, the year the pledge is expected to be met and the years of supply. The
figures come from :mod:`spatial.figures.trajectory`; this page only shows them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from spatial.auth import Principal
from spatial.figures.trajectory import ASSUMPTION_KEYS, Trajectory, trajectory
from spatial.i18n import fmt_area, t
from spatial.layers import STAGE_LABELS, Stage, label
from spatial.outputs.charts import trajectory_chart
from spatial.store.database import default_database_url
from spatial.ui.common import (
    T,
    _store,
    as_of_input,
    grouped_numbers,
    kept_choice,
    lang,
    principal,
    snapshot,
    store,
)

STAGES = (Stage.STARTED, Stage.COMPLETED, Stage.DELIVERED)
GROUPS = {"city": None, "district": "district_id", "park": "park_id"}


@st.cache_data(show_spinner=False, max_entries=16)
def _trajectory(
    url: str, revision: tuple, as_of: date, group: str | None, who: tuple
) -> Trajectory:
    return trajectory(_store(url), Principal(*who), as_of, group_by=group)


def render() -> None:
    lg = lang()
    st.title(t("nav_trajectory", lg))
    st.caption(
        T(
            "按库中实际观察到的延误推算在库项目各阶段的面积（P10/P50/P90）。这是推算，不计入台账；"
            "方法见 README“供给轨迹”。",
            "The pipeline projected stage by stage with the slippage the store has actually "
            "observed (P10/P50/P90). A projection, never counted in the ledger; the method is "
            "in the README (supply trajectory).",
        )
    )
    as_of = as_of_input()
    group = kept_choice(
        st.sidebar.radio,
        T("分组", "Group"),
        list(GROUPS),
        lambda g: {"city": T("全市", "City"), "district": T("按区", "By district"),
                   "park": T("按园区", "By park")}[g],
        key="trajectory_group",
    )  # fmt: skip
    who = principal()
    key = (who.user_name, who.role, who.district_id)
    tr = _trajectory(default_database_url(), store().revision(), as_of, GROUPS[group], key)
    _headline(tr, lg)
    stage_name = label(STAGE_LABELS, tr.official, lg)
    st.subheader(
        T(f"累计{stage_name}面积（官方口径）", f"Cumulative {stage_name} (official stage)")
    )
    st.altair_chart(trajectory_chart(tr.by_year, tr.official, lg), width="stretch")
    st.subheader(T("逐年预计", "Year by year"))
    table = _year_table(tr, lg)
    st.dataframe(table, hide_index=True, width="stretch", column_config=grouped_numbers(table))
    if tr.supply is not None:
        st.subheader(T("供给年数", "Years of supply"))
        st.dataframe(_supply_table(tr, lg), hide_index=True, width="stretch")
    if tr.groups is not None:
        st.subheader(T("分组（P50，官方口径）", "By group (P50, official stage)"))
        _group_table(tr, group, lg)
    st.subheader(T("延误与假设", "Slippage and assumptions"))
    st.caption(_slippage_note(tr, lg))
    st.dataframe(_assumption_table(tr, lg), hide_index=True, width="stretch")


def _headline(tr: Trajectory, lg: str) -> None:
    if not tr.measured:
        st.info(
            T(
                "本区没有分解指标：只显示本区项目的预计，不与全市目标比较。",
                "Your district has no allocation: its own pipeline is shown, never set "
                "against the city's target.",
            )
        )
        return
    left, middle, right = st.columns(3)
    met = str(tr.year_met) if tr.year_met else T("2030年前无法完成", "not by 2030")
    left.metric(T("预计完成承诺的年份", "Pledge expected to be met"), met)
    middle.metric(
        T(f"{tr.pledge_end}年底前完成的概率", f"Chance of meeting it by {tr.pledge_end}"),
        f"{tr.met_by_period_end:.0%}",
    )
    years = tr.supply["f_years_of_supply"] if tr.supply else None
    right.metric(T("供给年数", "Years of supply"), "—" if years is None else f"{years:.2f}")


def _year_table(tr: Trajectory, lg: str) -> pd.DataFrame:
    by_year = tr.by_year
    out = pd.DataFrame({t("year", lg): by_year["year"].astype(str)})
    for stage in STAGES:
        name = label(STAGE_LABELS, stage, lg)
        out[f"{name} P50（㎡）" if lg == "zh" else f"{name} P50 (m²)"] = by_year[
            f"{stage.value}_p50_m2"
        ].round(0)
        out[f"{name} P10–P90"] = [
            f"{a:,.0f}–{b:,.0f}"
            for a, b in zip(by_year[f"{stage.value}_p10_m2"], by_year[f"{stage.value}_p90_m2"],
                            strict=True)
        ]  # fmt: skip
        out[T(f"{name}已证实（㎡）", f"{name} confirmed (m²)")] = by_year[
            f"{stage.value}_confirmed_m2"
        ].round(0)
    out[T("累计 P50（㎡）", "Cumulative P50 (m²)")] = by_year["cumulative_p50_m2"].round(0)
    if tr.measured:
        out[T("累计目标（㎡）", "Cumulative target (m²)")] = by_year["cumulative_target_m2"]
    return out


def _supply_table(tr: Trajectory, lg: str) -> pd.DataFrame:
    s = tr.supply
    stage_name = label(STAGE_LABELS, tr.official, lg)
    if s["d_requirement_per_year_m2"] is None:
        rows = [(T("承诺期已结束", "The pledge period is over"), "—")]
    else:
        band = f"{fmt_area(s['e_supply_p10_m2'], lg)}–{fmt_area(s['e_supply_p90_m2'], lg)}"
        rows = [
            (T("(a) 本年目标", "(a) this year's target"), fmt_area(s["a_target_m2"], lg)),
            (T("(b) 以往年份的缺口", "(b) shortfall of the years past"),
             fmt_area(s["b_shortfall_m2"], lg)),
            (T("(c) 剩余承诺年数（含本年）", "(c) pledge years left (this one included)"),
             str(s["c_years_left"])),
            (T("(d) = a + b ÷ c 每年需要", "(d) = a + b ÷ c, needed per year"),
             fmt_area(s["d_requirement_per_year_m2"], lg)),
            (T(f"(e) 未来5年预计{stage_name}（P50，P10–P90）",
               f"(e) expected {stage_name} in the next 5 years (P50, P10–P90)"),
             f"{fmt_area(s['e_supply_p50_m2'], lg)}（{band}）" if lg == "zh"
             else f"{fmt_area(s['e_supply_p50_m2'], lg)} ({band})"),
            (T("(f) = e ÷ d 供给年数", "(f) = e ÷ d, years of supply"),
             f"{s['f_years_of_supply']:.2f}"),
        ]  # fmt: skip
    return pd.DataFrame(rows, columns=[T("项目", "Item"), T("数值", "Value")])


def _group_table(tr: Trajectory, group: str, lg: str) -> None:
    key = "district_id" if group == "district" else "park_id"
    snap = snapshot(tr.as_of)
    names = snap.district_names(lg) if group == "district" else snap.park_names(lg)
    wide = tr.groups.pivot(index=key, columns="year", values="p50_m2").round(0)
    wide.columns = [str(c) for c in wide.columns]
    wide.insert(
        0, T("名称", "Name"), [names.get(i, T("园区外", "outside parks")) for i in wide.index]
    )
    st.dataframe(wide, hide_index=True, width="stretch", column_config=grouped_numbers(wide))


def _slippage_note(tr: Trajectory, lg: str) -> str:
    parts = []
    for stage in STAGES:
        name = label(STAGE_LABELS, stage, lg)
        n = tr.observed[stage.value]
        how = (
            T("按观察到的延误重抽样", "band from observed slippage")
            if tr.banded[stage.value]
            else T("样本不足，用默认延误（无区间）", "too few: default slippage (no band)")
        )
        parts.append(T(f"{name}：观察到 {n} 次延误，{how}", f"{name}: {n} observed, {how}"))
    return "；".join(parts) if lg == "zh" else "; ".join(parts)


def _assumption_table(tr: Trajectory, lg: str) -> pd.DataFrame:
    a = tr.assumptions
    bands = {"small": T("小（<10万㎡）", "small (< 100,000 m²)"),
             "medium": T("中（<30万㎡）", "medium (< 300,000 m²)"),
             "large": T("大", "large"), "all": T("全部", "all")}  # fmt: skip
    return pd.DataFrame(
        {
            T("假设", "Assumption"): a["key"].map(
                lambda k: ASSUMPTION_KEYS[k][0 if lg == "zh" else 1]
            ),
            T("规模", "Size"): a["band"].map(bands),
            T("天数", "Days"): a["days"].astype(int),
            t("source", lg): a["source"],
        }
    )
