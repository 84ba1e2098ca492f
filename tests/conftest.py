"""Shared fixtures: real SQLite files in per-test temporary folders (parallel-safe)."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from spatial.reference import ReferenceData, load_reference
from spatial.seed import seed_store
from spatial.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return load_reference()


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.fail(
            "TEST_POSTGRES_URL is not set: `make test` starts a throw-away PostGIS server "
            "(scripts/pg-test-server.sh) and sets it; every store test runs on both backends"
        )
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path: Path):
    """A fresh, empty database: a SQLite file, or a private schema on the PostGIS server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spatial.db'}"
        return
    base = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{base}?options=-csearch_path%3D{schema},public"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def empty_store(db_url: str):
    store = open_store(db_url)
    yield store
    store.engine.dispose()  # give the connections back (PostgreSQL counts them)


@pytest.fixture
def seeded_store(empty_store: Store, reference: ReferenceData) -> Store:
    seed_store(empty_store, reference)
    return empty_store


_JSON_LITERAL = re.compile(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)')


def map_payloads(page: str) -> list:
    """What a map page hands to ``JSON.parse``: each layer's FeatureCollection (and the legend),
    decoded the way the browser decodes them (spatial.map_data)."""
    return [json.loads(json.loads(m)) for m in _JSON_LITERAL.findall(page)]


def map_features(page: str) -> list[dict]:
    """Every feature drawn on a map page, from its data layers."""
    return [
        f
        for p in map_payloads(page)
        if isinstance(p, dict) and p.get("type") == "FeatureCollection"
        for f in p["features"]
    ]
