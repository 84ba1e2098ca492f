"""Projects as vector tiles (spatial/outputs/vector_tiles.py): what the archive holds, read back
with the PMTiles reader and decoded with mapbox-vector-tile; who gets which archive; the map
that draws them; and, in headless Chromium, the app drawing them, its tooltip and its click."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import threading
from datetime import date
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box
from test_browser import browser  # noqa: F401 - the module's Chromium, a fixture

from spatial.auth import Principal, Role
from spatial.crs import WGS84
from spatial.figures.snapshot import take_snapshot
from spatial.i18n import fmt_area
from spatial.layers import PROJECT_FIELDS
from spatial.outputs.map_assets import VENDOR_FILES
from spatial.outputs.maps import build_map, project_at, project_tooltips
from spatial.outputs.offline_map import offline_map_html
from spatial.outputs.vector_tiles import (
    MAX_DATA_ZOOM,
    MIN_ZOOM,
    STATUSES,
    MapTiles,
    project_tiles,
    read_tiles,
    tiles_for_map,
    visible_bits,
)

from conftest import map_payloads as all_payloads


def map_payloads(page: str) -> list[dict]:
    return [p for p in all_payloads(page) if isinstance(p, dict)]


HOSTILE = [
    '<img src=x onerror="window.__xss=1">',
    "{{ 7*7 }}{% raw %}",
    '=HYPERLINK("http://x")',
    "'); DROP TABLE project_versions; --",
    "\u2028</script><script>window.__xss=2</script>",
]


def _project(pid: str, geometry, **fields) -> dict:
    row = dict.fromkeys(PROJECT_FIELDS)
    row |= {
        "project_id": pid,
        "name_zh": f"项目{pid}",
        "name_en": f"Project {pid}",
        "district_id": "futian",
        "status": "under_construction",
        "floor_area_m2": 50_000.0,
    }
    return row | fields | {"geometry": geometry}  # fmt: skip


@pytest.fixture
def projects() -> gpd.GeoDataFrame:
    """Points and footprints across the city, hostile names, an unknown status, no area."""
    rows = [
        _project("P-1", Point(114.055, 22.535), name_zh=HOSTILE[0], name_en=HOSTILE[1]),
        _project("P-2", Point(113.88, 22.78), status="delivered", floor_area_m2=None),
        _project("P-3", box(114.20, 22.70, 114.203, 22.703), name_zh=HOSTILE[2]),
        _project("P-4", Point(114.30, 22.60), status="nonsense", name_zh=HOSTILE[3]),
        _project(
            "P-5",
            Polygon([(113.95, 22.55), (113.96, 22.55), (113.955, 22.56)]),
            name_zh=HOSTILE[4],
            status="planned",
        ),  # fmt: skip
        _project("P-6", None),  # not located: not in the tiles
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def _features_at(path: Path, z: int) -> dict[int, tuple[dict, list]]:
    """{feature index: (properties, [(lon, lat) of its first ring or point], …)} at zoom z."""
    found: dict[int, tuple[dict, list]] = {}
    for (tz, x, y), data in read_tiles(path).items():
        if tz != z:
            continue
        layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        for f in layer["projects"]["features"]:
            g = f["geometry"]
            first = g["coordinates"] if g["type"] == "Point" else g["coordinates"][0][0]
            tx, ty = first
            extent = layer["projects"]["extent"]
            lon = (x + tx / extent) / 2**z * 360 - 180
            n = math.pi - 2 * math.pi * (y + ty / extent) / 2**z
            lat = math.degrees(math.atan(math.sinh(n)))
            found[f["properties"]["i"]] = (f["properties"], (lon, lat), g["type"])
    return found


def test_every_located_project_is_in_every_zoom_with_its_properties(projects, tmp_path):
    tiles = project_tiles(projects, tmp_path / "tiles")
    assert list(tiles.ids) == ["P-1", "P-2", "P-3", "P-4", "P-5"]  # by id; P-6 has no place
    tips = dict(zip(projects["project_id"], project_tooltips(projects, "zh"), strict=True))
    for z in (MIN_ZOOM, 11, MAX_DATA_ZOOM):
        found = _features_at(tiles.path, z)
        assert sorted(found) == [0, 1, 2, 3, 4], z  # none dropped at any zoom
        for i, pid in enumerate(tiles.ids):
            props, (lon, lat), kind = found[i]
            row = projects.set_index("project_id").loc[pid]
            assert props["n"] == row["name_zh"] and props["e"] == row["name_en"]
            assert props["az"] == fmt_area(row["floor_area_m2"], "zh")
            assert props["ae"] == fmt_area(row["floor_area_m2"], "en")
            code = STATUSES.index(row["status"]) if row["status"] in STATUSES else len(STATUSES)
            assert props["s"] == code
            assert kind == ("Point" if row.geometry.geom_type == "Point" else "Polygon")
            # a point where it is, a shape's vertex within a tile unit (~2 m at zoom 13, more
            # at zoom 8 where shapes are simplified)
            near = row.geometry if kind == "Point" else row.geometry.exterior
            assert near.distance(Point(lon, lat)) < (0.002 if z == MIN_ZOOM else 0.0005), z
    # the tooltip the page builds from these properties is the one Python builds
    p = _features_at(tiles.path, MAX_DATA_ZOOM)[0][0]
    expected = tips["P-1"]
    assert expected.startswith('<b style="white-space:normal">&lt;img')
    assert p["n"] == HOSTILE[0]


def test_an_archive_is_built_once_per_content_and_named_by_a_key(projects, tmp_path):
    first = project_tiles(projects, tmp_path / "tiles")
    built = first.path.stat().st_ino  # a cut writes a new file and renames it over the name
    again = project_tiles(projects, tmp_path / "tiles")
    assert again.path == first.path and again.path.stat().st_ino == built  # reused
    changed = projects.copy()
    changed.loc[0, "name_zh"] = "改名"
    assert project_tiles(changed, tmp_path / "tiles").path != first.path
    # the name depends on this installation's key: another key, another name for the same data
    other = project_tiles(projects, tmp_path / "tiles", key_file=tmp_path / "other-key")
    assert other.name != first.name
    assert (tmp_path / "tiles-key").stat().st_mode & 0o077 == 0  # the key: its owner's only
    assert len(first.name) == 48 and first.name.endswith(".pmtiles")


def test_the_key_made_by_threads_at_once_is_one_whole_key(tmp_path):
    """Readers in several threads can make the installation's key at once: each writes a file
    of its own and the first link wins, so all read the same 32 bytes (one file between them
    was linked half-written or removed under another)."""
    import threading

    from spatial.outputs.vector_tiles import _secret

    for attempt in range(5):
        key_file = tmp_path / f"k{attempt}" / "tiles-key"
        got, start = [], threading.Barrier(8)

        def reader(key_file=key_file, got=got, start=start):
            start.wait()
            got.append(_secret(key_file))

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(got) == 8 and len(set(got)) == 1 and len(got[0]) == 32
        assert [p.name for p in key_file.parent.iterdir()] == ["tiles-key"]  # no partial left


def test_readers_asking_for_one_archive_at_once_share_one_cut(projects, tmp_path, monkeypatch):
    """The background cut after a commit and a page can ask for the same archive at once:
    it is cut once, the second waits for it (and both get the same, complete archive)."""
    import threading

    from spatial.outputs import vector_tiles

    cuts, build = [], vector_tiles.build_archive

    def counted(frame, out):
        cuts.append(out)
        build(frame, out)

    monkeypatch.setattr(vector_tiles, "build_archive", counted)
    got, start = [], threading.Barrier(3)

    def reader():
        start.wait()
        got.append(project_tiles(projects, tmp_path / "tiles"))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(cuts) == 1 and len({g.path for g in got}) == 1 and len(got) == 3
    assert got[0].path.stat().st_size > 0


def test_pruning_never_removes_an_archive_still_being_written(projects, tmp_path, monkeypatch):
    """Old archives are pruned after a cut, but a hidden .partial one — another reader's
    cut in progress — is left alone, however many archives there are."""
    from spatial.outputs import vector_tiles

    tiles = tmp_path / "tiles"
    tiles.mkdir()
    partial = tiles / ".0123abcd.partial.pmtiles"
    partial.write_bytes(b"being written")
    monkeypatch.setattr(vector_tiles, "KEEP_ARCHIVES", 1)
    for k in range(3):
        changed = projects.copy()
        changed.loc[0, "name_zh"] = f"改名{k}"
        kept = project_tiles(changed, tiles)
    assert partial.exists()
    assert [p.name for p in tiles.glob("*.pmtiles") if not p.name.startswith(".")] == [kept.name]


def test_pruning_keeps_the_archives_a_map_used_last(projects, tmp_path, monkeypatch):
    """An archive cut long ago but still read (a district no one changed) is the one used
    last, not the oldest: cuts of another district prune the archives no map asked for."""
    from spatial.outputs import vector_tiles

    tiles = tmp_path / "tiles"
    monkeypatch.setattr(vector_tiles, "KEEP_ARCHIVES", 2)
    still_read = project_tiles(projects.iloc[:2], tiles)  # cut first: the oldest file
    for k in range(3):
        changed = projects.iloc[2:].copy()
        changed["name_zh"] = f"改名{k}"
        newest = project_tiles(changed, tiles)
        assert project_tiles(projects.iloc[:2], tiles).path == still_read.path  # read again
    left = {p.name for p in tiles.glob("*.pmtiles") if not p.name.startswith(".")}
    assert left == {still_read.name, newest.name}


def _in_districts(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    districts = ["futian", "futian", "pingshan", "longgang", "nanshan", None]
    return projects.assign(district_id=districts)


def test_each_district_is_an_archive_of_its_own_and_a_change_recuts_only_its_own(
    projects, tmp_path
):
    """The city's map reads one archive per district (those without one last); a change in
    one district cuts that district's archive again and leaves every other one as it was;
    the bits of the map number the archives' features end to end."""
    from spatial.outputs.vector_tiles import district_parts

    frame = _in_districts(projects)
    frame.loc[5, "geometry"] = Point(114.1, 22.6)  # located, with no district
    parts = district_parts(frame)
    assert [sorted(p["project_id"]) for p in parts] == [
        ["P-1", "P-2"], ["P-4"], ["P-5"], ["P-3"], ["P-6"]]  # fmt: skip
    archives = [project_tiles(p, tmp_path / "t") for p in parts]
    tiles = MapTiles(tuple(archives), "/t")
    assert tiles.offsets == [0, 2, 3, 4, 5]
    assert list(tiles.ids) == ["P-1", "P-2", "P-4", "P-5", "P-3", "P-6"]
    bits = np.unpackbits(np.frombuffer(base64.b64decode(visible_bits(tiles, ["P-5", "P-6"])),
                                       np.uint8), bitorder="little")  # fmt: skip
    assert bits[:6].tolist() == [0, 0, 0, 1, 0, 1]

    files = {a.name: a.path.stat().st_ino for a in archives}
    changed = frame.copy()
    changed.loc[changed.project_id == "P-4", "status"] = "delivered"  # in 龙岗
    again = [project_tiles(p, tmp_path / "t") for p in district_parts(changed)]
    differs = [a.name for a in again if a.name not in files]
    assert differs == [again[1].name]  # 龙岗's alone
    for a in again:
        if a.name in files:
            assert a.path.stat().st_ino == files[a.name]  # not cut again


