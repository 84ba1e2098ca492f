"""Streamlit entry point: page setup and navigation only. Run with ``make run``."""

import streamlit as st

from spatial.i18n import t
from spatial.ui.common import lang, language_switch

st.set_page_config(page_title="深圳工业空间 · Shenzhen industrial space", layout="wide")
language_switch()
lg = lang()
st.sidebar.markdown(f"**{t('app_title', lg)}**")

PAGES = "spatial/ui/pages"
navigation = st.navigation(
    [
        st.Page(f"{PAGES}/dashboard.py", title=t("nav_dashboard", lg), default=True),
        st.Page(f"{PAGES}/mapview.py", title=t("nav_map", lg), url_path="map"),
        st.Page(f"{PAGES}/projects.py", title=t("nav_projects", lg), url_path="projects"),
        st.Page(f"{PAGES}/upload.py", title=t("nav_upload", lg), url_path="upload"),
        st.Page(f"{PAGES}/coverage.py", title=t("nav_coverage", lg), url_path="coverage"),
    ]
)
navigation.run()
