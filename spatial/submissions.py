"""A district's upload, from bytes to committed versions — and back (DESIGN.md §3, issue 3).

1. :func:`receive` stores the raw bytes (hash, size, name, district, user, time) before any
   parsing: nothing a district sends is ever lost.
2. :func:`validate` reads them back, checks them and saves the report with the submission.
3. :func:`preview` says what a commit would change: new, changed (field by field), unchanged,
   and the district's projects absent from the file (kept, and listed).
4. :func:`commit` writes every change as a version tied to the submission, in one transaction.
5. :func:`undo` restores the versions a submission replaced (itself a recorded change).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import pandas as pd
import shapely

from spatial.auth import Action, Principal, require
from spatial.findings import ValidationReport, error
from spatial.i18n import BilingualError
from spatial.ingest import CheckedUpload, UploadOptions, check_upload
from spatial.layers import PROJECT_FIELDS
from spatial.store import Store, utcnow

COMPARED_FIELDS = tuple(
    f
    for f in PROJECT_FIELDS
    if f
    not in ("project_id", "district_id", "quality", "location_quality", "confidence", "status_note")
)


def fault_pause(stage: str) -> None:
    """Fault injection for the crash-consistency test: with ``SPATIAL_FAULT_PAUSE=commit:5``
    the process sleeps 5 s at the end of the commit transaction, before it commits, so a test
    can kill it there. Unset in normal use."""
    spec = os.environ.get("SPATIAL_FAULT_PAUSE", "")
    if spec.startswith(stage + ":"):
        time.sleep(float(spec.split(":", 1)[1]))


class SubmissionError(BilingualError):
    """A workflow step that cannot be done."""


@dataclass(frozen=True)
class Preview:
    new: pd.DataFrame  # project_id, name_zh
    changed: pd.DataFrame  # project_id, field, before, after
    unchanged: list[str]
    absent: pd.DataFrame  # the district's stored projects not in the file (kept)

    @property
    def changed_ids(self) -> list[str]:
        return sorted(set(self.changed["project_id"]))

    def summary(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed_ids),
            "unchanged": len(self.unchanged),
            "absent": len(self.absent),
        }


@dataclass(frozen=True)
class CommitResult:
    submission_id: int
    created: int
    updated: int
    unchanged: int


def _same(a, b) -> bool:
    def missing(v):
        return v is None or (isinstance(v, float) and math.isnan(v))

    if missing(a) and missing(b):
        return True
    if missing(a) or missing(b):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return str(a) == str(b)


def _geom_text(g) -> str | None:
    if g is None or (hasattr(g, "is_empty") and g.is_empty):
        return None
    return shapely.to_wkt(g, rounding_precision=7)


def incoming_rows(store: Store, checked: CheckedUpload) -> gpd.GeoDataFrame:
    """The rows a commit would write: the file's values, and for fields the file has no column
    for, the values already stored (a file without an English-name column keeps the names)."""
    rows = checked.projects[checked.row_ok.reindex(checked.projects.index, fill_value=False)]
    rows = rows.copy()
    absent = [f for f in PROJECT_FIELDS if f not in checked.present_fields]
    if absent and not rows.empty:
        current = store.projects().set_index("project_id")
        known = rows["project_id"].isin(current.index)
        if known.any():
            for f in absent:
                stored = rows["project_id"].map(current[f]).astype(object)
                rows[f] = stored.where(known, rows[f].astype(object))
    return rows


def preview(store: Store, checked: CheckedUpload, district_id: str) -> Preview:
    """What committing ``checked`` would do to the current store."""
    incoming = incoming_rows(store, checked)
    current = store.projects()
    mine = current[current["district_id"] == district_id].set_index("project_id")
    new_rows, changes, unchanged = [], [], []
    for _, row in incoming.iterrows():
        pid = row["project_id"]
        if pid not in mine.index:
            new_rows.append({"project_id": pid, "name_zh": row["name_zh"]})
            continue
        old = mine.loc[pid]
        diffs = [
            {"project_id": pid, "field": f, "before": old.get(f), "after": row.get(f)}
            for f in COMPARED_FIELDS
            if not _same(old.get(f), row.get(f))
        ]
        g_old, g_new = _geom_text(old.geometry), _geom_text(row.geometry)
        if g_old != g_new:
            diffs.append({"project_id": pid, "field": "geometry", "before": g_old, "after": g_new})
        if diffs:
            changes.extend(diffs)
        else:
            unchanged.append(pid)
    in_file = set(incoming["project_id"])
    absent = mine[~mine.index.isin(in_file)].reset_index()[["project_id", "name_zh", "status"]]
    return Preview(
        new=pd.DataFrame(new_rows, columns=["project_id", "name_zh"]),
        changed=pd.DataFrame(changes, columns=["project_id", "field", "before", "after"]),
        unchanged=unchanged,
        absent=absent,
    )


def receive(store: Store, filename: str, data: bytes, district_id: str, actor: Principal) -> int:
    """Store the raw upload before anything else. Returns the submission id.

    Refused (and audited) when ``actor`` may not upload for ``district_id``."""
    try:
        require(actor, Action.UPLOAD, district_id)
    except Exception:
        store.record_event(
            actor.user_name,
            "upload",
            filename,
            ok=False,
            detail={"district_id": district_id, "reason": "permission"},
        )
        raise
    with store.transaction() as conn:
        submission_id = store.record_submission(
            data, filename, actor.user_name, kind="upload", district_id=district_id, conn=conn
        )
        store.record_event(
            actor.user_name,
            "upload",
            f"submission {submission_id}",
            detail={"district_id": district_id, "filename": filename, "bytes": len(data)},
            conn=conn,
        )
    return submission_id


def validate(
    store: Store, submission_id: int, options: UploadOptions, progress=None
) -> CheckedUpload:
    """Check a received submission against the store; save its report and status."""
    record = store.submission(submission_id)
    if record is None:
        raise SubmissionError(
            f"没有编号为 {submission_id} 的上传记录", f"there is no submission {submission_id}"
        )
    content = store.submission_content(submission_id)
    try:
        checked = check_upload(
            record.filename,
            content,
            options,
            store.layer("districts"),
            store.projects()[["project_id", "district_id"]],
            progress=progress,
        )
    except Exception as exc:  # an unexpected failure still leaves a report behind
        report = ValidationReport(filename=record.filename)
        report.add(
            error(
                "internal_error",
                f"检查时出现意外错误：{type(exc).__name__}",
                f"an unexpected error occurred while checking: {type(exc).__name__}",
                "原文件已保存；请联系管理员。",
                "The original file is kept; tell the administrator.",
            )
        )
        store.set_submission_status(submission_id, "rejected", report.to_dict())
        raise
    if record.status in ("committed", "undone"):
        return checked  # checking again never rewrites what was decided
    status = "validated" if checked.accepted else "rejected"
    store.set_submission_status(submission_id, status, checked.report.to_dict())
    return checked


def _record_or_fail(store: Store, submission_id: int):
    record = store.submission(submission_id)
    if record is None:
        raise SubmissionError(
            f"没有编号为 {submission_id} 的上传记录", f"there is no submission {submission_id}"
        )
    return record


def _require(store: Store, actor: Principal, action: Action, record) -> None:
    try:
        require(actor, action, record.district_id)
    except Exception:
        store.record_event(
            actor.user_name,
            action.value,
            f"submission {record.submission_id}",
            ok=False,
            detail={"district_id": record.district_id, "reason": "permission"},
        )
        raise


def commit(
    store: Store,
    submission_id: int,
    checked: CheckedUpload,
    actor: Principal,
    at: datetime | None = None,
) -> CommitResult:
    """Write new and changed projects as versions tied to the submission, in one transaction.
    Only for a principal who may commit in the submission's district."""
    record = _record_or_fail(store, submission_id)
    _require(store, actor, Action.COMMIT, record)
    user = actor.user_name
    if not checked.accepted:
        raise SubmissionError(
            "文件有错误，不能提交；请先修正", "the file has errors; fix them first"
        )
    # one district's commits and undos run one after another; the plan is made under the lock
    with store.transaction(lock=f"district:{record.district_id}") as conn:
        if store.submission_status(submission_id, conn) == "committed":
            raise SubmissionError("该上传已经提交过", "this submission was already committed")
        plan = preview(store, checked, record.district_id)
        at = at or utcnow()
        rows = incoming_rows(store, checked)
        created = store.write_project_versions(
            conn,
            rows[rows["project_id"].isin(set(plan.new["project_id"]))],
            at=at,
            changed_by=user,
            change_kind="create",
            submission_id=submission_id,
        )
        updated = store.write_project_versions(
            conn,
            rows[rows["project_id"].isin(set(plan.changed_ids))],
            at=at,
            changed_by=user,
            change_kind="update",
            submission_id=submission_id,
        )
        report = checked.report.to_dict() | {"commit": plan.summary()}
        store.set_submission_status(submission_id, "committed", report, conn=conn)
        store.record_event(
            user,
            "commit",
            f"submission {submission_id}",
            detail={"district_id": record.district_id} | plan.summary(),
            conn=conn,
        )
        fault_pause("commit")
    return CommitResult(submission_id, created, updated, len(plan.unchanged))


