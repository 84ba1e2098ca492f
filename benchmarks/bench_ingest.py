"""A district's whole register, checked and committed: N project points inside 宝安 (an
accepted file, so the work timed is the work a district waits for — not error reporting).

Each step runs in its own process; the table gives its time and that process's peak RSS
(``os.wait4``), beside a baseline measured in the same run:

* ``spatial validate`` (read + every check) against ``pyogrio.read_dataframe`` of the same file
  (reading only);
* ``spatial import`` (bytes kept, checked, committed as versions) into the shipped store, and
  again with a tenth of the projects changed (the update path, into a store holding N), against
  ``ogr2ogr -f GPKG`` writing the same file to a GeoPackage.

Run: ``make bench`` (or ``python benchmarks/bench_ingest.py [N …]``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from generate import points_inside  # noqa: E402
from table import row  # noqa: E402

STATUSES = ["规划", "在建", "竣工", "交付"]


def register(n: int, changed_every: int = 0) -> bytes:
    """宝安's register of ``n`` projects as GeoJSON; with ``changed_every`` = k, every k-th
    project's floor area differs (an update of a tenth of them for k = 10)."""
    from spatial.store.reference import load_reference

    outline = load_reference().districts.set_index("district_id").geometry["baoan"]
    xy = points_inside(outline, n, np.random.default_rng(3))
    features = []
    for i in range(n):
        area = (i % 59) + 1 + (1 if changed_every and i % changed_every == 0 else 0)
        features.append({
            "type": "Feature",
            "properties": {
                "项目编号": f"BA-{i:06d}", "项目名称": f"测试项目{i}", "状态": STATUSES[i % 4],
                "总建筑面积": f"{area}万㎡", "开工日期": "2024-03-01", "竣工日期": "2026-06-30",
                "交付日期": "2026-09-30" if i % 4 == 3 else "",
            },
            "geometry": {"type": "Point", "coordinates": [round(xy[i, 0], 6), round(xy[i, 1], 6)]},
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

    options = UploadOptions("baoan", limits=UploadLimits(max_bytes=2**31, max_features=10**7))
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    admin = Principal("admin", Role.ADMIN)
    file = folder / ("changed.geojson" if name == "import-update" else "register.geojson")
    data = file.read_bytes()
    t0 = time.perf_counter()
    if name == "read":
        import pyogrio

        pyogrio.read_dataframe(file)
    elif name == "validate":
        owners = store.projects(include_deleted=True, columns=["district_id"])
        checked = check_upload(file.name, data, options, store.layer("districts"), owners)
        assert checked.accepted, checked.report.to_text("en")[:2000]
    else:
        _, checked, result = submissions.submit(store, file.name, data, options, admin)
        assert result is not None, checked.report.to_text("en")[:2000]
    print(f"{time.perf_counter() - t0:.3f}")


def run(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    t0 = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(f"{argv} failed: {err[-2000:]}")
    seconds = float(out.strip().splitlines()[-1]) if argv[0] == sys.executable else wall
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    me = [sys.executable, __file__, "--step"]
    print(f"{'step':<34} {'N':>8} {'this project':>13} {'baseline':>10} {'ratio':>6} "
          f"{'peak RSS':>9}  baseline")  # fmt: skip
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "register.geojson").write_bytes(register(n))
            (folder / "changed.geojson").write_bytes(register(n, changed_every=10))
            subprocess.run([sys.executable, "-m", "spatial.cli", "--database-url",
                            f"sqlite:///{folder / 'bench.db'}", "init"], check=True, cwd=ROOT,
                           capture_output=True)  # fmt: skip
            size = (folder / "register.geojson").stat().st_size / 1e6
            read, read_rss = run([*me, "read", str(folder)])
            ogr, ogr_rss = run(["ogr2ogr", "-f", "GPKG", str(folder / "out.gpkg"),
                                str(folder / "register.geojson")])  # fmt: skip
            rows = [
                ("validate (read + all checks)", "validate", read, "pyogrio.read_dataframe"),
                ("import into the shipped store", "import", ogr, "ogr2ogr -f GPKG"),
                ("import a tenth changed (update)", "import-update", ogr, "ogr2ogr -f GPKG"),
            ]
            for label, name, base, base_label in rows:
                seconds, rss = run([*me, name, str(folder)])
                print(f"{label:<34} {n:>8,} {seconds:>11.2f} s {base:>8.2f} s "
                      f"{seconds / base:>5.1f}× {rss:>6.0f} MB  {base_label}")  # fmt: skip
                row(label, n, f"{seconds:.2f} s", f"{base:.2f} s", seconds / base,
                    f"{rss:.0f} MB RSS", base_label)  # fmt: skip
            print(f"  ({size:.1f} MB GeoJSON; pyogrio read peak {read_rss:.0f} MB, "
                  f"ogr2ogr peak {ogr_rss:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        step(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
