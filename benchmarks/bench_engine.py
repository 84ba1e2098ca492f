"""The same figures from an engine instead of this process: PostGIS computes the ledger (a
GROUP BY over the current versions) and the projects-in-districts join (ST_Contains with its
GiST index) over N generated projects, beside the in-process path (``spatial ledger``'s
snapshot + ledger; the store read + geopandas ``sjoin``). The figures are checked equal
before the times print. Needs ``BENCH_POSTGRES_URL`` (``make bench`` starts a server).

Run: ``python benchmarks/bench_engine.py [N …]`` (default 1,000,000).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from bench_ledger import backends  # noqa: E402
from generate import store_with_projects  # noqa: E402
from table import median_of, row  # noqa: E402

from spatial.figures.snapshot import LEDGER_COLUMNS, take_snapshot  # noqa: E402

AS_OF = date(2026, 6, 30)
STAGE_SQL = {  # the counting rule: status reached, confirmed, dated on or before the as-of date
    "started": ("start_date", "start_evidence", "('under_construction','completed','delivered')"),
    "completed": ("completion_date", "completion_evidence", "('completed','delivered')"),
    "delivered": ("delivery_date", "delivery_evidence", "('delivered')"),
}


def in_process_ledger(store) -> pd.DataFrame:
    ledger = take_snapshot(store, AS_OF, project_columns=LEDGER_COLUMNS).judgement(None).ledger
    return ledger.by_year.set_index("year")[[f"{s}_m2" for s in STAGE_SQL]]


def in_database_ledger(store) -> pd.DataFrame:
    out = {}
    with store.engine.connect() as conn:
        for stage, (col, evidence, statuses) in STAGE_SQL.items():
            sql = text(
                f"SELECT CAST(SUBSTR({col}, 1, 4) AS INTEGER) AS year, "
                "SUM(COALESCE(factory_floor_area_m2, floor_area_m2, 0)) AS m2 "
                "FROM project_versions WHERE valid_to IS NULL AND NOT is_deleted "
                f"AND status IN {statuses} AND {evidence} = 'confirmed' AND {col} <= :as_of "
                "GROUP BY 1"
            )
            sums = pd.read_sql(sql, conn, params={"as_of": AS_OF.isoformat()})
            out[f"{stage}_m2"] = sums.set_index("year")["m2"]
    return pd.DataFrame(out).fillna(0.0)


def in_process_join(store) -> pd.Series:
    projects = store.projects(columns=["geometry"])
    districts = store.layer("districts")[["district_id", "geometry"]]
    joined = gpd.sjoin(projects, districts, predicate="within", how="inner")
    return joined.groupby("district_id").size().sort_index()


def in_database_join(store) -> pd.Series:
    sql = text(
        "SELECT d.district_id, COUNT(*) AS n FROM project_versions p "
        "JOIN districts d ON ST_Contains(d.geometry, p.geometry) "
        "WHERE p.valid_to IS NULL AND NOT p.is_deleted GROUP BY 1 ORDER BY 1"
    )
    with store.engine.connect() as conn:
        return pd.read_sql(sql, conn).set_index("district_id")["n"].sort_index()


def in_database_join_subdivided(store) -> pd.Series:
    """The same join against the districts cut by ``ST_Subdivide`` into parts of at most 96
    vertices: each part's bounding box is small, so the GiST index finds fewer candidates
    and each containment test runs on a small polygon. (A point exactly on a cut between two
    parts would be in neither; the figures are checked equal to the in-process join.)"""
    sql = text(
        "WITH parts AS (SELECT district_id, ST_Subdivide(geometry, 96) AS geom FROM districts) "
        "SELECT parts.district_id, COUNT(*) AS n FROM project_versions p "
        "JOIN parts ON ST_Contains(parts.geom, p.geometry) "
        "WHERE p.valid_to IS NULL AND NOT p.is_deleted GROUP BY 1 ORDER BY 1"
    )
    with store.engine.connect() as conn:
        return pd.read_sql(sql, conn).set_index("district_id")["n"].sort_index()


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    if not os.environ.get("BENCH_POSTGRES_URL"):
        print("bench_engine: skipped, BENCH_POSTGRES_URL is not set")
        return
    _, url_for = backends(Path("."))[1]
    print(f"{'step (PostGIS)':<52} {'N':>10} {'in PostGIS':>11} {'in process':>11} {'ratio':>6}")
    for n in sizes:
        store = store_with_projects(url_for(n), n)
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE project_versions"))
        steps = (("ledger (3 stages × years)", in_database_ledger, in_process_ledger),
                 ("projects per district (join)", in_database_join, in_process_join),
                 ("projects per district (join, subdivided districts)",
                  in_database_join_subdivided, in_process_join))  # fmt: skip
        for label, engine, local in steps:
            theirs, t_engine = median_of(engine, store)
            ours, t_local = median_of(local, store)
            if isinstance(ours, pd.DataFrame):
                theirs = theirs.reindex(ours.index, fill_value=0.0)
                np.testing.assert_allclose(theirs.to_numpy(), ours.to_numpy(), rtol=1e-9)
            else:
                pd.testing.assert_series_equal(theirs, ours, check_names=False, check_dtype=False)
            print(f"{label:<52} {n:>10,} {t_engine:>9.2f} s {t_local:>9.2f} s "
                  f"{t_engine / t_local:>5.2f}×")  # fmt: skip
            row(f"PostGIS in-database: {label}", n, f"{t_engine:.2f} s", f"{t_local:.2f} s",
                t_engine / t_local, "", "the in-process path (same figures)")  # fmt: skip
        store.engine.dispose()


if __name__ == "__main__":
    main()
