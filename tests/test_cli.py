from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from spatial.cli import main


@pytest.fixture
def env_db(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def run(*argv) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_init_then_layers(env_db):
    code, text = run("init")
    assert code == 0 and "loaded the shipped reference data" in text
    code, text = run("init")
    assert "left as it is" in text
    code, text = run("layers", "--json")
    payload = json.loads(text)
    assert payload["layers"] == {
        "districts": 11, "parks": 20, "control_lines": 24, "projects": 34, "sites": 328,
    }  # fmt: skip
    illustrative = [r for r in payload["coverage"] if r["layer"] == "control_lines"][0]
    assert illustrative["illustrative"] == 24 and illustrative["official"] == 0


@pytest.mark.parametrize("measure", ["delivered", "completed", "started"])
def test_ledger_table(env_db, measure):
    code, text = run("ledger", "--measure", measure, "--as-of", "2026-11-21")
    assert code == 0
    assert f"measure: {measure}" in text
    for year in range(2023, 2028):
        assert f"{year}" in text
    assert "20,000,000" in text


def _exit_code(argv: list[str], capsys) -> tuple[int, str]:
    """``spatial argv`` in this process: its exit code (argparse's own exit included) and
    what it wrote to stderr."""
    try:
        code = main(argv, out=io.StringIO())
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["ledger", "--as-of", "2026-13-01"],
        ["ledger", "--measure", "sold"],
        ["nope"],
        ["validate", "no-such-file.geojson"],
        ["import", "x.geojson"],  # --district is required
        ["validate", "x.geojson", "--crs", "EPSG:9999"],
    ],
)
def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/spatial.db")
    monkeypatch.chdir(tmp_path)
    code, err = _exit_code(argv, capsys)
    assert code == 2, err
    assert err.strip() and "Traceback" not in err


def test_failure_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/../../x.db")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/blocker/x.db")
    proc = subprocess.run(
        [sys.executable, "-m", "spatial.cli", "ledger"], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "failed" in proc.stderr and "Traceback" not in proc.stderr


UPLOAD = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "项目编号": "BA-CLI",
                "项目名称": "命令行上传",
                "状态": "在建",
                "总建筑面积": "10万",
                "开工日期": "2024-05-01",
            },
            "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
        }
    ],
}


def test_validate_import_submissions_undo(env_db, tmp_path):
    assert run("init")[0] == 0  # creates admin (the default --user)
    good = tmp_path / "baoan.geojson"
    good.write_text(json.dumps(UPLOAD, ensure_ascii=False), encoding="utf-8")
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(UPLOAD, ensure_ascii=False).replace("10万", "abc"), encoding="utf-8")
    assert run("validate", str(good), "--district", "baoan")[0] == 0
    code, text = run("validate", str(bad), "--district", "baoan", "--json")
    assert code == 1 and json.loads(text)["findings"][0]["code"] == "not_a_number"
    code, text = run("validate", str(good), "--district", "futian", "--lang", "en")
    assert code == 1 and "not in Futian" in text
    code, text = run("user", "add", "officer", "--role", "district", "--district", "baoan")
    assert code == 0 and "one-time password" in text
    assert run("user", "add", "ns", "--role", "district", "--district", "nanshan")[0] == 0
    assert run("import", str(good), "--district", "baoan", "--user", "ns")[0] == 1  # refused
    assert run("import", str(good), "--district", "baoan", "--user", "nobody")[0] == 2
    code, text = run("import", str(good), "--district", "baoan", "--user", "officer")
    assert code == 0 and "committed: 1 new" in text
    code, text = run("import", str(bad), "--district", "baoan", "--user", "officer")
    assert code == 1 and "rejected" in text
    code, text = run("submissions", "--json")
    records = json.loads(text)
    assert [r["status"] for r in records] == ["committed", "committed", "rejected"]
    assert records[1]["user_name"] == "officer"
    original = tmp_path / "copy.geojson"
    assert run("original", str(records[2]["submission_id"]), "-o", str(original))[0] == 0
    assert original.read_bytes() == bad.read_bytes()
    assert run("undo", str(records[1]["submission_id"]), "--user", "ns")[0] == 1  # not theirs
    assert run("undo", str(records[1]["submission_id"]), "--user", "officer")[0] == 0
    assert run("undo", str(records[1]["submission_id"]))[0] == 1
    code, text = run("audit", "--json")
    events = json.loads(text)
    trail = [(e["user_name"], e["action"], e["ok"]) for e in events]
    assert ("ns", "upload", False) in trail and ("officer", "commit", True) in trail
    assert ("ns", "undo", False) in trail and ("officer", "undo", True) in trail
    assert [e["action"] for e in events if e["user_name"] == "system"] == ["user_created"]


