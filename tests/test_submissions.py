"""spatial.ingest.submissions: nothing lost, one transaction, preview, undo."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from spatial.auth import PermissionDenied, Principal, Role
from spatial.figures.snapshot import take_snapshot
from spatial.ingest import submissions as sub
from spatial.ingest.limits import UploadLimits
from spatial.ingest.upload import UploadOptions
from spatial.layers import PROJECT_FIELDS
from spatial.store.database import project_overlays_table, project_versions_table, utcnow
from spatial.store.overlays import OverlayReference

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
    stored_before = seeded_store.projects().set_index("project_id").loc["REF-003"]
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
    lacking = [f for f in PROJECT_FIELDS if f not in checked.present_fields]
    assert "name_en" in lacking and "street" in lacking
    for f in lacking:  # every field the file has no column for, as it was stored
        assert stored[f] == stored_before[f] or (pd.isna(stored[f]) and pd.isna(stored_before[f]))
    new = seeded_store.projects().set_index("project_id").loc["BA-100"]
    assert pd.isna(new["name_en"]) and pd.isna(new["street"])  # a new project has none


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


# the creations are written, then the disk fails: at the updates, or at the overlays' write
@pytest.mark.parametrize(("failing", "at_call"), [("write_project_versions", 2),
                                                  ("keep_overlays", 1)])  # fmt: skip
def test_a_failure_inside_the_commit_leaves_the_store_as_it_was(
    seeded_store, monkeypatch, failing, at_call
):
    take_snapshot(seeded_store)
    before, overlays_before = dump(seeded_store), kept_overlays(seeded_store)
    sid = sub.receive(
        seeded_store, "ok.geojson", fc(feature("BA-1"), feature("REF-003")), "baoan", OFFICER
    )
    sub.validate(seeded_store, sid, UploadOptions("baoan"))
    calls = {"n": 0}
    original = getattr(seeded_store, failing)

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at_call:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(seeded_store, failing, flaky)
    with pytest.raises(OSError):
        sub.commit(seeded_store, sid, OFFICER)
    assert calls["n"] == at_call
    pd.testing.assert_frame_equal(before, dump(seeded_store))
    pd.testing.assert_frame_equal(overlays_before, kept_overlays(seeded_store))
    assert seeded_store.submission(sid).status == "validated"
    assert seeded_store.submission_content(sid)


def kept_overlays(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = pd.read_sql(select(project_overlays_table), conn)
    return rows.sort_values("version_id").reset_index(drop=True)


def overlays_computed_now(store, version_ids) -> pd.DataFrame:
    """The overlays of these current versions joined afresh against the store's reference."""
    current = store.projects()
    current = current[current["version_id"].isin(version_ids)]
    found = OverlayReference.of_store(store).overlays(current)
    found.insert(0, "version_id", current["version_id"].to_numpy())
    return found.sort_values("version_id").reset_index(drop=True)


def test_a_commit_and_an_undo_keep_the_overlays_of_what_they_wrote(seeded_store):
    take_snapshot(seeded_store)  # the seeded versions' overlays kept by a first read
    before = kept_overlays(seeded_store)
    key = OverlayReference.of_store(seeded_store).key
    # BA-300 new, with a "20+8" cluster; REF-003 moved, its industries left out of the file
    # (no such column: the stored ones, 智能网联汽车, are what its cluster codes come from)
    data = fc(
        feature("BA-300", 产业集群="生物医药"),
        feature("REF-003") | {"geometry": {"type": "Point", "coordinates": [113.80, 22.70]}},
    )
    sid, _, result = sub.submit(seeded_store, "o.geojson", data, UploadOptions("baoan"), OFFICER)
    assert result is not None and (result.created, result.updated) == (1, 1)
    written = dump(seeded_store).query("submission_id == @sid")["version_id"].tolist()
    after = kept_overlays(seeded_store)
    assert set(after["version_id"]) == set(before["version_id"]) | set(written)
    assert set(after["reference_key"]) == {key}
    mine = after[after["version_id"].isin(written)].drop(columns="reference_key")
    expected = overlays_computed_now(seeded_store, written)
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), expected, check_dtype=False)
    assert list(expected["cluster_codes"]) == ["C06", "C05"]  # BA-300's; REF-003's stored
    # the first page read after the commit computes nothing: it reads what the commit kept
    first = take_snapshot(seeded_store)
    pd.testing.assert_frame_equal(kept_overlays(seeded_store), after)
    mine = first.projects.set_index("version_id").loc[written]
    assert list(mine["located_district_id"]) == list(expected["located_district_id"])

    assert sub.undo(seeded_store, sid, OFFICER) == 2
    restored = seeded_store.projects().query("project_id == 'REF-003'")["version_id"].tolist()
    undone = kept_overlays(seeded_store)
    assert set(undone["version_id"]) == set(after["version_id"]) | set(restored)
    pd.testing.assert_frame_equal(
        undone[undone["version_id"].isin(restored)].drop(columns="reference_key")
        .reset_index(drop=True),
        overlays_computed_now(seeded_store, restored),
        check_dtype=False,
    )  # fmt: skip


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


