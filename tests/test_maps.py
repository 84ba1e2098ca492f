"""The map: layers present, text escaped, assets local, GCJ-02 shift for display only."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pytest

from spatial.crs import wgs84_to_gcj02
from spatial.maps import Basemap, MapView, build_map, esc, project_popup_html
from spatial.snapshot import take_snapshot

from conftest import map_features

HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture
def snapshot(seeded_store):
    return take_snapshot(seeded_store, date(2026, 11, 21))


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
        assert "\\u003cscript\\u003ewindow.__xss" not in html  # not even JSON-escaped raw tags


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


def test_amap_basemap_shifts_overlays_for_display_only(snapshot, seeded_store):
    plain = _coordinates(render(snapshot))
    shifted = _coordinates(render(snapshot, basemap=Basemap.amap()))
    assert plain.shape == shifted.shape
    dx = (shifted - plain)[:, 0]
    assert np.median(dx) > 0.004  # ~500 m east: GCJ-02
    stored = seeded_store.projects()
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
