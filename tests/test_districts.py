"""District names as people write them (spatial.districts), everywhere a district is named:
the command line, accounts, settings and uploads."""

from __future__ import annotations

import json

import pytest

from spatial.auth import Principal, Role
from spatial.cli import main as cli_main
from spatial.districts import UnknownDistrict, resolve_district, resolve_districts
from spatial.figures.counting import CountingError, set_allocation
from spatial.ingest.upload import UploadOptions, check_upload
from spatial.store import accounts

SYSTEM = Principal("system", Role.ADMIN)
SPELLINGS = [
    ("宝安区", "baoan"),
    ("宝安", "baoan"),
    ("Bao'an", "baoan"),
    ("baoan", "baoan"),
    ("BAOAN", "baoan"),
    ("Bao’an District", "baoan"),
    ("ＢａｏＡｎ", "baoan"),
    (" bao-an ", "baoan"),
    ("大鹏新区", "dapeng"),
    ("大鹏", "dapeng"),
    ("Dapeng New District", "dapeng"),
    ("深汕", "shenshan"),
    ("深汕特别合作区", "shenshan"),
    ("Shenzhen-Shanwei Special Cooperation Zone", "shenshan"),
    ("光明区", "guangming"),
    ("Guangming District", "guangming"),
]


@pytest.mark.parametrize("text,district_id", SPELLINGS)
def test_every_spelling_names_its_district(reference, text, district_id):
    assert resolve_district(text, reference.districts) == district_id


@pytest.mark.parametrize("text", ["宝安县", "Shekou", "", "区", "'; DROP TABLE users; --"])
def test_a_name_of_no_district_is_refused_with_the_choices(reference, text):
    with pytest.raises(UnknownDistrict) as caught:
        resolve_district(text, reference.districts)
    assert "宝安区" in caught.value.zh and "baoan (Bao'an)" in caught.value.en


def test_a_column_of_names_is_resolved_at_once(reference):
    import pandas as pd

    values = pd.Series(["宝安", "Nanshan", None, "nowhere"])
    resolved = resolve_districts(values, reference.districts)
    assert resolved[:2].tolist() == ["baoan", "nanshan"] and resolved[2:].isna().all()


@pytest.mark.parametrize("text", ["宝安区", "宝安", "Bao'an", "baoan"])
def test_a_district_user_is_created_from_any_spelling(seeded_store, text):
    accounts.add_user(seeded_store, SYSTEM, "ba", "district", text)
    assert seeded_store.user("ba")["district_id"] == "baoan"


def test_cli_user_add_takes_the_chinese_name(db_url, seeded_store, capsys):
    code = cli_main(
        [
            "--database-url",
            db_url,
            "user",
            "add",
            "ba2",
            "--role",
            "district",
            "--district",
            "宝安区",
        ]
    )
    assert code == 0, capsys.readouterr()
    assert seeded_store.user("ba2")["district_id"] == "baoan"


def test_cli_ledger_and_allocation_take_any_spelling(db_url, seeded_store, capsys):
    args = ["--database-url", db_url]
    assert (
        cli_main([*args, "counting", "allocation", "Bao'an", "2025", "1000000", "--source", "x"])
        == 0
    )
    assert seeded_store.allocations()["district_id"].tolist() == ["baoan"]
    capsys.readouterr()
    assert cli_main([*args, "ledger", "--district", "宝安", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scope"] == "baoan"
    assert cli_main([*args, "ledger", "--district", "Shekou", "--json"]) == 2
    assert "宝安区" in capsys.readouterr().err


def test_settings_take_any_spelling(seeded_store):
    set_allocation(seeded_store, SYSTEM, "宝安区", 2024, 1e6, "文件")
    assert seeded_store.allocations()["district_id"].tolist() == ["baoan"]
    with pytest.raises(CountingError):
        set_allocation(seeded_store, SYSTEM, "宝安县", 2024, 1e6, "文件")


@pytest.mark.parametrize("written", ["宝安区", "宝安", "Bao'an District", "BAOAN"])
def test_an_upload_may_write_its_district_any_way(seeded_store, written):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "项目编号": "BA-1",
                    "项目名称": "项目",
                    "状态": "在建",
                    "总建筑面积": 1000,
                    "行政区": written,
                },
                "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
            }
        ],
    }
    checked = check_upload(
        "t.geojson",
        json.dumps(doc, ensure_ascii=False).encode(),
        UploadOptions("baoan"),
        seeded_store.layer("districts"),
        seeded_store.projects()[["project_id", "district_id"]],
    )
    assert checked.accepted, checked.report.to_text("en")
