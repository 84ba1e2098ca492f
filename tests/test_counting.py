"""The official stage, register coverage and the three verdicts, on hand-built stores."""

from __future__ import annotations

import json
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial.auth import PermissionDenied, Principal, Role
from spatial.crs import WGS84
from spatial.figures.counting import (
    CountingError,
    Verdict,
    coverage_threshold,
    official_stage,
    set_allocation,
    set_allocations,
    set_coverage_threshold,
    set_official_stage,
)
from spatial.figures.snapshot import take_snapshot
from spatial.layers import PROJECT_FIELDS, Stage
from spatial.store.database import submissions_table

ADMIN = Principal("admin1", Role.ADMIN)
BAOAN_OFFICER = Principal("baoan1", Role.DISTRICT, "baoan")
PLANNER = Principal("planner1", Role.PLANNER)
PLEDGE = pd.DataFrame({"year": [2023, 2024, 2025, 2026, 2027], "target_m2": [20_000_000] * 5})
AS_OF = date(2023, 1, 10)  # 10 days into 2023: 20 M × 10/365 = 547,945 m² expected by then


def reports(projects: int, area_m2: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_date": ["2023-01-05", "2023-01-05"],
            "period": ["test", "test"],
            "metric": ["projects", "planned_factory_floor_area"],
            "value": [projects, area_m2],
            "unit": ["count", "m2"],
            "confidence": ["exact", "exact"],
            "source_ids": ["T1", "T1"],
            "note": ["", ""],
        }
    )


def project(pid: str, district: str, area: float, start: str | None, evidence=None) -> dict:
    row = dict.fromkeys(PROJECT_FIELDS)
    row |= {
        "project_id": pid,
        "name_zh": pid,
        "name_en": pid,
        "district_id": district,
        "status": "under_construction",
        "factory_floor_area_m2": area,
        "start_date": start,
        "start_evidence": evidence,
        "quality": "official",
    }
    return row


def hand_built(store, rows: list[dict], programme: pd.DataFrame) -> None:
    """Districts from the shipped layer, the pledge, the programme reports and ``rows``."""
    from spatial.store.reference import load_reference

    reference = load_reference()
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[Point(113.9, 22.6)] * len(rows))
    frame = frame.set_crs(WGS84)
    with store.transaction() as conn:
        store.replace_reference_layer("districts", reference.districts, conn=conn)
        store.replace_reference_layer("parks", reference.parks, conn=conn)
        store.replace_reference_layer("control_lines", reference.control_lines, conn=conn)
        for name in ("clusters", "cluster_aliases", "sources"):
            store.replace_table(name, getattr(reference, name), conn)
        store.replace_table("pledge", PLEDGE, conn)
        store.replace_table("programme_reports", programme, conn)
        store.write_project_versions(
            conn,
            frame,
            at=datetime(2022, 12, 1),
            changed_by="test",
            change_kind="create",
            submission_id=None,
        )


