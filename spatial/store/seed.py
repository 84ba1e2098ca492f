"""Load the shipped reference data into an empty store, in one transaction; bring a store
seeded from older shipped data up to date (:func:`refresh_reference`)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.auth import Action, Principal, require
from spatial.layers import PROJECT_FIELDS, PROJECT_NUMERIC_FIELDS
from spatial.store.database import PROJECTS_LOCK, REFERENCE_KNOWN_FROM, Store, utcnow
from spatial.store.reference import SEEDS_DIR, ReferenceData, load_reference

SEED_USER = "system (shipped reference data)"
SEED_TABLES = ("pledge", "clusters", "cluster_aliases", "programme_reports", "sources")


def seed_store(store: Store, reference: ReferenceData | None = None) -> int:
    """Write layers, seed tables and the reference projects; return the seed submission id.

    The projects file is recorded as a submission (kind ``seed``) with its bytes and hash, and
    every reference project becomes a version tied to it, valid from the programme's launch.
    """
    reference = reference or load_reference()
    content = (SEEDS_DIR / "projects.csv").read_bytes()
    with store.transaction() as conn:
        for name in ("districts", "parks", "control_lines"):
            store.replace_reference_layer(name, getattr(reference, name), conn=conn)
        for name in SEED_TABLES:
            store.replace_table(name, getattr(reference, name), conn)
        submission_id = store.record_submission(
            content,
            "seeds/projects.csv",
            SEED_USER,
            kind="seed",
            received_at=REFERENCE_KNOWN_FROM,
            conn=conn,
        )
        store.write_project_versions(
            conn,
            reference.projects,
            at=REFERENCE_KNOWN_FROM,
            changed_by=SEED_USER,
            change_kind="seed",
            submission_id=submission_id,
        )
        store.set_submission_status(submission_id, "committed", conn=conn)
    return submission_id


def ensure_seeded(store: Store) -> bool:
    """Seed the store if it is empty. Returns True when it seeded."""
    if store.is_empty():
        seed_store(store)
        return True
    return False


# -- refreshing an existing store ---------------------------------------------------------------

CORRECTION = "correction"  # change_kind of a reference project rewritten by a refresh


@dataclass(frozen=True)
class ReferenceRefresh:
    """What :func:`refresh_reference` changed (or, in a dry run, would change)."""

    updated: tuple[str, ...]  # reference projects whose record changed
    added: tuple[str, ...]  # new in the shipped data
    withdrawn: tuple[str, ...]  # no longer in the shipped data: a deleted version is written
    kept_district: tuple[str, ...]  # reference ids a district has since uploaded: left alone
    replaced: tuple[str, ...]  # layers and tables replaced by the shipped ones
    kept_edited: tuple[str, ...]  # layers and tables an admin edited: left alone
    submission_id: int | None  # the shipped projects file, stored as a seed submission
    dry_run: bool

    def as_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def _differs(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.Series:
    """Per project id (the shared index): does any field or the geometry differ?"""
    changed = pd.Series(False, index=new.index)
    for column in PROJECT_FIELDS:
        if column not in new.columns:
            continue
        a = old[column] if column in old.columns else pd.Series(None, index=old.index)
        b = new[column]
        if column in PROJECT_NUMERIC_FIELDS:
            a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
            same = np.isclose(a, b, rtol=0, atol=1e-6) | (a.isna() & b.isna())
        else:
            a = a.astype(object).where(a.notna() & a.astype(str).ne(""), None)
            b = b.astype(object).where(b.notna() & b.astype(str).ne(""), None)
            same = (a.astype(str) == b.astype(str)) | (a.isna() & b.isna())
        changed |= ~pd.Series(same, index=new.index)
    ga, gb = old.geometry.to_numpy(), new.geometry.to_numpy()
    both = ~(shapely.is_missing(ga) | shapely.is_missing(gb))
    same_geometry = np.where(
        both,
        shapely.equals_exact(ga, gb, tolerance=1e-9),
        shapely.is_missing(ga) & shapely.is_missing(gb),
    )
    return changed | ~pd.Series(same_geometry, index=new.index)


def _edited_by_admin(store: Store) -> set[str]:
    """Reference layers and tables an admin changed in the app or CLI (never overwritten)."""
    events = store.audit(action="reference_change")
    return {str(target).split(" ")[0] for target in events["target"]}


def refresh_reference(
    store: Store,
    actor: Principal,
    reference: ReferenceData | None = None,
    dry_run: bool = False,
) -> ReferenceRefresh:
    """Bring a store seeded from older shipped data up to today's ``seeds/`` and ``geodata/``
    (e.g. after the corrections of ``shared/reference/corrections.md``), without losing history:

    * each reference project whose record changed gets a new version (kind ``correction``),
      tied to the shipped file stored as a seed submission; new ones are added; ones no longer
      shipped get a deleted version. Older versions stay, so a figure as of a past date still
      shows what the store held then.
    * a reference id that a district has uploaded since is the district's: left alone.
    * layers and seed tables are replaced, except those an admin edited (left alone, listed).

    Admins only (re-checked inside the write); one transaction under the upload lock; audited.
    """
    require(actor, Action.EDIT_REFERENCE)
    reference = reference or load_reference()
    content = (SEEDS_DIR / "projects.csv").read_bytes()
    edited = _edited_by_admin(store)
    names = ("districts", "parks", "control_lines", *SEED_TABLES)
    replaced = tuple(n for n in names if n not in edited)
    kept_edited = tuple(n for n in names if n in edited)
    with store.transaction(lock=PROJECTS_LOCK) as conn:
        require(actor, Action.EDIT_REFERENCE)
        held = store.projects(include_deleted=True).set_index("project_id", drop=False)
        shipped = reference.projects.set_index("project_id", drop=False)
        ours = held["changed_by"].eq(SEED_USER)
        live = ~held["is_deleted"].astype(bool)
        district_owned = tuple(sorted(set(shipped.index) & set(held.index[~ours])))
        shared = shipped.index.intersection(held.index[ours])
        changed = _differs(held.loc[shared], shipped.loc[shared])
        updated = tuple(sorted(changed.index[changed]))
        added = tuple(sorted(set(shipped.index) - set(held.index)))
        withdrawn = tuple(sorted(set(held.index[ours & live]) - set(shipped.index)))
        submission_id = None
        if not dry_run:
            now = utcnow()
            for name in replaced:
                if name in SEED_TABLES:
                    store.replace_table(name, getattr(reference, name), conn)
                else:
                    store.replace_reference_layer(name, getattr(reference, name), conn=conn)
            if updated or added or withdrawn:
                submission_id = store.record_submission(
                    content, "seeds/projects.csv", SEED_USER, kind="seed", received_at=now,
                    conn=conn,
                )  # fmt: skip
                rewrite = shipped.loc[list(updated) + list(added)].reset_index(drop=True)
                store.write_project_versions(
                    conn, rewrite, at=now, changed_by=SEED_USER, change_kind=CORRECTION,
                    submission_id=submission_id,
                )  # fmt: skip
                gone = held.loc[list(withdrawn)].reset_index(drop=True)
                store.write_project_versions(
                    conn, gone, at=now, changed_by=SEED_USER, change_kind="delete",
                    submission_id=submission_id, deleted=True,
                )  # fmt: skip
                store.set_submission_status(submission_id, "committed", conn=conn)
            result = ReferenceRefresh(
                updated, added, withdrawn, district_owned, replaced, kept_edited,
                submission_id, dry_run,
            )  # fmt: skip
            detail = result.as_json()
            store.record_event(
                actor.user_name, "reference_refresh", "seeds", detail=detail, conn=conn, at=now
            )
            return result
    return ReferenceRefresh(
        updated, added, withdrawn, district_owned, replaced, kept_edited, None, dry_run
    )
