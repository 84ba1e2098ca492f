"""spatial.submissions: nothing lost, one transaction, preview, undo."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from sqlalchemy import select

from spatial import submissions as sub
from spatial.auth import PermissionDenied, Principal, Role
from spatial.ingest import UploadOptions
from spatial.limits import UploadLimits
from spatial.snapshot import take_snapshot
from spatial.store import project_versions_table

OFFICER = Principal("officer", Role.DISTRICT, "baoan")


def dump(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(select(project_versions_table).order_by("version_id"), conn)


def fc(*features) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False
    ).encode()


def feature(pid, **props):
    base = {
        "项目编号": pid,
        "项目名称": f"项目{pid}",
        "状态": "交付",
        "总建筑面积": 100000,
        "开工日期": "2023-01-10",
        "竣工日期": "2025-03-01",
        "交付日期": "2025-04-01",
    }
    return {
        "type": "Feature",
        "properties": base | props,
        "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
    }


def test_accepted_upload_commits_and_moves_the_ledger(seeded_store):
    before = take_snapshot(seeded_store).ledger().summary.cumulative_m2
    data = fc(feature("BA-100"), feature("REF-003", 总建筑面积=400000, 厂房面积=300000))
    sid = sub.receive(seeded_store, "baoan.geojson", data, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert checked.accepted
    plan = sub.preview(seeded_store, checked, "baoan")
    assert list(plan.new["project_id"]) == ["BA-100"]
    assert plan.changed_ids == ["REF-003"]
    changed = plan.changed.set_index("field")
    assert changed.loc["factory_floor_area_m2", "before"] == 265000
    assert changed.loc["factory_floor_area_m2", "after"] == 300000
    assert "REF-001" in set(plan.absent["project_id"])  # kept, and listed
    result = sub.commit(seeded_store, sid, OFFICER)
    assert (result.created, result.updated) == (1, 1)
    after = take_snapshot(seeded_store).ledger().summary.cumulative_m2
    # BA-100 delivered 2025 (+100,000) and REF-003 delivered 2024 (265,000 → 300,000)
    assert after == before + 100_000 + 35_000
    versions = dump(seeded_store)
    mine = versions[versions["submission_id"] == sid]
    assert set(mine["project_id"]) == {"BA-100", "REF-003"}
    assert set(mine["changed_by"]) == {"officer"}
    assert seeded_store.project_history("REF-001")["version_id"].tolist() == [1]  # untouched
    stored = seeded_store.projects().set_index("project_id").loc["REF-003"]
    assert stored["name_en"].startswith("Yanluo")  # no English column in the file: kept


def test_rejected_upload_keeps_the_bytes_and_changes_nothing(seeded_store):
    before = dump(seeded_store)
    data = fc(feature("BA-1", 总建筑面积="abc"))
    sid = sub.receive(seeded_store, "bad.geojson", data, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert not checked.accepted
    with pytest.raises(sub.SubmissionError):
        sub.commit(seeded_store, sid, OFFICER)
    pd.testing.assert_frame_equal(before, dump(seeded_store))
    record = seeded_store.submission(sid)
    assert record.status == "rejected"
    assert seeded_store.submission_content(sid) == data
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    report = seeded_store.submission_report(sid)
    assert report["accepted"] is False and report["findings"][0]["code"] == "not_a_number"


@pytest.mark.parametrize(
    "name,data",
    [
        ("cut.geojson", fc(feature("BA-1"))[:60]),
        ("bomb.zip", None),
        ("nothing.geojson", b""),
        ("evil.kmz", b"PK\x03\x04garbage"),
    ],
)
def test_every_rejection_keeps_the_raw_file(seeded_store, name, data):
    if data is None:
        import io
        import zipfile

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("a.geojson", b"0" * (20 * 1024 * 1024))
        data = buf.getvalue()
    before = dump(seeded_store)
    sid = sub.receive(seeded_store, name, data, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert not checked.accepted and checked.report.errors
    assert seeded_store.submission_content(sid) == data
    pd.testing.assert_frame_equal(before, dump(seeded_store))


def test_a_200_mb_file_is_refused_by_the_limit_but_recorded(seeded_store):
    data = b'{"type":"FeatureCollection","features":[]}' + b" " * (200 * 1024 * 1024)
    sid = sub.receive(seeded_store, "huge.geojson", data, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan", limits=UploadLimits()))
    assert [f.code for f in checked.report.errors] == ["too_large"]
    record = seeded_store.submission(sid)
    assert record.size_bytes == len(data) and record.status == "rejected"
    assert hashlib.sha256(seeded_store.submission_content(sid)).hexdigest() == record.sha256


def test_a_failure_inside_the_commit_leaves_the_store_as_it_was(seeded_store, monkeypatch):
    before = dump(seeded_store)
    sid = sub.receive(
        seeded_store, "ok.geojson", fc(feature("BA-1"), feature("REF-003")), "baoan", OFFICER
    )
    sub.validate(seeded_store, sid, UploadOptions("baoan"))
    calls = {"n": 0}
    original = seeded_store.write_project_versions

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the creations are written, then the disk fails
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(seeded_store, "write_project_versions", flaky)
    with pytest.raises(OSError):
        sub.commit(seeded_store, sid, OFFICER)
    pd.testing.assert_frame_equal(before, dump(seeded_store))
    assert seeded_store.submission(sid).status == "validated"
    assert seeded_store.submission_content(sid)


def test_undo_restores_and_removes(seeded_store):
    before = seeded_store.projects().drop(
        columns=[
            "version_id",
            "valid_from",
            "valid_to",
            "submission_id",
            "changed_by",
            "change_kind",
        ]
    )
    sid, checked, result = sub.submit(
        seeded_store,
        "u.geojson",
        fc(feature("BA-200"), feature("REF-003", 总建筑面积=1)),
        UploadOptions("baoan"),
        OFFICER,
    )
    assert result is not None
    assert sub.undo(seeded_store, sid, OFFICER) == 2
    after = seeded_store.projects().drop(
        columns=[
            "version_id",
            "valid_from",
            "valid_to",
            "submission_id",
            "changed_by",
            "change_kind",
        ]
    )
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    assert seeded_store.submission(sid).status == "undone"
    kinds = seeded_store.project_history("BA-200")["change_kind"].tolist()
    assert kinds == ["create", "undo"]
    with pytest.raises(sub.SubmissionError):
        sub.undo(seeded_store, sid, OFFICER)


def test_undo_refused_when_a_later_upload_changed_the_same_projects(seeded_store):
    first, _, _ = sub.submit(
        seeded_store, "a.geojson", fc(feature("BA-300")), UploadOptions("baoan"), OFFICER
    )
    second, _, done = sub.submit(
        seeded_store,
        "b.geojson",
        fc(feature("BA-300", 总建筑面积=5000)),
        UploadOptions("baoan"),
        OFFICER,
    )
    assert done is not None
    with pytest.raises(sub.SubmissionError) as exc:
        sub.undo(seeded_store, first, OFFICER)
    assert "BA-300" in exc.value.zh and "later" in exc.value.en
    sub.undo(seeded_store, second, OFFICER)
    sub.undo(seeded_store, first, OFFICER)
    assert "BA-300" not in set(seeded_store.projects()["project_id"])


def test_reuploading_the_same_file_changes_nothing(seeded_store):
    data = fc(feature("BA-400"))
    sub.submit(seeded_store, "a.geojson", data, UploadOptions("baoan"), OFFICER)
    before = dump(seeded_store)
    sid, checked, result = sub.submit(
        seeded_store, "a.geojson", data, UploadOptions("baoan"), OFFICER
    )
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    pd.testing.assert_frame_equal(before, dump(seeded_store))


@pytest.mark.parametrize(
    "actor,allowed",
    [
        (Principal("ba", Role.DISTRICT, "baoan"), True),
        (Principal("ns", Role.DISTRICT, "nanshan"), False),
        (Principal("pl", Role.PLANNER), False),
        (Principal("vw", Role.VIEWER), False),
        (Principal("ad", Role.ADMIN), True),
    ],
)
def test_only_the_district_or_an_admin_changes_a_district(seeded_store, actor, allowed):
    before = dump(seeded_store)
    if not allowed:
        with pytest.raises(PermissionDenied) as exc:
            sub.receive(seeded_store, "x.geojson", fc(feature("BA-1")), "baoan", actor)
        assert actor.user_name in exc.value.zh and "may not upload" in exc.value.en
        # nor can they commit or undo what the district itself uploaded
        sid, checked, _ = sub.submit(
            seeded_store, "a.geojson", fc(feature("BA-9")), UploadOptions("baoan"), OFFICER
        )
        with pytest.raises(PermissionDenied):
            sub.undo(seeded_store, sid, actor)
        events = seeded_store.audit(actor.user_name)
        assert set(events["action"]) == {"upload", "undo"} and not events["ok"].any()
        return
    sid, checked, result = sub.submit(
        seeded_store, "a.geojson", fc(feature("BA-1")), UploadOptions("baoan"), actor
    )
    assert result is not None and len(dump(seeded_store)) == len(before) + 1
    assert sub.undo(seeded_store, sid, actor) == 1
