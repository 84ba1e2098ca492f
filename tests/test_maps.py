"""The map: layers present, text escaped, assets local, GCJ-02 shift for display only."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pytest

from spatial.auth import Principal, Role
from spatial.crs import wgs84_to_gcj02
from spatial.figures.capacity import capacity
from spatial.figures.snapshot import take_snapshot
from spatial.outputs.maps import Basemap, MapView, build_map, esc, project_popup_html

from conftest import map_features, map_payloads

HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture(scope="module")
def snapshot(shipped_store):
    """The shipped data as of one date: drawing a map reads it and writes nothing (the store
    behind it is tested on both backends in test_store and test_seed)."""
    return take_snapshot(shipped_store, date(2026, 11, 21))


def render(snapshot, projects=None, **kwargs) -> str:
    m = build_map(
        districts=snapshot.districts,
        parks=snapshot.parks,
        control_lines=snapshot.control_lines,
        projects=snapshot.projects if projects is None else projects,
        **kwargs,
    )
    return m.get_root().render()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_all_layers_and_legend(snapshot, lang):
    html = render(snapshot, lang=lang)
    names = (
        [
            "行政区",
            "工业区块线 一级线（示意）",
            "工业区块线 二级线（示意）",
            "20大先进制造业园区（位置示意）",
            "工业上楼项目",
        ]
        if lang == "zh"
        else [
            "Districts",
            "Control lines level 1 (illustrative)",
            "Control lines level 2 (illustrative)",
        ]
    )
    for name in names:
        assert json.dumps(name)[1:-1] in html or name in html
    assert "sz-legend" in html
    assert html.count("L.geoJSON(") == 5


@pytest.mark.parametrize(
    "field",
    [
        "name_zh",
        "name_en",
        "developer",
        "industries",
        "source",
        "street",
        "status_note",
        "confidence",
    ],
)
def test_text_from_data_is_escaped(snapshot, field):
    projects = snapshot.projects.copy()
    projects.loc[projects.index[0], field] = HOSTILE
    projects.loc[projects.index[0], "name_en"] = HOSTILE if field == "name_en" else "x"
    for lang in ("zh", "en"):
        html = render(snapshot, projects=projects, lang=lang)
        assert "<script>window.__xss" not in html
        assert 'onerror="window.__xss' not in html
        # the text travels as data (\u003c…) and is escaped where it is shown: the page's
        # expansion, of which expand_compact is the reference (a browser test compares them)
        shown = [f["properties"] for f in map_features(html) if "project_id" in f["properties"]]
        texts = "".join(p["_tooltip"] + p["_popup"] for p in shown)
        assert "<script>window.__xss" not in texts
        shown_fields = {"developer", "industries", "source", f"name_{lang}"}
        assert (esc(HOSTILE) in texts) == (field in shown_fields)


def test_popup_shows_the_text_escaped(snapshot):
    row = snapshot.projects.iloc[0].copy()
    row["name_zh"] = HOSTILE
    popup = project_popup_html(row, "zh", {}, {})
    assert esc(HOSTILE) in popup and "<script>" not in popup


def test_assets_are_local(snapshot):
    html = render(snapshot)
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/app/static/vendor/") for s in sources)
    inline = render(snapshot, asset_mode="inline")
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', inline)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "leaflet" not in "".join(s for s in sources if s.startswith("http"))


def _coordinates(html: str) -> np.ndarray:
    """The projects' points as drawn (lon, lat)."""
    return np.array(
        [
            f["geometry"]["coordinates"]
            for f in map_features(html)
            if "project_id" in f["properties"] and f["geometry"]["type"] == "Point"
        ]
    )


def test_amap_basemap_shifts_overlays_for_display_only(snapshot, shipped_store):
    plain = _coordinates(render(snapshot))
    shifted = _coordinates(render(snapshot, basemap=Basemap.amap()))
    assert plain.shape == shifted.shape
    dx = (shifted - plain)[:, 0]
    assert np.median(dx) > 0.004  # ~500 m east: GCJ-02
    stored = shipped_store.projects()
    stored = stored[stored.geometry.notna()]
    assert stored.geometry.x.round(6).isin(plain[:, 0].round(6)).all()


def test_tianditu_and_osm_are_not_shifted(snapshot):
    plain = _coordinates(render(snapshot))
    for basemap in (Basemap.openstreetmap(), Basemap.tianditu("0123456789abcdef0123456789ABCDEF")):
        html = render(snapshot, basemap=basemap)
        np.testing.assert_allclose(_coordinates(html), plain)
        assert basemap.url.split("{")[0][:20] in html


# -- the view the offline map opens on ---------------------------------------------------------

NANSHAN_VIEW = MapView(113.90, 22.48, 114.00, 22.56)


def _leaflet(west, south, east, north) -> dict:
    return {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}}


