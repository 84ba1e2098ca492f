"""spatial.auth: the permission matrix (role × action × own/other district), through the
library functions that change or reveal data, and the audit trail of a scripted session."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spatial.auth import Action, PermissionDenied, Principal, Role, hash_password, verify_password
from spatial.ingest import submissions as sub
from spatial.ingest.upload import UploadOptions
from spatial.store import accounts, comments, reference_edits

ADMIN = Principal("admin", Role.ADMIN)
ROLES = {
    "admin": Principal("ad", Role.ADMIN),
    "planner": Principal("pl", Role.PLANNER),
    "district": Principal("ba", Role.DISTRICT, "baoan"),
    "viewer": Principal("vw", Role.VIEWER),
}
# expected[role][action] = (own district, other district); "own" for admin/planner/viewer
# means any district: they have no district of their own
EXPECTED = {
    "admin": {a: (True, True) for a in Action},
    "planner": {
        a: (
            (True, True)
            if a in (Action.READ, Action.EXPORT, Action.COMMENT, Action.PLAN)
            else (False, False)
        )
        for a in Action
    },
    "district": {
        a: (
            (True, False)
            if a
            in (Action.READ, Action.EXPORT, Action.UPLOAD, Action.COMMIT, Action.UNDO, Action.PLAN)
            else (False, False)
        )
        for a in Action
    },
    "viewer": {a: ((True, True) if a == Action.READ else (False, False)) for a in Action},
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("where", ["own", "other"])
def test_permission_matrix(role, action, where):
    who = ROLES[role]
    district = "baoan" if where == "own" else "nanshan"
    allowed = EXPECTED[role][action][0 if where == "own" else 1]
    assert who.can(action, district) is allowed


def fc(pid: str) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "项目编号": pid,
                        "项目名称": pid,
                        "状态": "在建",
                        "总建筑面积": 1000,
                    },
                    "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
                }
            ],
        }
    ).encode()


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("where", ["own", "other"])
def test_library_refuses_what_the_matrix_forbids(seeded_store, role, where):
    """Calling the library directly (no buttons to hide) gives the same answers."""
    who = ROLES[role]
    district = "baoan" if where == "own" else "nanshan"
    point = "113.87, 22.755" if district == "baoan" else "113.93, 22.54"
    data = fc("X-1").replace(b"113.87, 22.755", point.encode())
    allowed = EXPECTED[role][Action.UPLOAD][0 if where == "own" else 1]
    if allowed:
        sid, _, result = sub.submit(seeded_store, "x.geojson", data, UploadOptions(district), who)
        assert result is not None
        assert sub.undo(seeded_store, sid, who) == 1
    else:
        with pytest.raises(PermissionDenied):
            sub.receive(seeded_store, "x.geojson", data, district, who)
        sid, _, _ = sub.submit(seeded_store, "x.geojson", data, UploadOptions(district), ADMIN)
        with pytest.raises(PermissionDenied):
            sub.undo(seeded_store, sid, who)
    project = "REF-003" if where == "own" else "REF-005"  # 宝安 / 南山
    if EXPECTED[role][Action.COMMENT][0 if where == "own" else 1]:
        comments.add_comment(seeded_store, who, project, "请核实交付日期 <b>x</b>")
        assert comments.comments(seeded_store, who, project)["text"].iloc[-1].endswith("<b>x</b>")
    else:
        with pytest.raises(PermissionDenied):
            comments.add_comment(seeded_store, who, project, "x")
    if EXPECTED[role][Action.EDIT_REFERENCE][0]:
        reference_edits.set_pledge_target(seeded_store, who, 2027, 25_000_000)
        assert "25000000" in set(seeded_store.table("pledge")["target_m2"])
    else:
        with pytest.raises(PermissionDenied):
            reference_edits.set_pledge_target(seeded_store, who, 2027, 1)
        with pytest.raises(PermissionDenied):
            accounts.add_user(seeded_store, who, "someone", "viewer")


def test_passwords_are_hashed_and_salted():
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and "correct" not in a
    assert verify_password("correct horse", a) and not verify_password("wrong", a)


def test_first_admin_gets_a_one_time_password_never_a_default(seeded_store):
    password = accounts.ensure_admin(seeded_store)
    assert password and len(password) >= 12
    assert accounts.ensure_admin(seeded_store) is None
    who, must_change = accounts.sign_in(seeded_store, "admin", password)
    assert who.role == Role.ADMIN and must_change
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(seeded_store, "admin", "admin")


def test_the_audit_trail_lists_exactly_what_was_done(seeded_store):
    """A scripted session: every sign-in, upload, commit, undo, comment and reference change."""
    first = accounts.ensure_admin(seeded_store)
    admin, _ = accounts.sign_in(seeded_store, "admin", first)
    accounts.change_password(seeded_store, admin, first, "admin-password-1")
    once = accounts.add_user(seeded_store, admin, "ba", "district", "baoan")
    with pytest.raises(accounts.AccountError):
        accounts.sign_in(seeded_store, "ba", "guess")
    ba, _ = accounts.sign_in(seeded_store, "ba", once)
    sid, _, _ = sub.submit(seeded_store, "a.geojson", fc("BA-A"), UploadOptions("baoan"), ba)
    bad = sub.receive(seeded_store, "b.geojson", b"{", "baoan", ba)
    sub.validate(seeded_store, bad, UploadOptions("baoan"))
    with pytest.raises(PermissionDenied):
        sub.receive(seeded_store, "n.geojson", fc("NS"), "nanshan", ba)
    sub.undo(seeded_store, sid, ba)
    comments.add_comment(seeded_store, admin, "REF-003", "ok")
    reference_edits.set_pledge_target(seeded_store, admin, 2027, 21_000_000)
    trail = [
        (e.user_name, e.action, None if pd.isna(e.target) else e.target, bool(e.ok))
        for e in seeded_store.audit().itertuples()
    ]
    assert trail == [
        ("system", "user_created", "admin", True),
        ("admin", "sign_in", None, True),
        ("admin", "password_changed", "admin", True),
        ("admin", "user_created", "ba", True),
        ("ba", "sign_in", None, False),
        ("ba", "sign_in", None, True),
        ("ba", "upload", f"submission {sid}", True),
        ("ba", "commit", f"submission {sid}", True),
        ("ba", "upload", f"submission {bad}", True),
        ("ba", "upload", "n.geojson", False),
        ("ba", "undo", f"submission {sid}", True),
        ("admin", "comment", "REF-003", True),
        ("admin", "reference_change", "pledge 2027", True),
    ]