def test_a_map_of_several_archives_tells_each_where_its_bits_start(projects, reference, tmp_path):
    """Each archive is a source of the tiled layer with the offset of its features' bits; a
    standalone map embeds each archive's tiles apart."""
    from spatial.outputs.vector_tiles import district_parts

    frame = _in_districts(projects).iloc[:5]  # the located ones
    archives = tuple(project_tiles(p, tmp_path / "t") for p in district_parts(frame))
    for base in ("/app/static/tiles", None):
        tiles = MapTiles(archives, base)
        page = build_map(districts=reference.districts, parks=reference.parks,
                         control_lines=reference.control_lines, projects=frame, tiles=tiles,
                         popups=False).get_root().render()  # fmt: skip
        (payload,) = [p for p in map_payloads(page) if p.get("type") == "TiledProjects"]
        assert [s["offset"] for s in payload["sources"]] == [0, 2, 3, 4]
        if base is not None:
            assert [s["url"] for s in payload["sources"]] == [
                f"{base}/{a.name}" for a in archives]  # fmt: skip
            assert all(s["tiles"] is None for s in payload["sources"])
        else:
            for s, a in zip(payload["sources"], archives, strict=True):
                assert s["url"] is None
                assert set(s["tiles"]) == {f"{z}/{x}/{y}" for z, x, y in read_tiles(a.path)}
        for text in HOSTILE:
            assert text not in page


