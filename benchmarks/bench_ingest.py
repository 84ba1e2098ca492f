"""A district's whole register, checked and committed: N project points (or ~50-vertex site
polygons: ``footprints:N``) inside 宝安 (an accepted file, so the work timed is the work a
district waits for — not error reporting).

Each step runs in its own process; the table gives its time and that process's peak RSS (its
own ``VmHWM``; ``os.wait4`` for ogr2ogr — the data are generated in a child, as a child's
peak starts from its parent's), beside a baseline measured in the same run:

* ``spatial validate`` (read + every check) against ``pyogrio.read_dataframe`` of the same file
  (reading only);
* ``spatial import`` (bytes kept, checked, committed as versions) into the shipped store, and
  again with a tenth of the projects changed (the update path, into a store holding N), against
  ``ogr2ogr -f GPKG`` writing the same file to a GeoPackage.

Memory is what the step adds above its process at rest, ÷ the file's GeoDataFrame as pyogrio
reads it. Twice: in a new process (a one-shot ``spatial import``: the libraries' code first
run, the district shapes prepared and the transformer made, 25-35 MB whatever the file's
size, count as the step's), and after the same step on a file of one project in that process
("warm": the app's server, where districts upload, after its first upload).

Run: ``make bench`` (or ``python benchmarks/bench_ingest.py [N | footprints:N …]``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from frame_size import frame_mb  # noqa: E402
from generate import footprints as outlines  # noqa: E402
from generate import points_inside  # noqa: E402
from table import RUNS, row  # noqa: E402

STATUSES = ["规划", "在建", "竣工", "交付"]


def register(n: int, changed_every: int = 0, footprints: bool = False) -> bytes:
    """宝安's register of ``n`` projects as GeoJSON — points, or with ``footprints`` ~50-vertex
    site polygons (coordinates to 1e-6°, wound as RFC 7946 asks); with ``changed_every`` = k,
    every k-th project's floor area differs (an update of a tenth of them for k = 10)."""
    from spatial.store.reference import load_reference

    outline = load_reference().districts.set_index("district_id").geometry["baoan"]
    rng = np.random.default_rng(3)
    xy = points_inside(shapely.buffer(outline, -0.003) if footprints else outline, n, rng)
    if footprints:
        rings = [np.round(shapely.get_coordinates(p), 6).tolist() for p in outlines(xy, rng)]
        shapes = [{"type": "Polygon", "coordinates": [ring]} for ring in rings]
    else:
        shapes = [{"type": "Point", "coordinates": [round(x, 6), round(y, 6)]} for x, y in xy]
    unit = "000㎡" if footprints else "万㎡"  # a plausible floor area for a ~3 ha site
    features = []
    for i in range(n):
        area = (i % 59) + 1 + (1 if changed_every and i % changed_every == 0 else 0)
        features.append({
            "type": "Feature",
            "properties": {
                "项目编号": f"BA-{i:06d}", "项目名称": f"测试项目{i}", "状态": STATUSES[i % 4],
                "总建筑面积": f"{area}{unit}", "开工日期": "2024-03-01", "竣工日期": "2026-06-30",
                "交付日期": "2026-09-30" if i % 4 == 3 else "",
            },
            "geometry": shapes[i],
        })  # fmt: skip
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False).encode()


