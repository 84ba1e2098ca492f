"""用户管理 Users (admins): create accounts, reset a password (one-time, changed at the next
sign-in), disable or enable, change role and district. Every change goes through
:mod:`spatial.store.accounts`, which checks the permission again and writes the audit trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.auth import ROLE_LABELS, Action, PermissionDenied, Principal, Role, require
from spatial.clock import beijing_column
from spatial.i18n import t
from spatial.store import accounts
from spatial.store.database import Store
from spatial.ui.common import kept_choice, lang, markdown_text, principal, store

NO_DISTRICT = ""
ONE_TIME = "users_one_time_password"  # (user, password) shown once after a create or reset


def _role_label(role: str, lg: str) -> str:
    zh, en = ROLE_LABELS[Role(role)]
    return zh if lg == "zh" else en


def _done(change, lg: str, password_for: str | None = None) -> None:
    """Run one account change; a refusal is shown in the user's language. A new one-time
    password is kept for exactly one rerun, so it is shown once and never again."""
    try:
        result = change()
    except (accounts.AccountError, PermissionDenied) as exc:
        st.error(markdown_text(exc.text(lg)))  # it may repeat a typed name or district
        return
    if password_for is not None:
        st.session_state[ONE_TIME] = (password_for, result)
    st.session_state["users_saved"] = True
    st.rerun()


def _table(s: Store, names: dict, lg: str) -> None:
    users = pd.DataFrame(s.users())
    shown = pd.DataFrame(
        {
            t("users_name", lg): users["user_name"],
            t("users_role", lg): users["role"].map(lambda r: _role_label(r, lg)),
            t("district", lg): users["district_id"].map(names).fillna(""),
            t("users_state", lg): users["active"].map(
                {True: t("users_active", lg), False: t("users_disabled", lg)}
            ),
            t("users_must_change", lg): users["must_change_password"].map(
                {True: t("yes", lg), False: ""}
            ),
            t("users_created", lg): beijing_column(users["created_at"]),
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")


def _create(s: Store, who: Principal, names: dict, lg: str) -> None:
    st.subheader(t("users_create", lg))
    with st.form("users_create_form", clear_on_submit=True):
        name = st.text_input(t("users_name", lg), key="users_new_name")
        role = st.selectbox(
            t("users_role", lg),
            [r.value for r in Role],
            format_func=lambda r: _role_label(r, lg),
            key=f"users_new_role__{lg}",
        )
        district = st.selectbox(
            t("users_district_if", lg),
            [NO_DISTRICT, *names],
            format_func=lambda d: names.get(d, d or "—"),
            key=f"users_new_district__{lg}",
            accept_new_options=True,  # typed as people write it; the library resolves it
        )
        if st.form_submit_button(t("users_create_button", lg), key="users_create_submit"):
            _done(
                lambda: accounts.add_user(s, who, name, role, district or None),
                lg,
                password_for=name.strip(),
            )


def _manage(s: Store, who: Principal, names: dict, lg: str) -> None:
    st.subheader(t("users_manage", lg))
    users = {u["user_name"]: u for u in s.users()}
    name = kept_choice(st.selectbox, t("users_name", lg), list(users), str, key="users_selected")
    user = users[name]
    left, middle, right = st.columns(3)
    with left:
        st.caption(t("users_reset_help", lg))
        if st.button(t("users_reset", lg), key="users_reset"):
            _done(lambda: accounts.reset_password(s, who, name), lg, password_for=name)
    with middle:
        active = user["active"]
        st.caption(t("users_disable_help", lg))
        label = t("users_disable", lg) if active else t("users_enable", lg)
        if st.button(label, key="users_toggle"):
            _done(lambda: accounts.set_active(s, who, name, not active), lg)
    with right, st.form("users_role_form"):
        roles = [r.value for r in Role]
        role = st.selectbox(
            t("users_role", lg),
            roles,
            index=roles.index(user["role"]),
            format_func=lambda r: _role_label(r, lg),
            key=f"users_role_{name}__{lg}",
        )
        options = [NO_DISTRICT, *names]
        district = st.selectbox(
            t("users_district_if", lg),
            options,
            index=options.index(user["district_id"] or NO_DISTRICT),
            format_func=lambda d: names.get(d, d or "—"),
            key=f"users_district_{name}__{lg}",
            accept_new_options=True,
        )
        if st.form_submit_button(t("users_change_role", lg), key="users_role_submit"):
            _done(lambda: accounts.change_role(s, who, name, role, district or None), lg)


def render() -> None:
    lg = lang()
    who = principal()
    require(who, Action.MANAGE_USERS)
    st.title(t("nav_users", lg))
    if st.session_state.pop("users_saved", False):
        st.success(t("counting_saved", lg))
    shown_once = st.session_state.pop(ONE_TIME, None)
    if shown_once:
        user, password = shown_once
        st.warning(t("users_one_time", lg, user=markdown_text(user)))
        st.code(password, language=None)
    s = store()
    districts = s.layer("districts")
    names = dict(zip(districts["district_id"], districts[f"name_{lg}"], strict=True))
    _table(s, names, lg)
    st.divider()
    _create(s, who, names, lg)
    st.divider()
    _manage(s, who, names, lg)