@pytest.mark.parametrize("shown", [[], ["P-3"], ["P-1", "P-5"], ["P-1", "P-2", "P-3", "P-4"]])
def test_visible_bits_mark_the_shown_projects(projects, tmp_path, shown):
    tiles = project_tiles(projects, tmp_path / "tiles")
    bits = np.unpackbits(
        np.frombuffer(base64.b64decode(visible_bits(tiles, shown)), np.uint8), bitorder="little"
    )
    assert [pid for i, pid in enumerate(tiles.ids) if bits[i]] == sorted(shown)


@pytest.mark.parametrize(
    "who, districts",
    [
        (Principal("v", Role.VIEWER), None),  # every district
        (Principal("ba", Role.DISTRICT, "baoan"), {"baoan"}),
        (Principal("ps", Role.DISTRICT, "pingshan"), {"pingshan"}),
    ],
)
def test_a_user_gets_the_tiles_of_what_they_may_read(shipped_store, tmp_path, who, districts):
    snap = take_snapshot(shipped_store, date(2026, 6, 30))
    tiles = tiles_for_map(snap, who, tmp_path / "t", "/app/static/tiles", tiled_from=1,
                          split_from=1)  # fmt: skip
    located = snap.projects[snap.projects.geometry.notna()]
    expected = located if districts is None else located[located.district_id.isin(districts)]
    assert sorted(tiles.ids) == sorted(expected.project_id)
    # one archive per district, each holding that district's projects only
    owner = located.set_index("project_id")["district_id"]
    held = [set(owner[list(a.ids)]) for a in tiles.archives]
    assert all(len(d) == 1 for d in held) and len(held) == expected.district_id.nunique()
    assert tiles.urls() == ["/app/static/tiles/" + a.name for a in tiles.archives]
    # a district's reader is given the names of its district's archives, no other: the city
    # map's other archives stay unknown to them
    if districts is not None:
        city = tiles_for_map(snap, Principal("v", Role.VIEWER), tmp_path / "t", "/x",
                             tiled_from=1, split_from=1)  # fmt: skip
        mine, all_names = {a.name for a in tiles.archives}, {a.name for a in city.archives}
        assert mine < all_names and len(mine) == 1