# -- the steps, each run in a child process ------------------------------------------------------
def step(name: str, folder: Path) -> None:
    """Run one step; print its wall time (the process's start-up and imports excluded)."""
    from spatial.auth import Principal, Role
    from spatial.ingest import submissions
    from spatial.ingest.limits import UploadLimits
    from spatial.ingest.upload import UploadOptions, check_upload
    from spatial.store.database import open_store

    name, warm = name.removesuffix(":warm"), name.endswith(":warm")
    options = UploadOptions("baoan", limits=UploadLimits(max_bytes=2**31, max_features=10**7))
    if name == "import-update":  # into a store that holds the register already
        copy_store(folder / "imported.db", folder / "update.db")
    db = folder / ("update.db" if name == "import-update" else "bench.db")
    store = open_store(f"sqlite:///{db}")
    admin = Principal("admin", Role.ADMIN)
    file = folder / ("changed.geojson" if name == "import-update" else "register.geojson")
    data = file.read_bytes()
    import pyogrio

    if warm:  # the app's server as it is after its first upload: libraries loaded, caches made
        warm_up(name, store, options, admin)
    at_rest = _rss_mb()  # everything imported, the file's bytes read: what the step adds
    t0 = time.perf_counter()
    if name == "read":
        frame = pyogrio.read_dataframe(file)
        seconds, peak = time.perf_counter() - t0, _peak_mb()  # before the frame is measured
        # the frame as it sits in memory: its columns (deep) and its shapes as GEOS holds them
        held, as_wkb, _ = frame_mb(frame)
        print(f"FRAME\t{held:.1f}")
        print(f"FRAME_WKB\t{as_wkb:.1f}")
    elif name == "validate":
        owners = store.projects(include_deleted=True, columns=["district_id"])
        checked = check_upload(file.name, data, options, store.layer("districts"), owners)
        assert checked.accepted, checked.report.to_text("en")[:2000]
    else:
        _, checked, result = submissions.submit(store, file.name, data, options, admin)
        assert result is not None, checked.report.to_text("en")[:2000]
        seconds = time.perf_counter() - t0
        if name == "import" and not (folder / "imported.db").exists():
            copy_store(db, folder / "imported.db")
    print(f"REST\t{at_rest:.1f}")
    print(f"PEAK\t{peak if name == 'read' else _peak_mb():.1f}")
    print(f"{seconds if name in ('import', 'read') else time.perf_counter() - t0:.3f}")


WARM_UP_ID = "BA-WARM-UP-1"  # in no register: the step's own file is still all new (or all known)


def warm_up(name: str, store, options, admin) -> None:
    """The same step once on a file of one project, in the same process: what stays resident
    after it (the libraries' code first run, the district shapes prepared, the coordinate
    transformer) is then at rest, as in the app's server after its first upload."""
    from spatial.ingest import submissions
    from spatial.ingest.upload import check_upload

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.85, 22.62]},
               "properties": {"project_id": WARM_UP_ID, "name_zh": "预热", "status": "规划",
                              "floor_area_m2": 1000}}  # fmt: skip
    small = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    if name == "validate":
        owners = store.projects(include_deleted=True, columns=["district_id"])
        checked = check_upload("warm.geojson", small, options, store.layer("districts"), owners)
        assert checked.accepted, checked.report.to_text("en")[:2000]
    elif name != "read":
        _, checked, result = submissions.submit(store, "warm.geojson", small, options, admin)
        assert result is not None, checked.report.to_text("en")[:2000]
    import gc

    gc.collect()


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store, its write-ahead log included (the backup API)."""
    import sqlite3

    for old in target.parent.glob(target.name + "*"):
        old.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def generate(folder: Path, size_arg: str) -> None:
    """The register and its changed copy, written into ``folder``."""
    polygons, n = size_arg.startswith("footprints:"), int(size_arg.removeprefix("footprints:"))
    (folder / "register.geojson").write_bytes(register(n, footprints=polygons))
    (folder / "changed.geojson").write_bytes(register(n, changed_every=10, footprints=polygons))


def _peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM, MB)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def _rss_mb() -> float:
    """This process's resident memory now (MB)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


@dataclass
class Run:
    seconds: float  # the median of RUNS runs
    peak_mb: float  # the highest peak RSS of them
    added_mb: float  # the most any run's peak rose above its process at rest
    frame_mb: float = 0.0  # (the read) the frame in memory
    frame_wkb_mb: float = 0.0  # (the read) the same, its shapes counted as WKB


def run(argv: list[str], before=None) -> Run:
    """One child process RUNS times (``before()`` ahead of each): median time, peak RSS."""
    runs = []
    for _ in range(RUNS):
        if before is not None:
            before()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        t0 = time.perf_counter()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
        if status != 0:
            raise RuntimeError(f"{argv} failed: {err[-2000:]}")
        tagged = dict(ln.split("\t", 1) for ln in out.splitlines() if "\t" in ln)
        seconds = float(out.strip().splitlines()[-1]) if argv[0] == sys.executable else wall
        peak = float(tagged.get("PEAK", usage.ru_maxrss / 1024))  # ours: its own high water
        rest = float(tagged.get("REST", 0.0))
        runs.append(Run(seconds, peak, peak - rest, float(tagged.get("FRAME", 0.0)),
                        float(tagged.get("FRAME_WKB", 0.0))))  # fmt: skip
    return Run(
        statistics.median(r.seconds for r in runs),
        max(r.peak_mb for r in runs),
        max(r.added_mb for r in runs),
        runs[-1].frame_mb,
        runs[-1].frame_wkb_mb,
    )


