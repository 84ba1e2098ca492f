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

import functools
import hashlib
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.allocator import hand_back_freed_memory
from spatial.auth import Action, Principal, require
from spatial.i18n import BilingualError
from spatial.ids import ids_in
from spatial.ingest.crs_detect import AUTO
from spatial.ingest.findings import ValidationReport, error
from spatial.ingest.formats import too_large
from spatial.ingest.upload import CheckedUpload, UploadOptions, check_upload, empty_projects
from spatial.layers import PROJECT_FIELDS, PROJECT_NUMERIC_FIELDS
from spatial.rows import rows_where
from spatial.store.database import PROJECTS_LOCK, Store, utcnow
from spatial.store.overlays import OverlayReference, keep_written_overlays, overlays_by_id

COMPARED_FIELDS = tuple(
    f
    for f in PROJECT_FIELDS
    if f
    not in ("project_id", "district_id", "quality", "location_quality", "confidence", "status_note")
)


WRITE_LOCK = PROJECTS_LOCK  # commits and undos, city-wide
SITES_KIND = "sites"  # a submission of the sites layer (地块); "upload" holds projects


def fault_pause(stage: str) -> None:
    """Fault injection for the crash-consistency test: with ``SPATIAL_FAULT_PAUSE=commit:5``
    the process sleeps 5 s at the end of the commit transaction, before it commits, so a test
    can kill it there. Unset in normal use."""
    spec = os.environ.get("SPATIAL_FAULT_PAUSE", "")
    if spec.startswith(stage + ":"):
        time.sleep(float(spec.split(":", 1)[1]))


class SubmissionError(BilingualError):
    """A workflow step that cannot be done."""


NEW_COLUMNS = (
    "project_id",
    "name_zh",
    "status",
    "factory_floor_area_m2",
    "floor_area_m2",
    "start_date",
    "completion_date",
    "delivery_date",
)


@dataclass(frozen=True)
class Preview:
    new: pd.DataFrame  # NEW_COLUMNS: what a new project will hold
    changed: pd.DataFrame  # project_id, field, before, after
    unchanged: pd.Series  # their ids, as text (no Python string per project: 10⁵ are 6 MB)
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


def checked_rows(checked: CheckedUpload) -> gpd.GeoDataFrame:
    """The rows of a checked file a commit may write: those without errors (copy on write:
    the checked rows stay as they are)."""
    ok = checked.row_ok.reindex(checked.projects.index, fill_value=False)
    return rows_where(checked.projects, ok)


def compared_fields(checked: CheckedUpload) -> tuple[str, ...]:
    """The fields a commit compares with the stored rows: those the file gives. A field it
    has no column for keeps its stored value (:func:`with_stored_fields`), so it cannot
    change."""
    return tuple(f for f in COMPARED_FIELDS if f in checked.present_fields)


def with_stored_fields(
    store: Store, rows: gpd.GeoDataFrame, checked: CheckedUpload
) -> gpd.GeoDataFrame:
    """``rows`` (of ``checked``) as a commit writes them: the file's values, and for the
    fields the file has no column for, the values already stored (a file without an
    English-name column keeps the names) — read for these rows' ids only."""
    absent = [f for f in PROJECT_FIELDS if f not in checked.present_fields]
    if not absent or rows.empty:
        return rows
    ids = rows["project_id"].astype(str).tolist()
    current = store.projects(columns=absent, ids=ids).set_index("project_id")
    at = current.index.get_indexer(rows["project_id"])  # the stored row of each, or -1
    known = at >= 0
    if not known.any():
        return rows
    rows = rows.copy(deep=False)  # its columns replaced, never changed in place
    for f in absent:  # (the id is always the file's)
        kept = current[f].take(at[known])  # the stored values, typed as stored
        if known.all():  # (a register sent again) the stored column, not objects
            rows[f] = kept.set_axis(rows.index)
        else:
            column = rows[f].astype(object).to_numpy(copy=True)
            column[known] = kept.astype(object).to_numpy()
            rows[f] = column
    return rows


