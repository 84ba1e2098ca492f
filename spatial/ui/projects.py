"""项目 Projects: the filterable table of 工业上楼 projects with their derived attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from spatial.auth import Action
from spatial.clock import beijing_text
from spatial.figures.filters import search_projects
from spatial.figures.ledger import counted_area
from spatial.figures.snapshot import Snapshot
from spatial.i18n import fmt_area, t
from spatial.layers import CONTROL_LEVEL_LABELS, QUALITY_LABELS, STATUS_LABELS, label
from spatial.outputs.spreadsheet import csv_bytes
from spatial.store import comments
from spatial.ui.common import (
    COUNTED_FILTER,
    PROJECT_FOCUS,
    as_of_input,
    grouped_numbers,
    lang,
    principal,
    show_counted,
    snapshot,
    store,
)
from spatial.ui.mapview import LISTED_UP_TO, TABLE_ROWS, project_filter_inputs


def per_value(values: pd.Series, show) -> pd.Series:
    """``show`` of each value, called once per distinct value (a register repeats a handful
    of statuses, levels and qualities over 10⁵ rows); missing values are shown as None is."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)  # missing → -1
    missing = show(None) if (codes < 0).any() else None
    shown = np.array([*(show(v) for v in distinct), missing], dtype=object)
    return pd.Series(shown[codes], index=values.index, dtype=object)


def project_table(snap: Snapshot, projects: pd.DataFrame, lg: str) -> pd.DataFrame:
    """The projects as a table for people: localised headers and values, no geometry.

    Values stay plain text; st.dataframe and CSV never interpret them as HTML.
    """
    districts = snap.district_names(lg)
    parks = snap.park_names(lg)
    clusters = snap.cluster_names(lg)
    yes, no = ("是", "否") if lg == "zh" else ("yes", "no")
    inside = projects["inside_control_line"].map({True: yes, False: no}).fillna("—")
    return pd.DataFrame(
        {
            "ID": projects["project_id"],
            t("name", lg): projects["name_zh"] if lg == "zh" else projects["name_en"],
            t("district", lg): projects["district_id"].map(districts),
            t("located_district", lg): projects["located_district_id"].map(districts),
            t("park", lg): projects["park_id"].map(parks),
            t("park_basis", lg): per_value(projects["park_basis"], lambda b: t(f"basis_{b}", lg)),
            t("inside_control_line", lg): inside,
            t("control_level", lg): per_value(
                projects["control_level"],
                lambda v: label(CONTROL_LEVEL_LABELS, v, lg) if v not in (None, "none") else "—",
            ),
            t("status", lg): per_value(projects["status"], lambda v: label(STATUS_LABELS, v, lg)),
            t("floor_area", lg): projects["floor_area_m2"],
            t("factory_floor_area", lg): projects["factory_floor_area_m2"],
            ("计入面积（㎡）" if lg == "zh" else "Counted area (m²)"): counted_area(projects),
            t("land_area", lg): projects["land_area_m2"],
            t("plot_ratio", lg): projects["plot_ratio"],
            t("start_date", lg): projects["start_date"],
            t("completion_date", lg): projects["completion_date"],
            t("delivery_date", lg): projects["delivery_date"],
            t("cluster_matched", lg): per_value(
                projects["clusters"].fillna(""),
                lambda codes: "、".join(clusters.get(c, c) for c in codes.split(";") if c),
            ),
            t("developer", lg): projects["developer"],
            t("quality", lg): per_value(
                projects["quality"], lambda v: label(QUALITY_LABELS, v, lg)
            ),
            t("location_quality", lg): per_value(
                projects["location_quality"], lambda v: label(QUALITY_LABELS, v, lg)
            ),
            t("confidence", lg): projects["confidence"],
            t("source", lg): projects["source"],
        }
    )