def main() -> None:
    # N project points; "footprints:N" N site polygons of ~50 vertices
    sizes = sys.argv[1:] or ["10000", "100000", "footprints:10000"]
    me = [sys.executable, __file__, "--step"]
    print(f"{'step':<44} {'N':>8} {'this project':>13} {'baseline':>10} {'ratio':>6} "
          f"{'peak RSS':>9} {'added':>7} {'÷ frame':>8} {'warm ÷':>7}  baseline")  # fmt: skip
    for size_arg in sizes:
        polygons = size_arg.startswith("footprints:")
        n = int(size_arg.removeprefix("footprints:"))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            # made in a child: a child's peak RSS starts from its parent's (Linux carries the
            # parent's high-water mark across exec), so this process must stay small
            subprocess.run([*me, "generate", str(folder), size_arg], check=True, cwd=ROOT)
            pristine = folder / "shipped.db"
            subprocess.run([sys.executable, "-m", "spatial.cli", "--database-url",
                            f"sqlite:///{pristine}", "init"], check=True, cwd=ROOT,
                           capture_output=True)  # fmt: skip

            def fresh_store(folder=folder, pristine=pristine) -> None:
                copy_store(pristine, folder / "bench.db")

            fresh_store()
            size = (folder / "register.geojson").stat().st_size / 1e6
            read = run([*me, "read", str(folder)])
            ogr = run(["ogr2ogr", "-overwrite", "-f", "GPKG", str(folder / "out.gpkg"),
                       str(folder / "register.geojson")])  # fmt: skip
            rows = [
                ("validate (read + all checks)", "validate", read, "pyogrio.read_dataframe"),
                ("import into the shipped store", "import", ogr, "ogr2ogr -f GPKG"),
                ("import a tenth changed (update)", "import-update", ogr, "ogr2ogr -f GPKG"),
            ]
            for label, name, base, base_label in rows:
                label = f"{label}, footprints" if polygons else label
                before = fresh_store if name == "import" else None
                ours = run([*me, name, str(folder)], before=before)
                warm = run([*me, f"{name}:warm", str(folder)], before=before)
                print(f"{label:<44} {n:>8,} {ours.seconds:>11.2f} s {base.seconds:>8.2f} s "
                      f"{ours.seconds / base.seconds:>5.1f}× {ours.peak_mb:>6.0f} MB "
                      f"{ours.added_mb:>4.0f} MB {ours.added_mb / read.frame_mb:>7.1f}× "
                      f"{warm.added_mb / read.frame_mb:>7.1f}×  {base_label}")  # fmt: skip
                row(label, n, f"{ours.seconds:.2f} s", f"{base.seconds:.2f} s",
                    ours.seconds / base.seconds,
                    f"{ours.peak_mb:.0f} MB RSS ({ours.added_mb:.0f} MB added, "
                    f"{ours.added_mb / read.frame_mb:.1f}× the frame; after a first upload "
                    f"{warm.added_mb:.0f} MB, {warm.added_mb / read.frame_mb:.1f}×)",
                    base_label)  # fmt: skip
            print(f"  ({size:.1f} MB GeoJSON; its GeoDataFrame {read.frame_mb:.0f} MB in memory "
                  f"({read.frame_wkb_mb:.0f} MB with its shapes counted as WKB, as before "
                  "2026-12-03; benchmarks/frame_size.py); "
                  f"pyogrio read peak {read.peak_mb:.0f} MB, {read.added_mb:.0f} MB added = "
                  f"{read.added_mb / read.frame_mb:.1f}× the frame; ogr2ogr peak "
                  f"{ogr.peak_mb:.0f} MB; medians of {RUNS} runs)")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1:3] == ["--step", "generate"]:
        generate(Path(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) > 2 and sys.argv[1] == "--step":
        step(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