def submit(
    store: Store,
    filename: str,
    data: bytes,
    options: UploadOptions,
    actor: Principal,
) -> tuple[int, CheckedUpload, CommitResult | None]:
    """receive → validate → commit when accepted (the command line's ``spatial import``)."""
    submission_id = receive(store, filename, data, options.district_id, actor)
    checked = validate(store, submission_id, options)
    if not checked.accepted:
        return submission_id, checked, None
    return submission_id, checked, commit(store, submission_id, checked, actor)


def undo(store: Store, submission_id: int, actor: Principal, at: datetime | None = None) -> int:
    """Restore what a committed submission replaced; projects it created are deleted.

    Refused when a later change has touched the same projects (undo that one first), or when
    ``actor`` may not undo in the submission's district. Returns the number of projects
    restored or removed.
    """
    record = _record_or_fail(store, submission_id)
    _require(store, actor, Action.UNDO, record)
    user = actor.user_name
    if record.status != "committed" or record.kind != "upload":
        raise SubmissionError(
            f"只能撤销已提交的上传（该记录状态为 {record.status}）",
            f"only committed uploads can be undone (this one is {record.status})",
        )
    with store.transaction(lock=f"district:{record.district_id}") as conn:
        if store.submission_status(submission_id, conn) != "committed":
            raise SubmissionError("该上传已被撤销", "this upload was undone already")
        at = at or utcnow()
        versions = store.versions_of_submission(submission_id, conn)
        versions = versions[versions["change_kind"].isin(["create", "update"])]
        later = (
            store.later_committed_changes(
                versions["project_id"].tolist(),
                int(versions["version_id"].min()),
                submission_id,
                conn,
            )
            if not versions.empty
            else []
        )
        if later:
            ids = ", ".join(sorted(set(later))[:10])
            raise SubmissionError(
                f"这些项目在此之后又被修改过：{ids}；请先撤销之后的上传",
                f"these projects were changed again later: {ids}; undo the later upload first",
            )
        previous = store.previous_versions(versions["version_id"].tolist(), conn)
        restored_ids = set(previous["project_id"])

        def as_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
            geoms = [shapely.from_wkb(g) if g is not None else None for g in frame["geometry"]]
            return gpd.GeoDataFrame(
                frame.drop(columns=["geometry"]), geometry=geoms, crs="EPSG:4326"
            )

        restore = previous[~previous["is_deleted"].astype(bool)]
        count = store.write_project_versions(
            conn,
            as_frame(restore),
            at=at,
            changed_by=user,
            change_kind="undo",
            submission_id=submission_id,
        )
        created = versions[~versions["project_id"].isin(restored_ids)]
        count += store.write_project_versions(
            conn,
            as_frame(created),
            at=at,
            changed_by=user,
            change_kind="undo",
            submission_id=submission_id,
            deleted=True,
        )
        store.set_submission_status(submission_id, "undone", conn=conn)
        store.record_event(
            user,
            "undo",
            f"submission {submission_id}",
            detail={"district_id": record.district_id, "projects": count},
            conn=conn,
        )
    return count
