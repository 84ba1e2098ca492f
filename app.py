"""Streamlit entry point: page setup and navigation only. Run with ``make run``."""

import streamlit as st

from spatial.auth import Action, Role
from spatial.i18n import t
from spatial.ui.common import account_box, lang, language_switch, principal, sign_in_page

st.set_page_config(page_title="深圳工业空间 · Shenzhen industrial space", layout="wide")
language_switch()
lg = lang()
st.sidebar.markdown(f"**{t('app_title', lg)}**")

PAGES = "spatial/ui/pages"
who = principal()
if who is None:
    st.navigation([st.Page(sign_in_page, title="登录 / Sign in")]).run()
    st.stop()
account_box()
may_upload = who.role in (Role.ADMIN, Role.DISTRICT)
navigation = st.navigation(
    [
        st.Page(f"{PAGES}/dashboard.py", title=t("nav_dashboard", lg), default=True),
        st.Page(f"{PAGES}/mapview.py", title=t("nav_map", lg), url_path="map"),
        st.Page(f"{PAGES}/projects.py", title=t("nav_projects", lg), url_path="projects"),
        *(
            [st.Page(f"{PAGES}/exports.py", title=t("nav_export", lg), url_path="export")]
            if who.can(Action.EXPORT, who.district_id)
            else []
        ),
        *(
            [st.Page(f"{PAGES}/upload.py", title=t("nav_upload", lg), url_path="upload")]
            if may_upload
            else []
        ),
        st.Page(f"{PAGES}/coverage.py", title=t("nav_coverage", lg), url_path="coverage"),
        *(
            [st.Page(f"{PAGES}/audit.py", title=t("nav_audit", lg), url_path="audit")]
            if who.can(Action.VIEW_AUDIT)
            else []
        ),
        *(
            [st.Page(f"{PAGES}/counting.py", title=t("nav_counting", lg), url_path="counting")]
            if who.can(Action.SET_COUNTING)
            else []
        ),
    ]
)
navigation.run()
