"""审计日志 Audit trail (admins): every sign-in, upload, commit, undo and account change."""

from __future__ import annotations

import streamlit as st

from spatial.auth import Action, require
from spatial.clock import beijing_column
from spatial.spreadsheet import csv_bytes
from spatial.ui.common import lang, principal, store


def render() -> None:
    lg = lang()
    require(principal(), Action.VIEW_AUDIT)
    st.title("审计日志" if lg == "zh" else "Audit trail")
    events = store().audit()
    users = ["", *sorted(set(events["user_name"]))]
    who = st.selectbox("用户" if lg == "zh" else "User", users, key="audit_user")
    actions = ["", *sorted(set(events["action"]))]
    what = st.selectbox("操作" if lg == "zh" else "Action", actions, key="audit_action")
    if who:
        events = events[events["user_name"] == who]
    if what:
        events = events[events["action"] == what]
    events = events.assign(at=beijing_column(events["at"])).rename(
        columns={"at": "时间（北京时间）" if lg == "zh" else "time (Beijing)"}
    )
    st.dataframe(events.iloc[::-1], hide_index=True, width="stretch")
    st.download_button(
        "下载 CSV" if lg == "zh" else "Download CSV",
        csv_bytes(events),
        "audit.csv",
        "text/csv",
    )
