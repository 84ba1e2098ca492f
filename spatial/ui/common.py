"""What every page shares: the store, the cached snapshot, language, and the error boundary."""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from spatial.auth import ROLE_LABELS, Principal
from spatial.clock import beijing_text, shenzhen_today
from spatial.figures.filters import CountedAt
from spatial.figures.snapshot import Snapshot, take_snapshot
from spatial.i18n import DEFAULT_LANGUAGE, t
from spatial.layers import STAGE_LABELS, label
from spatial.outputs.map_assets import install_static_assets
from spatial.store import accounts, sso
from spatial.store.database import Store, default_database_url, open_store, utcnow
from spatial.store.seed import ensure_seeded

log = logging.getLogger("spatial.ui")

# store revisions × dates whose snapshot stays in memory (its columns: 75 MB at 10⁵ projects)
SNAPSHOTS_KEPT = 3

APP_DIR = Path(__file__).resolve().parent.parent.parent


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    store = open_store(url)
    ensure_seeded(store)
    # no account is created here: a password must never reach the server log. The first
    # admin's one-time password comes from `spatial init` in the operator's terminal.
    install_static_assets(APP_DIR / "static")
    return store


def store() -> Store:
    return _store(default_database_url())


@st.cache_resource(show_spinner=False, max_entries=SNAPSHOTS_KEPT)
def shared_snapshot(url: str, revision: tuple, as_of: date) -> Snapshot:
    """One snapshot per store revision and date, shared by every session (not pickled and
    copied on each rerun as ``st.cache_data`` would: at 10⁶ projects that copy alone took
    seconds and its memory once per cached entry). Only for what reads it (figures cached
    beside it); a page's rows come from :func:`snapshot`."""
    return take_snapshot(_store(url), as_of)


def _snapshot(url: str, revision: tuple, as_of: date) -> Snapshot:
    """The shared snapshot with every frame a shallow copy: with pandas' copy-on-write, a
    page that adds or changes a column changes its own copy, never what other sessions
    read; the data itself is not duplicated."""
    shared = shared_snapshot(url, revision, as_of)
    frames = {
        f.name: value.copy(deep=False)
        for f in fields(shared)
        if isinstance(value := getattr(shared, f.name), pd.DataFrame)
    }
    return replace(shared, **frames)


@st.cache_data(show_spinner=False, max_entries=8)
def _district_names(url: str, revision: tuple[int, int], lg: str) -> dict[str, str]:
    districts = _store(url).layer("districts")
    return dict(zip(districts["district_id"], districts[f"name_{lg}"], strict=True))


def district_name(district_id: str, lg: str) -> str:
    """A district's name in the page's language (cached until the store changes)."""
    names = _district_names(default_database_url(), store().revision(), lg)
    return names.get(district_id, district_id)


def snapshot(as_of: date) -> Snapshot:
    """The store as of a date, as the signed-in user may read it (a district user sees their
    district's projects; reference layers are for everyone). Cached until anything is
    written (the revision changes)."""
    s = store()
    snap = _snapshot(default_database_url(), s.revision(), as_of)
    who = principal()
    return snap if who is None else snap.readable_by(who)


def whole_snapshot(as_of: date) -> Snapshot:
    """The whole city's snapshot, for the verdict and coverage only (a district's share is of
    the city's total); project rows shown to a user come from :func:`snapshot`."""
    return _snapshot(default_database_url(), store().revision(), as_of)


SESSION_KEY = "session"  # the session token of this browser tab
LANG_COOKIE = "spatial_lang"


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser (bare mode, AppTest): no cookies
        return None
    return value if isinstance(value, str) else None


def principal() -> Principal | None:
    """The signed-in user, re-read from the account on every run (spatial.store.accounts.resume):
    signing out, a disabled account, a changed password, 30 idle minutes or 12 hours end the
    session. After a reload the browser's cookie brings the session back (once per tab: a
    cookie that failed, or that was signed out, is not tried again)."""
    token = st.session_state.get(SESSION_KEY)
    if token is None and not st.session_state.get("cookie_spent"):
        token = _cookie(accounts.SESSION_COOKIE)
        st.session_state["cookie_spent"] = True
    if token is None:
        return _single_sign_on()
    try:
        who = accounts.resume(store(), token)
    except accounts.AccountError as exc:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state["session_ended"] = exc
        st.session_state["forget_cookie"] = True
        return None
    st.session_state[SESSION_KEY] = token
    return who


