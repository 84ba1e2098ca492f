"""The map page in the real app at N projects: how long from the click on 地图 until the
projects are drawn, in headless Chromium, with the projects as vector tiles (what the app does
above spatial.outputs.vector_tiles.TILED_FROM) against the same page drawing them as the
compact GeoJSON layer (``SPATIAL_MAP_TILED_FROM`` set past N), started side by side in the
same run on the same store.

Each mode is timed in one server:
* cold: the first visit after the server started (the snapshot is read; the tiles are cut
  unless an archive with the same content is already there — this run starts without one);
* warm: a later visit (the snapshot and the tiles come from the caches), median of 3;
* filter: a status filter chosen on the map page (the tiles are not cut again; the view stays),
  median of 3 (each adds a status);
* after a commit (tiles only): a district officer commits one project in the app, which reads
  the new snapshot and cuts the archives in the background; once they are cut, a planner's
  first visit;
* cut ahead (tiles only): a first visit in a new server after the archive was cut ahead by
  another process (the snapshot is read; no tile is cut).

"Drawn" is: a canvas tile loaded (tiles) or the projects' SVG paths present (GeoJSON), in the
map's frame. Printed with the HTML bytes the map frame received.

Run: ``make bench`` (or ``python benchmarks/bench_map_paint.py [N …] [--points | --footprints]``);
needs Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import store_with_projects  # noqa: E402
from table import row  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("SPATIAL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--disable-background-networking", "--no-first-run"]  # fmt: skip
PASSWORD = "bench-map-password"
FRAME = "iframe[title='streamlit_folium.st_folium']"
TIMEOUT_MS = 300_000
REPEATS = 3  # warm visits and filters timed; their medians are printed
COMMITTED = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
    "properties": {"项目编号": "BA-BENCH-1", "项目名称": "基准测试项目", "状态": "在建",
                   "总建筑面积": "5万㎡", "开工日期": "2025-03-01"}}]},
    ensure_ascii=False).encode()  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app(url: str, env_extra: dict, log: Path):
    env = os.environ | {"DATABASE_URL": url} | env_extra
    port = _port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _drawn(page, tiled: bool) -> None:
    """Wait until a map frame shows the projects. Asked of the page over every map frame it
    holds (they are same-origin): a frame mounted again during the run would leave a wait
    on the first frame's document waiting until its timeout."""
    shown = (
        "d.querySelector('canvas.leaflet-tile-loaded') !== null"
        if tiled
        else "d.defaultView.map !== undefined"
        " && d.querySelectorAll('path.leaflet-interactive').length > 1000"
    )
    page.wait_for_function(
        f"() => [...document.querySelectorAll({json.dumps(FRAME)})].some(f => {{"
        f" const d = f.contentDocument; return d !== null && {shown}; }})",
        polling=50,
        timeout=TIMEOUT_MS,
    )


def _mark_drawn(page) -> None:
    """Mark every map frame's map as drawn before a filter, and how many filters its tiled
    layer was told, so :func:`_redrawn` waits for the filter's own drawing, not the old one."""
    page.evaluate(
        f"() => document.querySelectorAll({json.dumps(FRAME)}).forEach(f => {{"
        " const w = f.contentWindow; if (w === null) { return; }"
        " if (w.map !== undefined) { w.map.__before = true; }"
        " if (w.szTiledProjects !== undefined) {"
        "   w.szTiledProjects.__toldBefore = w.szTiledProjects.told; } })"
    )


def _redrawn(page, tiled: bool) -> None:
    """Wait until a filter is drawn: a new map with the projects (GeoJSON draws a new map), or
    (tiles) the open map told the filter — or a new one drawn — and a frame painted since."""
    new_map = "w.map !== undefined && w.map.__before === undefined"
    if tiled:
        shown = (f"(({new_map}) && w.document.querySelector('canvas.leaflet-tile-loaded') !== null)"
                 " || (w.szTiledProjects !== undefined"
                 " && w.szTiledProjects.told > w.szTiledProjects.__toldBefore)")  # fmt: skip
    else:
        paths = "w.document.querySelectorAll('path.leaflet-interactive').length > 1000"
        shown = f"{new_map} && {paths}"
    page.wait_for_function(
        f"() => [...document.querySelectorAll({json.dumps(FRAME)})].some(f => {{"
        f" const w = f.contentWindow; return w !== null && ({shown}); }})",
        polling=50,
        timeout=TIMEOUT_MS,
    )
    page.evaluate(  # the repaint: two animation frames of the map's frame
        f"() => new Promise(done => {{ const f = document.querySelector({json.dumps(FRAME)});"
        " const w = f.contentWindow;"
        " w.requestAnimationFrame(() => w.requestAnimationFrame(() => done(true))); })"
    )