# -- issue 9: undo that lied, writes across districts ----------------------------------------
NANSHAN = Principal("ns-officer", Role.DISTRICT, "nanshan")
NANSHAN_POINT = [113.93, 22.53]


def _state(store) -> pd.DataFrame:
    """The current projects as a comparable table (what every reader sees)."""
    frame = store.projects()
    frame["wkt"] = frame.geometry.to_wkt()
    keep = [
        c
        for c in frame.columns
        if c
        not in (
            "version_id",
            "valid_from",
            "submission_id",
            "changed_by",
            "change_kind",
            "geometry",
        )
    ]
    return pd.DataFrame(frame[keep]).sort_values("project_id").reset_index(drop=True)


def _commit(store, data: bytes, actor=OFFICER, district="baoan") -> int:
    sid = sub.receive(store, "f.geojson", data, district, actor)
    assert sub.validate(store, sid, UploadOptions(district)).accepted
    sub.commit(store, sid, actor)
    return sid


@pytest.mark.parametrize("rounds", [1, 2, 3])
def test_undo_of_a_re_created_project_removes_it(seeded_store, rounds):
    """upload new → undo → upload the same → undo: the project is gone each time."""
    before = _state(seeded_store)
    ledger = take_snapshot(seeded_store).ledger().summary.cumulative_m2
    data = fc(feature("BA-200"))
    for _ in range(rounds):
        sid = _commit(seeded_store, data)
        assert "BA-200" in set(seeded_store.projects()["project_id"])
        assert sub.undo(seeded_store, sid, OFFICER) == 1
        assert "BA-200" not in set(seeded_store.projects()["project_id"])
        assert seeded_store.submission(sid).status == "undone"
        pd.testing.assert_frame_equal(before, _state(seeded_store))
        assert take_snapshot(seeded_store).ledger().summary.cumulative_m2 == ledger


def test_every_undo_returns_the_store_to_what_the_upload_found(seeded_store):
    """A chain of uploads touching new, changed and re-created projects, undone newest first:
    after each undo the store equals the state before that upload."""
    uploads = [
        fc(feature("BA-1"), feature("REF-003", 总建筑面积=400000, 厂房面积=300000)),
        fc(feature("BA-1", 总建筑面积=150000), feature("BA-2")),
        fc(feature("BA-3")),
    ]
    states, sids = [], []
    for data in uploads:
        states.append(_state(seeded_store))
        sids.append(_commit(seeded_store, data))
    for sid, state in zip(reversed(sids), reversed(states), strict=True):
        sub.undo(seeded_store, sid, OFFICER)
        pd.testing.assert_frame_equal(state, _state(seeded_store))
    # and again after re-uploading the first file over the undone history
    sid = _commit(seeded_store, uploads[0])
    sub.undo(seeded_store, sid, OFFICER)
    pd.testing.assert_frame_equal(states[0], _state(seeded_store))


