"""审计日志 Audit trail (admins): every sign-in, upload, commit, undo and account change."""

from __future__ import annotations

import streamlit as st

from spatial.auth import Action, require
from spatial.clock import beijing_column
from spatial.outputs.spreadsheet import csv_bytes
from spatial.ui.common import kept_choice, lang, principal, store

ACTION_LABELS: dict[str, tuple[str, str]] = {  # the codes stay in their own column
    "sign_in": ("登录", "sign-in"),
    "sign_in_locked": ("登录锁定", "sign-in locked"),
    "password_changed": ("修改密码", "password changed"),
    "password_reset": ("重置密码", "password reset"),
    "user_created": ("新建用户", "user created"),
    "user_disabled": ("停用用户", "user disabled"),
    "user_enabled": ("启用用户", "user enabled"),
    "user_role_changed": ("更改角色", "role changed"),
    "upload": ("上传", "upload"),
    "commit": ("提交", "commit"),
    "undo": ("撤销", "undo"),
    "upload_sites": ("上传地块", "upload sites"),
    "commit_sites": ("提交地块", "commit sites"),
    "undo_sites": ("撤销地块", "undo sites"),
    "comment": ("意见", "comment"),
    "export": ("导出", "export"),
    "reference_change": ("修改参考数据", "reference data changed"),
    "reference_refresh": ("更新内置数据", "shipped data refreshed"),
    "set_official_stage": ("设定官方口径", "official stage set"),
    "set_coverage_threshold": ("设定覆盖阈值", "coverage threshold set"),
    "set_allocation": ("设定分解指标", "allocation set"),
    "set_trajectory_assumption": ("设定轨迹假设", "trajectory assumption set"),
    "set_plot_ratio": ("设定容积率", "plot ratio set"),
    "scenario_create": ("新建方案", "scenario created"),
    "scenario_change": ("修改方案", "scenario changed"),
}
COLUMNS: dict[str, tuple[str, str]] = {
    "event_id": ("序号", "#"),
    "at": ("时间（北京时间）", "time (Beijing)"),
    "user_name": ("用户", "user"),
    "action_label": ("操作", "action"),
    "action": ("操作代码", "action code"),
    "target": ("对象", "target"),
    "ok": ("成功", "succeeded"),
    "detail": ("详情", "detail"),
}


def _action(code: str, lg: str) -> str:
    zh, en = ACTION_LABELS.get(code, (code, code))
    return zh if lg == "zh" else en


def render() -> None:
    lg = lang()
    i = 0 if lg == "zh" else 1
    require(principal(), Action.VIEW_AUDIT)
    st.title("审计日志" if lg == "zh" else "Audit trail")
    events = store().audit()
    every = "（全部）" if lg == "zh" else "(all)"
    users = ["", *sorted(set(events["user_name"]))]
    who = kept_choice(
        st.selectbox, COLUMNS["user_name"][i], users, lambda u: u or every, key="audit_user"
    )
    actions = ["", *sorted(set(events["action"]))]
    what = kept_choice(
        st.selectbox,
        COLUMNS["action_label"][i],
        actions,
        lambda a: _action(a, lg) if a else every,
        key="audit_action",
    )
    if who:
        events = events[events["user_name"] == who]
    if what:
        events = events[events["action"] == what]
    yes, no = ("是", "否") if lg == "zh" else ("yes", "no")
    shown = events.assign(
        at=beijing_column(events["at"]),
        action_label=events["action"].map(lambda a: _action(a, lg)),
        ok=events["ok"].astype(bool).map({True: yes, False: no}),
        target=events["target"].fillna(""),
        detail=events["detail"].fillna(""),
    )[list(COLUMNS)].rename(columns={k: v[i] for k, v in COLUMNS.items()})
    st.dataframe(shown.iloc[::-1], hide_index=True, width="stretch")
    st.download_button(
        "下载 CSV" if lg == "zh" else "Download CSV",
        csv_bytes(shown),
        "audit.csv",
        "text/csv",
        on_click="ignore",
    )
