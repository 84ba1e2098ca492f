"""``spatial export --layer projects`` of N projects in the store, each format a planner takes
to QGIS, a report or a spreadsheet, against the same rows written by GDAL directly — measured
side by side in one run: time, and peak memory beside the size of the projects' GeoDataFrame.

* this project: ``spatial export --layer projects --format F -o file`` (a snapshot read as the
  app reads it; the provenance columns; text a spreadsheet would run written as text; the file
  read back whole, as the app hands it to the browser);
* baseline: ``Store.projects()`` read and written with ``pyogrio.write_dataframe`` to the same
  format (no snapshot, no provenance, no neutralising).

Each run is its own process; its peak is its own ``VmHWM`` (the store is made in a child too:
a child's peak starts from its parent's). Run: ``make bench`` (or ``python
benchmarks/bench_export.py [N …]``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from frame_size import frame_mb  # noqa: E402
from table import RUNS, row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG", "csv": "CSV"}


def make_store(folder: Path, n: int) -> None:
    """N generated projects, and the planner who exports them."""
    from generate import store_with_projects

    from spatial.auth import Principal, Role
    from spatial.store import accounts

    store = store_with_projects(f"sqlite:///{folder / 'spatial.db'}", n)
    accounts.add_user(store, Principal("admin", Role.ADMIN), "planner", "planner", None)


def step(name: str, folder: Path, fmt: str) -> None:
    """One export (``ours``) or its baseline (``gdal``); prints time, rest and peak."""
    import pyogrio

    from spatial import cli
    from spatial.store.database import open_store

    url = f"sqlite:///{folder / 'spatial.db'}"
    out = folder / f"{name}.{fmt}{'.zip' if name == 'ours' and fmt == 'csv' else ''}"
    for old in folder.glob(f"{name}.*"):
        old.unlink()
    rest = _status("VmRSS")
    t0 = time.perf_counter()
    if name == "ours":
        argv = ["--database-url", url, "export", "--layer", "projects", "--format", fmt,
                "--user", "planner", "-o", str(out)]  # fmt: skip
        code = cli.main(argv, out=sys.stderr)
        assert code == 0, code
    elif name == "gdal":
        frame = open_store(url).projects()
        options = {"GEOMETRY": "AS_WKT"} if fmt == "csv" else None
        pyogrio.write_dataframe(frame, out, driver=FORMATS[fmt], layer_options=options)
    else:  # the frame: the projects as read, in memory (benchmarks/frame_size.py)
        held, as_wkb, _ = frame_mb(open_store(url).projects())
        print(f"FRAME\t{held:.1f}")
        print(f"FRAME_WKB\t{as_wkb:.1f}")
    seconds = time.perf_counter() - t0
    print(f"REST\t{rest:.1f}")
    print(f"PEAK\t{_status('VmHWM'):.1f}")
    print(f"BYTES\t{out.stat().st_size if out.exists() else 0}")
    print(f"{seconds:.3f}")


def _status(field: str) -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def run(argv: list[str]) -> dict[str, float]:
    """A child RUNS times: the median time, the largest peak and rise above rest."""
    runs = []
    for _ in range(RUNS):
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed:\n{done.stderr[-3000:]}")
        tagged = dict(ln.split("\t", 1) for ln in done.stdout.splitlines() if "\t" in ln)
        runs.append({
            "seconds": float(done.stdout.strip().splitlines()[-1]),
            "peak": float(tagged["PEAK"]),
            "added": float(tagged["PEAK"]) - float(tagged["REST"]),
            "frame": float(tagged.get("FRAME", 0)),
            "frame_wkb": float(tagged.get("FRAME_WKB", 0)),
            "bytes": float(tagged["BYTES"]),
        })  # fmt: skip
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak": max(r["peak"] for r in runs),
        "added": max(r["added"] for r in runs),
        "frame": runs[-1]["frame"],
        "frame_wkb": runs[-1]["frame_wkb"],
        "bytes": runs[-1]["bytes"],
    }


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [100_000]
    me = [sys.executable, __file__, "--step"]
    print(f"{'step':<36} {'N':>8} {'this project':>13} {'baseline':>10} {'ratio':>6} "
          f"{'peak RSS':>9} {'added':>7} {'÷ frame':>8} {'file':>9}  baseline")  # fmt: skip
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            subprocess.run([*me, "store", str(folder), str(n)], check=True, cwd=ROOT)
            sized = run([*me, "frame", str(folder), "geojson"])
            frame = sized["frame"]
            for fmt in FORMATS:
                ours = run([*me, "ours", str(folder), fmt])
                base = run([*me, "gdal", str(folder), fmt])
                label = f"spatial export projects, {fmt}"
                ratio = ours["seconds"] / base["seconds"]
                print(f"{label:<36} {n:>8,} {ours['seconds']:>11.2f} s {base['seconds']:>8.2f} s "
                      f"{ratio:>5.1f}× {ours['peak']:>6.0f} MB {ours['added']:>4.0f} MB "
                      f"{ours['added'] / frame:>7.1f}× {ours['bytes'] / 1e6:>6.1f} MB  "
                      f"Store.projects + pyogrio.write_dataframe ({base['added']:.0f} MB "
                      f"added, {base['added'] / frame:.1f}×)", flush=True)  # fmt: skip
                row(label, n, f"{ours['seconds']:.2f} s", f"{base['seconds']:.2f} s", ratio,
                    f"{ours['peak']:.0f} MB RSS ({ours['added']:.0f} MB added, "
                    f"{ours['added'] / frame:.1f}× the frame; baseline "
                    f"{base['added'] / frame:.1f}×)",
                    "Store.projects + pyogrio.write_dataframe")  # fmt: skip
            print(f"  (the projects' GeoDataFrame {frame:.0f} MB in memory "
                  f"({sized['frame_wkb']:.0f} MB with its shapes counted as WKB, as before "
                  f"2026-12-03; benchmarks/frame_size.py); medians of {RUNS} "
                  "runs; peaks are each process's own high-water mark)")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        if sys.argv[2] == "store":
            make_store(Path(sys.argv[3]), int(sys.argv[4]))
        else:
            step(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
    else:
        main()