def test_an_id_taken_by_another_district_after_validation_is_refused_at_commit(seeded_store):
    """宝安 validates a new id; 南山 commits the same id first; 宝安's commit is refused and 南山's
    project stays 南山's (the check runs again inside the commit's lock)."""
    sid = sub.receive(seeded_store, "ba.geojson", fc(feature("NEW-1")), "baoan", OFFICER)
    assert sub.validate(seeded_store, sid, UploadOptions("baoan")).accepted
    nanshan_file = fc(
        feature("NEW-1") | {"geometry": {"type": "Point", "coordinates": NANSHAN_POINT}}
    )
    _commit(seeded_store, nanshan_file, NANSHAN, "nanshan")
    before = dump(seeded_store)
    with pytest.raises(sub.SubmissionError) as caught:
        sub.commit(seeded_store, sid, OFFICER)
    assert "NEW-1 (nanshan)" in caught.value.text("en") and "其他区" in caught.value.text("zh")
    pd.testing.assert_frame_equal(before, dump(seeded_store))
    owner = seeded_store.projects().set_index("project_id").loc["NEW-1", "district_id"]
    assert owner == "nanshan" and seeded_store.submission(sid).status == "validated"


def test_an_id_deleted_in_another_district_stays_that_districts(seeded_store):
    sid = _commit(
        seeded_store,
        fc(feature("NS-9") | {"geometry": {"type": "Point", "coordinates": NANSHAN_POINT}}),
        NANSHAN,
        "nanshan",
    )
    sub.undo(seeded_store, sid, NANSHAN)
    ba = sub.receive(seeded_store, "ba.geojson", fc(feature("NS-9")), "baoan", OFFICER)
    checked = sub.validate(seeded_store, ba, UploadOptions("baoan"))
    assert [f.code for f in checked.report.errors] == ["id_of_other_district"]


def test_commit_writes_only_what_the_library_checked(seeded_store):
    """Nothing but a submission id reaches commit: a received (unchecked) or rejected upload is
    refused, and a check under another district's name is refused."""
    sid = sub.receive(seeded_store, "ba.geojson", fc(feature("BA-7")), "baoan", OFFICER)
    with pytest.raises(sub.SubmissionError, match="validated"):
        sub.commit(seeded_store, sid, OFFICER)  # never checked
    with pytest.raises(sub.SubmissionError, match="belongs to baoan"):
        sub.validate(seeded_store, sid, UploadOptions("nanshan"))
    bad = sub.receive(seeded_store, "bad.geojson", fc(feature("BA-8", 状态="?")), "baoan", OFFICER)
    sub.validate(seeded_store, bad, UploadOptions("baoan"))
    with pytest.raises(sub.SubmissionError):
        sub.commit(seeded_store, bad, OFFICER)
    assert set(seeded_store.projects()["project_id"]).isdisjoint({"BA-7", "BA-8"})


@pytest.mark.parametrize(
    "given",
    [
        "stored",  # the caller's bytes are the stored ones: parsed without reading them back
        "same length",  # another id of the same length: the stored file is what is checked
        "refused",  # a file that would be refused: the stored (accepted) one is checked
        "none",
    ],
)
def test_validate_parses_the_callers_bytes_only_when_they_are_the_stored_ones(seeded_store, given):
    """``validate(content=…)`` parses the caller's bytes instead of reading the stored copy
    only when their length and SHA-256 are the stored ones; any other bytes are ignored, and
    what is checked and committed is the stored file."""
    data = fc(feature("BA-7"))
    sid = sub.receive(seeded_store, "ba.geojson", data, "baoan", OFFICER)
    content = {
        "stored": bytes(bytearray(data)),  # equal, not the same object
        "same length": data.replace(b"BA-7", b"BA-9"),
        "refused": fc(feature("BA-8", 状态="?")),
        "none": None,
    }[given]
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"), content=content)
    assert checked.accepted
    assert checked.projects["project_id"].tolist() == ["BA-7"]
    sub.commit(seeded_store, sid, OFFICER)
    ids = set(seeded_store.projects()["project_id"])
    assert "BA-7" in ids and ids.isdisjoint({"BA-8", "BA-9"})


