"""What every page shares: the store, the cached snapshot, language, and the error boundary."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import streamlit as st

from spatial.i18n import DEFAULT_LANGUAGE, t
from spatial.map_assets import install_static_assets
from spatial.seed import ensure_seeded
from spatial.snapshot import Snapshot, take_snapshot
from spatial.store import Store, default_database_url, open_store

log = logging.getLogger("spatial.ui")

APP_DIR = Path(__file__).resolve().parent.parent.parent


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    store = open_store(url)
    ensure_seeded(store)
    install_static_assets(APP_DIR / "static")
    return store


def store() -> Store:
    return _store(default_database_url())


@st.cache_data(show_spinner=False, max_entries=32)
def _snapshot(url: str, revision: tuple[int, int], as_of: date) -> Snapshot:
    return take_snapshot(_store(url), as_of)


def snapshot(as_of: date) -> Snapshot:
    """The store as of a date, cached until anything is written (the revision changes)."""
    s = store()
    return _snapshot(default_database_url(), s.revision(), as_of)


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


def as_of_input(key: str = "as_of") -> date:
    return st.sidebar.date_input(
        t("as_of", lang()), value=date.today(), min_value=date(2018, 1, 1), key=key
    )


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
                    when=datetime.now().isoformat(timespec="seconds"),
                )
            )

    page.__name__ = render.__name__
    return page