def test_below_the_split_the_city_is_one_archive_and_a_cut_is_announced_once(
    shipped_store, tmp_path
):
    """Below SPLIT_FROM located projects the city's map is one archive; from it, one per
    district, cut side by side and announced once (in the caller's thread); asked again, none
    is cut."""
    snap = take_snapshot(shipped_store, date(2026, 6, 30))
    who = Principal("v", Role.VIEWER)
    located = snap.projects[snap.projects.geometry.notna()]
    whole = tiles_for_map(snap, who, tmp_path / "t", "/x", tiled_from=1)
    assert len(whole.archives) == 1 and sorted(whole.ids) == sorted(located.project_id)
    told = []
    split = tiles_for_map(snap, who, tmp_path / "t", "/x", tiled_from=1, split_from=1,
                          before_build=lambda: told.append(threading.current_thread()))  # fmt: skip
    assert len(split.archives) == located.district_id.nunique() > 1
    assert told == [threading.current_thread()]
    assert sorted(split.ids) == sorted(located.project_id)
    tiles_for_map(snap, who, tmp_path / "t", "/x", tiled_from=1, split_from=1,
                  before_build=lambda: told.append("again"))  # fmt: skip
    assert len(told) == 1


def test_a_small_layer_stays_geojson(shipped_store, tmp_path):
    snap = take_snapshot(shipped_store, date(2026, 6, 30))
    who = Principal("v", Role.VIEWER)
    assert tiles_for_map(snap, who, tmp_path / "t", "/x") is None  # 34 projects < TILED_FROM
    assert not (tmp_path / "t").exists()


def test_a_tiled_map_carries_no_project_text(projects, reference, tmp_path):
    archive = project_tiles(projects, tmp_path / "tiles")
    tiles = MapTiles((archive,), "/app/static/tiles")
    page = build_map(districts=reference.districts, parks=reference.parks,
                     control_lines=reference.control_lines, projects=projects.iloc[:3],
                     tiles=tiles, popups=False).get_root().render()  # fmt: skip
    assert "protomaps-leaflet.js" in page and "TiledProjects" in page
    for text in HOSTILE + ["项目P-2"]:
        assert text not in page  # names travel in the tiles, never in the page
    (payload,) = [p for p in map_payloads(page) if p.get("type") == "TiledProjects"]
    assert payload["sources"] == [
        {"url": "/app/static/tiles/" + archive.name, "tiles": None, "offset": 0}
    ]
    assert payload["status_labels"][STATUSES.index("delivered")] == "交付/运营"
    bits = np.unpackbits(np.frombuffer(base64.b64decode(payload["visible"]), np.uint8),
                         bitorder="little")  # fmt: skip
    assert bits[:5].tolist() == [1, 1, 1, 0, 0]


