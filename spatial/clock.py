"""Shenzhen's clock: users see Beijing time (Asia/Shanghai, UTC+8) and "today" is Shenzhen's
date; the store keeps UTC (naive datetimes, as written by :func:`spatial.store.database.utcnow`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

BEIJING = ZoneInfo("Asia/Shanghai")
BEIJING_LABEL = {"zh": "北京时间", "en": "Beijing time"}


def shenzhen_now() -> datetime:
    return datetime.now(BEIJING)


def shenzhen_today() -> date:
    """Today's date in Shenzhen (from 16:00 UTC it is already tomorrow there)."""
    return shenzhen_now().date()


def beijing(at: datetime | pd.Timestamp | str | None) -> datetime | None:
    """A stored UTC instant (naive = UTC) as an aware Beijing-time datetime."""
    if at is None or (not isinstance(at, datetime) and pd.isna(at)):
        return None
    stamp = pd.Timestamp(at)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return stamp.tz_convert(BEIJING).to_pydatetime()


def beijing_text(at, seconds: bool = True) -> str:
    """'2026-11-24 00:30:00' for a stored UTC instant, in Beijing time ('' for none)."""
    local = beijing(at)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def beijing_column(values: pd.Series, seconds: bool = True) -> pd.Series:
    """A column of stored UTC instants as Beijing-time text (vectorised)."""
    stamps = pd.to_datetime(values, errors="coerce")
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(UTC)
    text = stamps.dt.tz_convert(BEIJING).dt.strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )
    return text.where(stamps.notna(), "")