def test_view_from_leaflet_bounds():
    assert MapView.from_leaflet(_leaflet(113.9, 22.48, 114.0, 22.56)) == NANSHAN_VIEW
    for bad in (None, {}, {"_southWest": None}, _leaflet(114.0, 22.5, 114.0, 22.5)):
        assert MapView.from_leaflet(bad) is None  # before the first pan, or degenerate


def test_view_drawn_on_gcj02_tiles_turns_back_into_wgs84():
    lon, lat = wgs84_to_gcj02(np.array([113.90, 114.00]), np.array([22.48, 22.56]))
    seen = MapView.from_leaflet(_leaflet(lon[0], lat[0], lon[1], lat[1]), gcj02=True)
    assert abs(lon[0] - 113.90) > 0.003  # the GCJ-02 shift in Shenzhen is ~500 m
    for got, want in zip(
        (seen.west, seen.south, seen.east, seen.north), (113.90, 22.48, 114.00, 22.56), strict=True
    ):
        assert got == pytest.approx(want, abs=1e-7)  # ~1 cm


@pytest.mark.parametrize(
    "text,error",
    [("113.9,22.48,114", "e.g."), ("114,22.48,113.9,22.56", "W < E"), ("a,b,c,d", "e.g.")],
)
def test_view_parse_refusals(text, error):
    with pytest.raises(ValueError) as caught:
        MapView.parse(text)
    assert error in str(caught.value) and "W,S,E,N" in str(caught.value)


@pytest.mark.parametrize("basemap", [Basemap.vector_only(), Basemap.amap()])
def test_map_opens_on_the_view(snapshot, basemap):
    page = render(snapshot, view=NANSHAN_VIEW, basemap=basemap)
    fit = re.search(
        r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]", page
    )
    assert fit, "no fitBounds in the page"
    south, west, north, east = map(float, fit.groups())
    if basemap.gcj02:  # drawn where the GCJ-02 tiles put the view
        lon, lat = wgs84_to_gcj02(np.array([113.90, 114.00]), np.array([22.48, 22.56]))
        assert (west, east) == pytest.approx(tuple(lon)) and (south, north) == pytest.approx(
            tuple(lat)
        )
    else:
        assert (west, south, east, north) == (113.90, 22.48, 114.00, 22.56)
    assert "fitBounds" not in render(snapshot)  # no view: the whole city


def test_the_app_map_has_compact_tooltips_and_no_popups(snapshot):
    features = [
        f
        for f in map_features(render(snapshot, popups=False, selected="REF-003"))
        if "project_id" in f["properties"]
    ]
    assert features and all(f["properties"]["_popup"] == "" for f in features)
    tip = next(f for f in features if f["properties"]["project_id"] == "REF-003")["properties"]
    assert tip["_tooltip"].count("<br>") == 1 and " · " in tip["_tooltip"]  # name; status · area
    weights = {f["properties"]["project_id"]: f["properties"]["_style"]["weight"] for f in features}
    assert weights["REF-003"] == 4 and set(weights.values()) == {1, 4}  # only it highlighted
    with_popups = map_features(render(snapshot))
    assert all(f["properties"]["_popup"] for f in with_popups if "project_id" in f["properties"])


@pytest.mark.parametrize(
    "lang,missing", [("zh", "深汕特别合作区：轮廓缺失"), ("en", "outline missing")]
)
def test_district_labels_scale_readout_and_missing_outline(snapshot, lang, missing):
    html = render(snapshot, lang=lang)
    labels = next(p for p in map_payloads(html) if isinstance(p, list))
    texts = [label["text"] for label in labels]
    drawn = snapshot.districts[snapshot.districts.geometry.notna()]
    name_col = "name_zh" if lang == "zh" else "name_en"
    assert set(drawn[name_col]) <= set(texts)
    assert any(missing in text for text in texts)  # 深汕: where its projects are, said so
    legend = next(p for p in map_payloads(html) if isinstance(p, str) and "sz-legend" in p)
    assert missing in legend
    assert "imperial: false" in html and "control.scale({metric: true" in html
    assert "sz-readout" in html and "requestFullscreen" in html


def test_a_label_is_text_never_html(snapshot):
    districts = snapshot.districts.copy()
    districts.loc[districts.index[0], "name_zh"] = HOSTILE + "{{ 7*7 }}"
    m = build_map(
        districts=districts,
        parks=snapshot.parks,
        control_lines=snapshot.control_lines,
        projects=snapshot.projects,
    )
    html = m.get_root().render()
    assert "<script>window.__xss" not in html and "{{ 7*7 }}" not in html
    labels = next(p for p in map_payloads(html) if isinstance(p, list))
    assert HOSTILE + "{{ 7*7 }}" in [label["text"] for label in labels]  # set as textContent
    assert "el.textContent = p.text" in html