def test_a_map_told_apart_which_projects_to_show(projects, reference, tmp_path):
    """With ``shown_apart`` the map itself is the same whatever the filter (all shown until
    told); ``shown_projects`` carries the filter's bits, which the open map applies."""
    from streamlit_folium import generate_leaflet_string

    from spatial.outputs.maps import shown_projects

    tiles = MapTiles((project_tiles(projects, tmp_path / "tiles"),), "/t")
    pages = []
    for subset in (projects.iloc[:3], projects.iloc[3:]):
        m = build_map(districts=reference.districts, parks=reference.parks,
                      control_lines=reference.control_lines, projects=subset, tiles=tiles,
                      popups=False, shown_apart=True)  # fmt: skip
        page = m.get_root().render()
        (payload,) = [p for p in map_payloads(page) if p.get("type") == "TiledProjects"]
        assert payload["visible"] is None
        pages.append(payload)
        group = shown_projects(subset, tiles)
        group.add_to(m)
        script = generate_leaflet_string(group)
        (told,) = [p for p in map_payloads(script) if p.get("type") == "ShownProjects"]
        expected = visible_bits(tiles, subset[subset.geometry.notna()]["project_id"])
        assert told["visible"] == expected
        assert "showOnly" in script
    assert pages[0] == pages[1]


def test_a_selected_project_is_drawn_on_top_of_the_tiles(projects, reference, tmp_path):
    tiles = MapTiles((project_tiles(projects, tmp_path / "tiles"),), "/t")
    page = build_map(districts=reference.districts, parks=reference.parks,
                     control_lines=reference.control_lines, projects=projects, tiles=tiles,
                     selected="P-2").get_root().render()  # fmt: skip
    chosen = [f for p in map_payloads(page) if p.get("type") == "FeatureCollection"
              for f in p["features"] if f["properties"].get("project_id")]  # fmt: skip
    assert [f["properties"]["project_id"] for f in chosen] == ["P-2"]


def test_a_standalone_map_embeds_the_tiles_of_its_view(shipped_store, tmp_path, monkeypatch):
    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")
    from spatial.outputs.maps import MapView

    admin = Principal("admin", Role.ADMIN)
    whole = offline_map_html(shipped_store, admin).decode()
    view = MapView(113.85, 22.70, 113.98, 22.82)  # around 光明
    part = offline_map_html(shipped_store, admin, view=view).decode()
    (w,) = [p for p in map_payloads(whole) if p.get("type") == "TiledProjects"]
    (v,) = [p for p in map_payloads(part) if p.get("type") == "TiledProjects"]
    assert all(s["url"] is None for s in w["sources"] + v["sources"])
    whole_tiles = [(k, t) for s in w["sources"] for t in s["tiles"] for k in [s["offset"]]]
    view_tiles = [(k, t) for s in v["sources"] for t in s["tiles"] for k in [s["offset"]]]
    assert 0 < len(view_tiles) < len(whole_tiles)
    assert set(view_tiles) <= set(whole_tiles)
    assert whole.count('src="data:text/javascript;base64,') == 3  # Leaflet, jQuery, the tiles'
    assert "/app/static" not in whole  # nothing to fetch


def test_a_click_finds_the_project_drawn_under_it(projects):
    shown = projects[projects.project_id != "P-4"]
    assert project_at(shown, 22.7015, 114.2015, 14) == "P-3"  # inside the footprint
    assert project_at(shown, 22.535, 114.055, 12) == "P-1"  # on the point
    px = 360 / (256 * 2**12)
    assert project_at(shown, 22.535, 114.055 + 8 * px, 12) == "P-1"  # within its radius
    assert project_at(shown, 22.535, 114.055 + 40 * px, 12) is None  # beside it
    assert project_at(shown, 22.60, 114.30, 14) is None  # P-4 is filtered out


def test_the_vendored_renderer_is_the_published_file():
    data = VENDOR_FILES["protomaps-leaflet.js"].read_bytes()
    digest = "26af014f7b1af308ec120b791cff76657bb9c3383633b52033e6edf9e5e4cdb5"
    assert hashlib.sha256(data).hexdigest() == digest  # see spatial/outputs/vendor/README.md
    assert (VENDOR_FILES["protomaps-leaflet.js"].parent / "protomaps-leaflet.LICENSE").exists()


# -- in the app, in headless Chromium ------------------------------------------------------------

MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"


@pytest.fixture(scope="module")
def tiled_app(tmp_path_factory):
    """The app drawing even the shipped 34 projects (and a hostile one) as tiles."""
    from test_browser import shipped_store_with_users

    from conftest import running_app

    folder = tmp_path_factory.mktemp("tiled")
    url, _ = shipped_store_with_users(
        folder, [("planner", "planner", None), ("ba-officer", "district", "baoan")]
    )
    env = {"SPATIAL_MAP_TILED_FROM": "1", "SPATIAL_MAP_SPLIT_FROM": "1"}  # an archive a district
    with running_app(folder, url, env=env) as base:
        yield base, folder


