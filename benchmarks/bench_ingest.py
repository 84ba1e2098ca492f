"""Validating a district-sized upload: 100k project points (~20 MB GeoJSON).

Baseline, measured in the same run: GDAL reading the same bytes into a GeoDataFrame
(pyogrio.read_dataframe) — reading only, no checks. Prints time, peak memory and size.
Run: `make bench` (or `python benchmarks/bench_ingest.py [N]`).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyogrio

from spatial.ingest.limits import UploadLimits
from spatial.ingest.upload import UploadOptions, check_upload
from spatial.store.database import open_store
from spatial.store.seed import seed_store


def synthetic(n: int, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(113.80, 113.92, n)
    lat = rng.uniform(22.62, 22.78, n)  # inside 宝安
    statuses = np.array(["规划", "在建", "竣工", "交付"])
    features = [
        {
            "type": "Feature",
            "properties": {
                "项目编号": f"BA-{i:06d}",
                "项目名称": f"测试项目{i}",
                "状态": statuses[i % 4],
                "总建筑面积": f"{rng.integers(1, 60)}万㎡",
                "用地面积": int(rng.integers(5_000, 80_000)),
                "开工日期": "2024-03-01",
                "竣工日期": "2026-06-30",
                "交付日期": "2026-09-30" if i % 4 == 3 else "",
            },
            "geometry": {"type": "Point", "coordinates": [round(lon[i], 6), round(lat[i], 6)]},
        }
        for i in range(n)
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()


def measure(label: str, fn) -> None:
    t0 = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<44} {elapsed:8.2f} s  {peak / 1e6:8.1f} MB peak")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = synthetic(n)
    print(f"{n:,} features, {len(data) / 1e6:.1f} MB GeoJSON")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        seed_store(store)
        districts = store.layer("districts")
        existing = store.projects()[["project_id", "district_id"]]
        measure(
            "baseline: GDAL read only (pyogrio)", lambda: pyogrio.read_dataframe(io.BytesIO(data))
        )
        result = {}

        def validate():
            result["checked"] = check_upload(
                "bench.geojson",
                data,
                UploadOptions("baoan", limits=UploadLimits(max_bytes=500 * 2**20)),
                districts,
                existing,
            )

        measure("check_upload: parse + CRS + all checks", validate)
        report = result["checked"].report
        print(
            f"accepted={report.accepted} errors={len(report.errors)} "
            f"warnings={len(report.warnings)}"
        )


if __name__ == "__main__":
    main()