def sso_configured() -> bool:
    """An ``[auth]`` section in the secrets (see README, "Single sign-on")."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def _single_sign_on() -> Principal | None:
    """A user the organisation's identity provider has just vouched for (st.login): their
    claims become an account and a session of this tool, once per sign-in."""
    if not sso_configured() or not _sso_signed_in() or st.session_state.get("sso_refused"):
        return None
    try:
        who = sso.principal_from_claims(store(), dict(st.user))
    except accounts.AccountError as exc:
        st.session_state["sso_refused"] = True
        st.session_state["session_ended"] = exc
        return None
    begin_session(who)
    return who


def begin_session(who: Principal) -> None:
    """After a successful sign-in: a new session, kept by this tab and the browser's cookie."""
    st.session_state[SESSION_KEY] = accounts.start_session(store(), who, lang())
    st.session_state.pop("forget_cookie", None)


def end_session() -> None:
    token = st.session_state.pop(SESSION_KEY, None)
    if token is not None:
        accounts.end_session(store(), token)
    st.session_state["forget_cookie"] = True


# A date typed into a date box applies on Enter, as people expect. Streamlit's date field
# commits when the focus leaves it with its calendar closed; Enter alone does nothing. So Enter
# in a date field closes the calendar (Escape) and takes the focus out, which commits the typed
# date. Added as a script of the page itself (a listener from this frame would die with it),
# once per page; the code is ours, no user text is in it.
DATE_ENTER_COMMITS = """
(function () {
  const top = window.parent, doc = top.document;
  if (top.__szDateEnterCommits) return;
  top.__szDateEnterCommits = true;
  const script = doc.createElement('script');
  script.textContent = "document.addEventListener('keydown', function (e) {"
    + "if (e.key !== 'Enter' || !e.isTrusted || !e.target.closest) return;"
    + "if (!e.target.closest('[data-testid=stDateInputField]')) return;"
    + "e.preventDefault(); e.stopPropagation();"
    + "const esc = {key: 'Escape', code: 'Escape', keyCode: 27, which: 27, bubbles: true,"
    + " cancelable: true};"
    + "e.target.dispatchEvent(new KeyboardEvent('keydown', esc));"
    + "e.target.dispatchEvent(new KeyboardEvent('keyup', esc));"
    + "setTimeout(function () {"
    + "  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();"
    + "}, 80);"
    + "}, true);";
  doc.head.appendChild(script);
})();
"""


def browser_cookies() -> None:
    """Keep the browser's cookies in step with this tab: the session token while signed in
    (SameSite=Strict, Secure over HTTPS, gone after 12 hours), none after signing out; and the
    language. Written by a script in a zero-height component frame (same origin)."""
    token = st.session_state.get(SESSION_KEY)
    max_age = int(accounts.ABSOLUTE_TIMEOUT.total_seconds())
    if token is not None:
        session = f"{accounts.SESSION_COOKIE}={token}; Max-Age={max_age}"
    elif st.session_state.get("forget_cookie"):
        session = f"{accounts.SESSION_COOKIE}=; Max-Age=0"
    else:
        session = None
    writes = [f"{LANG_COOKIE}={lang()}; Max-Age={365 * 24 * 3600}"]
    if session:
        writes.append(session)
    if "next_page" in st.session_state:  # remembered while signed out, forgotten after
        wanted = st.session_state["next_page"]
        writes.append(
            f"{NEXT_COOKIE}={wanted}; Max-Age=600" if wanted else f"{NEXT_COOKIE}=; Max-Age=0"
        )
    script = (
        "<script>" + DATE_ENTER_COMMITS + "const secure = window.parent.location.protocol === "
        "'https:' ? '; Secure' : '';"
        + "".join(
            f"window.parent.document.cookie = {json.dumps(w)} + '; Path=/; SameSite=Strict' "
            "+ secure;"
            for w in writes
        )
        + "</script>"
    )
    with st.sidebar:
        components.html(script, height=0)


NEXT_COOKIE = "spatial_next"  # the page a signed-out visitor asked for (an address, no more)


