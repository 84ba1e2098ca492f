"""Progress report cost: figures, HTML (with SVG charts) and the PDF print, beside the ledger
alone (what the dashboard computes for the same date) as the baseline measured in the same run.

On the shipped data and on a synthetic city-sized register (districts and parks drawn at
random, dates as in bench_ledger). Prints time, peak Python memory and bytes.
Run: `make bench` (or `python benchmarks/bench_report.py`).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
from generate import projects as generated

from spatial.figures.snapshot import take_snapshot
from spatial.layers import Stage
from spatial.outputs.printing import find_chromium, html_to_pdf
from spatial.outputs.report import build_report, report_html
from spatial.store.database import open_store
from spatial.store.seed import seed_store

AS_OF = date(2026, 6, 30)


def measure(label: str, fn, repeat: int = 3):
    """Best of ``repeat`` wall-clock runs, then one run under tracemalloc for the peak."""
    elapsed = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        elapsed = min(elapsed, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = (
        len(result.encode() if isinstance(result, str) else result)
        if isinstance(result, (bytes, str))
        else None
    )
    print(
        f"  {label:<36} {elapsed * 1000:9.1f} ms  {peak / 1e6:7.1f} MB peak"
        + (f"  {size:>12,d} bytes" if size is not None else "")
    )
    return result


def run(label: str, snap) -> None:
    print(f"{label}: {len(snap.projects):,} projects, as of {AS_OF}")
    measure("baseline: ledger alone (dashboard)", lambda: snap.ledger(Stage.DELIVERED))
    report = measure("report figures", lambda: build_report(snap, AS_OF.year))
    page = measure("report HTML (charts as SVG)", lambda: report_html(report, snap, "zh"))
    if find_chromium():
        measure("report PDF (headless Chromium)", lambda: html_to_pdf(page), repeat=1)
    else:
        print("  report PDF: skipped, no chromium on PATH")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        seed_store(store)
        snap = take_snapshot(store, AS_OF)
        run("shipped data", snap)
        rng = np.random.default_rng(11)
        n = 5_000
        frame = generated(n)
        frame["park_id"] = np.where(
            rng.random(n) < 0.6, rng.choice(snap.parks["park_id"].to_numpy(), n), None
        )
        frame["name_en"] = [f"Synthetic {i}" for i in range(n)]
        frame["location_quality"] = "missing"
        run("synthetic register", replace(snap, projects=frame))


if __name__ == "__main__":
    main()
