"""The pledge ledger against a hand-computed fixture, and against the shipped data."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial.cli import main as cli_main
from spatial.crs import WGS84
from spatial.layers import PROJECT_FIELDS, Stage
from spatial.ledger import build_ledger, ledger_by_year, overdue, split_by
from spatial.reference import SEEDS_DIR
from spatial.store import end_of_day

PLEDGE = pd.DataFrame({"year": [2023, 2024, 2025, 2026, 2027], "target_m2": [20_000_000] * 5})

# id, status, total, factory, start, completion, delivery, district
FIXTURE = [
    ("A", "delivered", 150_000, 100_000, "2023-03-01", "2024-05-01", "2024-06-15", "baoan"),
    ("B", "completed", 200_000, None, "2023-06-01", "2025-02-01", None, "baoan"),
    ("C", "under_construction", 300_000, None, "2024-01-10", "2025-06-30", None, "longhua"),
    ("D", "planned", 50_000, None, None, None, None, "longhua"),
    ("E", "delivered", 80_000, None, "2021-01-01", "2022-06-01", "2022-12-01", "nanshan"),
    ("F", "delivered", 70_000, None, None, None, None, "nanshan"),
    ("G", "under_construction", 40_000, None, "2027-03-01", "2029-12-31", None, "luohu"),
]


def fixture_projects() -> gpd.GeoDataFrame:
    rows = []
    for pid, status, total, factory, start, done, delivered, district in FIXTURE:
        row = dict.fromkeys(PROJECT_FIELDS)
        row |= {
            "project_id": pid,
            "name_zh": f"项目{pid}",
            "name_en": f"Project {pid}",
            "status": status,
            "floor_area_m2": total,
            "factory_floor_area_m2": factory,
            "start_date": start,
            "completion_date": done,
            "delivery_date": delivered,
            "district_id": district,
            "quality": "approximate",
        }
        rows.append(row)
    frame = pd.DataFrame(rows)
    for c in ("floor_area_m2", "factory_floor_area_m2"):
        frame[c] = frame[c].astype(float)
    return gpd.GeoDataFrame(frame, geometry=[Point(114.0, 22.6)] * len(rows), crs=WGS84)


AS_OF = date(2025, 12, 31)


@pytest.mark.parametrize(
    "stage,expected",
    [
        # hand-computed: year -> m2 counted at that stage by 2025-12-31
        (Stage.DELIVERED, {2023: 0, 2024: 100_000, 2025: 0, 2026: 0, 2027: 0}),
        (Stage.COMPLETED, {2023: 0, 2024: 100_000, 2025: 200_000, 2026: 0, 2027: 0}),
        (Stage.STARTED, {2023: 300_000, 2024: 300_000, 2025: 0, 2026: 0, 2027: 0}),
    ],
)
def test_each_stage_by_year(stage, expected):
    table = ledger_by_year(fixture_projects(), PLEDGE, stage, AS_OF).set_index("year")
    assert table[f"{stage.value}_m2"].to_dict() == expected
    assert table["cumulative_m2"].tolist() == pd.Series(expected).cumsum().tolist()


def test_as_of_date_excludes_later_events():
    early = date(2024, 6, 1)  # A completed 2024-05-01 but delivered only 2024-06-15
    table = ledger_by_year(fixture_projects(), PLEDGE, Stage.DELIVERED, early).set_index("year")
    assert table.loc[2024, "delivered_m2"] == 0
    assert table.loc[2024, "completed_m2"] == 100_000
    assert table.loc[2024, "started_m2"] == 300_000  # C started 2024-01-10
    assert overdue(fixture_projects(), early).empty


def test_summary_gap_and_required_pace():
    ledger = build_ledger(fixture_projects(), PLEDGE, Stage.DELIVERED, AS_OF)
    s = ledger.summary
    assert (s.year, s.year_counted_m2, s.cumulative_m2) == (2025, 0, 100_000)
    assert s.period_target_m2 == 100_000_000
    assert s.gap_m2 == 99_900_000
    assert s.remaining_years == 2  # 2026, 2027: on 31 December 2025 that year is over
    assert s.required_pace_m2 == pytest.approx(99_900_000 / 2)
    assert s.expected_to_date_m2 == pytest.approx(60_000_000)
    assert not s.on_track
    assert s.before_period_m2 == 80_000  # E, delivered 2022
    assert s.undated_projects == 1  # F: delivered with no date
    by_year = ledger.by_year.set_index("year")["required_pace_m2"]
    assert by_year[2023] == 20_000_000
    assert by_year[2024] == 25_000_000
    assert by_year[2025] == pytest.approx((100_000_000 - 100_000) / 3)
    assert by_year[2027] == pytest.approx(100_000_000 - 100_000)


def test_overdue_list():
    late = overdue(fixture_projects(), AS_OF)
    assert late["project_id"].tolist() == ["C"]
    assert late["days_overdue"].iloc[0] == (AS_OF - date(2025, 6, 30)).days


def test_factory_area_counts_before_total_area():
    ledger = build_ledger(fixture_projects(), PLEDGE, Stage.DELIVERED, AS_OF)
    a = ledger.projects.set_index("project_id").loc["A"]
    assert (a["counted_area_m2"], a["area_basis"]) == (100_000, "factory")


def test_split_by_district_stays_inside_the_period():
    ledger = build_ledger(fixture_projects(), PLEDGE, Stage.COMPLETED, AS_OF)
    split = split_by(ledger, "district_id").set_index("district_id")
    assert split["area_m2"].to_dict() == {"baoan": 300_000}  # E (nanshan) completed in 2022
    assert split["share"].sum() == pytest.approx(1.0)


def test_as_of_reads_the_version_the_store_held(empty_store):
    """A project recorded as completed on 2025-03-01 (completion dated 2025-02-20) is not
    counted as of 2025-02-25: on that date the store still held it as under construction."""
    store = empty_store
    projects = fixture_projects()
    with store.transaction() as conn:
        store.replace_table("pledge", PLEDGE.astype(str), conn)
        store.write_project_versions(
            conn,
            projects,
            at=datetime(2023, 1, 1),
            changed_by="test",
            change_kind="create",
            submission_id=None,
        )
    update = projects[projects["project_id"] == "C"].copy()
    update["status"] = "completed"
    update["completion_date"] = "2025-02-20"
    with store.transaction() as conn:
        store.write_project_versions(
            conn,
            update,
            at=datetime(2025, 3, 1),
            changed_by="test",
            change_kind="update",
            submission_id=None,
        )

    def completed_2025(as_of: date) -> float:
        frame = store.projects(at=end_of_day(as_of))
        table = ledger_by_year(frame, PLEDGE, Stage.COMPLETED, as_of).set_index("year")
        return table.loc[2025, "completed_m2"]

    assert completed_2025(date(2025, 2, 25)) == 200_000  # B only
    assert completed_2025(date(2025, 12, 31)) == 500_000  # B + C
    assert overdue(store.projects(at=end_of_day(date(2025, 12, 31))), AS_OF).empty
    assert len(store.project_history("C")) == 2


def _independent_totals(as_of: date) -> dict[str, dict[int, float]]:
    """Re-derive the ledger from seeds/projects.csv with plain Python, not the library."""
    rank = {"planned": 0, "under_construction": 1, "completed": 2, "delivered": 3}
    needs = {
        "started": ("start_date", 1),
        "completed": ("completion_date", 2),
        "delivered": ("delivery_date", 3),
    }
    totals = {stage: dict.fromkeys(range(2023, 2028), 0.0) for stage in needs}
    with open(SEEDS_DIR / "projects.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            area = row["factory_floor_area_m2"] or row["floor_area_m2"]
            if not area:
                continue
            for stage, (column, min_rank) in needs.items():
                when = row[column]
                if when and rank[row["status"]] >= min_rank and date.fromisoformat(when) <= as_of:
                    year = int(when[:4])
                    if year in totals[stage]:
                        totals[stage][year] += float(area)
    return totals


@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-12-31", "2026-11-21"])
def test_shipped_ledger_equals_the_sum_of_the_projects(db_url, monkeypatch, as_of):
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = io.StringIO()
    assert cli_main(["ledger", "--as-of", as_of, "--json"], out=out) == 0
    payload = json.loads(out.getvalue())
    expected = _independent_totals(date.fromisoformat(as_of))
    for row in payload["years"]:
        for stage in ("started", "completed", "delivered"):
            assert row[f"{stage}_m2"] == pytest.approx(expected[stage][row["year"]])
    assert payload["summary"]["cumulative_m2"] == pytest.approx(
        sum(v for y, v in expected["delivered"].items() if y <= int(as_of[:4]))
    )
    assert sum(expected["delivered"].values()) > 0  # the shipped data do deliver something


@pytest.mark.parametrize(
    "as_of,years_left",
    [
        (date(2022, 5, 1), 5),  # before the pledge: all five
        (date(2025, 1, 1), 3),  # 2025 has begun and still counts
        (date(2025, 12, 30), 3),
        (date(2025, 12, 31), 2),  # the as-of date counts to its end: 2025 is over
        (date(2027, 6, 30), 1),
        (date(2027, 12, 31), 0),
        (date(2029, 1, 1), 0),
    ],
)
def test_remaining_years(as_of, years_left):
    s = build_ledger(fixture_projects(), PLEDGE, Stage.DELIVERED, as_of).summary
    assert s.remaining_years == years_left
    if years_left:
        assert s.required_pace_m2 == pytest.approx(s.gap_m2 / years_left)
