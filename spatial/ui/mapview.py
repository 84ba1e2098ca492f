"""地图 Map: all layers on one folium map, with filters and a choice of basemap."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from spatial.auth import Action
from spatial.filters import ProjectFilter
from spatial.i18n import t
from spatial.layers import STATUS_LABELS, Status, label
from spatial.maps import Basemap, MapView, build_map
from spatial.offline_map import offline_map_html
from spatial.snapshot import Snapshot
from spatial.ui.common import (
    COUNTED_FILTER,
    as_of_input,
    counted_filter_banner,
    lang,
    principal,
    snapshot,
    store,
)

BASEMAPS = ("none", "osm", "tianditu", "amap", "custom")


def project_filter_inputs(snap: Snapshot, lg: str, key: str) -> ProjectFilter:
    """The filter widgets (district, park, status, cluster, year), shared with the projects page."""
    districts = snap.district_names(lg)
    parks = snap.park_names(lg)
    clusters = snap.cluster_names(lg)
    with st.sidebar.expander(t("filters", lg), expanded=True):
        chosen_districts = st.multiselect(
            t("district", lg),
            list(districts),
            format_func=districts.get,
            key=f"{key}_district",
            placeholder=t("all", lg),
        )
        chosen_parks = st.multiselect(
            t("park", lg),
            list(parks),
            format_func=parks.get,
            key=f"{key}_park",
            placeholder=t("all", lg),
        )
        chosen_status = st.multiselect(
            t("status", lg),
            [s.value for s in Status],
            format_func=lambda v: label(STATUS_LABELS, v, lg),
            key=f"{key}_status",
            placeholder=t("all", lg),
        )
        chosen_clusters = st.multiselect(
            t("cluster", lg),
            list(clusters),
            format_func=clusters.get,
            key=f"{key}_cluster",
            placeholder=t("all", lg),
        )
        year = st.selectbox(
            t("year_filter", lg),
            [None, *range(2018, 2031)],
            format_func=lambda y: t("any_year", lg) if y is None else str(y),
            key=f"{key}_year",
            help=t("year_filter_help", lg),
        )
    return ProjectFilter(
        districts=tuple(chosen_districts),
        parks=tuple(chosen_parks),
        statuses=tuple(chosen_status),
        clusters=tuple(chosen_clusters),
        year=year,
        counted=counted_filter_banner(lg, key),
    )


def basemap_input(lg: str) -> Basemap:
    choice = st.sidebar.selectbox(
        t("basemap", lg), BASEMAPS, format_func=lambda k: t(f"basemap_{k}", lg), key="basemap"
    )
    if choice == "osm":
        return Basemap.openstreetmap()
    if choice == "amap":
        return Basemap.amap()
    try:
        if choice == "tianditu":
            key = st.sidebar.text_input(t("tianditu_key", lg), type="password", key="tdt_key")
            return Basemap.tianditu(key) if key else Basemap.vector_only()
        if choice == "custom":
            url = st.sidebar.text_input(t("custom_url", lg), key="custom_url")
            gcj = st.sidebar.checkbox(t("custom_gcj", lg), key="custom_gcj")
            return Basemap.custom(url, gcj02=gcj) if url else Basemap.vector_only()
    except ValueError as exc:  # the library says what a key or URL must look like
        st.sidebar.error(str(exc))
    return Basemap.vector_only()


def render() -> None:
    lg = lang()
    st.title(t("nav_map", lg))
    counted = st.session_state.get(COUNTED_FILTER)  # a dashboard figure's own date rules
    as_of = counted.as_of if counted is not None else as_of_input()
    snap = snapshot(as_of)
    flt = project_filter_inputs(snap, lg, "map")
    basemap = basemap_input(lg)
    shown = flt.apply(snap.projects)
    m = build_map(
        districts=snap.districts,
        parks=snap.parks,
        control_lines=snap.control_lines,
        projects=shown,
        lang=lg,
        basemap=basemap,
    )
    unlocated = int(shown.geometry.isna().sum())
    st.caption(
        t(
            "shown_projects",
            lg,
            n=len(shown) - unlocated,
            total=len(snap.projects),
            unlocated=unlocated,
        )
    )
    # the map reports its extent after each pan or zoom, so the offline map opens on this view
    state = st_folium(
        m, height=640, use_container_width=True, returned_objects=["bounds"], key="main_map"
    )
    view = MapView.from_leaflet((state or {}).get("bounds"), gcj02=basemap.gcj02)
    who = principal()
    if who is not None and who.can(Action.EXPORT, who.district_id):
        label = (
            "生成当前视图的离线地图（HTML，无需联网）"
            if lg == "zh"
            else "Offline map of this view (HTML, no internet)"
        )
        if st.button(label, key="offline_map"):
            st.download_button(
                "下载离线地图" if lg == "zh" else "Download the offline map",
                offline_map_html(store(), who, flt, as_of, lg, view),
                f"shenzhen_map_{as_of.isoformat()}.html",
                "text/html",
                key="offline_download",
                on_click="ignore",  # no rerun: the file stays until it is fetched
            )