def test_an_import_and_its_undo_cut_the_map_tiles_the_app_asks_for(env_db, tmp_path, monkeypatch):
    """After ``spatial import`` (and ``spatial undo``) the map's archives are cut already —
    the city's and the district officer's own, where the app serves them — so the map's
    first viewer finds them and cuts nothing; ``--no-map-tiles`` leaves them to the map."""
    from spatial.auth import Principal, Role
    from spatial.clock import shenzhen_today
    from spatial.figures.snapshot import take_snapshot
    from spatial.outputs.vector_tiles import TILES_KEY_FILE, tiles_for_map
    from spatial.store.database import open_store

    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")  # so 35 projects are tiled
    monkeypatch.setenv("SPATIAL_MAP_SPLIT_FROM", "1")  # and cut per district
    assert run("init")[0] == 0
    assert run("user", "add", "officer", "--role", "district", "--district", "baoan")[0] == 0
    good = tmp_path / "baoan.geojson"
    good.write_text(json.dumps(UPLOAD, ensure_ascii=False), encoding="utf-8")
    tiles = tmp_path / "tiles"
    code, text = run("import", str(good), "--district", "baoan", "--user", "officer",
                     "--map-tiles-dir", str(tiles))  # fmt: skip
    assert code == 0 and "map tiles cut ahead" in text and "地图切片已预先生成" in text
    cut = set(tiles.glob("*.pmtiles"))
    assert cut

    def asked_for(who: Principal) -> set:
        snap = take_snapshot(open_store(env_db), shenzhen_today())
        built = []
        got = tiles_for_map(snap, who, tiles, "/app/static/tiles", TILES_KEY_FILE,
                            before_build=lambda: built.append(who))  # fmt: skip
        assert got is not None and built == []  # found, not cut
        return {a.path for a in got.archives}

    city = asked_for(Principal("planner", Role.PLANNER))
    own = asked_for(Principal("officer", Role.DISTRICT, "baoan"))
    assert city | own == cut and own < city
    assert all(p.parent == tiles for p in city)
    code, text = run("undo", "2", "--user", "officer", "--map-tiles-dir", str(tiles))
    assert code == 0 and "map tiles cut ahead" in text
    assert asked_for(Principal("planner", Role.PLANNER)) - cut  # the content before, cut now
    again = tmp_path / "again.geojson"
    again.write_text(good.read_text(encoding="utf-8").replace("BA-", "BA-X-"), encoding="utf-8")
    before = set(tiles.glob("*.pmtiles"))
    code, text = run("import", str(again), "--district", "baoan", "--user", "officer",
                     "--map-tiles-dir", str(tiles), "--no-map-tiles")  # fmt: skip
    assert code == 0 and "map tiles" not in text and set(tiles.glob("*.pmtiles")) == before


def test_import_of_an_oversized_file_keeps_it(env_db, tmp_path, monkeypatch):
    run("init")
    monkeypatch.setenv("SPATIAL_MAX_UPLOAD_MB", "1")
    big = tmp_path / "big.geojson"
    big.write_bytes(json.dumps(UPLOAD).encode() + b" " * (2 * 1024 * 1024))
    code, text = run("import", str(big), "--district", "baoan", "--user", "admin", "--json")
    assert code == 1
    payload = json.loads(text)
    assert [f["code"] for f in payload["findings"]] == ["too_large"]
    code, text = run("submissions", "--json")
    record = json.loads(text)[-1]
    assert record["size_bytes"] == big.stat().st_size and record["status"] == "rejected"
    out = tmp_path / "back.geojson"
    assert run("original", str(record["submission_id"]), "-o", str(out))[0] == 0
    assert out.read_bytes() == big.read_bytes()
    code, text = run("validate", str(big), "--district", "baoan", "--json")
    assert code == 1 and json.loads(text)["findings"][0]["code"] == "too_large"


