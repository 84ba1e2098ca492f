"""The map's weight: the city view of N generated project footprints (~50 vertices each) or
points, as the app and the offline map file draw it, against ``GeoDataFrame.explore()`` of
the same projects in the same run (geopandas' own map: every column, full precision).

Ours draws the projects as a compact layer (spatial.outputs.map_data.CompactLayer): shapes
simplified and rounded to half a pixel at three zooms past the opening view (no visible loss
there), text written once per distinct value, popups built in the page — plus the districts,
parks and control lines, which explore() does not draw. Printed: build time, peak memory
(tracemalloc), bytes, and the ratio of bytes.

Run: ``make bench`` (or ``python benchmarks/bench_map_payload.py [N …]``).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import projects as generated  # noqa: E402
from table import row  # noqa: E402

from spatial.figures.overlays import enrich_projects  # noqa: E402
from spatial.outputs.maps import build_map  # noqa: E402
from spatial.store.reference import load_reference  # noqa: E402


def measure(build) -> tuple[float, float, int]:
    """(seconds, peak MB, bytes) of one build-and-render."""
    tracemalloc.start()
    t0 = time.perf_counter()
    page = build()
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return elapsed, peak, len(page.encode())


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000]
    ref = load_reference()
    print(f"{'map of N projects':<30} {'N':>8} {'this project':>14} {'explore()':>12} "
          f"{'bytes ratio':>11}  {'time':>14}  {'peak memory':>15}")  # fmt: skip
    for n in sizes:
        for shape, polygons in (("footprints", True), ("points", False)):
            projects = enrich_projects(
                generated(n, polygons=polygons), ref.districts, ref.parks, ref.control_lines
            )

            def ours(projects=projects) -> str:
                m = build_map(districts=ref.districts, parks=ref.parks,
                              control_lines=ref.control_lines, projects=projects)  # fmt: skip
                return m.get_root().render()

            def baseline(projects=projects) -> str:
                return projects.explore().get_root().render()

            t_ours, m_ours, b_ours = measure(ours)
            t_base, m_base, b_base = measure(baseline)
            print(f"{shape:<30} {n:>8,} {b_ours / 1e6:>11.1f} MB {b_base / 1e6:>9.1f} MB "
                  f"{b_ours / b_base:>10.2f}×  {t_ours:>5.1f} s / {t_base:>4.1f} s  "
                  f"{m_ours:>5.0f} / {m_base:>5.0f} MB")  # fmt: skip
            row(f"map bytes, project {shape} (city view)", n, f"{b_ours / 1e6:.1f} MB",
                f"{b_base / 1e6:.1f} MB", b_ours / b_base, f"{m_ours:.0f} MB (Python)",
                "GeoDataFrame.explore()")  # fmt: skip


if __name__ == "__main__":
    main()