def _point_on_map(frame, lat: float, lng: float, zoom: int) -> dict:
    return frame.evaluate(
        """([lat, lng, zoom]) => {
            const m = window.map || window[Object.keys(window).find(k => k.startsWith("map_"))];
            m.setView([lat, lng], zoom, {animate: false});
            const p = m.latLngToContainerPoint([lat, lng]);
            return {x: p.x, y: p.y};
        }""",
        [lat, lng, zoom],
    )


def _tiles_drawn(page):
    from test_browser import settle

    settle(page)
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    handle = page.locator(MAP_FRAME).first.element_handle()
    frame = handle.content_frame()
    frame.wait_for_selector("canvas.leaflet-tile-loaded", state="attached", timeout=60_000)
    frame.wait_for_function("window.map !== undefined && window.szTiledProjects !== undefined")
    return handle, frame


@pytest.mark.browser
def test_the_app_draws_tiles_with_a_tooltip_a_click_and_a_filter(tiled_app, browser):  # noqa: F811
    """A planner's map draws the projects from vector tiles fetched from the app itself; the
    hostile project's tooltip shows its name as text; clicking it opens its details; a
    status filter hides it and keeps the view; nothing leaves the machine."""
    from test_browser import HOSTILE_NAME, choose_status, go, local_only_page, settle, sign_in

    base, folder = tiled_app
    page = local_only_page(browser)
    tile_requests = []
    page.on("request", lambda r: tile_requests.append(r.url) if ".pmtiles" in r.url else None)
    sign_in(page, base, "planner")
    go(page, "地图")
    handle, frame = _tiles_drawn(page)
    assert tile_requests and all("/app/static/tiles/" in u for u in tile_requests)
    # the page itself carries no project name: they come in the tiles
    assert "危险" not in frame.content()

    # the whole map in the window: a click on a map cut by the window's edge focuses it,
    # and the browser scrolls it into view between the press and the release
    handle.scroll_into_view_if_needed()
    point = _point_on_map(frame, 22.535, 114.055, 15)  # the hostile project (XSS-1)
    frame.wait_for_function("document.querySelectorAll('canvas.leaflet-tile-loaded').length > 0")
    page.wait_for_timeout(800)
    box = handle.bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tip = frame.locator(".sz-tile-tip")
    tip.wait_for(timeout=10_000)
    assert HOSTILE_NAME in tip.inner_text()
    assert "交付/运营" in tip.inner_text()
    assert frame.evaluate("window.__xss") is None and page.evaluate("window.__xss") is None

    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.get_by_text("ID XSS-1").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name=HOSTILE_NAME).count() == 1
    handle, frame = _tiles_drawn(page)
    page.wait_for_timeout(1500)  # the map reports its view
    settle(page)

    choose_status(page, "在建")
    page.wait_for_timeout(500)
    handle, frame = _tiles_drawn(page)
    page.wait_for_timeout(800)
    handle.scroll_into_view_if_needed()
    view = frame.evaluate("(() => { const c = window.map.getCenter();"
                          " return [window.map.getZoom(), c.lat, c.lng]; })()")  # fmt: skip
    assert view[0] == 15 and abs(view[1] - 22.535) < 0.003 and abs(view[2] - 114.055) < 0.003
    box = handle.bounding_box()
    point = frame.evaluate(
        "(() => { const p = window.map.latLngToContainerPoint([22.535, 114.055]);"
        " return {x: p.x, y: p.y}; })()"
    )
    page.mouse.move(box["x"] + point["x"] + 30, box["y"] + point["y"] + 30)
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_timeout(500)
    shown = frame.locator(".sz-tile-tip")
    assert shown.count() == 0 or HOSTILE_NAME not in shown.inner_text()  # filtered out
    page.screenshot(path=str(folder / "tiled_map.png"))
    assert page.blocked == []
    page.context.close()


PROJECT_AT = """([lat, lng]) => {
    const p = window.szTiledProjects.projectAt(L.latLng(lat, lng));
    return p === null ? null : p.s;
}"""