def test_commit_uses_the_options_the_upload_was_checked_with(seeded_store):
    """A self-intersecting site accepted with 'use the repaired shape' is written repaired,
    also when the commit runs in a fresh process (nothing cached)."""
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [113.870, 22.750],
                [113.872, 22.752],
                [113.872, 22.750],
                [113.870, 22.752],
                [113.870, 22.750],
            ]
        ],
    }
    data = fc(feature("BA-9", 总建筑面积=20000) | {"geometry": bowtie})
    sid = sub.receive(seeded_store, "bow.geojson", data, "baoan", OFFICER)
    assert not sub.validate(seeded_store, sid, UploadOptions("baoan")).accepted
    assert sub.validate(seeded_store, sid, UploadOptions("baoan", repair_invalid=True)).accepted
    sub._CHECKED.clear()  # as if the commit ran in another process
    sub.commit(seeded_store, sid, OFFICER)
    stored = seeded_store.projects().set_index("project_id").loc["BA-9"].geometry
    assert stored.is_valid and stored.geom_type in ("Polygon", "MultiPolygon")


def test_an_oversized_upload_is_kept_in_parts_and_refused_unread(seeded_store, monkeypatch):
    """Bytes over any single database value's size are kept whole (in parts); the check refuses
    the file by its recorded size without loading it."""
    import io

    from spatial.store import database as store_module

    monkeypatch.setattr(store_module, "PART_BYTES", 1 << 20)
    data = fc(feature("BA-1")) + b" " * (3 * (1 << 20) + 123)
    sid = sub.receive(seeded_store, "big.geojson", io.BytesIO(data), "baoan", OFFICER)
    with seeded_store.engine.connect() as conn:
        parts = conn.execute(
            select(store_module.submission_parts_table.c.part).where(
                store_module.submission_parts_table.c.submission_id == sid
            )
        ).all()
    assert len(parts) == 4
    record = seeded_store.submission(sid)
    assert record.size_bytes == len(data) and record.sha256 == hashlib.sha256(data).hexdigest()
    monkeypatch.setattr(
        seeded_store, "submission_content", lambda _sid: pytest.fail("read an oversized file")
    )
    checked = sub.validate(
        seeded_store, sid, UploadOptions("baoan", limits=UploadLimits(max_bytes=1 << 20))
    )
    assert [f.code for f in checked.report.errors] == ["too_large"]
    assert seeded_store.submission(sid).status == "rejected"
    monkeypatch.undo()
    assert seeded_store.submission_content(sid) == data


SHAPE_CASES = {  # before, after, moved?
    "the same point": ("POINT (114.1 22.6)", "POINT (114.1 22.6)", False),
    "closer than 1e-7°": ("POINT (114.1 22.6)", "POINT (114.10000001 22.6)", False),
    "moved 1e-5°": ("POINT (114.1 22.6)", "POINT (114.10001 22.6)", True),
    "missing and empty": (None, "POINT EMPTY", False),
    "empty and missing": ("POINT EMPTY", None, False),
    "placed": (None, "POINT (114.1 22.6)", True),
    "removed": ("POINT (114.1 22.6)", None, True),
    "a height added": ("POINT (114.1 22.6)", "POINT Z (114.1 22.6 5)", True),
    "an outline redrawn": (
        "POLYGON ((114 22, 114.01 22, 114.01 22.01, 114 22))",
        "POLYGON ((114 22, 114.02 22, 114.01 22.01, 114 22))",
        True,
    ),
}