def render() -> None:
    lg = lang()
    st.title(t("projects_title", lg))
    counted = st.session_state.get(COUNTED_FILTER)  # a dashboard figure's own date rules
    as_of = counted.as_of if counted is not None else as_of_input()
    snap = snapshot(as_of)
    flt = project_filter_inputs(snap, lg, "projects")
    shown = flt.apply(snap.projects)
    focus = st.session_state.get(PROJECT_FOCUS)
    if focus is not None:  # the map's "open in the table": that project, said so, removable
        st.info(t("project_focus", lg, id=focus))
        if st.button(t("project_focus_clear", lg), key="projects_focus_clear"):
            del st.session_state[PROJECT_FOCUS]
            st.rerun()
        shown = snap.projects[snap.projects["project_id"] == focus]
    st.caption(f"{len(shown)} / {len(snap.projects)}")
    if flt.counted is not None:
        area = counted_area(shown).sum()
        st.caption(t("counted_total", lg, n=len(shown), area=fmt_area(area, lg)))
        if st.button(t("show_on_map", lg), key="projects_show_on_map"):
            show_counted(flt.counted, "mapview")
    page = _page_of(shown, lg)
    table = project_table(snap, page, lg)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=560,
        column_config=grouped_numbers(table),
    )
    st.download_button(  # every filtered project; the file is made when it is asked for
        t("download_csv", lg),
        lambda: csv_bytes(project_table(snap, shown, lg)),
        file_name=f"projects_{as_of.isoformat()}.csv",
        mime="text/csv",
        on_click="ignore",  # no rerun: the file stays until it is fetched
    )
    comment_box(snap, lg)


def _page_of(shown: pd.DataFrame, lg: str) -> pd.DataFrame:
    """The rows the table shows: all of them up to TABLE_ROWS, else one page of TABLE_ROWS
    in id order, chosen by number (a table of 10⁵ rows would send tens of megabytes to the
    browser on every rerun)."""
    if len(shown) <= TABLE_ROWS:
        return shown
    pages = -(-len(shown) // TABLE_ROWS)
    number = st.number_input(
        t("table_page", lg, pages=pages), min_value=1, max_value=pages, value=1, step=1,
        key="projects_page",
    )  # fmt: skip
    first = (int(number) - 1) * TABLE_ROWS
    page = shown.sort_values("project_id", kind="stable").iloc[first : first + TABLE_ROWS]
    st.caption(t("table_rows_shown", lg, first=first + 1, last=first + len(page),
                 total=len(shown)))  # fmt: skip
    return page


def comment_box(snap: Snapshot, lg: str) -> None:
    """Read a project's comments; planners and admins add one (each audited)."""
    st.subheader("项目意见" if lg == "zh" else "Comments")
    listed = snap.projects
    if listed.empty:
        return
    if len(listed) > LISTED_UP_TO:  # a long register: searched as typed, not listed whole
        typed = st.text_input(
            t("map_search", lg), placeholder=t("map_search_placeholder", lg),
            key="comment_search",
        )  # fmt: skip
        listed = search_projects(listed, typed or "", limit=50)
        if listed.empty:
            if typed:
                st.caption(t("map_search_none", lg))
            return
    ids = listed["project_id"].tolist()
    names = dict(zip(listed["project_id"], listed["name_zh"], strict=True))
    chosen = st.selectbox(
        "项目" if lg == "zh" else "Project",
        ids,
        format_func=lambda i: f"{i} {names.get(i, '')}",
        key="comment_project",
    )
    who = principal()
    district = snap.projects.loc[snap.projects["project_id"] == chosen, "district_id"].iloc[0]
    if who.can(Action.COMMENT, district):
        with st.form("comment_form", clear_on_submit=True):  # the box empties once saved
            text = st.text_area("新意见" if lg == "zh" else "New comment", key="comment_text")
            label = "提交意见" if lg == "zh" else "Add comment"
            if st.form_submit_button(label, key="comment_add") and text.strip():
                comments.add_comment(store(), who, chosen, text)
                st.success("已记录" if lg == "zh" else "Recorded")
    for row in comments.comments(store(), who, chosen).itertuples():
        st.text(
            f"{beijing_text(row.at, seconds=False)} {row.user_name}: {row.text}"
        )  # plain text, no HTML
