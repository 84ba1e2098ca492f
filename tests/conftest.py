"""Shared fixtures: real SQLite files in per-test temporary folders (parallel-safe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial.reference import ReferenceData, load_reference
from spatial.seed import seed_store
from spatial.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return load_reference()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'spatial.db'}"


@pytest.fixture
def empty_store(db_url: str) -> Store:
    return open_store(db_url)


@pytest.fixture
def seeded_store(empty_store: Store, reference: ReferenceData) -> Store:
    seed_store(empty_store, reference)
    return empty_store
