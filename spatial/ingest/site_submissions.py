"""A district's sites (地块) upload, from bytes to committed versions — and back.

The same workflow as the projects' (:mod:`spatial.ingest.submissions`): the raw bytes are
stored first (:func:`~spatial.ingest.submissions.receive` with ``kind="sites"``), checked
(:func:`validate_sites`), previewed, committed in one transaction and undone. One
difference, said in the preview: a district's sites file is its **whole land bank** — a
commit replaces the district's sites, and a stored site absent from the file is removed (a
deleted version; undo brings it back). The rights are the projects': staff upload, commit
and undo in their own district only, re-checked inside the write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from spatial.auth import Action, Principal
from spatial.ids import ids_in
from spatial.ingest.findings import ValidationReport
from spatial.ingest.formats import too_large
from spatial.ingest.site_rules import CheckedSites, check_site_upload, empty_sites
from spatial.ingest.submissions import (
    SITES_KIND,
    SubmissionError,
    _record_or_fail,
    _require,
    _versions_frame,
    fault_pause,
    field_changes,
    receive,
)
from spatial.ingest.upload import UploadOptions
from spatial.layers import SITE_FIELDS, SITE_NUMERIC_FIELDS
from spatial.store.database import SITE_VERSIONS, Store, utcnow

SITES_LOCK = "sites"  # site commits and undos run one after another, city-wide
COMPARED = tuple(f for f in SITE_FIELDS if f not in ("site_id", "district_id", "quality"))
LISTED = ["site_id", "name", "land_use", "land_area_m2", "readiness"]


@dataclass(frozen=True)
class SitePreview:
    new: pd.DataFrame  # LISTED columns
    changed: pd.DataFrame  # site_id, field, before, after
    unchanged: list[str]
    removed: pd.DataFrame  # the district's stored sites not in the file: removed by a commit

    @property
    def changed_ids(self) -> list[str]:
        return sorted(set(self.changed["site_id"]))

    def summary(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed_ids),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
        }


@dataclass(frozen=True)
class SiteCommitResult:
    submission_id: int
    created: int
    updated: int
    unchanged: int
    removed: int


def site_owners(store: Store) -> dict[str, str]:
    """{site id: district} of every site the store has held (removed ones too: an id once
    used stays its district's)."""
    stored = store.sites(include_deleted=True)
    return dict(zip(stored["site_id"], stored["district_id"], strict=True))


def _check(store: Store, record, options: UploadOptions) -> CheckedSites:
    if record.size_bytes > options.limits.max_bytes:  # refused without loading it
        report = ValidationReport(filename=record.filename)
        report.extend(too_large(record.size_bytes, options.limits).findings)
        return CheckedSites(report, empty_sites(), pd.Series(dtype=bool))
    return check_site_upload(
        record.filename,
        store.submission_content(record.submission_id),
        options,
        store.layer("districts"),
        site_owners(store),
    )


def validate_sites(store: Store, submission_id: int, options: UploadOptions) -> CheckedSites:
    """Check a received sites submission; save its report and status (its own district's)."""
    record = _record_or_fail(store, submission_id)
    if record.kind != SITES_KIND:
        raise SubmissionError(
            f"上传 #{submission_id} 不是地块文件", f"upload #{submission_id} is not a sites file"
        )
    options = UploadOptions(record.district_id, options.crs_choice, False, options.limits)
    checked = _check(store, record, options)
    if record.status in ("committed", "undone"):
        return checked
    status = "validated" if checked.accepted else "rejected"
    saved = checked.report.to_dict() | {"options": {"crs_choice": options.crs_choice}}
    store.set_submission_status(submission_id, status, saved)
    return checked


def preview_sites(store: Store, checked: CheckedSites, district_id: str) -> SitePreview:
    """What committing ``checked`` would do to the district's sites as stored now."""
    incoming = checked.sites[checked.row_ok.reindex(checked.sites.index, fill_value=False)]
    current = store.sites()
    mine = current[current["district_id"] == district_id].set_index("site_id")
    known = incoming["site_id"].isin(mine.index)
    rows = incoming[known].set_index("site_id")
    changed = field_changes(mine, rows, COMPARED, SITE_NUMERIC_FIELDS, "site_id")
    touched = set(changed["site_id"])
    removed = mine[~ids_in(mine.index, incoming["site_id"])].reset_index()
    return SitePreview(
        new=pd.DataFrame(incoming[~known][LISTED]).reset_index(drop=True),
        changed=changed,
        unchanged=[site for site in rows.index if site not in touched],
        removed=pd.DataFrame(removed.reindex(columns=LISTED)),
    )


def commit_sites(
    store: Store, submission_id: int, actor: Principal, at: datetime | None = None
) -> SiteCommitResult:
    """Replace the district's sites by a validated sites submission's, in one transaction:
    new and changed sites get a version tied to the submission, stored sites absent from the
    file a deleted one. Derived from the stored bytes; ids re-checked under the lock."""
    record = _record_or_fail(store, submission_id)
    _require(store, actor, Action.COMMIT, record)
    if record.status != "validated":
        raise SubmissionError(
            f"只能提交检查通过的上传（该记录状态为 {record.status}）",
            f"only a validated upload can be committed (this one is {record.status})",
        )
    saved = (store.submission_report(submission_id) or {}).get("options") or {}
    options = UploadOptions(record.district_id, crs_choice=saved.get("crs_choice", "auto"))
    checked = _check(store, record, options)
    if not checked.accepted:
        raise SubmissionError(
            "文件有错误，不能提交；请先修正", "the file has errors; fix them first"
        )
    with store.transaction(lock=SITES_LOCK) as conn:
        if store.submission_status(submission_id, conn) != "validated":
            raise SubmissionError("该上传已经提交过", "this submission was already committed")
        rows = checked.sites
        foreign = sorted(
            store.current_owners(
                rows["site_id"].tolist(), conn, layer=SITE_VERSIONS, other_than=record.district_id
            )
        )
        if foreign:
            listed = ", ".join(foreign[:10])
            raise SubmissionError(
                f"这些地块编号已属于其他区：{listed}；请重新检查文件",
                f"these site ids now belong to another district: {listed}; check the file again",
            )
        plan = preview_sites(store, checked, record.district_id)
        at = at or utcnow()
        how = dict(at=at, changed_by=actor.user_name, submission_id=submission_id,
                   layer=SITE_VERSIONS)  # fmt: skip
        created = store.write_versions(
            conn, rows[ids_in(rows["site_id"], plan.new["site_id"])], change_kind="create", **how
        )
        updated = store.write_versions(
            conn, rows[ids_in(rows["site_id"], plan.changed_ids)], change_kind="update", **how
        )
        current = store.sites()
        gone = current[ids_in(current["site_id"], plan.removed["site_id"])]
        removed = store.write_versions(conn, gone, change_kind="delete", deleted=True, **how)
        report = checked.report.to_dict() | {"commit": plan.summary()}
        store.set_submission_status(submission_id, "committed", report, conn=conn)
        store.record_event(actor.user_name, "commit_sites", f"submission {submission_id}",
                           detail={"district_id": record.district_id} | plan.summary(),
                           conn=conn)  # fmt: skip
        fault_pause("commit")
    return SiteCommitResult(submission_id, created, updated, len(plan.unchanged), removed)


def submit_sites(
    store: Store, filename: str, data: bytes, options: UploadOptions, actor: Principal
) -> tuple[int, CheckedSites, SiteCommitResult | None]:
    """receive → validate → commit when accepted (``spatial sites import``)."""
    submission_id = receive(store, filename, data, options.district_id, actor, kind=SITES_KIND)
    checked = validate_sites(store, submission_id, options)
    if not checked.accepted:
        return submission_id, checked, None
    return submission_id, checked, commit_sites(store, submission_id, actor)


def undo_sites(
    store: Store, submission_id: int, actor: Principal, at: datetime | None = None
) -> int:
    """Put the district's sites back as the submission found them: changed and removed
    sites restored, created ones removed. Refused when a later committed upload changed the
    same sites (undo that one first). Returns the number of sites restored or removed."""
    record = _record_or_fail(store, submission_id)
    _require(store, actor, Action.UNDO, record)
    if record.status != "committed":
        raise SubmissionError(
            f"只能撤销已提交的上传（该记录状态为 {record.status}）",
            f"only committed uploads can be undone (this one is {record.status})",
        )
    with store.transaction(lock=SITES_LOCK) as conn:
        if store.submission_status(submission_id, conn) != "committed":
            raise SubmissionError("该上传已被撤销", "this upload was undone already")
        versions = store.versions_of_submission(submission_id, conn, layer=SITE_VERSIONS)
        versions = versions[versions["change_kind"].isin(SITE_VERSIONS.upload_kinds)]
        if not versions.empty:
            later = store.later_committed_changes(
                versions["site_id"].tolist(), int(versions["version_id"].min()), submission_id,
                conn, layer=SITE_VERSIONS,
            )  # fmt: skip
            if later:
                ids = ", ".join(sorted(set(later))[:10])
                raise SubmissionError(
                    f"这些地块在此之后又被修改过：{ids}；请先撤销之后的上传",
                    f"these sites were changed again later: {ids}; undo the later upload first",
                )
        previous = store.previous_versions(versions["version_id"].tolist(), conn, SITE_VERSIONS)
        live = previous[~previous["is_deleted"].astype(bool)]
        how = dict(at=at or utcnow(), changed_by=actor.user_name, change_kind="undo",
                   submission_id=submission_id, layer=SITE_VERSIONS)  # fmt: skip
        count = store.write_versions(conn, _versions_frame(live), **how)
        created = versions[~ids_in(versions["site_id"], live["site_id"])]
        count += store.write_versions(conn, _versions_frame(created), deleted=True, **how)
        store.set_submission_status(submission_id, "undone", conn=conn)
        store.record_event(actor.user_name, "undo_sites", f"submission {submission_id}",
                           detail={"district_id": record.district_id, "sites": count},
                           conn=conn)  # fmt: skip
    return count
