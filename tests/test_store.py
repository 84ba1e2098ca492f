from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import insert, select, text

from spatial.layers import PROJECT_EVIDENCE_FIELDS
from spatial.store.database import open_store, submissions_table, utcnow
from spatial.store.seed import ensure_seeded


def dump(store) -> pd.DataFrame:
    """Every project version with the columns the store has (older schemas have fewer)."""
    with store.engine.connect() as conn:
        frame = pd.read_sql(text("SELECT * FROM project_versions ORDER BY version_id"), conn)
    return frame


def test_seeding_once_and_only_once(empty_store, reference):
    assert ensure_seeded(empty_store) is True
    before = dump(empty_store)
    assert ensure_seeded(empty_store) is False
    pd.testing.assert_frame_equal(before, dump(empty_store))
    assert len(empty_store.projects()) == len(reference.projects)
    for name in ("districts", "parks", "control_lines"):
        assert len(empty_store.layer(name)) == len(getattr(reference, name))


def test_seed_is_a_submission_with_its_bytes(seeded_store):
    (sub,) = seeded_store.submissions()
    content = seeded_store.submission_content(sub.submission_id)
    assert sub.kind == "seed" and sub.status == "committed"
    assert hashlib.sha256(content).hexdigest() == sub.sha256
    assert len(content) == sub.size_bytes
    versions = dump(seeded_store)
    assert (versions["submission_id"] == sub.submission_id).all()


def test_raw_bytes_are_kept_exactly(seeded_store):
    payload = b'\xef\xbb\xbf{"type": "FeatureCollection", \x00 broken'
    sid = seeded_store.record_submission(payload, "upload.geojson", "officer", district_id="baoan")
    assert seeded_store.submission_content(sid) == payload


def test_new_version_closes_the_old_one(seeded_store):
    current = seeded_store.projects()
    one = current[current["project_id"] == "REF-003"].copy()
    one["status"] = "completed"
    at = datetime(2026, 1, 1)
    with seeded_store.transaction() as conn:
        assert (
            seeded_store.write_project_versions(
                conn, one, at=at, changed_by="t", change_kind="update", submission_id=None
            )
            == 1
        )
    history = seeded_store.project_history("REF-003")
    assert len(history) == 2
    assert history["valid_to"].iloc[0] == at and pd.isna(history["valid_to"].iloc[1])
    assert (
        seeded_store.projects(at=datetime(2025, 6, 1))
        .set_index("project_id")
        .loc["REF-003", "status"]
        == "delivered"
    )
    assert len(seeded_store.projects()) == len(current)


def test_failed_write_leaves_the_store_as_it_was(seeded_store):
    before = dump(seeded_store)
    current = seeded_store.projects()
    with pytest.raises(RuntimeError), seeded_store.transaction() as conn:
        seeded_store.write_project_versions(
            conn,
            current,
            at=datetime(2026, 2, 1),
            changed_by="t",
            change_kind="update",
            submission_id=None,
        )
        raise RuntimeError("disk full, say")
    pd.testing.assert_frame_equal(before, dump(seeded_store))


def test_reopening_keeps_data(db_url, seeded_store):
    again = open_store(db_url)
    assert len(again.projects()) == len(seeded_store.projects())
    assert again.revision() == seeded_store.revision()


