"""Persistence: reference layers, project versions and submissions (SQLAlchemy Core).

The embedded default is a SQLite file (``var/spatial.db``; ``DATABASE_URL`` overrides it).
Geometry is stored as WKB in lon-lat. Every change to a project is a new row of
``project_versions`` with ``valid_from``/``valid_to``, who made it and from which submission,
so the store can be read as of any instant. Every submission keeps its raw bytes and hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import UserDefinedType

from spatial.collector import collector_paused
from spatial.crs import WGS84
from spatial.frames import join_parts
from spatial.layers import (
    PROJECT_DATE_FIELDS,
    PROJECT_EVIDENCE_FIELDS,
    PROJECT_FIELDS,
    PROJECT_NUMERIC_FIELDS,
    PROJECT_QUALITY_FIELDS,
    SITE_FIELDS,
    SITE_NUMERIC_FIELDS,
)

SCHEMA_VERSION = 1
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB_PATH = Path("var") / "spatial.db"
# tables the migrations after the baseline (0001) create
LATER_MIGRATION_TABLES = frozenset(
    {
        "comments",
        "submission_parts",
        "sign_in_failures",
        "settings",
        "district_allocations",
        "sessions",
        "scenarios",
        "site_versions",
        "project_overlays",
    }
)

# the shipped reference projects are taken as known from the programme's launch (2022-11-16),
# so that the as-of view of shipped data is governed by the projects' own dates
REFERENCE_KNOWN_FROM = datetime(2022, 11, 16)
PROJECTS_LOCK = "projects"  # the lock every writer of project versions takes (commit, undo…)


class PostGISGeometry(UserDefinedType):
    """``geometry(Geometry, 4326)`` on PostgreSQL, exchanged as WKB like the SQLite BLOB, so the
    same code reads and writes both backends."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "geometry(Geometry, 4326)"

    def bind_expression(self, bindvalue):
        return func.ST_GeomFromWKB(bindvalue, 4326)

    def column_expression(self, col):
        return func.ST_AsBinary(col)

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        def process(value):
            return bytes(value) if value is not None else None

        return process


def Geometry():  # noqa: N802 - reads as a column type
    """WKB in lon-lat: a BLOB in SQLite, a PostGIS geometry (GiST-indexed) in PostgreSQL."""
    return LargeBinary().with_variant(PostGISGeometry(), "postgresql")


metadata = MetaData()

meta_table = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

