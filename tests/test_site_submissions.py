"""spatial.ingest.site_submissions: a district's sites kept, previewed, committed (replacing
its set), undone; rights re-checked inside the write; capacity and exports read them."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from sqlalchemy import select

from spatial.auth import PermissionDenied, Principal, Role
from spatial.cli import main
from spatial.crs import METRIC
from spatial.figures.capacity import capacity, sites_of
from spatial.ingest import submissions
from spatial.ingest.site_submissions import (
    commit_sites,
    preview_sites,
    submit_sites,
    undo_sites,
    validate_sites,
)
from spatial.ingest.submissions import SITES_KIND, SubmissionError, receive
from spatial.ingest.upload import UploadOptions
from spatial.layers import SITE_FIELDS
from spatial.outputs.export import ExportRequest, export_layers
from spatial.store.database import site_versions_table

ADMIN = Principal("admin", Role.ADMIN, None)
NANSHAN = Principal("ns-officer", Role.DISTRICT, "nanshan")
BAOAN = Principal("ba-officer", Role.DISTRICT, "baoan")
PLANNER = Principal("planner", Role.PLANNER, None)


def square(store, district: str, dx_m: float, side_m: float = 200.0) -> dict:
    inside = store.layer("districts").set_index("district_id").geometry[district]
    centre = gpd.GeoSeries([inside.representative_point()], crs="EPSG:4326").to_crs(METRIC)[0]
    box = shapely.box(centre.x + dx_m, centre.y, centre.x + dx_m + side_m, centre.y + side_m)
    return shapely.geometry.mapping(gpd.GeoSeries([box], crs=METRIC).to_crs("EPSG:4326")[0])


def sites_file(store, district: str, *sites: tuple) -> bytes:
    """(id, land m², existing m², plot ratio, readiness, dx) per site, as GeoJSON."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "地块编号": sid,
                "用地面积": land,
                "现状建筑面积": existing,
                "容积率": ratio,
                "用地状态": ready,
                "用地性质": "M1",
            },  # fmt: skip
            "geometry": square(store, district, dx),
        }
        for sid, land, existing, ratio, ready, dx in sites
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def dump(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(select(site_versions_table).order_by("version_id"), conn)


FIRST = (
    ("NS-1", 40_000, 10_000, 4.0, "已出让", 0),
    ("NS-2", 40_000, 0, None, "储备", 400),
)


def test_a_commit_keeps_the_bytes_and_capacity_reads_the_sites(seeded_store):
    data = sites_file(seeded_store, "nanshan", *FIRST)
    sid, checked, result = submit_sites(seeded_store, "ns.geojson", data,
                                        UploadOptions("nanshan"), NANSHAN)  # fmt: skip
    assert checked.accepted and (result.created, result.removed) == (2, 0)
    assert seeded_store.submission_content(sid) == data
    assert seeded_store.submission(sid).kind == SITES_KIND
    stored = seeded_store.sites().set_index("site_id")
    assert list(stored.index) == ["NS-1", "NS-2"] and set(stored["district_id"]) == {"nanshan"}
    # the loaded parcels replace the illustrative set everywhere
    assert set(sites_of(seeded_store)["site_id"]) == {"NS-1", "NS-2"}
    summary, sites = capacity(seeded_store, ADMIN)
    assert not summary.illustrative
    by_id = sites.set_index("site_id")
    assert by_id.loc["NS-1", "capacity_m2"] == 40_000 * 4.0 - 10_000  # its own plot ratio
    assert by_id.loc["NS-2", "ratio_basis"] != "site"  # the table's, with its source
    assert summary.total_capacity_m2 == pytest.approx(by_id["capacity_m2"].sum())


def test_a_second_file_replaces_the_set_and_undo_brings_it_back(seeded_store):
    options = UploadOptions("nanshan")
    data = sites_file(seeded_store, "nanshan", *FIRST)
    first, _, _ = submit_sites(seeded_store, "a.geojson", data, options, NANSHAN)
    before = seeded_store.sites()[[*SITE_FIELDS, "geometry"]]
    changed = (("NS-1", 40_000, 10_000, 5.0, "已出让", 0), ("NS-3", 30_000, 0, None, "整备中", 800))
    second = receive(seeded_store, "b.geojson", sites_file(seeded_store, "nanshan", *changed),
                     "nanshan", NANSHAN, kind=SITES_KIND)  # fmt: skip
    checked = validate_sites(seeded_store, second, options)
    plan = preview_sites(seeded_store, checked, "nanshan")
    assert plan.summary() == {"new": 1, "changed": 1, "unchanged": 0, "removed": 1}
    assert plan.changed.set_index("field").loc["plot_ratio", "after"] == 5.0
    assert list(plan.removed["site_id"]) == ["NS-2"]
    result = commit_sites(seeded_store, second, NANSHAN)
    assert (result.created, result.updated, result.removed) == (1, 1, 1)
    assert list(seeded_store.sites()["site_id"]) == ["NS-1", "NS-3"]
    with pytest.raises(SubmissionError, match="undo the later upload first"):
        undo_sites(seeded_store, first, NANSHAN)
    assert submissions.undo(seeded_store, second, NANSHAN) == 3  # the projects' undo, too
    after = seeded_store.sites()[[*SITE_FIELDS, "geometry"]]
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    assert undo_sites(seeded_store, first, NANSHAN) == 2
    assert seeded_store.sites().empty and len(sites_of(seeded_store)) == 328  # illustrative


def test_district_staff_change_only_their_district_checked_inside_the_write(seeded_store):
    data = sites_file(seeded_store, "nanshan", *FIRST)
    with pytest.raises(PermissionDenied):
        receive(seeded_store, "x.geojson", data, "nanshan", BAOAN, kind=SITES_KIND)
    with pytest.raises(PermissionDenied):
        receive(seeded_store, "x.geojson", data, "nanshan", PLANNER, kind=SITES_KIND)
    sid = receive(seeded_store, "x.geojson", data, "nanshan", NANSHAN, kind=SITES_KIND)
    assert validate_sites(seeded_store, sid, UploadOptions("baoan")).accepted  # its own district
    with pytest.raises(PermissionDenied):
        commit_sites(seeded_store, sid, BAOAN)
    assert seeded_store.sites().empty
    commit_sites(seeded_store, sid, NANSHAN)
    with pytest.raises(PermissionDenied):
        undo_sites(seeded_store, sid, BAOAN)
    trail = seeded_store.audit()
    refused = trail[~trail["ok"].astype(bool)]
    assert {("ba-officer", "upload_sites"), ("planner", "upload_sites"),
            ("ba-officer", "commit"), ("ba-officer", "undo")} <= set(
        zip(refused["user_name"], refused["action"], strict=True))  # fmt: skip
    done = trail[trail["ok"].astype(bool)]
    assert {"upload_sites", "commit_sites"} <= set(done["action"])


def test_an_id_taken_meanwhile_is_refused_and_the_store_is_unchanged(seeded_store):
    mine = receive(seeded_store, "ns.geojson", sites_file(seeded_store, "nanshan", *FIRST),
                   "nanshan", NANSHAN, kind=SITES_KIND)  # fmt: skip
    assert validate_sites(seeded_store, mine, UploadOptions("nanshan")).accepted
    theirs = (("NS-2", 20_000, 0, None, "储备", 0),)  # 宝安 takes NS-2 first
    submit_sites(seeded_store, "ba.geojson", sites_file(seeded_store, "baoan", *theirs),
                 UploadOptions("baoan"), BAOAN)  # fmt: skip
    before = dump(seeded_store)
    with pytest.raises(SubmissionError):
        commit_sites(seeded_store, mine, NANSHAN)
    pd.testing.assert_frame_equal(before, dump(seeded_store))
    assert seeded_store.submission(mine).status == "validated"


def test_a_rejected_file_is_kept_and_commits_nothing(seeded_store):
    bad = (("NS-1", -5, 0, 40, "sold", 0),)
    sid, checked, result = submit_sites(seeded_store, "bad.geojson",
                                        sites_file(seeded_store, "nanshan", *bad),
                                        UploadOptions("nanshan"), NANSHAN)  # fmt: skip
    assert result is None and seeded_store.submission(sid).status == "rejected"
    codes = {f.code for f in checked.report.errors}
    assert {"negative_value", "implausible_value", "unknown_readiness"} <= codes
    with pytest.raises(SubmissionError):
        commit_sites(seeded_store, sid, NANSHAN)
    assert seeded_store.sites().empty


def test_the_sites_layer_is_exported_and_read_back_by_gdal(seeded_store, tmp_path):
    submit_sites(seeded_store, "ns.geojson", sites_file(seeded_store, "nanshan", *FIRST),
                 UploadOptions("nanshan"), NANSHAN)  # fmt: skip
    result = export_layers(seeded_store, ADMIN, ExportRequest(("sites",), "gpkg", "epsg4547"))
    path = tmp_path / result.filename
    path.write_bytes(result.content)
    back = pyogrio.read_dataframe(path, layer="sites")
    assert sorted(back["site_id"]) == ["NS-1", "NS-2"] and back.crs.to_epsg() == 4547
    assert back.area.round(-2).tolist() == [40_000, 40_000]
    assert set(back["quality"]) == {"official"} and set(back["export_user"]) == {"admin"}


def test_the_command_line_imports_lists_and_undoes_sites(seeded_store, db_url, tmp_path,
                                                         monkeypatch):  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    path = tmp_path / "ns.geojson"
    path.write_bytes(sites_file(seeded_store, "nanshan", *FIRST))

    def run(*argv):
        out = io.StringIO()
        return main(list(argv), out=out), out.getvalue()

    code, text = run("sites", "validate", str(path), "--district", "南山", "--json")
    assert code == 0 and json.loads(text)["accepted"]
    assert run("user", "add", "ns", "--role", "district", "--district", "nanshan")[0] == 0
    assert run("user", "add", "ba", "--role", "district", "--district", "baoan")[0] == 0
    assert run("sites", "import", str(path), "--district", "nanshan", "--user", "ba")[0] == 1
    code, text = run("sites", "import", str(path), "--district", "nanshan", "--user", "ns",
                     "--json")  # fmt: skip
    assert code == 0
    payload = json.loads(text)
    assert payload["committed"]["created"] == 2
    code, text = run("sites", "list", "--json")
    assert [s["site_id"] for s in json.loads(text)["sites"]] == ["NS-1", "NS-2"]
    assert run("undo", str(payload["submission_id"]), "--user", "ba")[0] == 1
    assert run("undo", str(payload["submission_id"]), "--user", "ns")[0] == 0
    code, text = run("sites", "list")
    assert "示意 illustrative" in text


def test_a_scenario_naming_a_site_the_layer_no_longer_holds_says_so(seeded_store):
    """A scenario turned illustrative site S-00001 into a project; then 南山 loads its parcels,
    which replace the illustrative set. The comparison leaves that change out and says so,
    instead of failing."""
    from spatial.figures.scenarios import change_scenario, compare_scenarios, create_scenario

    create_scenario(seeded_store, PLANNER, "on-S1")
    change_scenario(seeded_store, PLANNER, "on-S1",
                    {"kind": "site", "site_id": "S-00001", "start_date": "2027-01-01"})  # fmt: skip
    before = compare_scenarios(seeded_store, PLANNER, ["on-S1"], draws=5).set_index("scenario")
    assert (
        before.loc["on-S1", "capacity_used_m2"] > 0 and before.loc["on-S1", "sites_missing"] == ""
    )
    submit_sites(seeded_store, "ns.geojson", sites_file(seeded_store, "nanshan", *FIRST),
                 UploadOptions("nanshan"), NANSHAN)  # fmt: skip
    after = compare_scenarios(seeded_store, PLANNER, ["on-S1"], draws=5).set_index("scenario")
    assert after.loc["on-S1", "sites_missing"] == "S-00001"
    assert after.loc["on-S1", "capacity_used_m2"] == 0
