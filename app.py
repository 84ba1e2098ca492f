"""Streamlit entry point: page setup and navigation only. Run with ``make run``."""

import streamlit as st

from spatial.i18n import t
from spatial.ui import coverage, dashboard, mapview, projects
from spatial.ui.common import guarded, lang, language_switch

st.set_page_config(page_title="深圳工业空间 · Shenzhen industrial space", layout="wide")
language_switch()
lg = lang()
st.sidebar.markdown(f"**{t('app_title', lg)}**")

navigation = st.navigation(
    [
        st.Page(guarded(dashboard.render), title=t("nav_dashboard", lg), url_path="dashboard",
                default=True),
        st.Page(guarded(mapview.render), title=t("nav_map", lg), url_path="map"),
        st.Page(guarded(projects.render), title=t("nav_projects", lg), url_path="projects"),
        st.Page(guarded(coverage.render), title=t("nav_coverage", lg), url_path="coverage"),
    ]
)
navigation.run()