def remember_next_page(url_path: str | None) -> None:
    """While signed out: the address asked for, kept in a cookie so a sign-in that leaves the
    app (single sign-on) still lands there."""
    st.session_state["next_page"] = url_path


def pending_next_page() -> str | None:
    """Once, after signing in: the address asked for before, then forgotten."""
    if st.session_state.get("next_page_done"):
        return None
    st.session_state["next_page_done"] = True
    st.session_state["next_page"] = None
    chosen = _cookie(NEXT_COOKIE)
    return chosen if chosen and re.fullmatch(r"[a-z_]{1,32}", chosen) else None


def restore_language() -> None:
    """Before the language switch is drawn: the language this browser chose last (a cookie
    that says only zh or en), so a reload does not switch it back."""
    if "lang" not in st.session_state:
        chosen = _cookie(LANG_COOKIE)
        if chosen in ("zh", "en"):
            st.session_state["lang"] = chosen


def sign_in_page() -> None:
    """The only page before signing in; also forces the first password change."""
    lg = lang()
    st.title(t("app_title", lg))
    pending = st.session_state.get("pending_principal")
    if pending is not None:
        st.info(
            "首次登录请修改一次性密码。"
            if lg == "zh"
            else "Change your one-time password to continue."
        )
        with st.form("change_password"):
            old = st.text_input("原密码" if lg == "zh" else "Current password", type="password")
            new = st.text_input(
                "新密码（至少 10 个字符，不能是常见密码；可用一句话）"
                if lg == "zh"
                else "New password (10+ characters, not a common one; a phrase is fine)",
                type="password",
            )
            if st.form_submit_button("修改并进入" if lg == "zh" else "Change and continue"):
                try:
                    accounts.change_password(store(), pending, old, new)
                except accounts.AccountError as exc:
                    st.error(exc.text(lg))
                else:
                    del st.session_state["pending_principal"]
                    begin_session(pending)
                    st.rerun()
        return
    ended = st.session_state.pop("session_ended", None)
    if ended is not None:
        st.warning(ended.text(lg))
    if store().count_users() == 0:
        st.warning(
            "还没有任何账号：请在服务器终端运行 `spatial init`，它会打印管理员 admin 的一次性密码。"
            if lg == "zh"
            else "There is no account yet: run `spatial init` in a terminal on the server; it "
            "prints the one-time password of 'admin'."
        )
    if sso_configured():
        if st.button(
            "单位统一身份认证登录" if lg == "zh" else "Sign in with single sign-on",
            key="sso_sign_in",
            type="primary",
        ):
            st.session_state.pop("sso_refused", None)
            st.login()
        st.caption("或使用本工具的账号：" if lg == "zh" else "Or with an account of this tool:")
    with st.form("sign_in"):
        name = st.text_input("用户名" if lg == "zh" else "User name")
        password = st.text_input("密码" if lg == "zh" else "Password", type="password")
        if st.form_submit_button("登录" if lg == "zh" else "Sign in"):
            try:
                who, must_change = accounts.sign_in(store(), name.strip(), password)
            except accounts.AccountError as exc:
                st.error(exc.text(lg))
            else:
                if must_change:
                    st.session_state["pending_principal"] = who
                else:
                    begin_session(who)
                st.rerun()
    st.caption(
        "首次安装时，管理员账号 admin 的一次性密码由 `make run`（spatial init）打印在终端。"
        if lg == "zh"
        else "On a new installation the one-time password of 'admin' is printed by `make run` "
        "(spatial init) in the terminal."
    )


def account_box() -> None:
    who = principal()
    if who is None:
        return
    lg = lang()
    zh, en = ROLE_LABELS[who.role]
    where = f" · {markdown_text(district_name(who.district_id, lg))}" if who.district_id else ""
    name = markdown_text(who.user_name)  # an identity provider's claim, too: text, not markdown
    st.sidebar.caption(f"{name} · {zh if lg == 'zh' else en}{where}")
    if st.sidebar.button("退出登录" if lg == "zh" else "Sign out", key="sign_out"):
        end_session()
        if _sso_signed_in():
            st.logout()  # the browser goes to the provider to end its sign-in, then back
            st.stop()  # (a rerun here would overtake that redirect)
        st.rerun()


def T(zh: str, en: str) -> str:  # noqa: N802 - short for the many page texts
    """A page text in the page's language (for texts that are the page's own, not i18n keys)."""
    return zh if lang() == "zh" else en


