"""方案 scenarios (spatial.figures.scenarios): a scenario changes the trajectory while the
official ledger (`spatial ledger --json`) stays byte-identical; what a district officer may
change; confirmed stages cannot move; every action audited; compare on both backends."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from test_trajectory import AS_OF, PIPELINE, _write, project

from spatial.auth import SYSTEM, PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.figures.scenarios import (
    ScenarioError,
    change_scenario,
    compare_scenarios,
    create_scenario,
    scenario_list,
    scenario_trajectory,
)
from spatial.store import accounts

ADMIN = Principal("admin", Role.ADMIN)
PLANNER = Principal("pl", Role.PLANNER)
BAOAN = Principal("ba", Role.DISTRICT, "baoan")


@pytest.fixture
def store(seeded_store):
    """The shipped store plus the hand-built pipeline (P1–P4 in 宝安) and one 福田 project."""
    _write(seeded_store, PIPELINE, datetime(2025, 1, 10))
    futian = project("F1", 500, "planned", "2026-03-01", district="futian")
    _write(seeded_store, [futian], datetime(2025, 1, 10))
    accounts.add_user(seeded_store, SYSTEM, "admin", "admin")
    return seeded_store


def ledger_json(store, db_url) -> str:
    out = io.StringIO()
    cli_main(["--database-url", db_url, "ledger", "--as-of", AS_OF.isoformat(), "--json"],
             out=out)  # fmt: skip
    return out.getvalue()


def test_a_scenario_changes_the_trajectory_never_the_ledger(store, db_url):
    before = ledger_json(store, db_url)
    baseline, _, _ = scenario_trajectory(store, PLANNER, None, AS_OF, draws=10)
    create_scenario(store, PLANNER, "P3-a-year-late", "P3 slips a year")
    change_scenario(
        store,
        PLANNER,
        "P3-a-year-late",
        {"kind": "move", "project_id": "P3", "stage": "started", "days": 366},
    )
    moved, _, _ = scenario_trajectory(store, PLANNER, "P3-a-year-late", AS_OF, draws=10)
    b, m = baseline.by_year.set_index("year"), moved.by_year.set_index("year")
    assert b.loc[2026, "started_p50_m2"] - m.loc[2026, "started_p50_m2"] == 300
    assert m.loc[2027, "started_p50_m2"] - b.loc[2027, "started_p50_m2"] == 300
    assert ledger_json(store, db_url) == before  # the official ledger is untouched
    assert store.projects().set_index("project_id").loc["P3", "start_date"] == "2026-01-15"
    audit = store.audit("pl")
    assert {"scenario_create", "scenario_change"} <= set(audit["action"])


def test_sites_turned_into_projects_use_capacity(store):
    from spatial.figures.capacity import capacity

    _, sites = capacity(store, ADMIN)
    site = sites[sites["land_use"] == "M1"].sort_values("capacity_m2").iloc[-1]  # at the city 3.0
    create_scenario(store, ADMIN, "build-the-best-site")
    change_scenario(
        store,
        ADMIN,
        "build-the-best-site",
        {"kind": "site", "site_id": site["site_id"], "start_date": "2027-03-01"},
    )
    change_scenario(
        store,
        ADMIN,
        "build-the-best-site",
        {"kind": "plot_ratio", "scope": "city", "key": "all", "plot_ratio": 4.0},
    )
    table = compare_scenarios(store, ADMIN, ["build-the-best-site"], AS_OF, draws=10)
    base, built = table.iloc[0], table.iloc[1]
    assert built["capacity_m2"] > base["capacity_m2"]  # the city default raised 3.0 → 4.0
    assert built["capacity_used_m2"] > site["capacity_m2"]  # its capacity at the raised ratio
    assert built["cumulative_p50_m2"] - base["cumulative_p50_m2"] == pytest.approx(
        built["capacity_used_m2"]
    )  # started in 2027, counted by the end of the pledge


def test_a_district_officer_plans_only_in_their_district(store):
    create_scenario(store, BAOAN, "baoan-plan", district_id="futian")  # taken as 宝安's own
    assert scenario_list(store, BAOAN).set_index("name").loc["baoan-plan", "district_id"] == "baoan"
    change_scenario(
        store,
        BAOAN,
        "baoan-plan",
        {"kind": "move", "project_id": "P3", "stage": "started", "days": 30},
    )
    with pytest.raises(PermissionDenied):  # a 福田 project
        change_scenario(
            store,
            BAOAN,
            "baoan-plan",
            {"kind": "move", "project_id": "F1", "stage": "started", "days": 30},
        )
    with pytest.raises(PermissionDenied):  # the city-wide default
        change_scenario(
            store,
            BAOAN,
            "baoan-plan",
            {"kind": "plot_ratio", "scope": "city", "key": "all", "plot_ratio": 5},
        )
    create_scenario(store, PLANNER, "city-plan")
    with pytest.raises(PermissionDenied):  # a city-wide scenario is not theirs to change
        change_scenario(
            store,
            BAOAN,
            "city-plan",
            {"kind": "move", "project_id": "P3", "stage": "started", "days": 30},
        )
    with pytest.raises(PermissionDenied):
        create_scenario(store, Principal("vw", Role.VIEWER), "viewer-plan")
    assert len(store.scenario("baoan-plan")["changes"]) == 1  # refused changes wrote nothing


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "move", "project_id": "P1", "stage": "started", "days": 30},  # confirmed
        {"kind": "move", "project_id": "P4", "stage": "started", "days": 30},  # no date
        {"kind": "move", "project_id": "NOPE", "stage": "started", "days": 30},
        {"kind": "move", "project_id": "P3", "stage": "begun", "days": 30},
        {"kind": "plot_ratio", "scope": "park", "key": "P04", "plot_ratio": 99},
        {"kind": "site", "site_id": "S-99999", "start_date": "2027-01-01"},
        {"kind": "site", "site_id": "S-00001", "start_date": "soon"},
        {"kind": "demolish"},
    ],
)
def test_bad_changes_are_refused_with_a_reason(store, change):
    create_scenario(store, ADMIN, "s")
    with pytest.raises(ScenarioError) as refused:
        change_scenario(store, ADMIN, "s", change)
    assert refused.value.zh and refused.value.en
    assert store.scenario("s")["changes"] == []


def test_cli_scenario_create_change_compare(store, db_url, tmp_path):
    def run(*argv):
        out = io.StringIO()
        code = cli_main(["--database-url", db_url, "scenario", *argv], out=out)
        return code, out.getvalue()

    assert run("create", "late")[0] == 0
    assert run("change", "late", "move", "P3", "started", "366")[0] == 0
    assert run("change", "late", "move", "P1", "started", "30")[0] == 1  # confirmed: refused
    code, listed = run("list")
    assert code == 0 and "late" in listed and "1 changes" in listed
    code, text = run("compare", "late", "--as-of", AS_OF.isoformat(), "--draws", "10", "--json",
                     "-o", str(tmp_path / "compare.csv"))  # fmt: skip
    rows = json.loads(text)
    assert [r["scenario"] for r in rows] == ["baseline", "late"]
    assert (tmp_path / "compare.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert run("compare", "a", "b", "c", "d", "e")[0] == 1  # at most four


def test_scenario_dates_are_plain_iso(store):
    create_scenario(store, ADMIN, "dates")
    change_scenario(
        store,
        ADMIN,
        "dates",
        {"kind": "site", "site_id": "S-00001", "start_date": date(2027, 5, 1)},
    )
    assert store.scenario("dates")["changes"][0]["start_date"] == "2027-05-01"