@pytest.mark.parametrize("stored_as", ["shapes", "wkb"])
def test_field_changes_names_each_moved_shape_and_only_those(stored_as):
    """Shapes are compared as their WKT to 1e-7° (text only where their WKB differs): each
    moved shape is one change, its text before and after; a shape that did not move is none.
    The stored rows' shapes may be shapes or, as a commit reads them, the stored WKB (an
    empty shape stored as WKB too, though the store keeps it as None)."""
    import geopandas as gpd
    import shapely

    ids = list(SHAPE_CASES)
    shapes = {
        side: [None if c[k] is None else shapely.from_wkt(c[k]) for c in SHAPE_CASES.values()]
        for k, side in enumerate(("before", "after"))
    }
    old, new = (
        gpd.GeoDataFrame(
            {"name_zh": "甲"},
            index=pd.Index(ids, name="project_id"),
            geometry=shapes[side],
            crs=4326,
        )  # fmt: skip
        for side in ("before", "after")
    )
    if stored_as == "wkb":
        old = pd.DataFrame({"name_zh": old["name_zh"],
                            "geometry": shapely.to_wkb(old.geometry.to_numpy())})  # fmt: skip
        assert not shapely.is_geometry(old["geometry"].to_numpy()).any()
    changes = sub.field_changes(old, new, ("name_zh",), (), "project_id")
    moved = [i for i, c in SHAPE_CASES.items() if c[2]]
    assert sorted(changes["project_id"]) == sorted(moved)
    assert set(changes["field"]) == {"geometry"}
    for _, change in changes.iterrows():
        before, after, _ = SHAPE_CASES[change["project_id"]]
        for text, given in ((change["before"], before), (change["after"], after)):
            same = given is None and pd.isna(text)
            assert same or shapely.equals_exact(shapely.from_wkt(text), shapely.from_wkt(given),
                                                tolerance=1e-7)  # fmt: skip


def test_field_changes_puts_the_stored_rows_in_the_files_order():
    """The stored rows may come in another order and hold projects the file does not list:
    each change is matched by id, in the file's order, as reindexing the stored rows gave."""
    import geopandas as gpd
    import shapely

    def frame(ids, names, xs):
        return gpd.GeoDataFrame(
            {"name_zh": names, "floor_area_m2": [1.0] * len(ids)},
            index=pd.Index(ids, name="project_id"),
            geometry=[shapely.Point(x, 22.6) for x in xs],
            crs=4326,
        )

    stored = frame(["C", "extra", "A", "B"], ["丙", "多", "甲", "乙"], [113.3, 113.9, 113.1, 113.2])
    incoming = frame(["A", "B", "C"], ["甲", "乙改", "丙改"], [113.1, 113.25, 113.3])
    fields = ("name_zh", "floor_area_m2")
    changes = sub.field_changes(stored, incoming, fields, ("floor_area_m2",), "project_id")
    expected = sub.field_changes(stored.reindex(incoming.index), incoming, fields,
                                 ("floor_area_m2",), "project_id")  # fmt: skip
    pd.testing.assert_frame_equal(changes, expected)
    assert changes[["project_id", "field", "before", "after"]].values.tolist() == [
        ["B", "name_zh", "乙", "乙改"],
        ["B", "geometry", "POINT (113.2 22.6)", "POINT (113.25 22.6)"],
        ["C", "name_zh", "丙", "丙改"],
    ]
    with pytest.raises(ValueError, match="every key"):
        sub.field_changes(stored.drop(index="B"), incoming, fields, (), "project_id")


@pytest.mark.parametrize(
    ("rows", "vertices", "counts", "expected"),
    [
        (10, 100, [1, 1, 1], [(0, 3)]),
        (2, 100, [1, 1, 1], [(0, 2), (2, 3)]),
        (10, 10, [5, 5, 5, 20, 1], [(0, 2), (2, 3), (3, 4), (4, 5)]),  # one big shape alone
        (10, 10, [0, 0, 10, 0], [(0, 4)]),  # a missing shape has no vertices
        (10, 10, [], []),
    ],
)
def test_preview_batches_are_cut_by_rows_and_by_vertices(
    monkeypatch, rows, vertices, counts, expected
):
    monkeypatch.setattr(sub, "PREVIEW_BATCH", rows)
    monkeypatch.setattr(sub, "PREVIEW_VERTICES", vertices)
    geoms = np.array(
        [None if k == 0 else shapely.linestrings(np.arange(2 * k).reshape(k, 2))
         if k > 1 else shapely.points(0, 0) for k in counts], dtype=object,
    )  # fmt: skip
    assert sub.preview_batches(geoms) == expected


