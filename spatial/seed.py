"""Load the shipped reference data into an empty store, in one transaction."""

from __future__ import annotations

from spatial.reference import SEEDS_DIR, ReferenceData, load_reference
from spatial.store import REFERENCE_KNOWN_FROM, Store

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
