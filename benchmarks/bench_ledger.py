"""Ledger speed on a district-sized synthetic register, against a plain Python loop baseline.

Both compute delivered/completed/started area per year as of one date; the results are checked
equal before timings are printed. Run: `make bench`.
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import date

import numpy as np
import pandas as pd

from spatial.figures.ledger import build_ledger
from spatial.layers import Stage

PLEDGE = pd.DataFrame({"year": [2023, 2024, 2025, 2026, 2027], "target_m2": [20_000_000] * 5})
STATUSES = np.array(["planned", "under_construction", "completed", "delivered"])


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    done = start + pd.to_timedelta(rng.integers(300, 1200, n), unit="D")
    delivered = done + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    return pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(n)],
            "status": STATUSES[rng.integers(0, 4, n)],
            "floor_area_m2": rng.uniform(5e3, 5e5, n).round(),
            "factory_floor_area_m2": np.where(
                rng.random(n) < 0.5, np.nan, rng.uniform(5e3, 4e5, n)
            ),
            "start_date": start.strftime("%Y-%m-%d"),
            "completion_date": done.strftime("%Y-%m-%d"),
            "delivery_date": delivered.strftime("%Y-%m-%d"),
        }
    )


def baseline(frame: pd.DataFrame, as_of: date) -> dict[str, dict[int, float]]:
    rank = {"planned": 0, "under_construction": 1, "completed": 2, "delivered": 3}
    needs = {
        "started": ("start_date", 1),
        "completed": ("completion_date", 2),
        "delivered": ("delivery_date", 3),
    }
    out = {s: dict.fromkeys(range(2023, 2028), 0.0) for s in needs}
    for row in frame.to_dict("records"):
        factory = row["factory_floor_area_m2"]
        area = factory if factory == factory else row["floor_area_m2"]
        for stage, (col, min_rank) in needs.items():
            when = date.fromisoformat(row[col])
            if rank[row["status"]] >= min_rank and when <= as_of and when.year in out[stage]:
                out[stage][when.year] += area
    return out


def timed(fn, *args):
    """Best of 3 wall-clock runs, then one run under tracemalloc for the peak memory."""
    elapsed = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = fn(*args)
        elapsed = min(elapsed, time.perf_counter() - t0)
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak


def main() -> None:
    as_of = date(2026, 6, 30)
    for n in (1_000, 100_000):
        frame = synthetic(n)
        base, t_base, m_base = timed(baseline, frame, as_of)
        ours, t_ours, m_ours = timed(build_ledger, frame, PLEDGE, Stage.DELIVERED, as_of)
        table = ours.by_year.set_index("year")
        for stage in ("started", "completed", "delivered"):
            np.testing.assert_allclose(
                table[f"{stage}_m2"].to_numpy(), list(base[stage].values()), rtol=1e-9
            )
        print(
            f"{n:>7,d} projects  baseline loop {t_base * 1000:8.1f} ms {m_base / 1e6:7.1f} MB"
            f"   ledger {t_ours * 1000:8.1f} ms {m_ours / 1e6:7.1f} MB"
            f"   speed-up x{t_base / t_ours:5.1f}"
        )


if __name__ == "__main__":
    main()
