"""Planning the supply at the size of real data: land capacity with its spatial joins over
generated parcels, and the trajectory over generated projects — each beside a plain geopandas /
pandas baseline measured in the same run. Figures only: time, peak memory (tracemalloc).

* capacity: ``locate_sites`` + ``site_capacity`` (district, control line, nearest park, plot
  ratio) against plain geopandas doing the same joins (``sjoin`` ×2, ``sjoin_nearest``) and the
  same arithmetic with one fixed plot ratio; the two capacities are checked equal first.
* trajectory: ``build_trajectory`` (200 draws, a band) against a pandas groupby of the planned
  years (one draw, no band): what the band costs.

Run: ``make bench`` (or ``python benchmarks/bench_planning.py 10000 100000``).
"""

from __future__ import annotations

import sys
import tracemalloc
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.crs import METRIC
from spatial.figures.capacity import DEFAULT_PLOT_RATIOS, locate_sites, site_capacity
from spatial.figures.trajectory import build_trajectory
from spatial.layers import Stage
from spatial.store.reference import load_reference

sys.path.insert(0, str(Path(__file__).parent))
from table import median_of, row  # noqa: E402

PLEDGE = pd.DataFrame({"year": range(2023, 2028), "target_m2": [20_000_000] * 5})


def parcels(n: int, seed: int = 3) -> gpd.GeoDataFrame:
    """``n`` square parcels (40–120 m) scattered over Shenzhen's extent, M1 land."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(470_000, 560_000, n)
    y = rng.uniform(2_490_000, 2_530_000, n)
    half = rng.uniform(20, 60, n)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "land_use": "M1",
            "existing_floor_area_m2": rng.uniform(0, 2e4, n).round(),
            "readiness": "reserve",
        },
        geometry=shapely.box(x - half, y - half, x + half, y + half),
        crs=METRIC,
    ).to_crs("EPSG:4326")


def plain_capacity(sites, districts, parks, lines) -> pd.Series:
    probe = gpd.GeoDataFrame(geometry=sites.to_crs(METRIC).representative_point(), crs=METRIC)
    joined = gpd.sjoin(probe, districts.to_crs(METRIC)[["district_id", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated()]
    lined = gpd.sjoin(probe, lines.to_crs(METRIC)[["level", "geometry"]], how="left")
    lined = lined[~lined.index.duplicated()]
    located = parks[parks.geometry.notna()][["park_id", "geometry"]].to_crs(METRIC)
    near = gpd.sjoin_nearest(probe, located, how="left", max_distance=1_500)
    near = near[~near.index.duplicated()]
    land = sites.to_crs(METRIC).area
    return (land * 3.0 - sites["existing_floor_area_m2"]).clip(lower=0)


def projects(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    done = start + pd.to_timedelta(rng.integers(300, 1100, n), unit="D")
    status = np.where(start < pd.Timestamp("2025-06-30"), "under_construction", "planned")
    return pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(n)],
            "status": status,
            "floor_area_m2": rng.uniform(5e3, 4e5, n).round(),
            "factory_floor_area_m2": np.nan,
            "start_date": start.strftime("%Y-%m-%d"),
            "completion_date": done.strftime("%Y-%m-%d"),
            "delivery_date": None,
            "start_evidence": np.where(status == "planned", "planned", "confirmed"),
            "completion_evidence": "planned",
            "delivery_evidence": None,
        }
    )


def plain_years(frame: pd.DataFrame) -> pd.Series:
    year = pd.to_datetime(frame["start_date"]).dt.year
    return frame.groupby(year)["floor_area_m2"].sum()


def measure(fn, *args):
    """(result, median seconds of RUNS untraced runs, peak MB of Python's allocations in one
    more run under tracemalloc — which slows Python code, so it is not timed)."""
    result, seconds = median_of(fn, *args)
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def main(sizes: list[int]) -> None:
    ref = load_reference()
    rows = []
    for n in sizes:
        sites = parcels(n)
        mine, t_mine, m_mine = measure(
            lambda s: site_capacity(locate_sites(s, ref.districts, ref.parks, ref.control_lines),
                                    DEFAULT_PLOT_RATIOS), sites)  # fmt: skip
        plain, t_plain, m_plain = measure(
            plain_capacity, sites, ref.districts, ref.parks, ref.control_lines
        )
        assert np.allclose(mine["capacity_m2"].to_numpy(), plain.to_numpy())
        rows.append((f"capacity + joins, {n:,} parcels", t_mine, t_plain, m_mine, m_plain))
        frame = projects(n)
        _, t_mine, m_mine = measure(
            lambda f: build_trajectory(f, f.iloc[:0], PLEDGE, Stage.STARTED, date(2025, 6, 30)),
            frame,
        )
        _, t_plain, m_plain = measure(plain_years, frame)
        rows.append((f"trajectory (200 draws), {n:,} projects", t_mine, t_plain, m_mine, m_plain))
    print(f"{'step':<42} {'this project':>13} {'baseline':>10} {'ratio':>7} "
          f"{'peak MB':>9} {'base MB':>9}")  # fmt: skip
    for step, mine_s, base_s, mine_mb, base_mb in rows:
        print(f"{step:<42} {mine_s:>12.2f}s {base_s:>9.2f}s {mine_s / base_s:>6.1f}× "
              f"{mine_mb:>9.0f} {base_mb:>9.0f}")  # fmt: skip
        n = int(step.rsplit(", ", 1)[1].split()[0].replace(",", ""))
        row(step.rsplit(", ", 1)[0], n, f"{mine_s:.2f} s", f"{base_s:.2f} s", mine_s / base_s,
            f"{mine_mb:.0f} MB (Python)", "plain geopandas / pandas")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