def _map_frame(page):
    page.wait_for_selector(FRAME, state="attached", timeout=TIMEOUT_MS)
    return page.locator(FRAME).first.element_handle().content_frame()


def _settle(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=TIMEOUT_MS,
    )


def _sign_in(browser, base: str, user: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(f"{base}/")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("text=退出登录", timeout=TIMEOUT_MS)
    _settle(page)
    return page


def _map_visit(page, tiled: bool) -> float:
    """From the click on 地图 until the projects are drawn; then back to 总览."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    t0 = time.perf_counter()
    nav.get_by_text("地图", exact=True).click()
    _drawn(page, tiled)
    seconds = time.perf_counter() - t0
    _settle(page)
    return seconds


def visit_times(base: str, tiled: bool) -> tuple[float, float, float, int]:
    """(cold, warm, filter) seconds until drawn — warm and filter the medians of
    ``REPEATS`` — and the map frame's HTML bytes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = _sign_in(browser, base, "bench")
        nav = page.locator('[data-testid="stSidebarNav"]')
        visits, size = [], 0
        for _ in range(1 + REPEATS):
            visits.append(_map_visit(page, tiled))
            size = max(size, len(_map_frame(page).content().encode()))  # a frame being
            # mounted again reads as empty: the largest of the visits is the frame's HTML
            nav.get_by_text("总览", exact=True).click()
            _settle(page)
        nav.get_by_text("地图", exact=True).click()
        _drawn(page, tiled)
        _settle(page)
        status = page.locator('[data-testid="stSidebar"] [data-testid=stMultiSelect]').filter(
            has_text="状态"
        )
        filters = []
        for typed in ("在建", "竣工", "规划")[:REPEATS]:  # each adds a status: a new filter
            _mark_drawn(page)
            t0 = time.perf_counter()
            status.locator("input").click()
            page.keyboard.type(typed)
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            _redrawn(page, tiled)
            filters.append(time.perf_counter() - t0)
            _settle(page)
        browser.close()
    return visits[0], statistics.median(visits[1:]), statistics.median(filters), size


def after_commit_visit(base: str, tiles_dir: Path) -> float:
    """A district officer commits one project in the app; once the app has prepared the
    change in the background (its snapshot read, the archives cut: the city's and, where it
    is large enough to be tiled, the district's), a planner's first visit to the map, until
    drawn."""
    from playwright.sync_api import sync_playwright

    def archives() -> set[Path]:  # complete ones: an archive being cut is a hidden .partial
        return {p for p in tiles_dir.glob("*.pmtiles") if not p.name.startswith(".")}

    before = archives()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        officer = _sign_in(browser, base, "bench-officer")
        nav = officer.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("上传", exact=True).click()
        officer.wait_for_selector("text=上传本区项目", timeout=TIMEOUT_MS)
        _settle(officer)
        officer.locator("input[type=file]").set_input_files(
            files=[{"name": "baoan.geojson", "mimeType": "application/geo+json",
                    "buffer": COMMITTED}]
        )  # fmt: skip
        officer.wait_for_selector("text=提交前预览", timeout=TIMEOUT_MS)
        _settle(officer)
        officer.get_by_role("button", name="确认提交").click()
        officer.wait_for_selector("text=：新增 1，", timeout=TIMEOUT_MS)
        deadline, quiet = time.monotonic() + TIMEOUT_MS / 1000, 0.0
        while quiet < 3.0:  # a new archive (the city's), then 3 s without another
            new = archives() - before
            if time.monotonic() > deadline:
                raise SystemExit("the app did not cut the archives after the commit")
            time.sleep(0.5)
            grown = archives() - before
            quiet = quiet + 0.5 if new and grown == new else 0.0
        planner = _sign_in(browser, base, "bench")
        seconds = _map_visit(planner, tiled=True)
        browser.close()
    return seconds


def _cut_ahead_visit(store, url: str, work: Path) -> float:
    """The first visit in a new server after the archive was cut ahead (as after a commit)."""
    from spatial.auth import Principal, Role
    from spatial.clock import shenzhen_today
    from spatial.outputs.vector_tiles import SERVED_TILES_DIR, TILES_KEY_FILE, cut_ahead

    shutil.rmtree(SERVED_TILES_DIR, ignore_errors=True)
    cut_ahead(store, [Principal("map-tiles", Role.VIEWER)], SERVED_TILES_DIR, TILES_KEY_FILE,
              shenzhen_today())  # fmt: skip
    with app(url, {}, work / "ahead.log") as base:
        return visit_times(base, tiled=True)[0]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [100_000]
    shapes = (("points", False), ("footprints", True))
    if "--points" in sys.argv:  # the points only (quicker)
        shapes = shapes[:1]
    if "--footprints" in sys.argv:  # the footprints only
        shapes = shapes[1:]
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} missing")
        return
    from spatial.auth import Principal, Role
    from spatial.outputs.vector_tiles import SERVED_TILES_DIR
    from spatial.store import accounts

    print(f"{'map page, N projects':<46} {'N':>8} {'tiles':>9} {'GeoJSON':>9} {'ratio':>6}"
          f"  {'frame HTML (tiles / GeoJSON)':>28}")  # fmt: skip
    for n in sizes:
        for shape, polygons in shapes:
            work = Path(tempfile.mkdtemp(prefix="bench-map-"))
            url = f"sqlite:///{work / 'spatial.db'}"
            store = store_with_projects(url, n, polygons=polygons)
            admin = Principal("admin", Role.ADMIN)
            once = accounts.add_user(store, admin, "bench", "planner", None)
            accounts.change_password(store, Principal("bench", Role.PLANNER), once, PASSWORD)
            once = accounts.add_user(store, admin, "bench-officer", "district", "baoan")
            officer = Principal("bench-officer", Role.DISTRICT, "baoan")
            accounts.change_password(store, officer, once, PASSWORD)
            shutil.rmtree(SERVED_TILES_DIR, ignore_errors=True)  # cut anew: a cold run
            results = {}
            for mode, env in (("tiles", {}), ("geojson", {"SPATIAL_MAP_TILED_FROM": str(10 * n)})):
                with app(url, env, work / f"{mode}.log") as base:
                    try:
                        results[mode] = visit_times(base, tiled=mode == "tiles")
                        if mode == "tiles":
                            after = after_commit_visit(base, SERVED_TILES_DIR)
                    except Exception as exc:  # say which run failed, with its server's log
                        log = (work / f"{mode}.log").read_text()[-2000:]
                        raise SystemExit(f"{shape} {mode} at {n:,}: {exc}\n{log}") from exc
            ahead = _cut_ahead_visit(store, url, work)
            tiles, geo = results["tiles"], results["geojson"]
            for k, moment in enumerate(("cold (first visit)", "warm (cached)", "a filter")):
                step = f"map page drawn, {shape}, {moment}"
                print(f"{step:<46} {n:>8,} {tiles[k]:>8.2f}s {geo[k]:>8.2f}s "
                      f"{tiles[k] / geo[k]:>5.2f}×  {tiles[3] / 1e6:>10.2f} / "
                      f"{geo[3] / 1e6:.2f} MB", flush=True)  # fmt: skip
                row(step, n, f"{tiles[k]:.2f} s", f"{geo[k]:.2f} s", tiles[k] / geo[k],
                    f"{tiles[3] / 1e6:.1f} MB page", "the same page, GeoJSON layer")  # fmt: skip
            step = f"map page drawn, {shape}, first visit after a commit in the app"
            print(f"{step:<46} {n:>8,} {after:>8.2f}s {geo[0]:>8.2f}s {after / geo[0]:>5.2f}×",
                  flush=True)  # fmt: skip
            row(step, n, f"{after:.2f} s", f"{geo[0]:.2f} s", after / geo[0],
                f"{tiles[3] / 1e6:.1f} MB page",
                "the same page, GeoJSON layer, first visit")  # fmt: skip
            step = f"map page drawn, {shape}, first visit, tiles cut ahead"
            print(f"{step:<46} {n:>8,} {ahead:>8.2f}s {geo[0]:>8.2f}s {ahead / geo[0]:>5.2f}×",
                  flush=True)  # fmt: skip
            row(
                step,
                n,
                f"{ahead:.2f} s",
                f"{geo[0]:.2f} s",
                ahead / geo[0],
                f"{tiles[3] / 1e6:.1f} MB page",
                "the same page, GeoJSON layer, first visit",
            )
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
