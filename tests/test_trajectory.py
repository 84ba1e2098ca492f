"""The supply trajectory (spatial.figures.trajectory) against hand-computed fixtures: observed
slippage from a version history built by hand, expected dates with the default durations,
the P10/P50/P90 band, the year the pledge is met, and the years-of-supply table; then the same
through a real store on both backends and the `spatial trajectory` command."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial.auth import SYSTEM, PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.crs import WGS84
from spatial.figures.trajectory import (
    DEFAULT_ASSUMPTIONS,
    TrajectoryError,
    assumptions_of,
    build_trajectory,
    observed_slippage,
    set_assumption,
    trajectory,
)
from spatial.layers import PROJECT_FIELDS, Stage
from spatial.store import accounts

AS_OF = date(2025, 6, 30)
ADMIN = Principal("admin", Role.ADMIN)


def pledge(per_year: float) -> pd.DataFrame:
    return pd.DataFrame({"year": range(2023, 2028), "target_m2": [per_year] * 5})


def project(pid, area, status, start=None, done=None, delivered=None, evidence=None, **more):
    """A project row; ``evidence`` (started, completed, delivered) defaults to confirmed where
    the status has reached the stage and planned where it has not."""
    row = dict.fromkeys(PROJECT_FIELDS) | {
        "project_id": pid,
        "name_zh": pid,
        "district_id": more.pop("district", "baoan"),
        "status": status,
        "floor_area_m2": float(area),
        "start_date": start,
        "completion_date": done,
        "delivery_date": delivered,
        "quality": "official",
    }
    reached = {"planned": 0, "under_construction": 1, "completed": 2, "delivered": 3}[status]
    for i, (column, when) in enumerate(
        (("start_evidence", start), ("completion_evidence", done), ("delivery_evidence", delivered))
    ):
        given = evidence[i] if evidence else ("confirmed" if reached > i else "planned")
        row[column] = given if when else None
    return row | more


def frame(rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(rows), geometry=[Point(113.9, 22.6)] * len(rows), crs=WGS84
    )


# P1 delivered; P2 started, its completion planned for a date already passed (overdue);
# P3 to start next year; P4 planned with no dates at all (all areas "small": < 100,000 m²)
PIPELINE = [
    project("P1", 200, "delivered", "2023-03-01", "2024-06-01", "2024-09-01"),
    project("P2", 100, "under_construction", "2024-02-01", "2025-03-01"),
    project("P3", 300, "planned", "2026-01-15"),
    project("P4", 150, "planned"),
]
# by hand, with no observed slippage (default 0) and the small-project durations
# (lead-in 180 days, build 540, hand-over 90):
#   P2 completion 2025-03-01 passed unconfirmed → 2025-07-01 → delivery +90 = 2025-09-29
#   P3 start 2026-01-15 → completion +540 = 2027-07-09 → delivery +90 = 2027-10-07
#   P4 start 2025-06-30 + 180 = 2025-12-27 → completion 2027-06-19 → delivery 2027-09-17
EXPECTED = {
    "started": {2023: 200, 2024: 100, 2025: 150, 2026: 300},
    "completed": {2024: 200, 2025: 100, 2027: 450},
    "delivered": {2024: 200, 2025: 100, 2027: 450},
}


def test_expected_years_with_the_default_assumptions():
    t = build_trajectory(frame(PIPELINE), frame(PIPELINE[:0]), pledge(100), Stage.STARTED, AS_OF)
    by_year = t.by_year.set_index("year")
    for stage, years in EXPECTED.items():
        for q in (10, 50, 90):  # no observed slippage: the band has no width
            got = by_year[f"{stage}_p{q}_m2"]
            assert got.to_dict() == {y: float(years.get(y, 0)) for y in range(2023, 2031)}
        assert t.banded[stage] is False and t.observed[stage] == 0
    assert by_year.loc[2023, "started_confirmed_m2"] == 200
    assert by_year.loc[2024, "started_confirmed_m2"] == 100
    assert by_year.loc[2025, "started_confirmed_m2"] == 0  # P4's start is expected, not counted
    assert by_year.loc[2024, "delivered_confirmed_m2"] == 200


@pytest.mark.parametrize(
    "per_year, year_met, shortfall, requirement, years",
    [
        # cumulative started 200, 300, 450, 750 against 500: met in 2026; nothing short
        (100, 2026, 0, 100, 450 / 100),
        # against 1,000 never met; 2023–24 needed 400, counted 300: 100 short over 3 years
        (200, None, 100, 200 + 100 / 3, 450 / (200 + 100 / 3)),
    ],
)
def test_year_met_and_years_of_supply(per_year, year_met, shortfall, requirement, years):
    t = build_trajectory(frame(PIPELINE), frame([]), pledge(per_year), Stage.STARTED, AS_OF)
    assert t.year_met == year_met
    assert t.met_by_period_end == (1.0 if year_met else 0.0)
    s = t.supply
    assert s["a_target_m2"] == per_year
    assert s["b_shortfall_m2"] == pytest.approx(shortfall)
    assert s["c_years_left"] == 3  # 2025, 2026, 2027
    assert s["d_requirement_per_year_m2"] == pytest.approx(requirement)
    assert s["e_supply_p50_m2"] == 450  # P3 and P4 start within five years of the as-of date
    assert s["f_years_of_supply"] == pytest.approx(years)


def history_of_slippage(days: list[int]) -> pd.DataFrame:
    """Projects H0…: each first planned to complete on 2024-01-01, then confirmed ``d`` days
    later (a second version)."""
    rows = []
    for i, d in enumerate(days):
        done = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)).date().isoformat()
        plan = project(f"H{i}", 1_000, "under_construction", "2023-01-01", "2024-01-01")
        rows += [plan | {"version_id": 2 * i + 1}]
        rows += [
            project(f"H{i}", 1_000, "completed", "2023-01-01", done) | {"version_id": 2 * i + 2}
        ]
    return frame(rows)


def test_observed_slippage_from_a_hand_built_history():
    history = history_of_slippage([30, 60, 90, -10])
    slips = observed_slippage(history, AS_OF)
    assert slips["stage"].tolist() == ["completed"] * 4  # the starts were never planned first
    assert sorted(slips["slip_days"]) == [-10, 30, 60, 90]
    # a completion confirmed after the as-of date is not observed yet: on 2024-01-20 only
    # the early one (2023-12-22) had happened
    assert observed_slippage(history, date(2024, 1, 20))["slip_days"].tolist() == [-10]


def test_the_band_comes_from_the_observed_slippage():
    """Completion planned 2026-11-15, slippage observed 30/60/90/120/150 days: 1 draw in 5
    completes in 2026 (+30 → 2026-12-15), 4 in 5 in 2027."""
    q = project("Q", 1_000, "under_construction", "2025-01-01", "2026-11-15")
    history = history_of_slippage([30, 60, 90, 120, 150])
    t = build_trajectory(frame([q]), history, pledge(100), Stage.STARTED, AS_OF, seed=7)
    assert t.observed["completed"] == 5 and t.banded["completed"]
    by_year = t.by_year.set_index("year")
    assert by_year.loc[2026, "completed_p10_m2"] == 0
    assert by_year.loc[2026, "completed_p90_m2"] == 1_000
    assert by_year.loc[2027, "completed_p10_m2"] == 0
    assert by_year.loc[2027, "completed_p50_m2"] == 1_000
    again = build_trajectory(frame([q]), history, pledge(100), Stage.STARTED, AS_OF, seed=7)
    pd.testing.assert_frame_equal(t.by_year, again.by_year)  # the same seed, the same band


def test_assumptions_change_the_expected_dates():
    slower = DEFAULT_ASSUMPTIONS.copy()
    slower.loc[(slower["key"] == "lead_in") & (slower["band"] == "small"), "days"] = 400
    t = build_trajectory(frame(PIPELINE), frame([]), pledge(100), Stage.STARTED, AS_OF, slower)
    by_year = t.by_year.set_index("year")
    assert by_year.loc[2025, "started_p50_m2"] == 0  # P4 now starts 2026-08-04
    assert by_year.loc[2026, "started_p50_m2"] == 450


# -- through the store ------------------------------------------------------------------------


def _write(store, rows, at: datetime) -> None:
    with store.transaction() as conn:
        store.write_project_versions(
            conn, frame(rows), at=at, changed_by="test", change_kind="update", submission_id=None
        )


@pytest.fixture
def pipeline_store(empty_store, reference):
    from spatial.store.seed import seed_store

    seed_store(empty_store, reference)
    with empty_store.transaction() as conn:  # only the hand-built pipeline, not the shipped
        shipped = empty_store.projects()
        empty_store.write_project_versions(
            conn, shipped, at=datetime(2023, 1, 1), changed_by="test", change_kind="delete",
            submission_id=None, deleted=True,
        )  # fmt: skip
    _write(empty_store, [project("P2", 100, "under_construction", "2024-02-01", "2025-01-01")],
           datetime(2024, 1, 10))  # fmt: skip
    _write(empty_store, PIPELINE, datetime(2025, 1, 10))
    return empty_store


def test_trajectory_from_the_store_as_of_a_date(pipeline_store):
    t = trajectory(pipeline_store, ADMIN, AS_OF, group_by="district_id", draws=50)
    by_year = t.by_year.set_index("year")
    for stage, years in EXPECTED.items():
        assert by_year[f"{stage}_p50_m2"].to_dict() == {
            y: float(years.get(y, 0)) for y in range(2023, 2031)
        }
    assert t.groups.groupby("year")["p50_m2"].sum().loc[2026] == 300
    earlier = trajectory(pipeline_store, ADMIN, date(2024, 6, 30), draws=20)
    assert earlier.by_year.set_index("year").loc[2023, "started_p50_m2"] == 0  # P1 not yet there


def test_assumptions_are_admin_only_sourced_and_audited(pipeline_store):
    officer = Principal("ba", Role.DISTRICT, "baoan")
    with pytest.raises(PermissionDenied):
        set_assumption(pipeline_store, officer, "lead_in", "small", 400, "区里估计")
    with pytest.raises(TrajectoryError):
        set_assumption(pipeline_store, ADMIN, "lead_in", "small", 400, "")
    with pytest.raises(TrajectoryError):
        set_assumption(pipeline_store, ADMIN, "slip_started", "small", 30, "assumption by A")
    set_assumption(pipeline_store, ADMIN, "lead_in", "small", 400, "assumption by the admin")
    table = assumptions_of(pipeline_store)
    row = table[(table["key"] == "lead_in") & (table["band"] == "small")].iloc[0]
    assert (row["days"], row["source"]) == (400, "assumption by the admin")
    assert pipeline_store.audit("admin", "set_trajectory_assumption")["target"].tolist() == [
        "lead_in/small"
    ]
    t = trajectory(pipeline_store, ADMIN, AS_OF, draws=10)
    assert t.by_year.set_index("year").loc[2026, "started_p50_m2"] == 450


def test_cli_trajectory_json(pipeline_store, db_url):
    accounts.add_user(pipeline_store, SYSTEM, "admin", "admin")
    out = io.StringIO()
    code = cli_main(
        ["--database-url", db_url, "trajectory", "--as-of", AS_OF.isoformat(), "--json",
         "--draws", "20"],
        out=out,
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out.getvalue())
    assert payload["pledge_total_m2"] == 100_000_000  # the shipped pledge: 5 × 2,000 万㎡
    assert payload["year_met"] is None  # 750 m² of pipeline never meets it
    years = {r["year"]: r for r in payload["years"]}
    assert years[2026]["started_p50_m2"] == 300
    assert payload["supply"]["e_supply_p50_m2"] == 450


def test_a_district_without_an_allocation_is_not_set_against_the_city(pipeline_store):
    officer = Principal("ba", Role.DISTRICT, "baoan")
    t = trajectory(pipeline_store, officer, AS_OF, draws=10)
    assert not t.measured and t.year_met is None and t.supply is None
    assert t.by_year["target_m2"].isna().all()
    assert t.by_year.set_index("year").loc[2026, "started_p50_m2"] == 300  # its own projects
    city = trajectory(pipeline_store, ADMIN, AS_OF, draws=10)
    assert city.measured and city.pledge_total_m2 == 100_000_000


def test_drawing_in_chunks_gives_the_figures_of_one_draw_over_all(monkeypatch):
    """With no slippage observed (every draw the same), the register drawn two projects at a
    time gives exactly the band, the supply and the groups of drawing it at once."""
    import spatial.figures.trajectory as trajectory_module

    rows = [
        project(f"C{i}", 1_000 * (i + 1), status, start, done)
        for i, (status, start, done) in enumerate([
            ("planned", "2026-03-01", None), ("under_construction", "2024-05-01", "2026-12-01"),
            ("under_construction", "2025-01-01", None), ("planned", None, None),
            ("completed", "2023-02-01", "2024-06-30"), ("planned", "2027-01-01", "2028-06-30"),
            ("under_construction", "2026-01-01", "2027-03-31"),
        ])
    ]  # fmt: skip
    projects = frame(rows).assign(district_id=["a", "b", "a", "c", "b", "a", "c"])
    history = frame(rows).assign(version_id=range(1, 8))
    whole = build_trajectory(projects, history, pledge(100), Stage.STARTED, AS_OF,
                             group_by="district_id")  # fmt: skip
    monkeypatch.setattr(trajectory_module, "CHUNK", 2)
    chunked = build_trajectory(projects, history, pledge(100), Stage.STARTED, AS_OF,
                               group_by="district_id")  # fmt: skip
    pd.testing.assert_frame_equal(chunked.by_year, whole.by_year)
    pd.testing.assert_frame_equal(chunked.groups, whole.groups)
    assert chunked.supply == whole.supply and chunked.undated == whole.undated
    assert chunked.year_met == whole.year_met
