"""The shipped reference data: complete, honest about what is missing, and traceable."""

from __future__ import annotations

import csv

import pytest

from conftest import ROOT, SHARED


def test_districts(reference):
    d = reference.districts.set_index("district_id")
    assert len(d) == 11
    assert d.loc["dapeng", "name_zh"] == "大鹏新区"
    assert d.loc["shenshan", "quality"] == "missing" and d.loc["shenshan", "geometry"] is None
    assert d.drop(index="shenshan").geometry.is_valid.all()


def test_twenty_parks_without_invented_names(reference):
    parks = reference.parks
    assert len(parks) == 20 and parks["park_id"].is_unique
    missing = parks[parks["name_status"] == "missing"]
    assert len(missing) == 10
    assert missing["name_zh"].str.startswith("名称未公开").all()
    assert missing.geometry.isna().all() and (missing["location_quality"] == "missing").all()
    located = parks[parks.geometry.notna()]
    assert (located["location_quality"] == "approximate").all()
    assert (parks["boundary_quality"] == "missing").all()
    counts = parks["district_ids"].str.split(";").str[0].value_counts().to_dict()
    assert counts == {
        "baoan": 4,
        "guangming": 4,
        "longgang": 3,
        "longhua": 3,
        "pingshan": 3,
        "yantian": 1,
        "shenshan": 2,
    }


def test_every_reference_project_is_shipped(reference):
    with open(SHARED / "reference/projects.csv", encoding="utf-8") as fh:
        names = [r["name_zh"] for r in csv.DictReader(fh)]
    shipped = reference.projects
    for name in names:
        assert shipped["name_zh"].str.startswith(name).any(), name
    assert len(shipped) == len(names) + 1  # 新桥东 split into delivered batch + remainder
    assert shipped["source"].notna().all()
    assert set(shipped["status"]) <= {"planned", "under_construction", "completed", "delivered"}


@pytest.mark.parametrize("name", ["districts.geojson", "parks.geojson", "control_lines.geojson"])
def test_provenance_names_every_layer(name):
    text = (ROOT / "geodata" / "PROVENANCE.md").read_text(encoding="utf-8")
    assert name in text


def test_bsd_notice_kept():
    text = (ROOT / "geodata" / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "Copyright (c) 2021, Qing Yu" in text and "BSD 3-Clause" in text


def test_seeds(reference):
    assert reference.pledge["year"].tolist() == ["2023", "2024", "2025", "2026", "2027"]
    assert set(reference.pledge["target_m2"]) == {"20000000"}
    clusters = reference.clusters
    assert (clusters["kind"] == "cluster").sum() == 20 and (clusters["kind"] == "future").sum() == 8
    assert clusters[clusters["kind"] == "cluster"]["group_code"].nunique() == 4
    reports = reference.programme_reports.set_index("metric")
    assert reports.loc["planned_factory_floor_area", "value"] == "23065000"
    assert reports.loc["projects_started", "value"] == "43"
    ids = set(reference.sources["source_id"])
    for cell in list(reference.pledge["source_ids"]) + list(
        reference.programme_reports["source_ids"]
    ):
        assert set(cell.split(";")) <= ids
