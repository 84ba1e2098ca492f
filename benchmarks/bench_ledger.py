"""The headline over a city-sized register: ``spatial ledger`` (the snapshot it reads and the
ledger with its verdict) against the strongest plain baseline, in the same run, on SQLite and
on PostGIS.

* this project: ``take_snapshot(store, as_of, LEDGER_COLUMNS)`` + ``judgement().ledger`` —
  what ``spatial ledger`` runs (only the columns it needs; no geometry, no overlays);
* a page's snapshot (every column and geometry; each version's overlays — district, park,
  control line, clusters — as the commit that wrote it kept them) + the same ledger — what a
  page reads once per store revision (the app caches it), the first read after an upload
  too; and the first read after the reference data changed, which computes the overlays of
  every version again by spatial join and keeps them in place of the stale ones;
* baselines: ``pandas.read_sql`` of the same columns of the current versions (for a page:
  every column, with the WKB decoded by shapely) + a vectorised groupby per stage and year
  (status reached, confirmed, dated on or before the as-of date).

The baseline's per-year figures are checked equal to the ledger's before timings print.
Stores are built by ``benchmarks/generate.py`` (the same seed gives the same data). PostGIS
runs when ``BENCH_POSTGRES_URL`` is set (``make bench`` starts a throw-away server).

Run: ``make bench`` (or ``python benchmarks/bench_ledger.py [N …]``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from generate import store_with_projects  # noqa: E402
from table import median_of, row  # noqa: E402

from spatial.figures.snapshot import LEDGER_COLUMNS, take_snapshot  # noqa: E402
from spatial.store.database import project_overlays_table  # noqa: E402

AS_OF = date(2026, 6, 30)
STAGES = {"started": ("start_date", "start_evidence", 1),
          "completed": ("completion_date", "completion_evidence", 2),
          "delivered": ("delivery_date", "delivery_evidence", 3)}  # fmt: skip
RANK = {"planned": 0, "under_construction": 1, "completed": 2, "delivered": 3}


def baseline(store) -> pd.DataFrame:
    """read_sql of the needed columns + groupby: started/completed/delivered m² per year."""
    columns = ["status", "floor_area_m2", "factory_floor_area_m2"]
    columns += [c for d, e, _ in STAGES.values() for c in (d, e)]
    sql = (f"SELECT {', '.join(columns)} FROM project_versions "
           "WHERE valid_to IS NULL AND is_deleted = :no")  # fmt: skip
    with store.engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn, params={"no": False})
    return grouped(frame)


def grouped(frame: pd.DataFrame) -> pd.DataFrame:
    area = frame["factory_floor_area_m2"].fillna(frame["floor_area_m2"]).fillna(0.0)
    rank = frame["status"].map(RANK).fillna(-1).to_numpy()
    out = {}
    for stage, (col, evidence, needed) in STAGES.items():
        when = pd.to_datetime(frame[col], format="%Y-%m-%d", errors="coerce")
        counted = (
            (rank >= needed) & (when <= pd.Timestamp(AS_OF)) & (frame[evidence] == "confirmed")
        )
        out[f"{stage}_m2"] = area[counted].groupby(when[counted].dt.year).sum()
    return pd.DataFrame(out).fillna(0.0)


def baseline_page(store) -> pd.DataFrame:
    """What a page's snapshot holds read plainly: read_sql of every column of the current
    versions, their WKB (PostGIS: hex EWKB) decoded by shapely, and the same groupby as
    :func:`baseline`."""
    sql = "SELECT * FROM project_versions WHERE valid_to IS NULL AND is_deleted = :no"
    with store.engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn, params={"no": False})
    wkb = frame.pop("geometry")
    frame = gpd.GeoDataFrame(
        frame, geometry=shapely.from_wkb(wkb.to_numpy(dtype=object, na_value=None)), crs=4326
    )
    return grouped(frame)


def ledger_only(store):
    return take_snapshot(store, AS_OF, project_columns=LEDGER_COLUMNS).judgement(None).ledger


def ledger_full(store):
    return take_snapshot(store, AS_OF).judgement(None).ledger


def stale_overlays(store) -> None:
    """Make every kept overlay one of other reference data — what an edit of a park, a line
    or a district does to them — so the next page read computes them all again."""
    with store.engine.begin() as conn:
        conn.execute(project_overlays_table.update().values(reference_key="changed"))


def check(ledger, base: pd.DataFrame) -> None:
    table = ledger.by_year.set_index("year")
    for column in base.columns:
        expected = base[column].reindex(table.index, fill_value=0.0).to_numpy()
        np.testing.assert_allclose(table[column].to_numpy(), expected, rtol=1e-9)


def backends(tmp: Path) -> list[tuple[str, callable]]:
    """(name, url for a fresh database) for SQLite and, when configured, PostGIS."""
    found = [("SQLite", lambda n: f"sqlite:///{tmp / f'ledger{n}.db'}")]
    base = os.environ.get("BENCH_POSTGRES_URL")
    if base:

        def fresh(n: int) -> str:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with create_engine(base).begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            sep = "&" if "?" in base else "?"
            return f"{base}{sep}options=-csearch_path%3D{schema},public"

        found.append(("PostGIS", fresh))
    return found


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print(f"{'step':<60} {'N':>9} {'this project':>13} {'baseline':>10} {'ratio':>6}  baseline")
    with tempfile.TemporaryDirectory() as tmp:
        for name, url_for in backends(Path(tmp)):
            for n in sizes:
                store = store_with_projects(url_for(n), n)
                base, t_base = median_of(baseline, store)
                ours, t_ours = median_of(ledger_only, store)
                check(ours, base)
                # the first page read after the reference data changed computes every
                # version's overlays again and keeps them; the reads after it (and after an
                # upload, whose commit kept them) take them from the store
                first, t_first = median_of(
                    ledger_full, store, before=lambda s=store: stale_overlays(s)
                )
                check(first, base)
                page_base, t_page_base = median_of(baseline_page, store)
                check(first, page_base)
                full, t_full = median_of(ledger_full, store)
                check(full, base)
                for label, seconds, against, what in (
                    ("spatial ledger (ledger columns)", t_ours, t_base,
                     "read_sql of the ledger's columns + groupby"),
                    ("a page's snapshot + ledger (after an upload)", t_full, t_page_base,
                     "read_sql of every column + WKB decoded + groupby"),
                    ("the first page read after the reference changed", t_first, t_page_base,
                     "read_sql of every column + WKB decoded + groupby"),
                ):  # fmt: skip
                    print(
                        f"{name + ': ' + label:<60} {n:>9,} {seconds:>11.2f} s "
                        f"{against:>8.2f} s {seconds / against:>5.1f}×  {what}"
                    )
                    row(f"{name}: {label}", n, f"{seconds:.2f} s", f"{against:.2f} s",
                        seconds / against, "", what)  # fmt: skip
                store.engine.dispose()


if __name__ == "__main__":
    main()
