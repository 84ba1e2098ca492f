"""Streamlit entry point: page setup and navigation only. Run with ``make run``."""

import streamlit as st

from spatial.auth import Action, Role
from spatial.i18n import t
from spatial.ui.common import (
    account_box,
    browser_cookies,
    lang,
    language_switch,
    pending_next_page,
    principal,
    remember_next_page,
    restore_language,
    sign_in_page,
)
from spatial.ui.mapview import prepare_on_start

st.set_page_config(page_title="深圳工业空间 · Shenzhen industrial space", layout="wide")
prepare_on_start()  # once per server: today's snapshot and the city's map tiles, ahead
restore_language()
language_switch()
lg = lang()
st.sidebar.markdown(f"**{t('app_title', lg)}**")

PAGES = "spatial/ui/pages"
# every page the app has: (file, title key, address, who may open it)
ROUTES = (
    ("dashboard", "nav_dashboard", "", lambda who: True),
    ("mapview", "nav_map", "map", lambda who: True),
    ("projects", "nav_projects", "projects", lambda who: True),
    ("trajectory", "nav_trajectory", "trajectory", lambda who: True),
    ("capacity", "nav_capacity", "capacity", lambda who: True),
    ("site_finder", "nav_site_finder", "site-finder", lambda who: True),
    ("scenarios", "nav_scenarios", "scenarios", lambda who: True),
    ("exports", "nav_export", "export", lambda who: who.can(Action.EXPORT, who.district_id)),
    ("upload", "nav_upload", "upload", lambda who: who.role in (Role.ADMIN, Role.DISTRICT)),
    ("coverage", "nav_coverage", "coverage", lambda who: True),
    ("audit", "nav_audit", "audit", lambda who: who.can(Action.VIEW_AUDIT)),
    ("counting", "nav_counting", "counting", lambda who: who.can(Action.SET_COUNTING)),
    ("users", "nav_users", "users", lambda who: who.can(Action.MANAGE_USERS)),
)

who = principal()
if who is None:
    # a deep link (/map, /export …) shows the sign-in page at its own address; after signing
    # in, the rerun finds the real page at that address and lands there (single sign-on leaves
    # the app and comes back to "/": the address waits in a cookie, see remember_next_page)
    signing_in = st.navigation(
        [st.Page(sign_in_page, title="登录 / Sign in", default=True)]
        + [
            st.Page(sign_in_page, title="登录 / Sign in", url_path=path)
            for _, _, path, _ in ROUTES
            if path
        ],
        position="hidden",
    )
    remember_next_page(signing_in.url_path or None)
    browser_cookies()
    signing_in.run()
    st.stop()
browser_cookies()
account_box()
pages = {
    path: st.Page(
        f"{PAGES}/{page}.py",
        title=t(title, lg),
        default=not path,
        **({"url_path": path} if path else {}),
    )
    for page, title, path, allowed in ROUTES
    if allowed(who)
}
# every page listed: collapsed, Streamlit would hide some behind its own English "View more"
navigation = st.navigation(list(pages.values()), expanded=True)
next_page = pending_next_page()
if next_page and next_page in pages and not navigation.url_path:  # arrived at "/"
    st.switch_page(pages[next_page])
navigation.run()
