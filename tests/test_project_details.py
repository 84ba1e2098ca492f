"""spatial.figures.project_details: one project in full — fields as of a date, comments,
history — for who may read its district; the ``spatial project`` command reaches the same
function."""

from __future__ import annotations

import json
from datetime import date, datetime

import geopandas as gpd
import pytest
from shapely.geometry import Point

from spatial.auth import PermissionDenied, Principal, Role
from spatial.cli import main
from spatial.crs import WGS84
from spatial.figures.project_details import (
    CHANGE_KIND_LABELS,
    ProjectNotFound,
    change_kind_label,
    project_details,
)
from spatial.figures.snapshot import take_snapshot
from spatial.layers import PROJECT_FIELDS
from spatial.store import comments

ADMIN = Principal("admin", Role.ADMIN)


def write_version(store, at: datetime, kind: str, **fields) -> None:
    row = dict.fromkeys(PROJECT_FIELDS) | {
        "project_id": "BA-77",
        "name_zh": "燕罗测试厂房",
        "district_id": "baoan",
        "declared_park_id": "P01",
        "status": "under_construction",
        "floor_area_m2": 100_000.0,
        "start_date": "2024-01-10",
        "quality": "approximate",
        "location_quality": "approximate",
        "source": "test",
    }
    row |= fields
    frame = gpd.GeoDataFrame([row], geometry=[Point(113.87, 22.755)], crs=WGS84)
    with store.transaction() as conn:
        store.write_project_versions(
            conn, frame, at=at, changed_by="ba-officer", change_kind=kind, submission_id=None
        )


@pytest.fixture
def history_store(seeded_store):
    write_version(seeded_store, datetime(2024, 2, 1), "create")
    write_version(
        seeded_store, datetime(2025, 3, 1), "update", status="completed", floor_area_m2=120_000.0
    )
    comments.add_comment(seeded_store, ADMIN, "BA-77", '=HYPERLINK("x") 请核实面积')
    return seeded_store


def test_fields_comments_and_history_newest_first(history_store):
    details = project_details(history_store, ADMIN, take_snapshot(history_store), "BA-77")
    assert details.project["status"] == "completed"
    assert details.project["park_id"] == "P01"  # with the derived fields, as on the map
    assert list(details.history["change_kind"]) == ["update", "create"]
    assert list(details.history["floor_area_m2"]) == [120_000.0, 100_000.0]
    assert list(details.comments["text"]) == ['=HYPERLINK("x") 请核实面积']


def test_as_of_a_date_shows_what_was_known_then(history_store):
    then = take_snapshot(history_store, date(2024, 6, 30))
    details = project_details(history_store, ADMIN, then, "BA-77")
    assert details.project["status"] == "under_construction"
    assert list(details.history["change_kind"]) == ["create"]  # the update came later


@pytest.mark.parametrize(
    "reader,allowed",
    [
        (Principal("ba", Role.DISTRICT, "baoan"), True),
        (Principal("lg", Role.DISTRICT, "longgang"), False),
        (Principal("p", Role.PLANNER), True),
        (Principal("v", Role.VIEWER), True),
    ],
)
def test_only_who_may_read_the_district(history_store, reader, allowed):
    snapshot = take_snapshot(history_store)
    if allowed:
        assert project_details(history_store, reader, snapshot, "BA-77").project is not None
    else:
        with pytest.raises(PermissionDenied):
            project_details(history_store, reader, snapshot, "BA-77")


@pytest.mark.parametrize("project_id", ["NOPE", "", "BA-77' OR '1'='1", "<b>x</b>"])
def test_an_unknown_id_is_said_in_both_languages(history_store, project_id):
    with pytest.raises(ProjectNotFound) as caught:
        project_details(history_store, ADMIN, take_snapshot(history_store), project_id)
    assert "不存在" in caught.value.zh and "No project" in caught.value.en


def test_every_change_kind_has_labels():
    for kind, (zh, en) in CHANGE_KIND_LABELS.items():
        assert change_kind_label(kind, "zh") == zh and change_kind_label(kind, "en") == en
    assert change_kind_label("something-new", "zh") == "something-new"


def test_the_command_line_shows_the_same(history_store, capsys, tmp_path):
    import io

    from spatial.auth import SYSTEM
    from spatial.store import accounts

    accounts.add_user(history_store, SYSTEM, "admin", "admin")
    url = history_store.engine.url.render_as_string(hide_password=False)
    out = io.StringIO()
    assert main(["--database-url", url, "project", "BA-77", "--json"], out) == 0
    shown = json.loads(out.getvalue())
    assert shown["project"]["status"] == "completed"
    assert [h["change_kind"] for h in shown["history"]] == ["update", "create"]
    assert shown["comments"][0]["user_name"] == "admin"
    out = io.StringIO()
    assert main(["--database-url", url, "project", "BA-77"], out) == 0
    assert "修改 / changed" in out.getvalue() and "请核实面积" in out.getvalue()
    assert main(["--database-url", url, "project", "NOPE"], io.StringIO()) == 1
    assert "不存在" in capsys.readouterr().err