def store_at_migration(db_url: str, revision: str):
    """An engine on ``db_url`` with the schema brought to ``revision`` (Alembic), not beyond."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from spatial.store.database import MIGRATIONS_DIR

    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine


def test_migrations_upgrade_without_losing_data(db_url):
    """A store at the baseline migration, with data, upgraded to the newest keeps every row."""
    from sqlalchemy import inspect

    from spatial.store.database import Store
    from spatial.store.reference import load_reference
    from spatial.store.seed import seed_store

    engine = store_at_migration(db_url, "0001")
    assert "comments" not in inspect(engine).get_table_names()
    old = Store(engine)

    def legacy_submission(content, filename, user_name, kind="upload", district_id=None,
                          received_at=None, conn=None):  # fmt: skip
        """How a store before migration 0003 kept uploads: one value per submission."""
        values = dict(
            kind=kind, district_id=district_id, user_name=user_name, filename=filename,
            sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
            content=content, received_at=received_at or utcnow(), status="received",
        )  # fmt: skip
        return int(conn.execute(insert(submissions_table).values(**values)).inserted_primary_key[0])

    old.record_submission = legacy_submission
    reference = load_reference()
    later = [*PROJECT_EVIDENCE_FIELDS, "figures_quality", "dates_quality"]  # migration 0004
    reference = replace(reference, projects=reference.projects.drop(columns=later))
    seed_store(old, reference)
    before = dump(old)
    with engine.connect() as conn:
        legacy = conn.execute(select(submissions_table.c.content)).scalars().first()
    upgraded = open_store(db_url)  # runs the remaining migrations
    tables = set(inspect(upgraded.engine).get_table_names())
    assert {"comments", "submission_parts", "sign_in_failures"} <= tables
    after = dump(upgraded)
    assert set(after.columns) - set(before.columns) == set(later)
    assert after[later].isna().all().all()  # evidence not stated: counted as before
    pd.testing.assert_frame_equal(before, after[before.columns])
    assert legacy and upgraded.submission_content(1) == legacy  # old uploads still readable
    engine.dispose()


def test_overlays_kept_before_migration_0009_are_computed_again_without_the_key(db_url):
    """A store at 0008 with its overlays kept: the upgrade makes the derived table again
    without its foreign key and key index (a bulk write's upkeep), empty; the next read
    computes the same overlays and keeps them again, and the projects are untouched."""
    from sqlalchemy import func, inspect

    from spatial.figures.snapshot import take_snapshot
    from spatial.store.database import Store, project_overlays_table
    from spatial.store.reference import load_reference
    from spatial.store.seed import seed_store

    engine = store_at_migration(db_url, "0008")
    assert inspect(engine).get_foreign_keys("project_overlays")  # as 0008 made it
    old = Store(engine)
    seed_store(old, load_reference())
    as_of = datetime(2026, 6, 30).date()
    before = take_snapshot(old, as_of).projects.set_index("project_id")
    versions = dump(old)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(project_overlays_table)).scalar()
    upgraded = open_store(db_url)  # runs 0009
    checked = inspect(upgraded.engine)
    assert checked.get_foreign_keys("project_overlays") == []
    assert checked.get_indexes("project_overlays") == []
    with upgraded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(project_overlays_table)).scalar() == 0
    after = take_snapshot(upgraded, as_of).projects.set_index("project_id")
    derived = ["located_district_id", "park_id", "park_basis", "control_level", "clusters"]
    pd.testing.assert_frame_equal(before[derived], after.loc[before.index, derived])
    with upgraded.engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(project_overlays_table)).scalar()
    assert kept == len(after)
    pd.testing.assert_frame_equal(versions, dump(upgraded))
    engine.dispose()
    upgraded.engine.dispose()


def test_a_store_made_before_migrations_is_adopted(tmp_path):
    from sqlalchemy import create_engine, inspect

    from spatial.store.database import LATER_MIGRATION_TABLES, metadata

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    metadata.tables["project_versions"].metadata.create_all(
        engine,
        tables=[t for name, t in metadata.tables.items() if name not in LATER_MIGRATION_TABLES],
    )
    store = open_store(url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"alembic_version", "comments", "project_versions"} <= tables


def test_the_store_file_is_readable_by_its_owner_only(tmp_path):
    import os
    import stat

    url = f"sqlite:///{tmp_path / 'var' / 'spatial.db'}"
    store = open_store(url)
    ensure_seeded(store)
    for name in os.listdir(tmp_path / "var"):
        mode = stat.S_IMODE((tmp_path / "var" / name).stat().st_mode)
        assert mode & 0o077 == 0, (name, oct(mode))
    store.engine.dispose()
    (tmp_path / "var" / "spatial.db").chmod(0o644)  # made by an older version
    open_store(url).engine.dispose()
    assert stat.S_IMODE((tmp_path / "var" / "spatial.db").stat().st_mode) == 0o600


@pytest.mark.parametrize("held_as", ["as_given", "category", "arrow_text"])
@pytest.mark.parametrize(
    "field,value",
    [("name_zh", "a\x00b"), ("status", "在建\x00"), ("floor_area_m2", float("inf")),
     ("floor_area_m2", float("-inf")), ("project_id", "P" * 65)],
)  # fmt: skip
def test_both_backends_refuse_what_one_would_store(empty_store, field, value, held_as):
    """Refused whatever holds the column (a category column by its categories, each once),
    naming the row's id; nothing is written."""
    import geopandas as gpd
    from shapely.geometry import Point

    from spatial.layers import PROJECT_FIELDS

    rows = [dict.fromkeys(PROJECT_FIELDS) | {"project_id": f"P-{i}", "name_zh": "n",
                                             "status": "规划", "floor_area_m2": 1.0}
            for i in range(3)]  # fmt: skip
    rows[1][field] = value
    frame = gpd.GeoDataFrame(rows, geometry=[Point(113.9, 22.6)] * 3, crs=4326)
    if held_as == "category":
        frame[field] = frame[field].astype("category")
    elif held_as == "arrow_text" and isinstance(value, str):
        frame[field] = frame[field].astype("str")
    with pytest.raises(ValueError) as refused, empty_store.transaction() as conn:
        empty_store.write_project_versions(
            conn, frame, at=datetime(2025, 1, 1), changed_by="t", change_kind="create",
            submission_id=None,
        )  # fmt: skip
    assert field == "project_id" or "P-1" in str(refused.value)
    assert empty_store.projects().empty


@pytest.mark.parametrize(
    "text",
    ["plain", None, "名'; DROP TABLE project_overlays;--", "{a,b}", '"quoted", \\ back', "NULL"],
)
def test_insert_columns_keeping_existing_rows_leaves_them_as_they_were(seeded_store, text):
    """With ``keep_existing``, rows whose key is stored already are left out — the stored
    values kept — and the others inserted, on both backends (PostgreSQL: one statement over
    arrays). Text that looks like SQL, an array literal or NULL is stored as it is."""
    from sqlalchemy import select

    from spatial.store.database import insert_columns, project_overlays_table

    versions = seeded_store.projects()["version_id"].astype(int).tolist()[:3]
    o = project_overlays_table
    first = {"version_id": versions[:2], "located_district_id": ["a", "b"],
             "spatial_park_id": [None, "p"], "control_level": ["none", None],
             "cluster_codes": [text, text]}  # fmt: skip
    second = {"version_id": versions[1:], "located_district_id": ["CHANGED", text],
              "spatial_park_id": [None, None], "control_level": [None, "level1"],
              "cluster_codes": [None, text]}  # fmt: skip
    with seeded_store.transaction() as conn:
        assert insert_columns(conn, o, first, {"reference_key": "k1"}, keep_existing="version_id")
        insert_columns(conn, o, second, {"reference_key": "k2"}, keep_existing="version_id")
    with seeded_store.engine.connect() as conn:
        rows = {r.version_id: r for r in conn.execute(select(o))}
    assert set(rows) == set(versions)
    assert rows[versions[0]].located_district_id == "a" and rows[versions[0]].cluster_codes == text
    kept = rows[versions[1]]  # stored first: the second write left it as it was
    assert (kept.located_district_id, kept.reference_key, kept.spatial_park_id) == ("b", "k1", "p")
    new = rows[versions[2]]
    assert (new.located_district_id, new.cluster_codes, new.reference_key) == (text, text, "k2")
    assert new.control_level == "level1" and new.spatial_park_id is None


def test_insert_columns_stores_what_a_row_by_row_insert_stores(seeded_store):
    """The driver-level bulk insert (one executemany, bind processing per column) keeps every
    type as SQLAlchemy's own insert does: datetimes, booleans, NULLs, floats, text, WKB."""
    from shapely import Point, to_wkb

    from spatial.store.database import insert_columns, project_versions_table

    t = project_versions_table
    at = datetime(2026, 3, 4, 5, 6, 7, 890000)
    common = {"valid_from": at, "valid_to": None, "submission_id": None, "changed_by": "t",
              "change_kind": "create", "is_deleted": False, "name_zh": "名'; DROP TABLE x;--",
              "floor_area_m2": 1234.5, "status": None}  # fmt: skip
    shape = to_wkb(Point(114.05, 22.55))
    with seeded_store.transaction() as conn:
        conn.execute(insert(t), [{"project_id": "BY-ROW", "geometry": shape, **common}])
        fixed = {k: v for k, v in common.items() if k not in ("name_zh", "floor_area_m2")}
        columns = {"project_id": ["BULK-1", "BULK-2"], "name_zh": [common["name_zh"]] * 2,
                   "floor_area_m2": [1234.5, None], "geometry": [shape, None]}  # fmt: skip
        assert insert_columns(conn, t, columns, fixed) == 2
    stored = dump(seeded_store).set_index("project_id")
    by_row, bulk, empty = stored.loc["BY-ROW"], stored.loc["BULK-1"], stored.loc["BULK-2"]
    for name in ("valid_from", "valid_to", "is_deleted", "name_zh", "floor_area_m2", "status"):
        assert (pd.isna(by_row[name]) and pd.isna(bulk[name])) or by_row[name] == bulk[name]
    assert pd.isna(empty["floor_area_m2"]) and pd.isna(empty["geometry"])
    found = seeded_store.projects(at=datetime(2026, 3, 5)).set_index("project_id")
    assert found.loc["BULK-1"].geometry.equals(found.loc["BY-ROW"].geometry)
    assert (
        seeded_store.projects(at=datetime(2026, 3, 4, 5, 6, 7))
        .query("project_id == 'BULK-1'")
        .empty
    )  # valid_from compares as a time, to the microsecond


@pytest.mark.parametrize(
    ("field", "values", "dtype"),
    [
        ("name_zh", ["名'; DROP TABLE x;--", None, "=1+1", ""], "str"),
        ("name_zh", ["名", None, "<b>", "x"], object),
        ("status", ["在建", None, "规划", "在建"], "category"),
        ("status", [None, None, None, None], "category"),
        ("floor_area_m2", [1234.5, None, 0.0, -1e300], "float64"),
        ("floor_area_m2", [1234.5, None, 0.0, 7.0], "Float64"),
        ("storeys", [3, None, 0, 120], "Int64"),
    ],
)
def test_insert_columns_stores_a_series_as_its_python_values(seeded_store, field, values, dtype):
    """A column given as a pandas Series (text and nullable numbers by Arrow, floats by
    numpy, anything else as objects) is stored as the same values given as a list: missing
    ones (None, NaN, pd.NA) NULL, text as it is."""
    from spatial.store.database import insert_columns, project_versions_table

    t = project_versions_table
    fixed = {"valid_from": datetime(2026, 3, 4), "valid_to": None, "submission_id": None,
             "changed_by": "t", "change_kind": "create", "is_deleted": False}  # fmt: skip
    ids = [f"{prefix}-{i}" for prefix in ("LIST", "SERIES") for i in range(len(values))]
    with seeded_store.transaction() as conn:
        insert_columns(conn, t, {"project_id": ids[: len(values)], field: values}, fixed)
        series = pd.Series(values, dtype=dtype, index=range(50, 50 + len(values)))
        insert_columns(conn, t, {"project_id": pd.Series(ids[len(values) :], dtype="str"),
                                 field: series}, fixed)  # fmt: skip
    with seeded_store.engine.connect() as conn:
        rows = conn.execute(select(t.c.project_id, t.c[field]).where(t.c.project_id.in_(ids))).all()
    stored = dict(rows)
    as_list = [stored[f"LIST-{i}"] for i in range(len(values))]
    as_series = [stored[f"SERIES-{i}"] for i in range(len(values))]
    assert as_series == as_list and as_list[1] is None
    assert [type(v) for v in as_series] == [type(v) for v in as_list]


@pytest.mark.parametrize("reading", ["every column", "some columns", "with overlays"])
def test_a_read_in_batches_is_the_read_at_once(seeded_store, monkeypatch, reading):
    """The seeded projects, with every field emptied in a random half of them and in all of
    the first seven (a batch of NULLs), read seven rows at a time: the frame read at once,
    column types and each value's Python type included."""
    import random

    import numpy as np

    from spatial.layers import PROJECT_FIELDS
    from spatial.store import database

    store = seeded_store
    rnd = random.Random(5)
    frame = store.projects()
    for field in PROJECT_FIELDS:
        if field in ("project_id", "district_id") or field not in frame:
            continue
        blank = np.array([rnd.random() < 0.5 for _ in range(len(frame))])
        blank[:7] = True
        frame[field] = frame[field].astype(object).where(~blank, None)
    with store.transaction() as conn:
        store.write_project_versions(conn, frame, at=utcnow(), changed_by="test",
                                     change_kind="update", submission_id=None)  # fmt: skip
    ask = {"every column": {}, "some columns": {"columns": ["status", "floor_area_m2",
           "start_date", "geometry"]}, "with overlays": {"overlays": "any"}}[reading]  # fmt: skip
    monkeypatch.setattr(database, "READ_BATCH", 10**9)
    whole = store.projects(**ask)
    monkeypatch.setattr(database, "READ_BATCH", 7)
    reads = []  # every read_sql: none may be the read at once (a column that did not join)
    read_sql = pd.read_sql
    monkeypatch.setattr(
        database.pd,
        "read_sql",
        lambda *a, **k: reads.append(k.get("chunksize")) or read_sql(*a, **k),
    )
    batched = store.projects(**ask)
    assert reads == [7] and len(whole) == len(frame) > 7 * 3
    pd.testing.assert_frame_equal(batched, whole)
    for column in whole.columns:
        typed = [type(v).__name__ for v in whole[column].astype(object)]
        assert [type(v).__name__ for v in batched[column].astype(object)] == typed, column


def _planner_statistics(store, table: str) -> tuple[float, object, int]:
    """PostgreSQL: the rows the planner believes ``table`` holds, when it was last analysed
    by hand (not by autovacuum), and the rows it holds."""
    with store.engine.connect() as conn:
        believed, analysed = conn.execute(
            text(
                "SELECT c.reltuples, s.last_analyze FROM pg_class c"
                " JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(:t)"
            ),
            {"t": table},
        ).one()
        held = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return believed, analysed, held


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_bulk_write_leaves_the_planner_statistics_current(seeded_store, monkeypatch):
    """PostgreSQL: versions written in bulk and the overlays kept for them refresh their
    tables' statistics in the same transaction — a read planned before autovacuum came round
    joined 10⁵ overlays as if the table were empty (a nested loop: 9 minutes, 3 s after)."""
    from spatial.figures.snapshot import take_snapshot
    from spatial.store import database

    store = seeded_store
    monkeypatch.setattr(database, "ANALYZE_FROM", 20)  # the 34 shipped projects are a bulk
    assert _planner_statistics(store, "project_overlays")[1] is None  # never analysed yet
    with store.transaction() as conn:
        store.write_project_versions(conn, store.projects(), at=utcnow(), changed_by="test",
                                     change_kind="update", submission_id=None)  # fmt: skip
    believed, analysed, held = _planner_statistics(store, "project_versions")
    assert analysed is not None and believed == held == 2 * 34
    take_snapshot(store)  # the first read computes the overlays and keeps them
    believed, analysed, held = _planner_statistics(store, "project_overlays")
    assert analysed is not None and believed == held == 34
    monkeypatch.setattr(database, "ANALYZE_FROM", 10**6)  # a small write leaves it to autovacuum
    with store.transaction() as conn:
        store.write_project_versions(conn, store.projects().iloc[:3], at=utcnow(),
                                     changed_by="test", change_kind="update",
                                     submission_id=None)  # fmt: skip
    assert _planner_statistics(store, "project_versions")[0] == 2 * 34


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_read_in_batches_is_planned_for_every_row(empty_store):
    """PostgreSQL: a cursor is planned for its first tenth unless told; every read of the
    store fetches all its rows, so it says so (a fast-start plan was the 9-minute read)."""
    from sqlalchemy import literal_column

    from spatial.store.database import read_in_batches

    with empty_store.engine.connect() as conn:
        stmt = select(literal_column("current_setting('cursor_tuple_fraction')").label("f"))
        assert read_in_batches(stmt, conn)["f"].tolist() == ["1"]


def test_projects_read_with_their_stored_wkb_are_the_decoded_shapes(seeded_store):
    """``decode_geometry=False`` gives each project's shape as the stored WKB (bytes, None for
    none) on both backends: the same rows, in the same order, as the decoded read."""
    decoded = seeded_store.projects(columns=["name_zh", "geometry"])
    stored = seeded_store.projects(columns=["name_zh", "geometry"], decode_geometry=False)
    assert not isinstance(stored, gpd.GeoDataFrame)
    assert list(stored["project_id"]) == list(decoded["project_id"])
    wkb = stored["geometry"].to_numpy()
    assert all(v is None or type(v) is bytes for v in wkb)
    shapes, expected = shapely.from_wkb(wkb), decoded.geometry.to_numpy()
    missing = shapely.is_missing(expected)
    assert (shapely.is_missing(shapes) == missing).all() and not missing.all()
    assert shapely.equals_identical(shapes[~missing], expected[~missing]).all()


HOSTILE_IDS = ["REF-001') OR 1=1 --", "x\"]; DROP TABLE project_versions; --", "REF-002' --",
               '["REF-003"]', "%", "REF-00_", "\\x27", "REF-004\u202e"]  # fmt: skip


@pytest.mark.parametrize(
    "wanted", [["REF-003", "REF-001", "NOT-STORED"], [], ["REF-034"], HOSTILE_IDS]
)
def test_projects_read_for_given_ids_are_those_projects_only(seeded_store, wanted):
    """``ids`` reads those projects' current versions only (one parameter on both backends);
    an id not stored reads nothing, no id reads no row, and an id written as SQL, JSON or a
    LIKE pattern is only an id that is not stored (the store is as it was)."""
    every = seeded_store.projects(columns=["name_zh"]).set_index("project_id")
    some = seeded_store.projects(columns=["name_zh"], ids=wanted).set_index("project_id")
    assert list(some.index) == sorted(i for i in wanted if i in every.index)
    assert (some["name_zh"] == every.loc[some.index, "name_zh"]).all()
    assert len(seeded_store.projects(columns=["name_zh"])) == len(every)


COPY_HOSTILE = ["a\tb", "line\nbreak", "back\\slash", "\\N", "\\.",
                "'; DROP TABLE project_overlays; --",
                "carriage\rreturn", "引号“”\"", "", "\u202egnp.exe"]  # fmt: skip


def test_kept_overlays_are_read_back_as_written_whatever_their_text(seeded_store):
    """Overlays kept in bulk (COPY on PostgreSQL, executemany on SQLite) come back byte for
    byte — a tab, a line break, a backslash, COPY's own NULL and end marks, SQL, an empty
    string and a direction mark are only text; NULL stays NULL. Kept again, a version
    already kept keeps its first values, and rows under another key are dropped."""
    from spatial.store.database import OVERLAY_COLUMNS, project_overlays_table

    versions = seeded_store.projects(columns=["version_id"])["version_id"].astype(int).tolist()
    chosen = versions[: len(COPY_HOSTILE)]
    overlays = pd.DataFrame({"version_id": chosen})
    for column in OVERLAY_COLUMNS:
        overlays[column] = COPY_HOSTILE[: len(chosen)]
    overlays.loc[1, "spatial_park_id"] = None
    overlays["control_level"] = overlays["control_level"].str[:8]  # its column holds 8
    seeded_store.keep_overlays(overlays, "key-1")
    again = overlays.assign(located_district_id="changed")
    seeded_store.keep_overlays(again, "key-1")  # kept already: the first values stand

    def read() -> pd.DataFrame:
        with seeded_store.engine.connect() as conn:
            rows = conn.execute(select(project_overlays_table)).mappings().all()
        return pd.DataFrame(rows).sort_values("version_id").reset_index(drop=True)

    stored = read()
    assert stored["version_id"].tolist() == sorted(chosen)
    expected = overlays.sort_values("version_id").reset_index(drop=True)
    for column in OVERLAY_COLUMNS:
        got = [None if pd.isna(v) else v for v in stored[column]]
        want = [None if pd.isna(v) else v for v in expected[column]]
        assert got == want, column
    assert set(stored["reference_key"]) == {"key-1"}
    assert len(seeded_store.projects(columns=["version_id"])) == len(versions)
    seeded_store.keep_overlays(overlays.iloc[:2], "key-2")
    assert read()["version_id"].tolist() == sorted(chosen[:2])


@pytest.mark.parametrize("left_out", ["none", "one", "all", "thousands_unknown", "hostile"])
def test_projects_other_than_ids_reads_only_those_not_listed(seeded_store, left_out):
    """``projects(other_than_ids=…)`` is the complement of ``ids=…`` in one statement, the
    ids one parameter (a NOT EXISTS over the array on PostgreSQL): ids the store does not
    hold change nothing, an empty list leaves every project."""
    stored = seeded_store.projects(columns=["status"])["project_id"].tolist()
    unknown = [f"X-{i}" for i in range(5000)]
    hostile = ["x') OR 1=1 --", "'; DROP TABLE project_versions;--", '"]', "{a,b}", "\\", "NULL",
               "%(ids)s", "?", "=HYPERLINK(\"http://x\")", "<script>"]  # fmt: skip
    listed = {"none": stored, "one": stored[1:], "all": [],
              "thousands_unknown": [*stored[2:], *unknown],
              "hostile": [*stored[3:], *hostile]}[left_out]  # fmt: skip
    got = seeded_store.projects(columns=["status"], other_than_ids=listed)
    assert got["project_id"].tolist() == sorted(set(stored) - set(listed))
    inside = seeded_store.projects(columns=["status"], ids=listed)["project_id"].tolist()
    assert sorted(inside + got["project_id"].tolist()) == sorted(stored)
    assert seeded_store.projects(columns=["status"])["project_id"].tolist() == stored