def accepted_upload(store, district: str, at: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(
            submissions_table.insert().values(
                kind="upload",
                district_id=district,
                user_name=f"{district}1",
                filename="p.geojson",
                sha256="0" * 64,
                size_bytes=0,
                content=b"",
                received_at=at,
                status="committed",
            )
        )


# baoan 400,000 + nanshan 200,000 started (confirmed) = 600,000 ≥ 547,945 expected
ON_PACE = [
    project("BA-1", "baoan", 400_000, "2023-01-03"),
    project("NS-1", "nanshan", 200_000, "2023-01-05", "confirmed"),
]
# the same, but nanshan's start is only a plan: 400,000 < 547,945
NANSHAN_PLANNED = [ON_PACE[0], project("NS-1", "nanshan", 200_000, "2023-01-05", "planned")]


@pytest.mark.parametrize(
    "rows,programme,verdict",
    [
        (ON_PACE, reports(2, 600_000), Verdict.ON_TRACK),
        (NANSHAN_PLANNED, reports(2, 600_000), Verdict.BEHIND),
        (ON_PACE, reports(3, 600_000), Verdict.INSUFFICIENT_DATA),  # 2 of 3 projects
        (ON_PACE, reports(2, 900_000), Verdict.INSUFFICIENT_DATA),  # 600k of 900k m²
    ],
    ids=["on_track", "behind_plan_not_counted", "fewer_projects", "less_area"],
)
def test_the_three_verdicts(empty_store, rows, programme, verdict):
    hand_built(empty_store, rows, programme)
    judgement = take_snapshot(empty_store, AS_OF).judgement()
    assert judgement.verdict == verdict
    assert judgement.official_stage.stage == Stage.STARTED and judgement.official_stage.is_default


def test_coverage_figures_and_district_states(empty_store):
    hand_built(empty_store, ON_PACE, reports(4, 1_200_000))
    accepted_upload(empty_store, "baoan", datetime(2023, 1, 2))
    accepted_upload(empty_store, "nanshan", datetime(2022, 9, 1))  # > a quarter before
    coverage = take_snapshot(empty_store, AS_OF).register_coverage()
    assert (coverage.registered_projects, coverage.registered_area_m2) == (2, 600_000)
    assert (coverage.project_share, coverage.area_share) == (0.5, 0.5)
    assert not coverage.sufficient
    states = coverage.districts.set_index("district_id")
    assert states.loc["baoan", ["projects", "area_m2", "uploads", "state"]].tolist() == [
        1,
        400_000,
        1,
        "current",
    ]
    assert states.loc["nanshan", "state"] == "stale"
    assert states.loc["luohu", "state"] == "never" and states.loc["luohu", "projects"] == 0
    assert len(states) == 11  # every district listed, the ones without projects too


def test_the_threshold_is_a_setting(empty_store):
    hand_built(empty_store, ON_PACE, reports(4, 1_200_000))
    assert take_snapshot(empty_store, AS_OF).judgement().verdict == Verdict.INSUFFICIENT_DATA
    set_coverage_threshold(empty_store, ADMIN, 0.5, "pilot: half the programme is registered")
    assert coverage_threshold(empty_store) == 0.5
    assert take_snapshot(empty_store, AS_OF).judgement().verdict == Verdict.ON_TRACK
    for bad in (0, 1.5, float("nan"), float("inf")):
        with pytest.raises(CountingError):
            set_coverage_threshold(empty_store, ADMIN, bad, "a reason")


def test_a_district_without_allocation_sees_its_share_not_a_verdict(empty_store):
    hand_built(empty_store, ON_PACE, reports(2, 600_000))
    judgement = take_snapshot(empty_store, AS_OF).judgement("baoan")
    assert judgement.verdict is None
    assert judgement.city_share == pytest.approx(400_000 / 600_000)
    assert judgement.as_json()["scope"] == "baoan"


@pytest.mark.parametrize(
    "target,uploaded,verdict",
    [
        (1_000_000, True, Verdict.ON_TRACK),  # 400,000 ≥ 1 M × 10/365
        (20_000_000, True, Verdict.BEHIND),  # 400,000 < 20 M × 10/365 = 547,945
        (1_000_000, False, Verdict.INSUFFICIENT_DATA),  # never submitted
    ],
)
def test_a_district_with_an_allocation_is_judged_against_it(empty_store, target, uploaded, verdict):
    hand_built(empty_store, ON_PACE, reports(2, 600_000))
    if uploaded:
        accepted_upload(empty_store, "baoan", datetime(2023, 1, 8))
    for year in range(2023, 2028):
        set_allocation(empty_store, ADMIN, "baoan", year, target, "宝安区分解指标（测试）")
    judgement = take_snapshot(empty_store, AS_OF).judgement("baoan")
    assert judgement.verdict == verdict
    assert judgement.ledger.summary.period_target_m2 == 5 * target
    audit = empty_store.audit(action="set_allocation")
    assert len(audit) == 5 and set(audit["user_name"]) == {"admin1"}


def test_the_official_stage_is_an_audited_admin_setting(empty_store):
    hand_built(empty_store, ON_PACE, reports(2, 600_000))
    for who in (BAOAN_OFFICER, PLANNER):
        with pytest.raises(PermissionDenied):
            set_official_stage(empty_store, who, "delivered", "because I say so")
        with pytest.raises(PermissionDenied):
            set_allocation(empty_store, who, "baoan", 2025, 1.0, "x")
    with pytest.raises(CountingError):
        set_official_stage(empty_store, ADMIN, "delivered", "")  # a reason is required
    with pytest.raises(CountingError):
        set_official_stage(empty_store, ADMIN, "handed-over", "a reason")
    assert official_stage(empty_store).is_default
    set_official_stage(empty_store, ADMIN, "delivered", "市工信局 2026-11 会议纪要", "纪要第3条")
    official = official_stage(empty_store)
    assert (official.stage, official.set_by, official.source) == (
        Stage.DELIVERED,
        "admin1",
        "纪要第3条",
    )
    event = empty_store.audit(action="set_official_stage").iloc[-1]
    detail = json.loads(event["detail"])
    assert (event["user_name"], event["target"]) == ("admin1", "delivered")
    assert detail["from"] == "started (default)" and detail["reason"] == "市工信局 2026-11 会议纪要"
    # nothing is delivered in the hand-built store: the verdict follows the new stage
    assert take_snapshot(empty_store, AS_OF).judgement().verdict == Verdict.BEHIND


@pytest.mark.parametrize(
    "args",
    [
        ["baoan", "2024", "-5"],
        ["baoan", "2031", "100"],
        ["nowhere", "2024", "100"],
        ["baoan", "2024", "inf"],
    ],
)
def test_bad_allocations_are_refused_in_both_languages(empty_store, args):
    hand_built(empty_store, ON_PACE, reports(2, 600_000))
    district, year, target = args
    with pytest.raises(CountingError) as caught:
        set_allocation(empty_store, ADMIN, district, int(year), float(target), "src")
    assert caught.value.zh and caught.value.en
    assert empty_store.allocations().empty


def test_a_refused_year_leaves_every_year_of_an_allocation_as_it_was(empty_store):
    hand_built(empty_store, ON_PACE, reports(2, 600_000))
    set_allocations(empty_store, ADMIN, "baoan", dict.fromkeys(range(2023, 2028), 1e6), "文件一")
    before = empty_store.allocations()
    events = len(empty_store.audit(action="set_allocation"))
    with pytest.raises(CountingError):  # 2026 is over the city's whole yearly target
        set_allocations(empty_store, ADMIN, "baoan", {2025: 2e6, 2026: 3e7}, "文件二")
    pd.testing.assert_frame_equal(empty_store.allocations(), before)
    assert len(empty_store.audit(action="set_allocation")) == events == 5
    set_allocations(empty_store, ADMIN, "baoan", {2025: 2e6, 2027: None}, "文件二")
    after = empty_store.allocations().set_index("year")
    assert after.loc[2025, "target_m2"] == 2e6 and after.loc[2025, "source"] == "文件二"
    assert 2027 not in after.index and after.loc[2024, "source"] == "文件一"