districts_table = Table(
    "districts",
    metadata,
    Column("district_id", String(32), primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("adcode", String(12)),
    Column("quality", String(16), nullable=False),
    Column("source", Text),
    Column("geometry", Geometry()),
)

parks_table = Table(
    "parks",
    metadata,
    Column("park_id", String(32), primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("name_status", String(16), nullable=False),
    Column("district_ids", Text, nullable=False),
    Column("planned_area_km2", Float),
    Column("startup_area_km2", Float),
    Column("lead_clusters", Text),
    Column("zone", Text),
    Column("boundary_quality", String(16), nullable=False),
    Column("location_quality", String(16), nullable=False),
    Column("location_note", Text),
    Column("source", Text),
    Column("geometry", Geometry()),
)

control_lines_table = Table(
    "control_lines",
    metadata,
    Column("line_id", String(32), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("district_id", String(32)),
    Column("area_m2", Float),
    Column("quality", String(16), nullable=False),
    Column("source", Text),
    Column("geometry", Geometry()),
)

submissions_table = Table(
    "submissions",
    metadata,
    Column("submission_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # seed | upload
    Column("district_id", String(32)),
    Column("user_name", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("status", String(16), nullable=False),  # received | rejected | committed | undone
    Column("report", Text),
)

# an upload's bytes in parts: any size is kept (one SQLite/PostgreSQL value holds < 1 GB)
submission_parts_table = Table(
    "submission_parts",
    metadata,
    Column("submission_id", Integer, ForeignKey("submissions.submission_id"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("content", LargeBinary, nullable=False),
)
PART_BYTES = 1024 * 1024  # an upload is kept in parts of this size (each a row)

sign_in_failures_table = Table(
    "sign_in_failures",
    metadata,
    Column("user_name", String(256), primary_key=True),  # also names that are no account
    Column("failures", Integer, nullable=False),
    Column("last_failure", DateTime, nullable=False),
    Column("locked_until", DateTime),
)

users_table = Table(
    "users",
    metadata,
    Column("user_name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("district_id", String(32)),
    Column("password_hash", Text, nullable=False),
    Column("must_change_password", Boolean, nullable=False, default=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

audit_table = Table(
    "audit",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", Text),
    Column("ok", Boolean, nullable=False),
    Column("detail", Text),
    Index("ix_audit_at", "at"),
)

# counting settings owned by admins (official stage, coverage threshold): the current value
# with who set it, why and on what source; every change is also in the audit trail
settings_table = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("reason", Text, nullable=False),
    Column("source", Text),
    Column("set_by", Text, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

# a signed-in browser session; the browser holds a random token, the store its SHA-256
sessions_table = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("credential", String(32), nullable=False),  # a password change ends the session
    Column("created_at", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("ended_reason", String(32)),  # sign_out | disabled | password | idle | expired
    Column("lang", String(8)),
    Index("ix_sessions_user", "user_name"),
)

# 分解指标: a district's share of the city's yearly target, entered by an admin with its source
allocations_table = Table(
    "district_allocations",
    metadata,
    Column("district_id", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("target_m2", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

_project_columns = []
for _name in PROJECT_FIELDS:
    if _name == "project_id":
        continue
    if _name in PROJECT_NUMERIC_FIELDS:
        _project_columns.append(Column(_name, Float))
    elif _name in PROJECT_DATE_FIELDS:
        _project_columns.append(Column(_name, String(10)))  # ISO date, YYYY-MM-DD
    elif _name in PROJECT_EVIDENCE_FIELDS or _name in PROJECT_QUALITY_FIELDS:
        _project_columns.append(Column(_name, String(16)))  # a vocabulary value
    else:
        _project_columns.append(Column(_name, Text))

project_versions_table = Table(
    "project_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("valid_from", DateTime, nullable=False),
    Column("valid_to", DateTime),
    Column("submission_id", Integer, ForeignKey("submissions.submission_id")),
    Column("changed_by", Text, nullable=False),
    Column("change_kind", String(16), nullable=False),  # seed | create | update | delete | undo
    Column("is_deleted", Boolean, nullable=False, default=False),
    *_project_columns,
    Column("geometry", Geometry()),
    Index("ix_project_versions_current", "project_id", "valid_to"),
)

# what a version's location means against the reference layers (district, park, control
# line) and its industries against the "20+8" clusters: derived data, computed by
# store.overlays in the commit or undo that writes a version (or by the first read, where no
# write did) and kept with the digest of the reference data it was computed against (a row
# under another digest is stale and computed again). No foreign key and no index beyond the
# version: a row per version is written in bulk, and their upkeep was three quarters of that
# write (migration 0009).
project_overlays_table = Table(
    "project_overlays",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=False),
    Column("reference_key", String(64), nullable=False),
    Column("located_district_id", Text),
    Column("spatial_park_id", Text),
    Column("control_level", String(8)),  # level1 | level2 | none; NULL: no location
    Column("cluster_codes", Text),
)
OVERLAY_COLUMNS: tuple[str, ...] = (
    "located_district_id", "spatial_park_id", "control_level", "cluster_codes",
)  # fmt: skip
INSERT_BATCH = 2_000  # rows handed to the driver at once (bounds the memory of a commit)
# PostgreSQL: a write of this many rows or more refreshes the table's planner statistics at once
# (see analyze_after_bulk_write)
ANALYZE_FROM = 1_000
READ_BATCH = 5_000  # rows fetched at once by a large read (bounds its Python objects)
OVERLAY_WAIT_MS = 2000  # how long a reader waits to keep overlays while another writes
BUSY_TIMEOUT_MS = 30000  # how long a SQLite writer waits for the write lock
REFERENCE_REVISION = "reference_revision"  # meta key: bumped by every write of reference data

comments_table = Table(
    "comments",
    metadata,
    Column("comment_id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("user_name", Text, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_comments_project", "project_id"),
)

# a named scenario (方案): changes on top of the official register, stored apart from it
scenarios_table = Table(
    "scenarios",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("note", Text),
    Column("district_id", String(32)),  # a district's own scenario; None: city-wide
    Column("changes", Text, nullable=False),  # JSON list, in the order made
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# 地块 sites: parcels a district (or an admin) loads, versioned like the projects; a
# district's upload replaces its set (sites absent from the file get a deleted version)
site_versions_table = Table(
    "site_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(64), nullable=False),
    Column("valid_from", DateTime, nullable=False),
    Column("valid_to", DateTime),
    Column("submission_id", Integer, ForeignKey("submissions.submission_id")),
    Column("changed_by", Text, nullable=False),
    Column("change_kind", String(16), nullable=False),  # create | update | delete | undo
    Column("is_deleted", Boolean, nullable=False, default=False),
    *[
        Column(name, Float if name in SITE_NUMERIC_FIELDS else Text)
        for name in SITE_FIELDS
        if name != "site_id"
    ],
    Column("geometry", Geometry()),
    Index("ix_site_versions_current", "site_id", "valid_to"),
)

REFERENCE_TABLES: dict[str, Table] = {
    "districts": districts_table,
    "parks": parks_table,
    "control_lines": control_lines_table,
}


def default_database_url() -> str:
    """``DATABASE_URL`` if set, else the embedded SQLite file ``var/spatial.db``."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DB_PATH}"


def utcnow() -> datetime:
    """Naive UTC with microseconds: versions written in the same second still order."""
    return datetime.now(UTC).replace(tzinfo=None)


def end_of_day(day: date) -> datetime:
    """The instant that closes ``day``: versions valid then are the ones known on that date."""
    return datetime.combine(day + timedelta(days=1), time.min)


@dataclass(frozen=True)
class SubmissionRecord:
    submission_id: int
    kind: str
    district_id: str | None
    user_name: str
    filename: str
    sha256: str
    size_bytes: int
    received_at: datetime
    status: str


def _wkb(geom) -> bytes | None:
    if geom is None or (hasattr(geom, "is_empty") and geom.is_empty):
        return None
    return shapely.to_wkb(geom, output_dimension=2)


def _wkb_values(values: pd.Series) -> np.ndarray:
    """WKB values as the driver gives them (bytes or a buffer; None for no geometry) as an
    array of bytes and None."""
    return np.array([None if v is None else bytes(v) for v in values], dtype=object)


def _geoms(values: pd.Series) -> np.ndarray:
    """WKB values (None for no geometry) as shapely geometries, in one vectorised call."""
    return shapely.from_wkb(_wkb_values(values))


def _clean(value):
    """pandas missing values -> None, numpy scalars -> Python, for the database driver."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


def _unstorable(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per value of ``column``: whether it is text holding NUL, whether a number not finite.
    A category column is tested by its categories, each once."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        text, number = _unstorable(pd.Series(column.cat.categories, dtype=object))
        if not len(text):  # no categories: every value missing
            return np.zeros(len(codes), bool), np.zeros(len(codes), bool)
        at, placed = np.maximum(codes, 0), codes >= 0
        return text[at] & placed, number[at] & placed
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return np.zeros(len(column), bool), np.isinf(column.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        # text only: searched in one Arrow kernel, not value by value
        nul = column.astype("string[pyarrow]").str.contains("\x00", regex=False)
        return nul.fillna(False).to_numpy(dtype=bool), np.zeros(len(column), bool)
    text = column.map(lambda v: isinstance(v, str) and "\x00" in v, na_action="ignore")
    number = column.map(lambda v: isinstance(v, float) and math.isinf(v), na_action="ignore")
    return (text.fillna(False).to_numpy(dtype=bool),
            number.fillna(False).to_numpy(dtype=bool))  # fmt: skip


def _refuse_unstorable_frame(values: pd.DataFrame, key: str) -> None:
    """What one backend would store and the other refuse, or what no figure may hold: NUL in
    text (PostgreSQL refuses it), ids over 64 characters, infinite numbers (NaN is stored as
    NULL). The upload checks catch each with a message; this keeps both backends alike for
    any other caller. Vectorised over the columns (:func:`_unstorable`)."""
    for name in values.columns:
        text, number = _unstorable(values[name])
        if text.any():
            raise ValueError(f"NUL character in {name} of {key} {values[key][text].iloc[0]!r}")
        if number.any():
            raise ValueError(f"{name} of {key} {values[key][number].iloc[0]!r} is not finite")
    long = values[key].astype(str).str.len() > 64
    if long.any():
        raise ValueError(f"{key} longer than 64 characters: {values[key][long].iloc[0][:70]!r}")


def close_current(conn: Connection, table: Table, key: str, ids: list[str], at: datetime) -> None:
    """Set ``valid_to`` = ``at`` on the open version of each of ``ids``, in one statement:
    the ids travel as one array (PostgreSQL ``= ANY``) or one JSON list (SQLite
    ``json_each``), so the table is searched once — not once per chunk of ids, which on a
    table grown in this very transaction (statistics not yet taken) meant a scan per chunk."""
    wanted = one_of(table.c[key], ids, conn)
    conn.execute(update(table).where(wanted, table.c.valid_to.is_(None)).values(valid_to=at))


def one_of(column, ids: list[str], conn: Connection):
    """``column`` IN ``ids`` with the ids as one parameter: an array (PostgreSQL ``= ANY``) or
    a JSON list (SQLite ``json_each``) — one statement whatever their number."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam("ids", list(ids), type_=ARRAY(String)))
    return column.in_(_json_listed(ids))


def _json_listed(ids: list[str]):
    """SQLite: the ids as the rows of one JSON parameter (``json_each``)."""
    listed = func.json_each(bindparam("ids", json.dumps(list(ids))))
    return select(literal_column("value")).select_from(listed)


def none_of(column, ids: list[str], conn: Connection):
    """``column`` NOT IN ``ids``, the ids as one parameter (see :func:`one_of`): on PostgreSQL
    a NOT EXISTS over the array's rows — a hashed anti-join, where ``<> ALL`` of a 10⁵-id
    array would compare each row with every id."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        listed = (
            func.unnest(bindparam("ids", list(ids), type_=ARRAY(String)))
            .table_valued("value")
            .render_derived()
        )
        return ~exists(
            select(literal_column("1")).select_from(listed).where(listed.c.value == column)
        )
    return column.not_in(_json_listed(ids))


def insert_columns(
    conn: Connection,
    table: Table,
    columns: dict[str, list | pd.Series | WKBColumn],
    fixed: dict,
    keep_existing: str | None = None,
) -> int:
    """Insert one row per position of ``columns`` (name → values, all of one length), each
    also holding ``fixed`` (name → one value), in one ``executemany`` of the driver.

    The statement is compiled once by SQLAlchemy (so PostGIS's ``ST_GeomFromWKB`` and each
    dialect's placeholders are its own) and every column's bind processing (SQLite's
    datetimes and booleans) runs once per column, not once per row and column as
    ``Connection.execute(insert, rows)`` does. A column given as a pandas Series becomes
    Python values (missing ones None) a batch at a time, so a commit never holds every row's
    values as Python objects at once. With ``keep_existing`` (a unique column), a
    row whose value there is stored already is left out, and the stored one kept; on
    PostgreSQL such rows are copied into a temporary table and inserted from it in one
    statement (:func:`_insert_copied`)."""
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        return 0
    dialect = conn.dialect
    names = [*columns, *fixed]
    if keep_existing is not None and dialect.name == "postgresql":
        whole = {k: _python_values(v, 0, n) for k, v in columns.items()}
        return _insert_copied(conn, table, whole, fixed, keep_existing)
    stmt = insert(table)
    if keep_existing is not None:
        from sqlalchemy.dialects.sqlite import insert as upsert

        stmt = upsert(table).on_conflict_do_nothing(index_elements=[keep_existing])
    compiled = stmt.values({k: bindparam(k) for k in names}).compile(dialect=dialect)
    # one value for every row: ``fixed``, and what the statement brought itself (the SRID in
    # PostGIS's ST_GeomFromWKB(?, 4326))
    same = {k: v for k, v in compiled.params.items() if k not in names}
    same |= {k: _bound(table.c[k], [v], dialect)[0] for k, v in fixed.items()}
    sql = str(compiled)
    for at in range(0, n, INSERT_BATCH):  # the driver's rows are made a batch at a time
        part = {
            k: _bound(table.c[k], _python_values(v, at, at + INSERT_BATCH), dialect)
            for k, v in columns.items()
        }
        if compiled.positional:  # SQLite: ?, in the statement's order
            order = compiled.positiontup
            rows = list(
                zip(*(part[k] if k in part else repeat(same[k]) for k in order), strict=False)
            )  # the fixed values repeat; the columns set the length
        else:  # psycopg: %(name)s
            keys = list(part)
            rows = [dict(zip(keys, row, strict=True)) | same
                    for row in zip(*part.values(), strict=True)]  # fmt: skip
        conn.exec_driver_sql(sql, rows)  # errors wrapped as SQLAlchemy's, as elsewhere
        del rows
    return n


def _insert_copied(
    conn: Connection, table: Table, columns: dict[str, list], fixed: dict, keep_existing: str
) -> int:
    """PostgreSQL: the rows ``COPY``-ed straight into ``table`` in a savepoint of the
    caller's transaction; should one of them be stored already (a unique violation: another
    reader kept them first), the savepoint is rolled back and the rows are ``COPY``-ed into a
    temporary table of the same columns, then inserted from it by ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``. The rows are streamed in COPY's own format by psycopg (every value
    escaped by it, never put into SQL text). 10⁵ overlay rows: the straight COPY ~0.15 s, the
    temporary table's way ~0.4 s (without the table's foreign key; ~1.4 s with it)."""
    from psycopg.errors import UniqueViolation

    quote = conn.dialect.identifier_preparer
    names = [*columns, *fixed]
    listed = ", ".join(quote.quote(n) for n in names)
    target = quote.format_table(table)
    same = tuple(fixed.values())
    driver = conn.connection.driver_connection

    def copy_into(name: str) -> None:
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
            for values in zip(*columns.values(), strict=True):
                copy.write_row(values + same)

    try:
        with conn.begin_nested():
            copy_into(target)
        return len(next(iter(columns.values())))
    except UniqueViolation:
        pass  # some are kept already: the way that leaves them as they are
    incoming = "pg_temp." + quote.quote(f"incoming_{table.name}")  # never a table of ours
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {incoming}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {incoming} (LIKE {target} INCLUDING DEFAULTS)")
    copy_into(incoming)
    conn.exec_driver_sql(
        f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {incoming} "
        f"ON CONFLICT ({quote.quote(keep_existing)}) DO NOTHING"
    )
    conn.exec_driver_sql(f"DROP TABLE {incoming}")
    return len(next(iter(columns.values())))


def read_in_batches(stmt, conn: Connection, batch: int | None = None) -> pd.DataFrame:
    """``pd.read_sql(stmt, conn)``, its rows fetched ``batch`` at a time (a server-side cursor
    on PostgreSQL) and each batch made columns before the next is fetched, so a large read
    never holds every row as Python objects at once (at 10⁵ projects, 200 MB of them). The
    batches are joined as one read types its columns (:func:`spatial.frames.join_parts`);
    should a column not join exactly, the query is read again at once."""
    batch = batch or READ_BATCH
    if conn.dialect.name == "postgresql":
        # every row is fetched: the cursor's plan is made for all of them, not the first tenth
        # (a fast-start plan chose a nested loop over a join whose statistics lagged: minutes)
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    streamed = conn.execution_options(stream_results=True, max_row_buffer=batch)
    parts = list(pd.read_sql(stmt, streamed, chunksize=batch))
    if len(parts) == 1:
        return parts[0]
    names = list(parts[0].columns)
    joined, left = join_parts(parts) if len(set(names)) == len(names) else ({}, names)
    if left:
        return pd.read_sql(stmt, conn)
    return pd.DataFrame(joined, columns=names)


def analyze_after_bulk_write(conn: Connection, table: Table, rows: int) -> None:
    """PostgreSQL: refresh ``table``'s planner statistics after ``rows`` rows were written to
    it in this transaction, when they are :data:`ANALYZE_FROM` or more (ANALYZE counts the
    transaction's own rows). Autovacuum does so too, but a minute or more later: a read in
    between was planned for the rows the table held before (an empty overlay table joined by
    a nested loop took 9 minutes at 10⁵ projects, against 3 s once analysed)."""
    if conn.dialect.name == "postgresql" and rows >= ANALYZE_FROM:
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.format_table(table)}")


@dataclass(frozen=True)
class WKBColumn:
    """Shapes bound as 2D WKB (None for a missing or empty shape), made a batch at a time by
    :func:`insert_columns`: a commit never holds every row's WKB at once (10⁵ points: 6 MB)."""

    shapes: np.ndarray

    def __len__(self) -> int:
        return len(self.shapes)

    def wkb(self, start: int, stop: int) -> list:
        part = self.shapes[start:stop]
        empty = shapely.is_missing(part) | shapely.is_empty(part)
        return shapely.to_wkb(np.where(empty, None, part), output_dimension=2).tolist()


def _python_values(values: list | pd.Series | WKBColumn, start: int, stop: int) -> list:
    """Rows ``start``..``stop - 1`` of a column as Python values: NaN, NaT and pd.NA as None,
    numpy scalars as Python ones (``tolist``), shapes as their WKB."""
    if isinstance(values, WKBColumn):
        return values.wkb(start, stop)
    if not isinstance(values, pd.Series):
        return list(values[start:stop])
    part = values.iloc[start:stop]
    if isinstance(part.dtype, pd.CategoricalDtype):  # a few values, each made once
        codes = part.cat.codes.to_numpy()
        made = np.asarray(part.cat.categories.astype(object), dtype=object)
        return np.where(codes < 0, None, made[codes] if len(made) else None).tolist()
    if hasattr(part.array, "__arrow_array__"):  # text, nullable numbers: Arrow's own nulls
        return pa.array(part.array).to_pylist()  # (a tenth of the time of the general way)
    if part.dtype.kind == "f":
        numbers = part.to_numpy()
        return np.where(np.isnan(numbers), None, numbers.astype(object)).tolist()
    return part.astype(object).where(part.notna(), None).tolist()


def _bound(column, values: list, dialect) -> list:
    """``values`` as the driver takes them for ``column`` (its type's bind processor)."""
    impl = column.type.dialect_impl(dialect)
    if dialect.name == "sqlite" and isinstance(impl, LargeBinary):
        return values  # sqlite3 stores bytes as they are (its processor only wraps them)
    process = impl.bind_processor(dialect)
    return values if process is None else [process(v) for v in values]


@dataclass(frozen=True)
class VersionedLayer:
    """A layer kept as versions (``valid_from``/``valid_to``, who, which submission): the
    projects and the sites."""

    table: Table
    key: str  # the feature's id column
    fields: tuple[str, ...]
    upload_kinds: tuple[str, ...]  # the versions an upload's commit writes


PROJECT_VERSIONS = VersionedLayer(
    project_versions_table, "project_id", PROJECT_FIELDS, ("create", "update")
)
SITE_VERSIONS = VersionedLayer(
    site_versions_table, "site_id", SITE_FIELDS, ("create", "update", "delete")
)


class Store:
    """The product's database. Open with :func:`open_store`."""

    def __init__(self, engine: Engine, operator: str | None = None):
        self.engine = engine
        # who operates this store outside the app (``cli:<os user>``); every audit event then
        # names them beside the acting user
        self.operator = operator

    # -- schema ---------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Bring the schema to the newest migration (Alembic); an upgrade keeps all data.

        A database made before migrations existed (tables, no ``alembic_version``) is stamped
        as the baseline first."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import inspect

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            tables = set(inspect(conn).get_table_names())
            if "project_versions" in tables and "alembic_version" not in tables:
                # made before migrations: complete the baseline tables, then adopt it
                baseline = [
                    t for name, t in metadata.tables.items() if name not in LATER_MIGRATION_TABLES
                ]
                metadata.create_all(conn, tables=baseline, checkfirst=True)
                command.stamp(config, "0001")
            command.upgrade(config, "head")
        try:
            with self.engine.begin() as conn:
                existing = conn.execute(
                    select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar()
                if existing is None:
                    conn.execute(
                        insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION))
                    )
        except IntegrityError:
            pass  # another process created the store at the same moment

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(districts_table)).scalar_one()
            m = conn.execute(select(func.count()).select_from(project_versions_table)).scalar_one()
        return n == 0 and m == 0

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all.

        With ``lock``, writers holding the same lock name run one after another: SQLite takes
        its write lock at the start (BEGIN IMMEDIATE; waiters wait up to the busy timeout
        instead of failing), PostgreSQL a transaction-scoped advisory lock. A writer that
        reads the store after taking the lock sees every change committed before it."""
        if lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": lock})
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def revision(self) -> tuple:
        """Changes whenever anything is written (projects, uploads, counting settings,
        allocations and reference data); used as a cache key by the app."""
        with self.engine.connect() as conn:
            v = conn.execute(select(func.max(project_versions_table.c.version_id))).scalar() or 0
            sv = conn.execute(select(func.max(site_versions_table.c.version_id))).scalar() or 0
            s = conn.execute(select(func.max(submissions_table.c.submission_id))).scalar() or 0
            settings = conn.execute(select(func.count(), func.max(settings_table.c.set_at))).one()
            allocations = conn.execute(
                select(func.count(), func.max(allocations_table.c.set_at))
            ).one()
            reference = self.reference_revision(conn)
        return int(v), int(sv), int(s), *map(str, settings), *map(str, allocations), reference

    # -- submissions ------------------------------------------------------------------------------
    def record_submission(
        self,
        content: bytes | BinaryIO,
        filename: str,
        user_name: str,
        kind: str = "upload",
        district_id: str | None = None,
        received_at: datetime | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Store raw bytes with hash, size, name, district, user and time. Returns its id.

        ``content`` may be bytes or a binary file: it is written in parts of
        :data:`PART_BYTES` as it is read, so a file of any size is kept whole (a single value
        would stop at SQLite's and PostgreSQL's 1 GB)."""
        stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content

        def write(c: Connection) -> int:
            submission_id = int(
                c.execute(
                    insert(submissions_table).values(
                        kind=kind,
                        district_id=district_id,
                        user_name=user_name,
                        filename=filename,
                        sha256="",
                        size_bytes=0,
                        content=b"",
                        received_at=received_at or utcnow(),
                        status="received",
                    )
                ).inserted_primary_key[0]
            )
            digest, size, part = hashlib.sha256(), 0, 0
            while chunk := stream.read(PART_BYTES):
                digest.update(chunk)
                size += len(chunk)
                c.execute(
                    insert(submission_parts_table).values(
                        submission_id=submission_id, part=part, content=chunk
                    )
                )
                part += 1
            c.execute(
                update(submissions_table)
                .where(submissions_table.c.submission_id == submission_id)
                .values(sha256=digest.hexdigest(), size_bytes=size)
            )
            return submission_id

        if conn is not None:
            return write(conn)
        with self.engine.begin() as c:
            return write(c)

    def set_submission_status(
        self, submission_id: int, status: str, report: dict | None = None, conn=None
    ) -> None:
        values: dict = {"status": status}
        if report is not None:
            values["report"] = json.dumps(report, ensure_ascii=False)
        stmt = (
            update(submissions_table)
            .where(submissions_table.c.submission_id == submission_id)
            .values(**values)
        )
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.engine.begin() as c:
                c.execute(stmt)

    def submissions(self, district_id: str | None = None) -> list[SubmissionRecord]:
        cols = [c for c in submissions_table.c if c.name not in ("content", "report")]
        stmt = select(*cols).order_by(submissions_table.c.submission_id)
        if district_id is not None:
            stmt = stmt.where(submissions_table.c.district_id == district_id)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [SubmissionRecord(**row._mapping) for row in rows]

    def submission(
        self, submission_id: int, conn: Connection | None = None
    ) -> SubmissionRecord | None:
        cols = [c for c in submissions_table.c if c.name not in ("content", "report")]
        stmt = select(*cols).where(submissions_table.c.submission_id == submission_id)
        if conn is not None:
            row = conn.execute(stmt).first()
        else:
            with self.engine.connect() as c:
                row = c.execute(stmt).first()
        return SubmissionRecord(**row._mapping) if row else None

    def submission_status(self, submission_id: int, conn: Connection) -> str | None:
        return conn.execute(
            select(submissions_table.c.status).where(
                submissions_table.c.submission_id == submission_id
            )
        ).scalar()

    def submission_report(self, submission_id: int) -> dict | None:
        with self.engine.connect() as conn:
            text = conn.execute(
                select(submissions_table.c.report).where(
                    submissions_table.c.submission_id == submission_id
                )
            ).scalar()
        return json.loads(text) if text else None

    def submission_content(self, submission_id: int) -> bytes:
        """The upload's bytes, exactly as received (parts joined; older stores: one value).
        The parts are fetched one at a time into a growing buffer, whose bytes are handed over
        without a copy: the file is held once (joining a list of the parts held it twice)."""
        with self.engine.connect() as conn:
            parts = (
                conn.execution_options(stream_results=True, max_row_buffer=1)
                .execute(
                    select(submission_parts_table.c.content)
                    .where(submission_parts_table.c.submission_id == submission_id)
                    .order_by(submission_parts_table.c.part)
                )
                .scalars()
            )
            buffer = io.BytesIO()
            for part in parts:
                buffer.write(part)
            joined = buffer.getvalue()
            if joined:
                return joined
            return conn.execute(
                select(submissions_table.c.content).where(
                    submissions_table.c.submission_id == submission_id
                )
            ).scalar_one()

    # -- reference layers -------------------------------------------------------------------------
    def replace_reference_layer(
        self, name: str, frame: gpd.GeoDataFrame, conn: Connection | None = None
    ) -> None:
        table = REFERENCE_TABLES[name]
        columns = [c.name for c in table.c if c.name != "geometry"]
        frame = frame.to_crs(WGS84)
        rows = []
        for rec, geom in zip(
            frame[columns].to_dict("records"), frame.geometry.to_numpy(), strict=True
        ):
            rows.append({k: _clean(v) for k, v in rec.items()} | {"geometry": _wkb(geom)})

        def write(c: Connection) -> None:
            c.execute(table.delete())
            if rows:
                c.execute(insert(table), rows)
            self._bump_reference_revision(c)

        if conn is not None:
            write(conn)
        else:
            with self.engine.begin() as c:
                write(c)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        table = REFERENCE_TABLES[name]
        with self.engine.connect() as conn:
            frame = pd.read_sql(select(table), conn)
        geoms = _geoms(frame.pop("geometry"))
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)

    # -- projects ---------------------------------------------------------------------------------
    def _version_filter(self, at: datetime | None):
        t = project_versions_table
        if at is None:
            return t.c.valid_to.is_(None)
        return and_(t.c.valid_from <= at, or_(t.c.valid_to.is_(None), t.c.valid_to > at))

    def projects(
        self,
        at: datetime | None = None,
        include_deleted: bool = False,
        columns: list[str] | None = None,
        district_id: str | None = None,
        overlays: str | None = None,
        ordered: bool = True,
        decode_geometry: bool = True,
        ids: list[str] | None = None,
        other_than_ids: list[str] | None = None,
    ):
        """The project versions valid at instant ``at`` (now when None), one row per project,
        in ``project_id`` order (in the database's own order when not ``ordered``: a reader
        that only sums saves the sort).
        ``columns``: only these project fields (with ``project_id``; a frame without geometry
        unless ``geometry`` is named); ``district_id``: only that district's projects.
        ``overlays``: a reference key — with each version, its kept overlays
        (:data:`OVERLAY_COLUMNS`) computed under that key, and ``overlay_kept`` (False where
        none is kept: never computed, or computed against other reference data).
        ``ids``: only these projects; ``other_than_ids``: only projects not among these (each
        one parameter whatever their number).
        ``decode_geometry`` False: a plain frame whose ``geometry`` is the stored WKB (bytes,
        None for none) — for a reader that only compares shapes, without GEOS's copy of
        every shape (at 10⁵ points, 20 MB)."""
        t = project_versions_table
        chosen = None
        if columns is not None:
            chosen = ["project_id", *(c for c in columns if c != "project_id")]
        stmt = select(*(t.c[c] for c in chosen)) if chosen else select(t)
        if overlays is not None:
            o = project_overlays_table
            stmt = stmt.add_columns(
                *(o.c[c] for c in OVERLAY_COLUMNS), o.c.reference_key.label("overlay_kept")
            ).outerjoin(o, and_(o.c.version_id == t.c.version_id, o.c.reference_key == overlays))
        stmt = stmt.where(self._version_filter(at))
        if ordered:
            stmt = stmt.order_by(t.c.project_id)
        if not include_deleted:
            stmt = stmt.where(t.c.is_deleted.is_(False))
        if district_id is not None:
            stmt = stmt.where(t.c.district_id == district_id)
        with collector_paused(), self.engine.connect() as conn:  # rows of tuples: no cycles
            if ids is not None:
                stmt = stmt.where(one_of(t.c.project_id, ids, conn))
            if other_than_ids is not None:
                stmt = stmt.where(none_of(t.c.project_id, other_than_ids, conn))
            frame = read_in_batches(stmt, conn)
        for col in PROJECT_NUMERIC_FIELDS:
            if col in frame:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        if overlays is not None:
            frame["overlay_kept"] = frame["overlay_kept"].notna()
        if "geometry" not in frame:
            return frame
        if not decode_geometry:
            frame["geometry"] = _wkb_values(frame["geometry"])
            return frame
        geoms = _geoms(frame.pop("geometry"))
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)

    def keep_overlays(
        self, overlays: pd.DataFrame, reference_key: str, conn: Connection | None = None
    ) -> None:
        """Keep computed overlays (``version_id`` + :data:`OVERLAY_COLUMNS`) under
        ``reference_key``; rows kept under any other key are dropped first (they describe
        reference data that no longer exists). A version already kept is left as it is, so
        two readers filling at once agree. Derived data: the store's revision is unchanged.
        ``conn``: inside the caller's transaction (a commit keeps the overlays of what it
        wrote with it); otherwise in a transaction of its own that waits at most
        :data:`OVERLAY_WAIT_MS` for SQLite's write lock (a reader does not queue behind a
        long commit for this)."""
        if conn is not None:
            self._keep_overlays(conn, overlays, reference_key)
            return
        dialect = self.engine.dialect.name
        with collector_paused(), self.engine.connect() as own:
            if dialect == "sqlite":
                own.exec_driver_sql(f"PRAGMA busy_timeout={OVERLAY_WAIT_MS}")
                own.commit()
            try:
                with own.begin():
                    self._keep_overlays(own, overlays, reference_key)
            finally:
                if dialect == "sqlite":
                    own.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                    own.commit()

    @staticmethod
    def _keep_overlays(conn: Connection, overlays: pd.DataFrame, reference_key: str) -> None:
        o = project_overlays_table
        values = overlays[list(OVERLAY_COLUMNS)].astype(object)
        values = values.where(values.notna(), None)
        columns = {"version_id": overlays["version_id"].astype(int).tolist()}
        columns |= {c: values[c].tolist() for c in OVERLAY_COLUMNS}
        conn.execute(delete(o).where(o.c.reference_key != reference_key))
        kept = insert_columns(conn, o, columns, {"reference_key": reference_key},
                              keep_existing="version_id")  # fmt: skip
        analyze_after_bulk_write(conn, o, kept)

    def reference_revision(self, conn: Connection | None = None) -> int:
        """How many times reference data (layers, seed tables) has been written."""
        stmt = select(meta_table.c.value).where(meta_table.c.key == REFERENCE_REVISION)
        if conn is None:
            with self.engine.connect() as c:
                value = c.execute(stmt).scalar()
        else:
            value = conn.execute(stmt).scalar()
        return int(value or 0)

    def _bump_reference_revision(self, conn: Connection) -> None:
        after = str(self.reference_revision(conn) + 1)
        done = conn.execute(
            update(meta_table).where(meta_table.c.key == REFERENCE_REVISION).values(value=after)
        )
        if done.rowcount == 0:
            conn.execute(insert(meta_table).values(key=REFERENCE_REVISION, value=after))

    def project_history(self, project_id: str) -> pd.DataFrame:
        t = project_versions_table
        stmt = select(t).where(t.c.project_id == project_id).order_by(t.c.version_id)
        with self.engine.connect() as conn:
            frame = pd.read_sql(stmt, conn)
        return frame.drop(columns=["geometry"])

    def stage_history(self, at: datetime) -> pd.DataFrame:
        """Every version the store held at instant ``at`` (deleted ones too, no geometry):
        the stage dates and evidence as they were, for the slippage a trajectory observes."""
        t = project_versions_table
        columns = [
            t.c.version_id, t.c.project_id, t.c.district_id, t.c.valid_from, t.c.is_deleted,
            t.c.status,
            t.c.start_date, t.c.completion_date, t.c.delivery_date,
            t.c.start_evidence, t.c.completion_evidence, t.c.delivery_evidence,
        ]  # fmt: skip
        stmt = select(*columns).where(t.c.valid_from <= at).order_by(t.c.version_id)
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    def versions_of_submission(
        self, submission_id: int, conn: Connection | None = None, layer=PROJECT_VERSIONS
    ) -> pd.DataFrame:
        """All versions a submission wrote (any kind), oldest first."""
        t = layer.table
        stmt = select(t).where(t.c.submission_id == submission_id).order_by(t.c.version_id)
        if conn is not None:
            return pd.read_sql(stmt, conn)
        with self.engine.connect() as c:
            return pd.read_sql(stmt, c)

    def later_committed_changes(
        self,
        ids: list[str],
        after_version: int,
        submission_id: int,
        conn: Connection,
        layer=PROJECT_VERSIONS,
    ) -> list[str]:
        """Features among ``ids`` that a still-committed upload other than ``submission_id``
        changed after version ``after_version``."""
        t, s = layer.table, submissions_table
        key = t.c[layer.key]
        stmt = (
            select(key)
            .join(s, s.c.submission_id == t.c.submission_id)
            .where(
                key.in_(ids),
                t.c.version_id > after_version,
                t.c.change_kind.in_(layer.upload_kinds),
                t.c.submission_id != submission_id,
                s.c.status == "committed",
            )
        )
        return [row[0] for row in conn.execute(stmt)]

    def current_owners(
        self,
        ids: list[str],
        conn: Connection,
        layer=PROJECT_VERSIONS,
        other_than: str | None = None,
    ) -> dict[str, str]:
        """{id: district} of the current version (deleted ones included: an id once used
        stays its district's) of each id in ``ids`` that the store holds; with
        ``other_than``, only the ids held by a district other than that one."""
        t = layer.table
        key = t.c[layer.key]
        if not ids:
            return {}
        stmt = select(key, t.c.district_id).where(one_of(key, ids, conn), t.c.valid_to.is_(None))
        if other_than is not None:
            stmt = stmt.where(or_(t.c.district_id.is_(None), t.c.district_id != other_than))
        return {fid: district for fid, district in conn.execute(stmt)}

    def current_version_ids(self, ids: Sequence[str], conn: Connection) -> np.ndarray:
        """The ``version_id`` of the current version (deleted ones included) of each project
        in ``ids`` (a list, or a pandas Index or array of text), in their order (-1 for an id
        the store does not hold): what a commit just wrote. Asked :data:`READ_BATCH` ids at a
        time, so a register's ids never stand as rows, or as Python strings, all at once
        (10⁵ of them as rows: 36 MB)."""
        t = project_versions_table
        found = np.full(len(ids), -1, dtype=np.int64)
        for start in range(0, len(ids), READ_BATCH):
            part = pd.Index(ids[start : start + READ_BATCH]).astype("str").tolist()
            stmt = select(t.c.project_id, t.c.version_id).where(
                one_of(t.c.project_id, part, conn), t.c.valid_to.is_(None)
            )
            versions = dict(conn.execute(stmt).all())  # fetched at once, not row by row
            found[start : start + len(part)] = [versions.get(i, -1) for i in part]
        return found

    def previous_versions(
        self, version_ids: list[int], conn: Connection, layer=PROJECT_VERSIONS
    ) -> pd.DataFrame:
        """For each version id, the version of the same feature that it replaced (if any)."""
        t = layer.table
        newer = t.alias("newer")
        stmt = (
            select(t, newer.c.version_id.label("replaced_by"))
            .join(
                newer,
                and_(
                    newer.c[layer.key] == t.c[layer.key],
                    t.c.valid_to == newer.c.valid_from,
                    t.c.version_id < newer.c.version_id,
                ),
            )
            .where(newer.c.version_id.in_(version_ids))
            .order_by(t.c.version_id)
        )
        frame = pd.read_sql(stmt, conn)
        return frame.drop_duplicates("replaced_by", keep="last")

    def write_project_versions(self, conn: Connection, frame: gpd.GeoDataFrame, **how) -> int:
        """Close the current version of each project in ``frame`` and insert the new one
        (see :meth:`write_versions`)."""
        return self.write_versions(conn, frame, layer=PROJECT_VERSIONS, **how)

    def write_versions(
        self,
        conn: Connection,
        frame: gpd.GeoDataFrame,
        *,
        at: datetime,
        changed_by: str,
        change_kind: str,
        submission_id: int | None,
        deleted: bool = False,
        layer: VersionedLayer = PROJECT_VERSIONS,
    ) -> int:
        """Close the current version of each feature in ``frame`` and insert the new one.

        Runs inside the caller's transaction (``conn``). Returns the number of versions written.
        """
        t = layer.table
        ids = frame[layer.key].astype("str").tolist()  # (text already: as it is, in Arrow)
        if not ids:
            return 0
        if change_kind != "create":  # a created feature has no open version to close
            close_current(conn, t, layer.key, ids, at)
        # a column missing in every row is not bound at all: it is NULL by default, and each
        # bound parameter costs the driver once per row
        fields = [
            f for f in layer.fields
            if f in frame.columns and (f == layer.key or frame[f].notna().any())
        ]  # fmt: skip
        frame = frame.to_crs(WGS84) if frame.crs is not None else frame
        table = pd.DataFrame(frame[fields])
        if not isinstance(table[layer.key].dtype, pd.StringDtype):  # text already: as it is
            table[layer.key] = table[layer.key].map(str)
        _refuse_unstorable_frame(table, layer.key)
        columns: dict[str, list | pd.Series | WKBColumn] = {name: table[name] for name in fields}
        columns["geometry"] = WKBColumn(frame.geometry.to_numpy())
        fixed = {"valid_from": at, "valid_to": None, "submission_id": submission_id,
                 "changed_by": changed_by, "change_kind": change_kind,
                 "is_deleted": deleted}  # fmt: skip
        written = insert_columns(conn, t, columns, fixed)
        analyze_after_bulk_write(conn, t, written)
        return written

    # -- sites ------------------------------------------------------------------------------------
    def sites(self, at: datetime | None = None, include_deleted: bool = False):
        """The site versions valid at instant ``at`` (now when None), one row per site."""
        t = site_versions_table
        if at is None:
            when = t.c.valid_to.is_(None)
        else:
            when = and_(t.c.valid_from <= at, or_(t.c.valid_to.is_(None), t.c.valid_to > at))
        stmt = select(t).where(when).order_by(t.c.site_id)
        if not include_deleted:
            stmt = stmt.where(t.c.is_deleted.is_(False))
        with self.engine.connect() as conn:
            frame = pd.read_sql(stmt, conn)
        geoms = _geoms(frame.pop("geometry"))
        for col in SITE_NUMERIC_FIELDS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)

    # -- browser sessions -----------------------------------------------------------------------
    def add_session(self, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(sessions_table).values(**values))

    def session(self, token_hash: str) -> dict | None:
        t = sessions_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.token_hash == token_hash)).first()
        return dict(row._mapping) if row else None

    def update_session(self, token_hash: str, **values) -> None:
        t = sessions_table
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.token_hash == token_hash).values(**values))

    def end_sessions(
        self, user_name: str, at: datetime, reason: str, conn: Connection | None = None
    ) -> None:
        """End every open session of ``user_name`` (a disabled account, a reset password)."""
        t = sessions_table
        stmt = (
            update(t)
            .where(t.c.user_name == user_name, t.c.ended_at.is_(None))
            .values(ended_at=at, ended_reason=reason)
        )
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.engine.begin() as c:
                c.execute(stmt)

    # -- users and audit ------------------------------------------------------------------------
    def add_user(self, conn: Connection, **values) -> None:
        conn.execute(insert(users_table).values(**values))

    def user(self, user_name: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users_table).where(users_table.c.user_name == user_name)
            ).first()
        return dict(row._mapping) if row else None

    def users(self) -> list[dict]:
        cols = [c for c in users_table.c if c.name != "password_hash"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).order_by(users_table.c.user_name)).all()
        return [dict(r._mapping) for r in rows]

    def update_user(self, user_name: str, conn: Connection | None = None, **values) -> None:
        stmt = update(users_table).where(users_table.c.user_name == user_name).values(**values)
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.engine.begin() as c:
                c.execute(stmt)

    def sign_in_failures(self, user_name: str, conn: Connection) -> tuple[int, datetime | None]:
        """(consecutive failures, locked until) of a sign-in name (any name, account or not)."""
        t = sign_in_failures_table
        row = conn.execute(
            select(t.c.failures, t.c.locked_until).where(t.c.user_name == user_name)
        ).first()
        return (0, None) if row is None else (int(row[0]), row[1])

    def set_sign_in_failures(
        self, user_name: str, failures: int, at: datetime, locked_until, conn: Connection
    ) -> None:
        t = sign_in_failures_table
        conn.execute(t.delete().where(t.c.user_name == user_name))
        if failures:
            conn.execute(
                insert(t).values(
                    user_name=user_name,
                    failures=failures,
                    last_failure=at,
                    locked_until=locked_until,
                )
            )

    def count_users(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(users_table)).scalar_one()

    def record_event(
        self,
        user_name: str,
        action: str,
        target: str | None = None,
        ok: bool = True,
        detail: dict | None = None,
        conn: Connection | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append one audit event (GB/T 39972 强制留痕). Inside ``conn`` it commits with the
        change it describes; without, in its own transaction."""
        if self.operator is not None:
            detail = (detail or {}) | {"operator": self.operator}
        values = {
            "at": at or datetime.now(UTC).replace(tzinfo=None),
            "user_name": user_name,
            "action": action,
            "target": target,
            "ok": ok,
            "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        }
        if conn is not None:
            conn.execute(insert(audit_table).values(**values))
        else:
            with self.engine.begin() as c:
                c.execute(insert(audit_table).values(**values))

    def audit(self, user_name: str | None = None, action: str | None = None) -> pd.DataFrame:
        stmt = select(audit_table).order_by(audit_table.c.event_id)
        if user_name:
            stmt = stmt.where(audit_table.c.user_name == user_name)
        if action:
            stmt = stmt.where(audit_table.c.action == action)
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    # -- counting settings and district allocations -----------------------------------------------
    def setting(self, key: str, conn: Connection | None = None) -> dict | None:
        """The current value of a counting setting (value decoded from JSON), or None."""
        stmt = select(settings_table).where(settings_table.c.key == key)
        if conn is None:
            with self.engine.connect() as c:
                row = c.execute(stmt).mappings().first()
        else:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        return dict(row) | {"value": json.loads(row["value"])}

    def put_setting(self, conn: Connection, key: str, value, **fields) -> None:
        """Replace a setting inside the caller's transaction (reason, source, set_by, set_at)."""
        conn.execute(delete(settings_table).where(settings_table.c.key == key))
        conn.execute(insert(settings_table).values(key=key, value=json.dumps(value), **fields))

    def scenario(self, name: str, conn: Connection | None = None) -> dict | None:
        """One scenario with its changes decoded, or None."""
        stmt = select(scenarios_table).where(scenarios_table.c.name == name)
        if conn is None:
            with self.engine.connect() as c:
                row = c.execute(stmt).mappings().first()
        else:
            row = conn.execute(stmt).mappings().first()
        return None if row is None else dict(row) | {"changes": json.loads(row["changes"])}

    def scenarios(self) -> pd.DataFrame:
        """Every scenario (changes as JSON text), oldest first."""
        stmt = select(scenarios_table).order_by(scenarios_table.c.created_at)
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    def put_scenario(self, conn: Connection, name: str, **values) -> None:
        """Insert or replace a scenario inside the caller's transaction."""
        values = values | {"changes": json.dumps(values["changes"], ensure_ascii=False)}
        conn.execute(delete(scenarios_table).where(scenarios_table.c.name == name))
        conn.execute(insert(scenarios_table).values(name=name, **values))

    def allocations(self) -> pd.DataFrame:
        """Every district allocation (分解指标): district_id, year, target_m2, source, set_by/at."""
        stmt = select(allocations_table).order_by(
            allocations_table.c.district_id, allocations_table.c.year
        )
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    def put_allocation(self, conn: Connection, district_id: str, year: int, **fields) -> None:
        t = allocations_table
        conn.execute(delete(t).where(t.c.district_id == district_id, t.c.year == year))
        if fields.get("target_m2") is not None:
            conn.execute(insert(t).values(district_id=district_id, year=year, **fields))

    def last_accepted_uploads(self) -> pd.DataFrame:
        """Per district: the time of its newest committed upload (UTC) and how many it made."""
        t = submissions_table
        stmt = (
            select(
                t.c.district_id,
                func.max(t.c.received_at).label("last_upload_at"),
                func.count().label("uploads"),
            )
            .where(t.c.kind == "upload", t.c.status == "committed", t.c.district_id.is_not(None))
            .group_by(t.c.district_id)
        )
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    # -- seeds ------------------------------------------------------------------------------------
    def replace_table(self, name: str, frame: pd.DataFrame, conn: Connection) -> None:
        """Reference tables from seeds/ (pledge, clusters, reports, sources), stored as given."""
        frame.to_sql(f"seed_{name}", conn, if_exists="replace", index=False)
        self._bump_reference_revision(conn)

    def table(self, name: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(f"SELECT * FROM seed_{name}", conn)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: :func:`default_database_url`), creating its schema."""
    url = url or default_database_url()
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            path.parent.mkdir(parents=True, exist_ok=True)
            # the store holds password hashes and every upload: readable by its owner only
            # (SQLite gives its -wal/-shm files the database file's permissions)
            if not path.exists():
                path.touch(mode=0o600)
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:":

            def owner_only(_dbapi_conn, _record, path=Path(database)) -> None:
                for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                    if sidecar.exists() and sidecar.stat().st_mode & 0o077:
                        sidecar.chmod(0o600)

            event.listen(engine, "connect", owner_only)
    store = Store(engine)
    store.create_schema()
    return store