def test_every_cli_action_names_the_operating_system_user(env_db, tmp_path):
    import getpass

    from spatial.store.database import open_store

    run("init")
    assert run("user", "add", "ba", "--role", "district", "--district", "baoan")[0] == 0
    good = tmp_path / "baoan.geojson"
    good.write_text(json.dumps(UPLOAD, ensure_ascii=False), encoding="utf-8")
    assert run("import", str(good), "--district", "baoan", "--user", "ba")[0] == 0
    store = open_store(env_db)
    events = store.audit()
    store.engine.dispose()
    assert len(events) >= 4
    for detail in events["detail"]:
        assert json.loads(detail)["operator"] == f"cli:{getpass.getuser()}"
    assert set(events["user_name"]) >= {"ba"}  # the acting user, beside the operator


def test_reset_a_lost_admin_password(env_db):
    code, text = run("init")
    first = text.split("'admin': ")[1].split()[0]
    code, text = run("user", "reset", "admin")
    assert code == 0 and "one-time password" in text
    again = text.rsplit(": ", 1)[1].strip()
    from spatial.store import accounts
    from spatial.store.database import open_store

    store = open_store(env_db)
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(store, "admin", first)
    who, must_change = accounts.sign_in(store, "admin", again)
    assert must_change and who.user_name == "admin"
    assert run("user", "disable", "admin")[0] == 2  # the only admin stays
    assert run("user", "add", "deputy", "--role", "admin")[0] == 0
    assert run("user", "disable", "admin")[0] == 0
    assert not store.user("admin")["active"]
    store.engine.dispose()


def test_no_command_but_init_creates_the_first_admin(env_db):
    code, text = run("layers")
    assert code == 0 and "password" not in text
    code, text = run("user", "list")
    assert text.strip() == ""


def test_ledger_json_is_standard_json(env_db):
    from spatial.cli import standard_json

    run("init")
    code, text = run("ledger", "--json", "--as-of", "2026-11-21")

    def refuse(name):
        raise ValueError(name)

    assert code == 0 and json.loads(text, parse_constant=refuse)["years"]
    assert standard_json({"a": [float("nan"), float("inf"), 1.5]}) == {"a": [None, None, 1.5]}


def test_user_verbs_manage_an_account_from_the_command_line(env_db):
    run("init")
    assert run("user", "add", "ba", "--role", "district", "--district", "宝安")[0] == 0
    code, text = run("user", "role", "ba", "--role", "district", "--district", "Nanshan")
    assert code == 0 and "ba: district nanshan" in text
    code, text = run("user", "role", "ba", "--role", "planner")
    assert code == 0 and "ba: planner" in text
    assert run("user", "disable", "ba")[0] == 0
    code, text = run("user", "list")
    assert "disabled" in next(line for line in text.splitlines() if line.startswith("ba "))
    code, text = run("user", "reset", "ba")
    assert code == 0 and "one-time password" in text
    assert run("user", "disable", "admin")[0] == 2  # the only admin stays


@pytest.mark.parametrize(
    "layer,fmt,name,better",
    [
        ("projects", "shp", "x.shp", "x.shp.zip"),
        ("all", "csv", "x.csv", "x.csv.zip"),
        ("projects", "geojson", "x.json", "x.json.geojson"),
    ],
)
def test_export_writes_what_the_name_says_or_names_the_right_one(
    env_db, tmp_path, capsys, layer, fmt, name, better
):
    run("init")
    target = tmp_path / name
    code, _ = run("export", "--layer", layer, "--format", fmt, "-o", str(target))
    assert code == 2 and not target.exists()
    assert better in capsys.readouterr().err
    code, text = run("export", "--layer", layer, "--format", fmt, "-o", str(tmp_path / better))
    assert code == 0, text


def test_a_shapefile_export_named_shp_zip_opens_directly_in_gdal(env_db, tmp_path):
    import pyogrio

    run("init")
    target = tmp_path / "projects.shp.zip"
    code, text = run("export", "--layer", "projects", "--format", "shp", "-o", str(target))
    assert code == 0, text
    frame = pyogrio.read_dataframe(target)
    assert len(frame) == 34 and frame.crs.to_epsg() == 4326
