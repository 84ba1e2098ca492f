"""Beijing time for people, UTC in the store: around midnight UTC the date changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from spatial.clock import beijing, beijing_column, beijing_text, shenzhen_today


@pytest.mark.parametrize(
    "stored_utc,shown",
    [
        (datetime(2026, 11, 23, 15, 59, 59), "2026-11-23 23:59:59"),
        (datetime(2026, 11, 23, 16, 0, 0), "2026-11-24 00:00:00"),  # already tomorrow there
        (datetime(2026, 12, 31, 16, 30), "2027-01-01 00:30:00"),  # and next year
        (datetime(2026, 11, 24, 0, 30), "2026-11-24 08:30:00"),
    ],
)
def test_stored_utc_is_shown_in_beijing_time(stored_utc, shown):
    assert beijing_text(stored_utc) == shown
    assert beijing_text(stored_utc.replace(tzinfo=UTC)) == shown  # aware or naive alike
    assert beijing_column(pd.Series([stored_utc, None])).tolist() == [shown, ""]
    assert beijing(stored_utc).utcoffset() == timedelta(hours=8)


def test_today_is_shenzhen_s_date():
    before = (datetime.now(UTC) + timedelta(hours=8)).date()
    today = shenzhen_today()
    after = (datetime.now(UTC) + timedelta(hours=8)).date()
    assert today in (before, after)


def test_nothing_is_shown_for_no_time():
    assert beijing_text(None) == "" and beijing(None) is None
