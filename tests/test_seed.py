"""Seeding and refreshing the shipped reference data (spatial.store.seed), on both backends: a store
seeded from older shipped data is brought up to date without losing history, district uploads
or an admin's edits."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd
import pytest

from spatial.auth import PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.store.database import Store, utcnow
from spatial.store.reference import ReferenceData
from spatial.store.reference_edits import set_pledge_target
from spatial.store.seed import SEED_USER, refresh_reference, seed_store

ADMIN = Principal("admin", Role.ADMIN)


def older(reference: ReferenceData) -> ReferenceData:
    """The shipped data as an earlier release had it: one project's area uncorrected, one
    project not yet shipped, one project since withdrawn, one source row missing."""
    projects = reference.projects.copy()
    projects.loc[projects["project_id"] == "REF-001", "floor_area_m2"] = 3_825_100.0
    projects = projects[projects["project_id"] != "REF-002"]
    withdrawn = reference.projects[reference.projects["project_id"] == "REF-003"].copy()
    withdrawn["project_id"] = "REF-999"
    projects = gpd.GeoDataFrame(
        pd.concat([projects, withdrawn], ignore_index=True), crs=reference.projects.crs
    )
    sources = reference.sources.iloc[:-1]
    return dataclasses.replace(reference, projects=projects, sources=sources)


@pytest.fixture
def old_store(empty_store: Store, reference: ReferenceData) -> Store:
    seed_store(empty_store, older(reference))
    return empty_store


def _district_takes_over(store: Store, project_id: str) -> None:
    """A 宝安 officer uploads their own record for a shipped id (it becomes the district's)."""
    current = store.projects()
    row = current[current["project_id"] == project_id].copy()
    row["name_zh"] = "区上传的名称"
    with store.transaction() as conn:
        store.write_project_versions(
            conn, row, at=utcnow(), changed_by="ba-officer", change_kind="update",
            submission_id=None,
        )  # fmt: skip


def test_refresh_brings_an_old_store_up_to_date_and_keeps_history(old_store, reference):
    before = utcnow() - timedelta(seconds=1)
    _district_takes_over(old_store, "REF-004")
    set_pledge_target(old_store, ADMIN, 2026, 25_000_000)
    result = refresh_reference(old_store, ADMIN, reference)
    assert result.updated == ("REF-001",)
    assert result.added == ("REF-002",)
    assert result.withdrawn == ("REF-999",)
    assert result.kept_district == ("REF-004",)
    assert "pledge" in result.kept_edited and "sources" in result.replaced
    now = old_store.projects().set_index("project_id")
    assert now.loc["REF-001", "floor_area_m2"] == 200_000.0  # corrected
    assert now.loc["REF-001", "change_kind"] == "correction"
    assert "REF-002" in now.index and "REF-999" not in now.index
    assert now.loc["REF-004", "name_zh"] == "区上传的名称"  # the district's record stays
    assert set(now.index) == set(reference.projects["project_id"])
    # history: as of a moment before the refresh, the store still reads as it held then
    then = old_store.projects(at=before).set_index("project_id")
    assert then.loc["REF-001", "floor_area_m2"] == 3_825_100.0 and "REF-999" in then.index
    pledge = old_store.table("pledge").set_index("year")
    assert pledge.loc["2026", "target_m2"] == "25000000"  # the admin's edit is not overwritten
    assert len(old_store.table("sources")) == len(reference.sources)
    event = old_store.audit(action="reference_refresh").iloc[-1]
    assert event["user_name"] == "admin" and "REF-001" in event["detail"]
    # the shipped file is kept as a seed submission, like the first seeding
    seeds = [r for r in old_store.submissions() if r.kind == "seed"]
    assert len(seeds) == 2 and seeds[-1].submission_id == result.submission_id
    assert seeds[-1].status == "committed"
    # a second refresh has nothing left to do
    again = refresh_reference(old_store, ADMIN, reference)
    assert (again.updated, again.added, again.withdrawn) == ((), (), ())
    assert again.submission_id is None


def test_a_dry_run_changes_nothing(old_store, reference):
    versions = len(old_store.projects(at=datetime(2100, 1, 1), include_deleted=True))
    events = len(old_store.audit())
    result = refresh_reference(old_store, ADMIN, reference, dry_run=True)
    assert result.dry_run and result.updated == ("REF-001",)
    assert len(old_store.projects(include_deleted=True)) == versions
    assert len(old_store.audit()) == events
    current = old_store.projects().set_index("project_id")
    assert current.loc["REF-001", "floor_area_m2"] == 3_825_100.0


@pytest.mark.parametrize("role", [Role.PLANNER, Role.VIEWER])
def test_only_an_admin_may_refresh(old_store, reference, role):
    with pytest.raises(PermissionDenied):
        refresh_reference(old_store, Principal("x", role), reference)
    assert old_store.audit(action="reference_refresh").empty


def test_cli_refresh(db_url, old_store, capsys):
    assert cli_main(["--database-url", db_url, "reference", "refresh", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would change: 1 corrected, 1 added, 1 withdrawn" in out
    assert "REF-001" in out
    assert cli_main(["--database-url", db_url, "reference", "refresh", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["updated"] == ["REF-001"] and payload["dry_run"] is False
    assert old_store.projects().set_index("project_id").loc["REF-001", "changed_by"] == SEED_USER