@pytest.mark.browser
def test_a_filter_repaints_the_open_tiled_map(tiled_app, browser):  # noqa: F811
    """A status filter on a tiled map is told to the map that is open (streamlit-folium adds
    its visibility layer to it): the same map object, its view, no tile fetched again — and
    the filtered-out project is neither drawn nor found under the pointer; clearing the
    filter brings it back."""
    from test_browser import choose_status, go, local_only_page, settle, sign_in, status_filter

    base, _ = tiled_app
    page = local_only_page(browser)
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if ".pmtiles" in r.url else None)
    sign_in(page, base, "planner")
    go(page, "地图")
    handle, frame = _tiles_drawn(page)
    handle.scroll_into_view_if_needed()
    _point_on_map(frame, 22.535, 114.055, 15)  # the hostile project, 交付 (delivered)
    frame.wait_for_function("document.querySelectorAll('canvas.leaflet-tile-loaded').length > 0")
    page.wait_for_timeout(1500)  # the tiles of this view are in, the map reports its view
    settle(page)
    here = [22.535, 114.055]
    assert frame.evaluate(PROJECT_AT, here) is not None
    frame.evaluate("window.map.__same = 'the map drawn first'")
    before = len(fetched)

    choose_status(page, "在建")
    settle(page)
    frame = page.locator(MAP_FRAME).first.element_handle().content_frame()
    frame.wait_for_function(f"() => ({PROJECT_AT})({here}) === null", timeout=30_000)
    assert frame.evaluate("window.map.__same") == "the map drawn first"  # not drawn anew
    view = frame.evaluate("(() => { const c = window.map.getCenter();"
                          " return [window.map.getZoom(), c.lat, c.lng]; })()")  # fmt: skip
    assert view[0] == 15 and abs(view[1] - here[0]) < 0.003 and abs(view[2] - here[1]) < 0.003
    assert len(fetched) == before  # painted again from the tiles it had

    status_filter(page).get_by_role("button", name=re.compile("Clear all|清除")).first.click()
    settle(page)
    frame = page.locator(MAP_FRAME).first.element_handle().content_frame()
    frame.wait_for_function(f"() => ({PROJECT_AT})({here}) !== null", timeout=30_000)
    assert frame.evaluate("window.map.__same") == "the map drawn first"
    assert page.blocked == []
    page.context.close()


@pytest.mark.browser
def test_a_district_officer_is_served_only_their_district_s_tiles(tiled_app, browser):  # noqa: F811
    """宝安's officer, in Chinese: the map reads an archive of its own, in which a 宝安 project
    is drawn and the 福田 project (the hostile one) is not there at all."""
    from test_browser import go, local_only_page, sign_in

    from spatial.store.database import open_store

    base, folder = tiled_app
    store = open_store(f"sqlite:///{folder / 'spatial.db'}")
    located = store.projects()
    store.engine.dispose()
    in_baoan = located[(located.district_id == "baoan") & located.geometry.notna()]
    spot = in_baoan.geometry.iloc[0].representative_point()
    archives = {}
    for who in ("planner", "ba-officer"):
        page = local_only_page(browser)
        asked = []
        page.on("request", lambda r, a=asked: a.append(r.url) if ".pmtiles" in r.url else None)
        sign_in(page, base, who)
        go(page, "地图")
        handle, frame = _tiles_drawn(page)
        archives[who] = {u.split("/")[-1] for u in asked}
        found = {}
        for name, (lat, lng) in {"baoan": (spot.y, spot.x), "futian": (22.535, 114.055)}.items():
            _point_on_map(frame, lat, lng, 15)
            frame.wait_for_function(
                f"window.szTiledProjects.projectAt(L.latLng({lat}, {lng})) !== null"
                if name == "baoan" else "true", timeout=20_000,
            )  # fmt: skip
            page.wait_for_timeout(800)
            found[name] = frame.evaluate(
                f"window.szTiledProjects.projectAt(L.latLng({lat}, {lng}))"
            )
        assert found["baoan"] is not None  # a 宝安 project (several may overlap there)
        assert found["baoan"]["n"] in set(in_baoan["name_zh"])
        if who == "ba-officer":
            assert found["futian"] is None  # not in their archive at all
        else:
            assert found["futian"] is not None
        assert page.blocked == []
        page.context.close()
    # the officer reads their district's archive, which is also the city map's 宝安 archive;
    # the city's other archives are never asked for
    assert archives["planner"] and len(archives["ba-officer"]) == 1
    assert archives["ba-officer"] < archives["planner"]


