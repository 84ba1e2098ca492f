"""The standalone offline map: the current view, only what the user may read, audited; and
``spatial map``. (It is opened in headless Chromium with the network blocked in test_browser.)"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from spatial.auth import PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.figures.filters import ProjectFilter
from spatial.figures.snapshot import take_snapshot
from spatial.outputs.maps import MapView
from spatial.outputs.offline_map import offline_map_html
from spatial.store import accounts

from conftest import map_features

ADMIN = Principal("admin", Role.ADMIN)
PLANNER = Principal("planner-li", Role.PLANNER)
BAOAN = Principal("ba-officer", Role.DISTRICT, "baoan")
VIEW = MapView(113.78, 22.62, 113.95, 22.78)  # Bao'an's north


def _project_ids(page: str) -> set[str]:
    """Project ids drawn on the map (from its data layers)."""
    return {
        f["properties"]["project_id"] for f in map_features(page) if "project_id" in f["properties"]
    }


def test_offline_map_of_the_current_view(seeded_store):
    page = offline_map_html(seeded_store, PLANNER, view=VIEW).decode()
    assert "视图 113.7800,22.6200,113.9500,22.7800" in page  # the stamp says which view
    assert "fitBounds" in page and "[[22.62, 113.78], [22.78, 113.95]]" in page
    event = seeded_store.audit("planner-li").iloc[-1]
    assert event["target"] == "offline_map"
    assert json.loads(event["detail"])["view"] == VIEW.describe()


def test_offline_map_without_a_view_shows_the_whole_city(seeded_store):
    page = offline_map_html(seeded_store, PLANNER, lang="en").decode()
    assert "whole city" in page and "fitBounds" not in page


def test_district_officer_offline_map_holds_only_their_district(seeded_store):
    projects = take_snapshot(seeded_store).projects
    located = projects[projects.geometry.notna()]
    own = set(located.loc[located["district_id"] == "baoan", "project_id"])
    page = offline_map_html(seeded_store, BAOAN).decode()
    assert own and _project_ids(page) == own


def test_filters_apply_to_the_offline_map(seeded_store):
    flt = ProjectFilter(statuses=("delivered",))
    projects = flt.apply(take_snapshot(seeded_store).projects)
    expected = set(projects.loc[projects.geometry.notna(), "project_id"])
    page = offline_map_html(seeded_store, PLANNER, flt).decode()
    assert expected and _project_ids(page) == expected


def test_viewer_may_not_take_an_offline_map(seeded_store):
    with pytest.raises(PermissionDenied):
        offline_map_html(seeded_store, Principal("vw", Role.VIEWER))
    assert seeded_store.audit("vw").empty or not seeded_store.audit("vw")["ok"].all()


def _cli(db_url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli_main(["--database-url", db_url, *args], out=out), out.getvalue()


def test_cli_map_with_a_view(db_url, seeded_store, tmp_path: Path):
    accounts.add_user(seeded_store, ADMIN, "planner-li", "planner")
    target = tmp_path / "map.html"
    code, out = _cli(
        db_url, "map", "--user", "planner-li", "--bbox", "113.78,22.62,113.95,22.78",
        "--status", "delivered", "-o", str(target),
    )  # fmt: skip
    assert code == 0, out
    assert "视图 113.7800,22.6200,113.9500,22.7800" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize("bbox", ["113.9,22.5,113.8,22.7", "1,2,3", "west,south,east,north"])
def test_cli_map_refuses_a_bad_view(db_url, seeded_store, tmp_path: Path, capsys, bbox):
    with pytest.raises(SystemExit) as caught:
        _cli(db_url, "map", "--bbox", bbox, "-o", str(tmp_path / "map.html"))
    assert caught.value.code == 2
    assert "W,S,E,N" in capsys.readouterr().err
    assert not (tmp_path / "map.html").exists()
