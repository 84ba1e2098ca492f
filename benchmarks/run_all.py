"""``make bench``: every benchmark in turn, its own output printed, then one summary table —
step, size, this project, baseline, ratio, peak memory — written with the machine described to
benchmarks/README.md (the figures of the last run on the machine that ran it).

Sizes: ingest 10k and 100k project points and 10k site polygons; export 100k projects;
ledger 100k and 1M projects (SQLite, and PostGIS when ``BENCH_POSTGRES_URL`` is set —
``make bench`` starts a throw-away server); map 10k projects (bytes) and the map page at 100k
in Chromium (tiles against GeoJSON); planning 10k and 100k parcels/projects.
``python benchmarks/run_all.py --quick`` runs the smallest size of each."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
RUNS = [
    ("bench_ingest.py", ["10000", "100000", "footprints:10000"], ["10000"]),
    ("bench_export.py", ["100000"], ["10000"]),
    ("bench_ledger.py", ["100000", "1000000"], ["100000"]),
    ("bench_engine.py", ["1000000"], ["100000"]),
    ("bench_map_payload.py", ["10000"], ["10000"]),
    ("bench_map_paint.py", ["100000"], ["10000"]),
    ("bench_planning.py", ["10000", "100000"], ["10000"]),
    ("bench_report.py", [], []),
]


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        names = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
        kb = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in ln)
        memory = f"{int(kb.split()[1]) / 2**20:.1f} GB"
    except (OSError, StopIteration):
        memory = "?"
    import pyogrio

    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; memory {memory}",
        f"- {platform.platform()}; Python {platform.python_version()}",
        f"- GDAL {pyogrio.__gdal_version_string__}; SQLite {sqlite3.sqlite_version}; "
        f"PostGIS: {'yes' if os.environ.get('BENCH_POSTGRES_URL') else 'not run'}",
    ]


def main() -> None:
    quick = "--quick" in sys.argv
    rows, outputs = [], []
    for script, sizes, small in RUNS:
        argv = [sys.executable, str(HERE / script), *(small if quick else sizes)]
        print(f"== {script} {' '.join(argv[2:])}", flush=True)
        done = subprocess.run(argv, capture_output=True, text=True, cwd=HERE.parent)
        shown = [ln for ln in done.stdout.splitlines() if not ln.startswith("ROW\t")]
        print("\n".join(shown), flush=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            shown.append(f"(failed: exit {done.returncode})")
        rows += [ln.split("\t")[1:] for ln in done.stdout.splitlines() if ln.startswith("ROW\t")]
        outputs.append((script, argv[2:], shown))
    write_readme(rows, outputs)


def write_readme(rows: list[list[str]], outputs: list) -> None:
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` ({now} Beijing time) on:",
        "",
        *machine(),
        "",
        "Each step beside its baseline measured in the same run; ratio = this project ÷",
        "baseline (for the map: bytes). Times are wall clock; peak memory is the step's process",
        "peak RSS (its own high-water mark, VmHWM; os.wait4 for ogr2ogr) or Python's own",
        'allocations (tracemalloc) where marked. "× the frame": what a step adds above its',
        "process at rest, over the GeoDataFrame as it sits in memory — its columns and its",
        "shapes as GEOS holds them (`benchmarks/frame_size.py`).",
        "",
        "| step | N | this project | baseline | ratio | peak memory | baseline is |",
        "|---|---:|---:|---:|---:|---:|---|",
        *(f"| {' | '.join(r)} |" for r in rows),
        "",
        "Each benchmark's own output follows (`python benchmarks/<name> [sizes]` runs one).",
        "",
    ]
    for script, sizes, shown in outputs:
        lines += [f"## {script} {' '.join(sizes)}", "", "```", *shown, "```", ""]
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"written: {HERE / 'README.md'}")


if __name__ == "__main__":
    main()