@pytest.mark.browser
def test_a_standalone_tiled_map_draws_offline_with_its_tooltip(
    tiled_app,
    browser,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """The offline file of a large layer embeds its tiles: opened from disk with every request
    refused, it draws them, and the hostile name shows as text."""
    from test_browser import HOSTILE_NAME

    from spatial.store.database import open_store

    base, folder = tiled_app
    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")
    store = open_store(f"sqlite:///{folder / 'spatial.db'}")
    page_bytes = offline_map_html(store, Principal("admin", Role.ADMIN))
    store.engine.dispose()
    path = tmp_path / "map.html"
    path.write_bytes(page_bytes)
    requests = []
    context = browser.new_context(viewport={"width": 1200, "height": 950})
    page = context.new_page()

    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_selector("canvas.leaflet-tile-loaded", state="attached", timeout=30_000)
    point = _point_on_map(page, 22.535, 114.055, 15)
    page.wait_for_timeout(1000)
    box = page.locator(".folium-map").bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    page.locator(".sz-tile-tip").wait_for(timeout=10_000)
    assert HOSTILE_NAME in page.locator(".sz-tile-tip").inner_text()
    assert page.evaluate("window.__xss") is None
    context.close()
    assert all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests


def test_a_failed_cut_leaves_nothing_and_the_map_draws_geojson(
    shipped_store, tmp_path, monkeypatch
):
    import spatial.outputs.vector_tiles as vt

    monkeypatch.setattr(vt, "tippecanoe_binary", lambda: Path("/bin/false"))
    snap = take_snapshot(shipped_store, date(2026, 6, 30))
    who = Principal("v", Role.VIEWER)
    assert tiles_for_map(snap, who, tmp_path / "t", "/x", tiled_from=1) is None
    assert list((tmp_path / "t").iterdir()) == []  # no archive, no half-written file


def test_tiles_cut_ahead_are_found_cut_by_the_map(shipped_store, tmp_path, monkeypatch):
    """After a commit the app cuts the city's and the committer's archives in the background;
    the map then finds them and cuts nothing."""
    from spatial.outputs.vector_tiles import cut_ahead

    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")
    monkeypatch.setenv("SPATIAL_MAP_SPLIT_FROM", "1")
    officer = Principal("ba", Role.DISTRICT, "baoan")
    as_of = date(2026, 6, 30)
    cut_ahead(shipped_store, [Principal("v", Role.VIEWER), officer], tmp_path / "t",
              tmp_path / "key", as_of)  # fmt: skip
    located = shipped_store.projects()
    districts = located[located.geometry.notna()]["district_id"].nunique()
    # one archive per district for the city, among them the officer's district's own
    assert len(list((tmp_path / "t").glob("*.pmtiles"))) == districts
    snap = take_snapshot(shipped_store, as_of)
    cut = []
    for who in (Principal("admin", Role.ADMIN), Principal("p", Role.PLANNER), officer):
        tiles = tiles_for_map(snap, who, tmp_path / "t", "/x", tmp_path / "key",
                              before_build=lambda: cut.append(1))  # fmt: skip
        assert tiles is not None and all(a.path.exists() for a in tiles.archives)
    assert cut == []  # every one was there already
    cut_ahead(shipped_store, [officer], tmp_path / "elsewhere" / "t", None, as_of)  # no raise


def test_a_new_server_reads_the_city_snapshot_and_tiles_ahead_once(
    shipped_store, tmp_path, monkeypatch
):
    """At a new server's first page run the app reads today's snapshot and finds (here:
    cuts) the city's archives in the background, once per process: the first planner's map
    takes them from memory and cuts nothing; a later page run starts nothing again."""
    import spatial.ui.mapview as mapview
    from spatial.clock import shenzhen_today
    from spatial.ui import common

    monkeypatch.setenv("DATABASE_URL", str(shipped_store.engine.url))
    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")
    monkeypatch.setenv(mapview.PREPARE_ON_START, "1")
    monkeypatch.setattr(mapview, "SERVED_TILES_DIR", tmp_path / "t")
    monkeypatch.setattr(mapview, "TILES_KEY_FILE", tmp_path / "key")
    monkeypatch.setattr(mapview, "_STARTED", threading.Event())
    monkeypatch.setattr(mapview, "_TILES", type(mapview._TILES)())

    def started() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "prepare-on-start"]

    mapview.prepare_on_start()
    for thread in started():
        thread.join(120)
    assert not started()
    today = shenzhen_today()
    url, revision = str(shipped_store.engine.url), shipped_store.revision()
    snap = common.shared_snapshot(url, revision, today)
    assert len(list((tmp_path / "t").glob("*.pmtiles"))) == 1  # the city's, cut ahead

    def cut_again(*args, **kwargs):
        raise AssertionError("the map cut (or looked up) tiles the start had ready")

    monkeypatch.setattr(mapview, "tiles_for_map", cut_again)
    planner = Principal("p", Role.PLANNER)
    tiles = mapview._map_tiles(
        snap, mapview._tiles_key(snap, planner, revision, today), planner, False, None
    )
    assert tiles is not None and all(a.path.exists() for a in tiles.archives)
    mapview.prepare_on_start()  # a later page run: nothing started again
    assert not started()
    monkeypatch.setenv(mapview.PREPARE_ON_START, "0")
    monkeypatch.setattr(mapview, "_STARTED", threading.Event())
    mapview.prepare_on_start()  # switched off: nothing read ahead
    assert not started() and not mapview._STARTED.is_set()
