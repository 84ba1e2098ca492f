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
from spatial.figures.ledger import build_ledger, iso_dates, ledger_by_year, overdue, split_by
from spatial.layers import PROJECT_FIELDS, STAGE_EVIDENCE_COLUMN, Stage
from spatial.store.database import end_of_day
from spatial.store.reference import SEEDS_DIR

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


def test_overdue_ties_are_ordered_by_project_id_whatever_the_read_order():
    """A store read in its own order (``spatial ledger`` saves the sort) gives the same
    overdue list: most overdue first, ties by project ID."""
    projects = fixture_projects()
    projects.loc[projects["project_id"].isin(["A", "B", "E"]), "status"] = "under_construction"
    projects.loc[projects["project_id"].isin(["A", "B"]), "completion_date"] = "2025-06-30"
    expected = ["E", "A", "B", "C"]
    for order in ([0, 1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1, 0], [2, 0, 6, 1, 4, 3, 5]):
        late = overdue(projects.iloc[order], AS_OF)
        assert late["project_id"].tolist() == expected


@pytest.mark.parametrize(
    "values",
    [
        ["2024-05-01", "2024-05-01", None, "2023-12-31"],
        ["bad", "2024-02-30", " 2024-05-01", "2024-13-01", "", "2024-05-01T00:00:00"],
        ["2999-12-31", "1600-01-01", "2024-5-1"],
        [None, None],
        [],
    ],
)
@pytest.mark.parametrize("dtype", ["str", object])
def test_iso_dates_parse_each_text_as_pandas_does(values, dtype):
    """Parsing each distinct date once gives what ``pd.to_datetime`` gives row by row: NaT
    for anything that is not a real YYYY-MM-DD date, dates beyond the nanosecond range kept."""
    text = pd.Series(values, dtype=dtype, index=range(10, 10 + len(values)))
    got = iso_dates(text)
    want = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
    assert got.index.equals(text.index)
    assert got.isna().tolist() == want.isna().tolist()
    assert got.dropna().tolist() == want.dropna().tolist()


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
                evidence = row[column.replace("_date", "_evidence")]
                if evidence not in ("", "confirmed"):
                    continue  # a plan or an inference is never counted
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
    assert payload["measure"] == "started"  # the official stage by default
    assert payload["summary"]["cumulative_m2"] == pytest.approx(
        sum(v for y, v in expected["started"].items() if y <= int(as_of[:4]))
    )
    assert sum(expected["started"].values()) > 0  # the shipped data do start something
    assert payload["verdict"] == "insufficient_data"  # 34 projects of the 72 reported


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


# The corrected seeds (shared/reference/corrections.md applied by scripts/build_reference.py),
# worked out by hand from seeds/projects.csv as of 2026-11-23, counted area per project:
#   started, confirmed: REF-003 265,000 (2023-03-06), REF-008 175,400 (2023-09-27), REF-012
#     231,980 (2023-03-15), REF-015 235,000 + REF-016 123,000 (2023-05-24) -> 2023 1,030,380;
#     REF-017 144,000 + REF-018 131,000 (2024-11-14) -> 2024 275,000. REF-007's start (2023)
#     and REF-024's (2025-12-18) are inferred; REF-014 (ground broken 2023-01-29) has no area.
#   completed: no completion is confirmed (燕罗, 红花岭, 园山 completions are inferred).
#   delivered, confirmed: REF-007 园山眼镜 55,000 (handover 2025-05-26) only.
#   expected (planned or inferred, shown, never counted):
#     started: 2023 REF-007 55,000; 2025 REF-024 230,000
#     completed: 2023 REF-004 321,000; 2024 REF-001 200,000 + REF-003 265,000; 2025 REF-007
#       55,000 + REF-008 175,400 + REF-015 235,000; 2026 REF-005 495,000 + REF-012 231,980
#     delivered: 2024 REF-001 200,000 + REF-003 265,000; 2026 REF-005 495,000 + REF-012 231,980
CORRECTED_AS_OF = date(2026, 11, 23)
CORRECTED = {
    "started_m2": {2023: 1_030_380, 2024: 275_000, 2025: 0, 2026: 0, 2027: 0},
    "completed_m2": {2023: 0, 2024: 0, 2025: 0, 2026: 0, 2027: 0},
    "delivered_m2": {2023: 0, 2024: 0, 2025: 55_000, 2026: 0, 2027: 0},
    "started_expected_m2": {2023: 55_000, 2024: 0, 2025: 230_000, 2026: 0, 2027: 0},
    "completed_expected_m2": {
        2023: 321_000,
        2024: 465_000,
        2025: 465_400,
        2026: 726_980,
        2027: 0,
    },
    "delivered_expected_m2": {2023: 0, 2024: 465_000, 2025: 0, 2026: 726_980, 2027: 0},
}


@pytest.mark.parametrize("column", sorted(CORRECTED))
def test_the_corrected_seeds_against_a_hand_computed_table(column):
    from spatial.store.reference import load_reference

    reference = load_reference()
    table = ledger_by_year(
        reference.projects, reference.pledge, Stage.STARTED, CORRECTED_AS_OF
    ).set_index("year")
    assert table[column].to_dict() == pytest.approx(CORRECTED[column])


@pytest.mark.parametrize("evidence", ["planned", "inferred"])
@pytest.mark.parametrize("stage", list(Stage))
def test_only_a_confirmed_stage_counts(stage, evidence):
    projects = fixture_projects()
    column = STAGE_EVIDENCE_COLUMN[stage]
    counted = ledger_by_year(projects, PLEDGE, stage, AS_OF)[f"{stage.value}_m2"].sum()
    projects[column] = evidence
    table = ledger_by_year(projects, PLEDGE, stage, AS_OF)
    assert table[f"{stage.value}_m2"].sum() == 0
    assert table[f"{stage.value}_expected_m2"].sum() >= counted > 0
    projects[column] = "confirmed"
    assert ledger_by_year(projects, PLEDGE, stage, AS_OF)[f"{stage.value}_m2"].sum() == counted


def test_past_expected_completion_needs_no_confirmed_completion():
    projects = fixture_projects()
    projects["completion_evidence"] = None
    projects.loc[projects["project_id"] == "B", "completion_evidence"] = "planned"
    late = overdue(projects, AS_OF)
    assert late["project_id"].tolist() == ["B", "C"]  # B's completion is only a plan


@pytest.mark.parametrize("as_of", [date(2024, 6, 30), date(2026, 11, 21)])
def test_the_ledger_read_from_its_columns_is_the_full_snapshots(seeded_store, as_of):
    """``spatial ledger`` reads only LEDGER_COLUMNS (no geometry, no overlays): the verdict,
    the ledger and its overdue list are those of the full snapshot, city-wide and per
    district, on both backends."""
    from spatial.figures.snapshot import LEDGER_COLUMNS, take_snapshot

    full = take_snapshot(seeded_store, as_of)
    light = take_snapshot(seeded_store, as_of, project_columns=LEDGER_COLUMNS)
    assert "geometry" not in light.projects and len(light.projects) == len(full.projects)
    for district in (None, *full.districts["district_id"]):
        a, b = full.judgement(district), light.judgement(district)
        assert a.as_json() == b.as_json()
        pd.testing.assert_frame_equal(a.ledger.by_year, b.ledger.by_year)
        assert list(a.ledger.overdue["project_id"]) == list(b.ledger.overdue["project_id"])