@pytest.mark.parametrize(
    ("batch", "vertices"), [(1, 10**6), (2, 10**6), (10_000, 10**6), (10_000, 2)]
)
def test_the_preview_is_the_same_however_many_projects_a_batch_compares(
    seeded_store, monkeypatch, batch, vertices
):
    """The file's projects are looked up and compared a batch at a time: one, two, all —
    the same new, changed (in id order, fields in order, the shape last), unchanged and
    absent projects, and the commit writes the same versions."""
    first = fc(*(feature(f"BA-{i}") for i in range(1, 6)))
    sid = sub.receive(seeded_store, "first.geojson", first, "baoan", OFFICER)
    assert sub.validate(seeded_store, sid, UploadOptions("baoan")).accepted
    sub.commit(seeded_store, sid, OFFICER)
    moved = feature("BA-3")
    moved["geometry"]["coordinates"] = [113.871, 22.756]
    second = fc(feature("BA-9"), feature("BA-2", 总建筑面积=200000, 项目名称="改名"),
                feature("BA-1"), moved, feature("BA-0"))  # fmt: skip
    monkeypatch.setattr(sub, "PREVIEW_BATCH", batch)
    monkeypatch.setattr(sub, "PREVIEW_VERTICES", vertices)
    sid = sub.receive(seeded_store, "second.geojson", second, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert checked.accepted
    plan = sub.preview(seeded_store, checked, "baoan")
    assert plan.new["project_id"].tolist() == ["BA-9", "BA-0"]  # in the file's order
    assert plan.changed[["project_id", "field"]].values.tolist() == [
        ["BA-2", "name_zh"], ["BA-2", "floor_area_m2"], ["BA-3", "geometry"]
    ]  # fmt: skip
    assert plan.unchanged.tolist() == ["BA-1"]
    stored = seeded_store.projects(district_id="baoan", columns=["name_zh"])["project_id"]
    expected_absent = sorted(set(stored) - {"BA-1", "BA-2", "BA-3"})
    assert plan.absent["project_id"].tolist() == expected_absent
    assert {"BA-4", "BA-5", "REF-001"} <= set(expected_absent)
    assert list(plan.absent.columns) == ["project_id", "name_zh", "status"]
    result = sub.commit(seeded_store, sid, OFFICER)
    assert (result.created, result.updated, result.unchanged) == (2, 2, 1)


def test_a_register_sent_whole_again_has_no_absent_project_and_one_left_out_is_listed(
    seeded_store,
):
    """The projects a file leaves out: none when it holds every project the district has
    (only those the file leaves out are read); the one it leaves out, when it leaves one out;
    a deleted project is neither counted nor listed."""
    stored = seeded_store.projects(district_id="baoan", columns=["name_zh"])["project_id"]
    whole = [feature(p) for p in stored] + [feature("BA-NEW")]
    sid = sub.receive(seeded_store, "whole.geojson", fc(*whole), "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert checked.accepted, checked.report.to_text("en")
    plan = sub.preview(seeded_store, checked, "baoan")
    assert plan.absent.empty and list(plan.absent.columns) == ["project_id", "name_zh", "status"]
    assert plan.summary()["absent"] == 0
    sub.commit(seeded_store, sid, OFFICER)
    left_out = sorted(stored)[0]
    rest = [feature(p) for p in [*stored, "BA-NEW"] if p != left_out]
    sid = sub.receive(seeded_store, "rest.geojson", fc(*rest), "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    plan = sub.preview(seeded_store, checked, "baoan")
    assert plan.absent["project_id"].tolist() == [left_out]
    with seeded_store.transaction() as conn:  # deleted: no longer the district's to list
        seeded_store.write_project_versions(
            conn, seeded_store.projects(ids=[left_out]), at=utcnow(), changed_by="t",
            change_kind="delete", submission_id=None, deleted=True,
        )  # fmt: skip
    assert seeded_store.projects(district_id="baoan", columns=["status"]).shape[0] == len(stored)
    assert sub.preview(seeded_store, checked, "baoan").absent.empty