def district_projects(
    store: Store, district_id: str, fields: tuple[str, ...], ids: list[str] | None = None
) -> pd.DataFrame:
    """A district's current projects by id (``ids``: only these), as a commit compares them:
    ``fields`` (those the file gives) and the shape as stored (WKB, compared by
    :func:`field_changes` without decoding it) — not the versions' bookkeeping, nor the
    fields the file cannot change."""
    columns = list(dict.fromkeys(["project_id", *fields, "geometry"]))
    frame = store.projects(district_id=district_id, columns=columns, decode_geometry=False, ids=ids)
    return frame.set_index("project_id")


def _differs(before: pd.Series, after: pd.Series, numeric: bool) -> pd.Series:
    """Per row, whether two columns' values differ: missing equals missing; numbers are equal
    to 1e-9 relative or 1e-6; anything else is compared as text. Vectorised."""
    b_missing, a_missing = before.isna().to_numpy(), after.isna().to_numpy()
    if numeric:
        b = pd.to_numeric(before, errors="coerce").to_numpy(dtype=float)
        a = pd.to_numeric(after, errors="coerce").to_numpy(dtype=float)
        differs = ~np.isclose(b, a, rtol=1e-9, atol=1e-6)
    else:  # as Arrow text (a text column as it is; anything else as str() gives it),
        # compared in Arrow's kernel: no Python string per row (6 MB a column at 10⁵)
        b, a = before.astype("str").array, after.astype("str").array
        differs = np.asarray(b != a, dtype=bool)
    return pd.Series((b_missing != a_missing) | (~b_missing & ~a_missing & differs),
                     index=before.index)  # fmt: skip


def field_changes(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    fields: tuple[str, ...],
    numeric: tuple[str, ...],
    key: str,
) -> pd.DataFrame:
    """Field by field, what differs between stored rows ``old`` and incoming rows ``new``
    (both indexed by ``key``; ``old`` holds every key of ``new``, in any order): ``key``,
    field, before, after — feature by feature in ``new``'s order, its fields in ``fields``'
    order, the geometry (as WKT to 1e-7°) last. Compared column by column over all rows at
    once; the stored rows are put in the file's order a column at a time (the whole of
    ``old`` reordered at once held a second copy of a district's register)."""
    at = None if old.index.equals(new.index) else old.index.get_indexer(new.index)
    if at is not None and (at < 0).any():
        raise ValueError(f"old lacks {new.index[at < 0][0]!r}: it must hold every key of new")

    def stored(column):  # a column of the stored rows, in the file's order
        return column if at is None else column.take(at)

    changes = []
    for f in fields:
        before = stored(old[f])
        mask = _differs(before, new[f], f in numeric)
        if mask.any():
            changes.append(pd.DataFrame({key: new.index[mask], "field": f,
                                         "before": before[mask.to_numpy()].to_numpy(),
                                         "after": new.loc[mask, f].to_numpy()}))  # fmt: skip
    moved, shapes = _moved(stored(old["geometry"].to_numpy()), new.geometry.to_numpy())
    if moved.any():
        changes.append(pd.DataFrame({key: new.index[moved], "field": "geometry",
                                     "before": shapes["before"],
                                     "after": shapes["after"]}))  # fmt: skip
    return in_change_order(changes, fields, key)


def in_change_order(changes: list[pd.DataFrame], fields: tuple[str, ...], key: str):
    """Changes (``key``, field, before, after) as one frame: by ``key``, then each key's
    fields in ``fields``' order, the geometry last."""
    changes = [c for c in changes if len(c)]
    if not changes:
        return pd.DataFrame(columns=[key, "field", "before", "after"])
    order = {f: i for i, f in enumerate([*fields, "geometry"])}
    return (
        pd.concat(changes, ignore_index=True)
        .sort_values(
            [key, "field"], key=lambda c: c.map(order) if c.name == "field" else c, kind="stable"
        )  # fmt: skip
        .reset_index(drop=True)
    )