def lang() -> str:
    return st.session_state.get("lang", DEFAULT_LANGUAGE)


def language_switch() -> str:
    choice = st.sidebar.radio(
        t("language", lang()),
        options=["zh", "en"],
        format_func=lambda code: "简体中文" if code == "zh" else "English",
        key="lang",
        horizontal=True,
    )
    return choice


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def markdown_text(text: str | None) -> str:
    """Typed text (a reason, a source, a name) shown inside Streamlit markdown as itself: every
    markdown/HTML character escaped, so no link, image, heading or tag is formed."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text or "")).replace("\n", " ")


def kept_choice(
    widget, label: str, options: list, format_func, key: str, default=None, in_form=False
):
    """A radio/selectbox whose choice survives a language switch: the label and the shown
    texts change with the language, which makes Streamlit build a new widget, so the value is
    kept under its own key and each language's widget starts from it. The value is copied in
    the widget's callback, which Streamlit runs before the next run even when a quick second
    click (the language switch, a build button) interrupts the run the choice started. Inside
    a form (``in_form``) Streamlit allows no callback; the form's submit carries the value."""
    value_key = f"{key}__value"
    widget_key = f"{key}__{lang()}"
    current = st.session_state.get(value_key, default if default in options else options[0])
    if current not in options:
        current = options[0]

    def keep() -> None:
        st.session_state[value_key] = st.session_state[widget_key]

    choice = widget(
        label,
        options=options,
        index=options.index(current),
        format_func=format_func,
        key=widget_key,
        **({} if in_form else {"on_change": keep}),
    )
    st.session_state[value_key] = choice
    return choice


def as_of_input(key: str = "as_of") -> date:
    """The as-of date (Shenzhen's today by default). A date in the future is allowed, and
    said not to be a forecast: only what is confirmed by today counts."""
    chosen = st.sidebar.date_input(
        t("as_of", lang()), value=shenzhen_today(), min_value=date(2018, 1, 1), key=key
    )
    if chosen > shenzhen_today():
        st.sidebar.caption(t("as_of_future", lang()))
    return chosen


def guarded(render: Callable[[], None]) -> Callable[[], None]:
    """Run a page; an unexpected error is logged in full and shown to the user as one sentence."""

    def page() -> None:
        try:
            render()
        except Exception as exc:  # a traceback shown to a user is a bug
            log.error("page failed: %s\n%s", exc, traceback.format_exc())
            st.error(
                t(
                    "error_generic",
                    lang(),
                    what=type(exc).__name__,
                    when=beijing_text(utcnow()),
                )
            )

    page.__name__ = render.__name__
    return page


COUNTED_FILTER = "counted_filter"  # set by a dashboard figure's link, read by map and table


PROJECT_FOCUS = "projects_focus"  # one project the map sent to the projects page


def show_counted(counted: CountedAt, page: str) -> None:
    """Open ``page`` (projects or map) on the projects behind a dashboard figure."""
    st.session_state[COUNTED_FILTER] = counted
    st.switch_page(f"spatial/ui/pages/{page}.py")


def counted_filter_banner(lg: str, key: str) -> CountedAt | None:
    """The figure the user came from, as a filter they can see and remove."""
    counted = st.session_state.get(COUNTED_FILTER)
    if counted is None:
        return None
    stage = label(STAGE_LABELS, counted.stage, lg)
    years = (
        str(counted.first_year)
        if counted.first_year == counted.last_year
        else f"{counted.first_year}—{counted.last_year}"
    )
    st.info(t("counted_filter", lg, stage=stage, years=years, as_of=counted.as_of.isoformat()))
    if st.button(t("counted_filter_clear", lg), key=f"{key}_counted_clear"):
        del st.session_state[COUNTED_FILTER]
        st.rerun()
    return counted


def grouped_numbers(frame) -> dict:
    """Column settings that show a table's figures with thousands separators (1,030,380), the
    way the headline shows them; year columns stay plain (2026, not 2,026)."""
    config = {}
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        present = values.dropna()
        if len(present) and present.between(1900, 2100).all() and (present % 1 == 0).all():
            continue  # a year
        config[column] = st.column_config.NumberColumn(format="localized")
    return config