@pytest.mark.parametrize(
    "view,width,height,zoom",
    [
        (MapView(113.75, 22.45, 114.65, 22.87), 900, 640, 10),  # the city
        (MapView(113.86, 22.74, 113.88, 22.76), 900, 640, 15),  # a street block
        (MapView(113.86, 22.74, 113.88, 22.76), 900, 640, 14),  # capped
    ],
)
def test_centre_and_zoom_fit_the_view(view, width, height, zoom):
    cap = 14 if zoom == 14 else 16
    (lat, lon), got = view.centre_and_zoom(width, height, cap)
    assert got == zoom
    assert lat == pytest.approx((view.south + view.north) / 2)
    assert lon == pytest.approx((view.west + view.east) / 2)


def test_view_around_features(snapshot):
    baoan = snapshot.districts[snapshot.districts["district_id"] == "baoan"].geometry
    view = MapView.around(baoan, margin=0)
    w, s, e, n = baoan.total_bounds
    assert (view.west, view.south, view.east, view.north) == pytest.approx((w, s, e, n))
    point = snapshot.projects[snapshot.projects["project_id"] == "REF-003"].geometry
    around = MapView.around(point, 0.004)
    assert around.east - around.west == pytest.approx(0.008)
    assert MapView.around(snapshot.projects.geometry.iloc[:0]) is None


@pytest.mark.parametrize("zoom", [10, 12, 14, 16])
def test_a_reported_viewport_gives_back_its_centre_and_zoom(zoom):
    """The inverse of drawing: the bounds Leaflet reports for a map of a known height give
    the centre and zoom it was drawn at (how the app reopens a redrawn map where it was)."""
    import math

    height, lat, lon = 720, 22.6, 114.0
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # Web Mercator, radians
    half = (height / 2) / 256 / 2**zoom * 2 * math.pi
    south = math.degrees(math.atan(math.sinh(y - half)))
    north = math.degrees(math.atan(math.sinh(y + half)))
    (c_lat, c_lon), got = MapView(lon - 0.1, south, lon + 0.1, north).shown_at(height)
    assert got == zoom and c_lat == pytest.approx(lat) and c_lon == pytest.approx(lon)


SITE_PAYLOADS = [
    HOSTILE,
    "{{ config.items() }}{% for x in range(3) %}",
    '=HYPERLINK("http://127.0.0.1:9","x")',
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("payload", SITE_PAYLOADS)
def test_sites_are_a_layer_of_data_their_text_never_markup(shipped_store, snapshot, lang, payload):
    """The sites layer: named 示意 while illustrative, coloured by readiness, capacity and the
    finder's rank and reason in the tooltip; typed text reaches the browser as data, intact,
    and is shown escaped (never HTML, never a template)."""
    _, sites = capacity(shipped_store, Principal("admin", Role.ADMIN, None))
    sites = sites.head(3).copy()
    sites["name"] = payload
    sites["owner_type"] = payload
    sites["rank"] = [1, 2, 3]
    sites["reason_zh"] = sites["reason_en"] = payload
    html = render(snapshot, sites=sites, lang=lang)
    first = sites["site_id"].iloc[0]
    shown = next(f for f in map_features(html) if f["properties"].get("site_id") == first)
    assert esc(payload) in shown["properties"]["_popup"]  # decoded from the page: intact
    assert shown["properties"]["_tooltip"].startswith("#1 ")
    assert esc(payload) in shown["properties"]["_tooltip"]
    assert shown["properties"]["_style"]["color"] in {"#16a085", "#d4ac0d", "#5d6d7e"}
    name = "地块（示意）" if lang == "zh" else "Sites (illustrative)"
    assert json.dumps(name)[1:-1] in html or name in html
    legend = "地块 · 已出让" if lang == "zh" else "Site · land transferred"
    assert legend in html or json.dumps(legend)[1:-1] in html  # the readiness colours
    assert "<script>window.__xss" not in html and 'onerror="window.__xss' not in html
    assert "\\u003cscript\\u003ewindow.__xss" not in html


def test_projects_in_view_are_those_that_meet_it():
    import geopandas as gpd
    from shapely.geometry import Point
    from shapely.geometry import box as rect

    from spatial.outputs.maps import projects_in_view

    frame = gpd.GeoDataFrame(
        {"project_id": ["in", "edge", "out", "none"]},
        geometry=[Point(114.0, 22.6), rect(113.95, 22.55, 114.2, 22.58), Point(113.8, 22.6), None],
        crs="EPSG:4326",
    )
    view = MapView(113.9, 22.5, 114.1, 22.7)
    assert projects_in_view(frame, view)["project_id"].tolist() == ["in", "edge"]
    assert projects_in_view(frame, None)["project_id"].tolist() == ["in", "edge", "out"]
