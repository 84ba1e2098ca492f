"""Shared fixtures: real SQLite files in per-test temporary folders (parallel-safe)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from spatial.outputs.map_data import expand_compact
from spatial.store.database import Store, open_store
from spatial.store.reference import ReferenceData, load_reference
from spatial.store.seed import seed_store

ROOT = Path(__file__).resolve().parent.parent
# the app run in this process (AppTest) reads nothing ahead in the background: each test's
# store is its own; the real app (running_app) does, as `make run` starts it
os.environ.setdefault("SPATIAL_PREPARE_ON_START", "0")
SHARED = ROOT.parent / "shared"
CHROMIUM = os.environ.get("SPATIAL_CHROMIUM", "/usr/bin/chromium")
# what a browser test lets through: this machine, and pages made in the browser
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:", "file:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(
    folder: Path,
    database_url: str,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """The real app, as `make run` starts it: `spatial init` on ``database_url``, then
    `streamlit run app.py` on 127.0.0.1 until the block ends (``env``: more variables for it).
    Yields its base URL; its log is ``folder/streamlit.log``."""
    port = port or free_port()
    env = os.environ | {"DATABASE_URL": database_url, "SPATIAL_PREPARE_ON_START": "1"} | (env or {})
    subprocess.run(
        [sys.executable, "-m", "spatial.cli", "init"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    log = open(folder / "streamlit.log", "w")  # noqa: SIM115 - held open for the server's life
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    command += ["--browser.gatherUsageStats", "false", *extra_args]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start: " + (folder / "streamlit.log").read_text())
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
    yield from fresh_database(request.param, tmp_path)


def fresh_database(backend: str, tmp_path: Path):
    """The body of ``db_url``, for a module that chooses its own backends (the pages run on
    SQLite; their writing flows on both — see tests/test_app.py)."""
    if backend == "sqlite":
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


@pytest.fixture(scope="module")
def shipped_store(tmp_path_factory, reference: ReferenceData) -> Store:
    """The shipped data in a SQLite store made once per module, for tests that only read it
    (an upload's check reads the districts and the ids; it writes nothing)."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('shipped') / 'spatial.db'}")
    seed_store(store, reference)
    yield store
    store.engine.dispose()


@pytest.fixture
def seeded_store(empty_store: Store, reference: ReferenceData) -> Store:
    seed_store(empty_store, reference)
    return empty_store


_JSON_LITERAL = re.compile(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)')


def map_payloads(page: str, expand: bool = True) -> list:
    """What a map page hands to ``JSON.parse``: each layer's FeatureCollection (and the legend),
    decoded the way the browser decodes them (spatial.outputs.map_data)."""
    payloads = [json.loads(json.loads(m)) for m in _JSON_LITERAL.findall(page)]
    return [
        expand_compact(p)
        if expand and isinstance(p, dict) and p.get("type") == "CompactFeatures"
        else p
        for p in payloads
    ]


def map_features(page: str) -> list[dict]:
    """Every feature drawn on a map page, from its data layers."""
    return [
        f
        for p in map_payloads(page)
        if isinstance(p, dict) and p.get("type") == "FeatureCollection"
        for f in p["features"]
    ]