MOVED_BATCH = 10_000  # shapes written as WKB at a time to be compared


def _wkb_differs(before: np.ndarray, after: np.ndarray, shapes: bool) -> np.ndarray:
    """Per row, whether two runs of shapes differ as WKB (a missing or empty shape as None);
    ``before`` as shapes, or (``shapes`` False) as its WKB already."""

    def wkb(geoms):
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        return shapely.to_wkb(np.where(empty, None, geoms), output_dimension=3)

    return np.asarray((wkb(before) if shapes else before) != wkb(after), dtype=bool)


def _moved(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per row, whether a shape moved — its WKT to 1e-7° differs (a missing or empty shape
    is None) — and the moved rows' WKT before and after. ``before``: shapes, or shapes as
    stored (WKB bytes, None for none). Only rows whose WKB differs are decoded and written
    as text: a shape stored from the same file reads back byte for byte."""
    shapes = shapely.is_geometry(before).any()
    maybe = np.flatnonzero(
        np.concatenate(
            [_wkb_differs(before[at : at + MOVED_BATCH], after[at : at + MOVED_BATCH], shapes)
             for at in range(0, len(after), MOVED_BATCH)] or [np.zeros(0, dtype=bool)]
        )
    )  # fmt: skip
    texts = {}
    sides = (("before", before[maybe] if shapes else shapely.from_wkb(before[maybe])),
             ("after", after[maybe]))  # fmt: skip
    for side, geoms in sides:
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        texts[side] = np.where(empty, None, shapely.to_wkt(geoms, rounding_precision=7))
    moved = np.zeros(len(before), dtype=bool)
    kept = texts["before"] != texts["after"]
    moved[maybe[kept]] = True
    return moved, {side: texts[side][kept] for side in texts}


PREVIEW_BATCH = 10_000  # the file's projects compared with the stored ones at a time, at most
PREVIEW_VERTICES = 100_000  # and the vertices of their shapes (10⁴ site polygons: 8 MB of WKB)


def preview_batches(geoms: np.ndarray) -> list[tuple[int, int]]:
    """Runs of rows (start, stop) of at most ``PREVIEW_BATCH`` shapes and, past the first
    shape of a run, ``PREVIEW_VERTICES`` vertices: a batch of site polygons holds its
    stored and its incoming WKB, so it is cut by vertices, not rows alone."""
    ends = np.cumsum(shapely.get_num_coordinates(geoms))
    runs, start = [], 0
    while start < len(geoms):
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + PREVIEW_VERTICES, side="right"))
        stop = min(max(stop, start + 1), start + PREVIEW_BATCH, len(geoms))
        runs.append((start, stop))
        start = stop
    return runs


def preview(store: Store, checked: CheckedUpload, district_id: str) -> Preview:
    """What committing ``checked`` would do to the current store, compared column by column
    — the fields the file gives and the shape; a field it has no column for keeps its stored
    value. The file's projects are looked up in the district's stored ones and compared a
    batch at a time (by id; :func:`preview_batches`), so an update never holds a whole
    district's stored fields beside the file's (10⁵ projects: some 25 MB); a project found
    in none is new."""
    incoming = checked_rows(checked)
    fields = compared_fields(checked)
    known = np.zeros(len(incoming), dtype=bool)
    parts = []
    for at, stop in preview_batches(incoming.geometry.to_numpy()):
        part = incoming.iloc[at:stop]
        mine = district_projects(store, district_id, fields, ids=part["project_id"].tolist())
        found = ids_in(part["project_id"], mine.index)
        known[at:stop] = found
        rows = rows_where(part, found).set_index("project_id")
        parts.append(field_changes(mine, rows, fields, PROJECT_NUMERIC_FIELDS, "project_id"))
        del mine, rows
        hand_back_freed_memory()  # the batch's stored rows, before the next is read
    changed = in_change_order(parts, fields, "project_id")
    new = pd.DataFrame({c: incoming.loc[~known, c] for c in NEW_COLUMNS})
    absent = store.projects(  # read alone, in the database: a register sent whole has none
        district_id=district_id,
        columns=["name_zh", "status"],
        other_than_ids=incoming["project_id"].astype(str).tolist(),
    )
    return Preview(
        new=new.reset_index(drop=True),
        changed=changed,
        unchanged=rows_where(
            incoming["project_id"], known & ~ids_in(incoming["project_id"], changed["project_id"])
        ).reset_index(drop=True),
        absent=absent[["project_id", "name_zh", "status"]].reset_index(drop=True),
    )


def receive(
    store: Store,
    filename: str,
    data: bytes | BinaryIO,
    district_id: str,
    actor: Principal,
    kind: str = "upload",
) -> int:
    """Store the raw upload (bytes, or a binary file read in parts) before anything else.
    Returns the submission id. ``kind`` is what the file holds: ``upload`` (projects) or
    ``sites``.

    Refused (and audited) when ``actor`` may not upload for ``district_id``."""
    action = "upload" if kind == "upload" else f"upload_{kind}"
    try:
        require(actor, Action.UPLOAD, district_id)
    except Exception:
        store.record_event(
            actor.user_name,
            action,
            filename,
            ok=False,
            detail={"district_id": district_id, "reason": "permission"},
        )
        raise
    with store.transaction() as conn:
        submission_id = store.record_submission(
            data, filename, actor.user_name, kind=kind, district_id=district_id, conn=conn
        )
        store.record_event(
            actor.user_name,
            action,
            f"submission {submission_id}",
            detail={
                "district_id": district_id,
                "filename": filename,
                "bytes": store.submission(submission_id, conn).size_bytes,
            },
            conn=conn,
        )
    return submission_id


# The library's own checks of a stored upload, kept in this process so that a commit right after
# its check does not read the file twice. Keyed by store, submission, content hash and options:
# a caller cannot hand a commit anything but what the library derived from the stored bytes.
_CHECKED: OrderedDict[tuple, CheckedUpload] = OrderedDict()
_CHECKED_KEEP = 4


def _checked_key(store: Store, record, options: UploadOptions) -> tuple:
    return (
        str(store.engine.url),
        record.submission_id,
        record.sha256,
        options.district_id,
        options.crs_choice,
        bool(options.repair_invalid),
    )


def _options_of(record, report: dict | None) -> UploadOptions:
    """The options a submission was checked with (saved with its report)."""
    saved = (report or {}).get("options") or {}
    return UploadOptions(
        record.district_id,
        crs_choice=saved.get("crs_choice", AUTO),
        repair_invalid=bool(saved.get("repair_invalid", False)),
    )


def _is_stored(content: bytes | None, record) -> bool:
    """Whether ``content`` is the submission's stored bytes (length and SHA-256)."""
    return (
        isinstance(content, bytes)
        and len(content) == record.size_bytes
        and hashlib.sha256(content).hexdigest() == record.sha256
    )


def _check_stored(
    store: Store, record, options: UploadOptions, progress=None, content: bytes | None = None
) -> CheckedUpload:
    key = _checked_key(store, record, options)
    if key in _CHECKED:
        _CHECKED.move_to_end(key)
        return _CHECKED[key]
    if record.size_bytes > options.limits.max_bytes:  # refused without loading it
        report = ValidationReport(filename=record.filename)
        report.extend(too_large(record.size_bytes, options.limits).findings)
        return CheckedUpload(report, empty_projects(), pd.Series(dtype=bool))
    checked = check_upload(
        record.filename,
        # the caller's bytes when they are the stored ones (not held twice); else read from
        # the store, held by the reader alone
        content
        if _is_stored(content, record)
        else functools.partial(store.submission_content, record.submission_id),
        options,
        store.layer("districts"),
        store.projects(include_deleted=True, columns=["district_id"]),
        progress=progress,
    )
    _CHECKED[key] = checked
    while len(_CHECKED) > _CHECKED_KEEP:
        _CHECKED.popitem(last=False)
    return checked


def validate(
    store: Store,
    submission_id: int,
    options: UploadOptions,
    progress=None,
    content: bytes | None = None,
) -> CheckedUpload:
    """Check a received submission against the store; save its report, status and options.

    The district checked is always the submission's own (``options.district_id`` must agree).
    ``content``: the bytes the caller gave :func:`receive`, still held by it — read instead of
    the stored copy when their length and SHA-256 are the stored ones (else the store's are
    read), so a large file is not held twice while it is parsed."""
    record = _record_or_fail(store, submission_id)
    if record.kind == SITES_KIND:
        from spatial.ingest.site_submissions import validate_sites

        return validate_sites(store, submission_id, options)
    if options.district_id != record.district_id:
        raise SubmissionError(
            f"上传 #{submission_id} 属于 {record.district_id}，不能按 {options.district_id} 检查",
            f"upload #{submission_id} belongs to {record.district_id}; it cannot be checked "
            f"as {options.district_id}",
        )
    try:
        checked = _check_stored(store, record, options, progress, content)
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
    saved = checked.report.to_dict() | {
        "options": {"crs_choice": options.crs_choice, "repair_invalid": options.repair_invalid}
    }
    store.set_submission_status(submission_id, status, saved)
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
    actor: Principal,
    at: datetime | None = None,
) -> CommitResult:
    """Write the new and changed projects of a validated submission as versions tied to it, in
    one transaction. Only for a principal who may commit in the submission's district.

    What is written is derived here from the stored bytes and the options the submission was
    validated with — never taken from the caller. Under the write lock the ids are checked
    again against the store as it is then: an id another district took meanwhile is refused."""
    record = _record_or_fail(store, submission_id)
    if record.kind == SITES_KIND:
        from spatial.ingest.site_submissions import commit_sites

        return commit_sites(store, submission_id, actor, at)
    _require(store, actor, Action.COMMIT, record)
    user = actor.user_name
    if record.status == "committed":
        raise SubmissionError("该上传已经提交过", "this submission was already committed")
    if record.status != "validated":
        raise SubmissionError(
            f"只能提交检查通过的上传（该记录状态为 {record.status}）",
            f"only a validated upload can be committed (this one is {record.status})",
        )
    checked = _check_stored(
        store, record, _options_of(record, store.submission_report(submission_id))
    )
    if not checked.accepted:
        raise SubmissionError(
            "文件有错误，不能提交；请先修正", "the file has errors; fix them first"
        )
    reference = OverlayReference.of_store(store)  # read before the lock: it is not changed
    # commits and undos run one after another (city-wide: an id is unique across districts);
    # the plan is made, and ownership checked, under the lock
    with store.transaction(lock=WRITE_LOCK) as conn:
        if store.submission_status(submission_id, conn) != "validated":
            raise SubmissionError("该上传已经提交过", "this submission was already committed")
        rows = checked_rows(checked)
        foreign = store.current_owners(
            rows["project_id"].astype(str).tolist(), conn, other_than=record.district_id
        )
        if foreign:
            listed = ", ".join(f"{p} ({d})" for p, d in sorted(foreign.items())[:10])
            raise SubmissionError(
                f"这些项目编号已属于其他区：{listed}；请重新检查文件",
                f"these project ids now belong to another district: {listed}; check the file again",
            )
        plan = preview(store, checked, record.district_id)
        hand_back_freed_memory()  # the comparison's batches, before the rows are bound
        # a changed project keeps the fields the file leaves out as stored (an id of another
        # district was refused above, so only this district's can be kept); a new one has none
        changed = rows_where(rows, ids_in(rows["project_id"], plan.changed_ids))
        at = at or utcnow()
        how = {"at": at, "changed_by": user, "submission_id": submission_id}
        written = rows_where(rows, ids_in(rows["project_id"], plan.new["project_id"]))
        created = store.write_project_versions(conn, written, change_kind="create", **how)
        overlays = [overlays_by_id(reference, written)]
        del written
        hand_back_freed_memory()
        written = with_stored_fields(store, changed, checked)
        updated = store.write_project_versions(conn, written, change_kind="update", **how)
        overlays.append(overlays_by_id(reference, written))
        del written
        keep_written_overlays(store, conn, reference, overlays)
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
    data: bytes | BinaryIO,
    options: UploadOptions,
    actor: Principal,
) -> tuple[int, CheckedUpload, CommitResult | None]:
    """receive → validate → commit when accepted (the command line's ``spatial import``)."""
    submission_id = receive(store, filename, data, options.district_id, actor)
    checked = validate(
        store, submission_id, options, content=data if isinstance(data, bytes) else None
    )
    if not checked.accepted:
        return submission_id, checked, None
    return submission_id, checked, commit(store, submission_id, actor)


