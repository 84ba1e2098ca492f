"""计入口径设置 Counting settings (admins): the official counting stage, the coverage threshold
and the districts' allocations (分解指标) — each with its reason or source, each change in the
audit trail. The rules themselves live in :mod:`spatial.figures.counting`; this page only
collects them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.auth import Action, PermissionDenied, Principal, require
from spatial.clock import beijing_column, beijing_text
from spatial.figures.counting import (
    CountingError,
    coverage_threshold,
    official_stage,
    set_allocations,
    set_coverage_threshold,
    set_official_stage,
)
from spatial.i18n import fmt_area, t
from spatial.layers import STAGE_CHOICES, STAGE_LABELS, label
from spatial.store.database import Store
from spatial.ui.common import kept_choice, lang, markdown_text, principal, store

SETTING_ACTIONS = ("set_official_stage", "set_coverage_threshold", "set_allocation")
PLEDGE_YEARS = tuple(range(2023, 2028))
WAN = 1e4  # allocations are entered in 万㎡, like the headline
SAVED_FLAG = "counting_saved_flag"


def _saved(change, lg: str) -> None:
    """Run one settings write; a refusal is shown in the user's language (what was typed stays
    in the form). A saved change reruns the page so every table above shows it."""
    try:
        change()
    except (CountingError, PermissionDenied) as exc:
        st.error(exc.text(lg))
    else:
        st.session_state[SAVED_FLAG] = True
        st.rerun()


def _official_stage(s: Store, who: Principal, lg: str) -> None:
    current = official_stage(s, lg)
    st.subheader(t("counting_official_title", lg))
    who_set = (
        t("official_stage_default", lg)
        if current.is_default
        else t(
            "official_stage_set",
            lg,
            who=markdown_text(current.set_by),
            when=beijing_text(current.set_at, False),
        )
    )
    st.markdown(f"**{label(STAGE_LABELS, current.stage, lg)}** · {who_set}")
    sep = "：" if lg == "zh" else ": "
    st.caption(f"{t('reason', lg)}{sep}{markdown_text(current.reason)}")  # typed text, as text
    st.caption(f"{t('source', lg)}{sep}{markdown_text(current.source or '—')}")
    with st.form("counting_stage_form"):
        stage = kept_choice(
            lambda *a, **k: st.radio(*a, horizontal=True, **k),
            t("counting_official_choice", lg),
            [s.value for s in STAGE_CHOICES],
            lambda v: label(STAGE_LABELS, v, lg),
            key="counting_stage",
            default=current.stage.value,
            in_form=True,
        )
        reason = st.text_area(t("counting_reason", lg), key="counting_stage_reason")
        source = st.text_input(t("counting_source", lg), key="counting_stage_source")
        if st.form_submit_button(t("counting_save", lg)):
            _saved(lambda: set_official_stage(s, who, stage, reason, source or None), lg)


def _threshold(s: Store, who: Principal, lg: str) -> None:
    st.subheader(t("counting_threshold_title", lg))
    st.caption(t("counting_threshold_help", lg))
    with st.form("counting_threshold_form"):
        percent = st.number_input(
            t("counting_threshold_value", lg),
            min_value=1,
            max_value=100,
            value=round(coverage_threshold(s) * 100),
            step=5,
            key="counting_threshold",
        )
        reason = st.text_area(t("counting_reason", lg), key="counting_threshold_reason")
        if st.form_submit_button(t("counting_save", lg)):
            _saved(lambda: set_coverage_threshold(s, who, percent / 100, reason), lg)


def _allocations(s: Store, who: Principal, lg: str) -> None:
    st.subheader(t("counting_allocations_title", lg))
    st.caption(t("counting_allocations_help", lg))
    districts = s.layer("districts")
    names = dict(zip(districts["district_id"], districts[f"name_{lg}"], strict=True))
    held = s.allocations()
    if held.empty:
        st.info(t("counting_no_allocations", lg))
    else:
        table = pd.DataFrame(
            {
                t("district", lg): held["district_id"].map(names).fillna(held["district_id"]),
                t("year", lg): held["year"].astype(int),
                t("counting_allocation_value", lg): held["target_m2"].map(
                    lambda v: fmt_area(v, lg)
                ),
                t("source", lg): held["source"],
                t("counting_set_by", lg): held["set_by"],
                t("counting_set_at", lg): beijing_column(held["set_at"]),
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
    district = kept_choice(
        st.selectbox,
        t("district", lg),
        list(names),
        lambda d: names[d],
        key="counting_district",
    )
    mine = held[held["district_id"] == district].set_index("year")["target_m2"]
    with st.form("counting_allocation_form"):
        columns = st.columns(len(PLEDGE_YEARS))
        values = {
            year: column.number_input(
                t("counting_allocation_year", lg, year=year),
                min_value=0.0,
                max_value=2000.0,
                value=float(mine.get(year, 0.0)) / WAN,
                step=10.0,
                key=f"counting_allocation_{district}_{year}",
            )
            for year, column in zip(PLEDGE_YEARS, columns, strict=True)
        }
        source = st.text_input(t("counting_allocation_source", lg), key="counting_alloc_source")
        if st.form_submit_button(t("counting_save", lg)):
            targets = {y: (v * WAN if v > 0 else None) for y, v in values.items()}
            _saved(lambda: set_allocations(s, who, district, targets, source), lg)


def _history(s: Store, lg: str) -> None:
    st.subheader(t("counting_history", lg))
    events = s.audit()
    events = events[events["action"].isin(SETTING_ACTIONS)]
    if events.empty:
        st.caption(t("counting_no_history", lg))
        return
    shown = events.assign(at=beijing_column(events["at"]))[
        ["at", "user_name", "action", "target", "detail"]
    ].rename(
        columns={
            "at": t("counting_set_at", lg),
            "user_name": t("counting_set_by", lg),
            "action": t("counting_change", lg),
            "target": t("counting_value", lg),
            "detail": t("counting_detail", lg),
        }
    )
    st.dataframe(shown.iloc[::-1], hide_index=True, width="stretch")


def render() -> None:
    lg = lang()
    who = principal()
    require(who, Action.SET_COUNTING)
    st.title(t("nav_counting", lg))
    if st.session_state.pop(SAVED_FLAG, False):
        st.success(t("counting_saved", lg))
    s = store()
    _official_stage(s, who, lg)
    st.divider()
    _threshold(s, who, lg)
    st.divider()
    _allocations(s, who, lg)
    st.divider()
    _history(s, lg)
