"""Map payload and build time: the app's map against a naive folium map of the same layers.

Baseline (measured in the same run): folium.GeoJson of every layer with full-resolution
outlines and every attribute, folium's default CDN assets. Prints time, peak memory and bytes.
Run: `make bench` (or `python benchmarks/bench_map_payload.py`).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

import folium

from spatial.figures.snapshot import take_snapshot
from spatial.outputs.maps import build_map
from spatial.store.database import open_store
from spatial.store.seed import seed_store


def measure(label: str, build) -> None:
    tracemalloc.start()
    t0 = time.perf_counter()
    html = build()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label:<34} {elapsed * 1000:9.1f} ms  {peak / 1e6:8.1f} MB peak  "
        f"{len(html.encode()):>10,d} bytes"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        seed_store(store)
        snap = take_snapshot(store, date(2026, 11, 21))

        def ours() -> str:
            m = build_map(
                districts=snap.districts,
                parks=snap.parks,
                control_lines=snap.control_lines,
                projects=snap.projects,
            )
            return m.get_root().render()

        def baseline() -> str:
            m = folium.Map(location=(22.64, 114.1), zoom_start=10)
            for frame in (snap.districts, snap.control_lines, snap.parks, snap.projects):
                data = frame[frame.geometry.notna()].copy()
                for col in data.columns:
                    if col != "geometry":
                        data[col] = data[col].astype(str)
                fields = [c for c in data.columns if c != "geometry"]
                folium.GeoJson(data.to_json(), popup=folium.GeoJsonPopup(fields=fields)).add_to(m)
            return m.get_root().render()

        print("map of the shipped layers (34 projects, 11 districts, 20 parks, 24 control lines)")
        measure("baseline: naive folium, full", baseline)
        measure("app map (simplified, escaped)", ours)


if __name__ == "__main__":
    main()