def _no_later_changes(store: Store, versions: pd.DataFrame, submission_id: int, conn) -> None:
    """An undo is refused when a later commit changed any of the same projects."""
    if versions.empty:
        return
    later = store.later_committed_changes(
        versions["project_id"].tolist(), int(versions["version_id"].min()), submission_id, conn
    )
    if later:
        ids = ", ".join(sorted(set(later))[:10])
        raise SubmissionError(
            f"这些项目在此之后又被修改过：{ids}；请先撤销之后的上传",
            f"these projects were changed again later: {ids}; undo the later upload first",
        )


def _versions_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Stored versions (WKB geometry) as a frame that can be written again."""
    geoms = shapely.from_wkb(frame["geometry"].to_numpy())
    return gpd.GeoDataFrame(frame.drop(columns=["geometry"]), geometry=geoms, crs="EPSG:4326")


def undo(store: Store, submission_id: int, actor: Principal, at: datetime | None = None) -> int:
    """Restore what a committed submission replaced; projects it created are deleted.

    Refused when a later change has touched the same projects (undo that one first), or when
    ``actor`` may not undo in the submission's district. Returns the number of projects
    restored or removed.
    """
    record = _record_or_fail(store, submission_id)
    if record.kind == SITES_KIND:
        from spatial.ingest.site_submissions import undo_sites

        return undo_sites(store, submission_id, actor, at)
    _require(store, actor, Action.UNDO, record)
    user = actor.user_name
    reference = OverlayReference.of_store(store)  # read before the lock: it is not changed
    if record.status != "committed" or record.kind != "upload":
        raise SubmissionError(
            f"只能撤销已提交的上传（该记录状态为 {record.status}）",
            f"only committed uploads can be undone (this one is {record.status})",
        )
    with store.transaction(lock=WRITE_LOCK) as conn:
        if store.submission_status(submission_id, conn) != "committed":
            raise SubmissionError("该上传已被撤销", "this upload was undone already")
        at = at or utcnow()
        versions = store.versions_of_submission(submission_id, conn)
        versions = versions[versions["change_kind"].isin(["create", "update"])]
        _no_later_changes(store, versions, submission_id, conn)
        # each project goes back to the state the submission found: the version it replaced,
        # or "absent" when it created the project or re-created one that was deleted before
        previous = store.previous_versions(versions["version_id"].tolist(), conn)
        live_before = previous[~previous["is_deleted"].astype(bool)]
        restored_ids = set(live_before["project_id"])

        restored = _versions_frame(live_before)
        count = store.write_project_versions(
            conn,
            restored,
            at=at,
            changed_by=user,
            change_kind="undo",
            submission_id=submission_id,
        )
        keep_written_overlays(store, conn, reference, [overlays_by_id(reference, restored)])
        del restored
        absent_before = versions[~versions["project_id"].isin(restored_ids)]
        count += store.write_project_versions(
            conn,
            _versions_frame(absent_before),
            at=at,
            changed_by=user,
            change_kind="undo",
            submission_id=submission_id,
            deleted=True,
        )
        if count != versions["project_id"].nunique():
            raise SubmissionError(  # never report an undo that did not restore every project
                "撤销未能恢复全部项目，已取消，数据未改变",
                "the undo could not restore every project; it was cancelled and nothing changed",
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
