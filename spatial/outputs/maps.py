"""The interactive map: folium layers, styles, popups, legend and basemaps.

Every text that reaches the page is HTML-escaped here and travels as data in a
:class:`~spatial.outputs.map_data.DataLayer` (never through a folium template: branca
compiles rendered scripts again as Jinja, see :mod:`spatial.outputs.map_data`). Overlays are
shifted to GCJ-02 only when the chosen basemap is a GCJ-02 tile service; the stored data never
changes.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry
from branca.element import MacroElement
from jinja2 import Template

from spatial.crs import frame_to_gcj02, gcj02_to_wgs84, wgs84_to_gcj02
from spatial.i18n import fmt_areas, t
from spatial.layers import (
    CONTROL_LEVEL_LABELS,
    QUALITY_LABELS,
    READINESS,
    STATUS_COLOURS,
    STATUS_LABELS,
    ControlLevel,
    Quality,
    Status,
    label,
)
from spatial.outputs.map_assets import STATIC_URL, use_local_assets
from spatial.outputs.map_data import (
    CompactLayer,
    DataLayer,
    ShownProjects,
    TiledProjects,
    VerbatimScript,
    coded,
    encode_shapes,
    js_json_literal,
    point_radius,
    text_column,
)
from spatial.outputs.vector_tiles import (
    LAYER,
    MAX_DATA_ZOOM,
    STATUSES,
    MapTiles,
    embedded_tiles,
    visible_bits,
)
from spatial.rows import located, rows_where

SHENZHEN_CENTRE = (22.64, 114.10)
OPENING_ZOOM = 10  # the whole city
DETAIL_ZOOMS = 3  # projects are drawn without visible loss up to 3 zooms past the opening
DISPLAY_SIMPLIFY_DEG = 0.0002  # ~20 m: district outlines for display only
SITE_COLOURS = {"transferred": "#16a085", "preparing": "#d4ac0d", "reserve": "#5d6d7e"}


def _mercator(lat: float) -> float:
    """Web Mercator ordinate of a latitude, in radians."""
    sin = math.sin(math.radians(lat))
    return math.log((1 + sin) / (1 - sin)) / 2


@dataclass(frozen=True)
class MapView:
    """The extent a user was looking at, in WGS84 lon-lat (what the offline map opens on)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90):
            raise ValueError(
                f"视图范围无效（须 西<东、南<北，经纬度）/ invalid view W,S,E,N = {self.west}, "
                f"{self.south}, {self.east}, {self.north} (need W < E, S < N, lon-lat degrees)"
            )

    @classmethod
    def from_leaflet(cls, bounds: dict | None, gcj02: bool = False) -> MapView | None:
        """From Leaflet's ``{"_southWest": {"lat", "lng"}, "_northEast": …}`` as streamlit-folium
        returns it; None when absent or degenerate. ``gcj02``: the map was drawn on GCJ-02 tiles
        (overlays shifted), so the corners are turned back into WGS84."""
        try:
            sw, ne = bounds["_southWest"], bounds["_northEast"]
            lon = np.array([float(sw["lng"]), float(ne["lng"])])
            lat = np.array([float(sw["lat"]), float(ne["lat"])])
        except (KeyError, TypeError, ValueError):
            return None
        if gcj02:
            lon, lat = gcj02_to_wgs84(lon, lat)
        try:
            return cls(float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))
        except ValueError:
            return None

    @classmethod
    def parse(cls, text: str) -> MapView:
        """From ``"W,S,E,N"`` (the command line's ``--bbox``)."""
        message = (
            f"视图范围应为 W,S,E,N 四个经纬度数（西,南,东,北），例如 113.78,22.62,113.95,22.78 / "
            f"the view must be W,S,E,N in degrees, e.g. 113.78,22.62,113.95,22.78: {text!r}"
        )
        try:
            values = [float(p) for p in text.replace(" ", "").split(",")]
        except ValueError:
            raise ValueError(message) from None
        if len(values) != 4:
            raise ValueError(message)
        return cls(*values)

    def describe(self) -> str:
        return f"{self.west:.4f},{self.south:.4f},{self.east:.4f},{self.north:.4f}"

    @classmethod
    def around(cls, geometries: gpd.GeoSeries, margin: float = 0.01) -> MapView | None:
        """The extent of ``geometries`` (lon-lat) with ``margin`` degrees around it (a single
        point gets a neighbourhood); None when none is located."""
        located = geometries[geometries.notna() & ~geometries.is_empty]
        if located.empty:
            return None
        west, south, east, north = located.total_bounds
        return cls(west - margin, south - margin, east + margin, north + margin)

    def shown_at(self, height_px: int) -> tuple[tuple[float, float], int]:
        """The centre (lat, lon) and the zoom of a Leaflet map ``height_px`` tall whose
        viewport is this extent (what it reported): the inverse of drawing it."""
        south, north = _mercator(self.south), _mercator(self.north)
        centre_lat = math.degrees(math.atan(math.sinh((south + north) / 2)))
        zoom = math.log2(height_px / 256 / ((north - south) / (2 * math.pi)))
        return (centre_lat, (self.west + self.east) / 2), round(zoom)

    def centre_and_zoom(
        self, width_px: int = 900, height_px: int = 640, max_zoom: int = 16
    ) -> tuple[tuple[float, float], int]:
        """The centre (lat, lon) and the largest whole Web Mercator zoom at which this extent
        fits a map of ``width_px`` × ``height_px``."""

        lon_share = (self.east - self.west) / 360
        lat_share = (_mercator(self.north) - _mercator(self.south)) / (2 * math.pi)
        zoom = min(math.log2(width_px / 256 / lon_share), math.log2(height_px / 256 / lat_share))
        centre = ((self.south + self.north) / 2, (self.west + self.east) / 2)
        return centre, max(1, min(max_zoom, math.floor(zoom)))


@dataclass(frozen=True)
class Basemap:
    """A tile basemap. ``gcj02`` tiles make the overlays shift for display."""

    key: str
    url: str | None = None
    attribution: str = ""
    subdomains: str = "abc"
    gcj02: bool = False
    max_zoom: int = 18

    @staticmethod
    def vector_only() -> Basemap:
        return Basemap("none")

    @staticmethod
    def openstreetmap() -> Basemap:
        return Basemap(
            "osm",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "© OpenStreetMap contributors",
            subdomains="abc",
            max_zoom=19,
        )

    @staticmethod
    def tianditu(key: str) -> Basemap:
        key = key.strip()
        if not TIANDITU_KEY.fullmatch(key):
            raise ValueError(
                "天地图密钥应为 32 位十六进制字符（在天地图控制台“应用管理”中复制）/ a Tianditu "
                "key is 32 hexadecimal characters (copy it from the Tianditu console)"
            )
        return Basemap(
            "tianditu",
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            f"&TILECOL={{x}}&tk={key}",
            "© 天地图 Tianditu",
            subdomains="01234567",
        )

    @staticmethod
    def amap() -> Basemap:
        return Basemap(
            "amap",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "© 高德 AutoNavi",
            subdomains="1234",
            gcj02=True,
        )

    @staticmethod
    def custom(url: str, gcj02: bool = False, attribution: str = "intranet tiles") -> Basemap:
        """An intranet tile service: ``http(s)://host/…/{z}/{x}/{y}.png``. The URL reaches the
        page's script, so it is held to a plain URL with Leaflet's placeholders only."""
        return Basemap("custom", check_tile_url(url), attribution, subdomains="abc", gcj02=gcj02)


TIANDITU_KEY = re.compile(r"[0-9a-fA-F]{32}")
TILE_PLACEHOLDERS = re.compile(r"\{(?:s|x|y|z|r|-y)\}")
TILE_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~\-/=&?,;:@+!$*%]*)?")


def check_tile_url(url: str) -> str:
    """``url`` if it is a plain http(s) tile URL with only ``{s} {x} {y} {z} {r} {-y}``
    placeholders; otherwise ValueError (in Chinese and English) saying what is allowed."""
    url = url.strip()
    if not TILE_URL.fullmatch(TILE_PLACEHOLDERS.sub("0", url)) or "{z}" not in url:
        raise ValueError(
            "瓦片地址应为 http(s)://主机/…/{z}/{x}/{y}.png 形式，只可含 {s}{x}{y}{z}{r} 占位符，"
            "不含空格、引号、尖括号或其他花括号 / a tile URL looks like "
            "http(s)://host/…/{z}/{x}/{y}.png, with only the {s} {x} {y} {z} {r} placeholders "
            "and no spaces, quotes, angle brackets or other braces"
        )
    return url


def esc(value) -> str:
    """Escape any value for HTML (None/NaN → '—')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return html.escape(str(value), quote=True)


def _rows_html(rows: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="sz-popup">{cells}</table>'


def _num(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):,.{digits}f}"


def project_popup_html(p: pd.Series, lang: str, district_names: dict, park_names: dict) -> str:
    """One project's popup: the rows :func:`popup_columns` gives, as an escaped table."""
    columns = popup_columns(p.to_frame().T, lang, district_names, park_names)
    return _rows_html([(shown, columns[key].iloc[0]) for shown, key in popup_rows(columns, lang)])


def project_tooltips(projects: pd.DataFrame, lang: str) -> list[str]:
    """One compact line pair per project: the name; the status and floor area (escaped)."""
    name = projects["name_zh"] if lang == "zh" else projects["name_en"].fillna(projects["name_zh"])
    status = projects["status"].map(lambda v: label(STATUS_LABELS, v, lang))
    area = pd.to_numeric(projects["floor_area_m2"], errors="coerce")
    return [
        f'<b style="white-space:normal">{esc(n)}</b><br>{esc(s)} · {esc(a)}'
        for n, s, a in zip(name, status, fmt_areas(area.to_numpy(dtype=float), lang), strict=True)
    ]


class Legend(VerbatimScript, MacroElement):
    """A Leaflet control with the legend. The HTML is built escaped in Python and passed as a
    script-safe JSON literal, so it works both inside streamlit-folium and in a standalone
    page."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'sz-legend');
                div.innerHTML = JSON.parse({{ this.html_literal }});
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str):
        super().__init__()
        self._name = "Legend"
        self.html_literal = js_json_literal(legend_html)


class MapTools(VerbatimScript, MacroElement):
    """What a planner works with on any map: a metric-only scale bar, a coordinate readout
    (labelled with the frame the map is drawn in) and a full-screen button (the browser's
    Fullscreen API; where a page refuses it, the map fills its frame instead). The texts are
    ours, passed as a script-safe JSON literal and set as text, never as HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var text = JSON.parse({{ this.text_literal }});
            L.control.scale({metric: true, imperial: false, position: 'bottomleft'}).addTo(map);
            var readout = L.control({position: 'bottomleft'});
            readout.onAdd = function() {
                var div = L.DomUtil.create('div', 'sz-readout');
                div.textContent = text.hint;
                map.on('mousemove', function(e) {
                    div.textContent = text.frame + ' ' + e.latlng.lng.toFixed(5) + ', '
                        + e.latlng.lat.toFixed(5);
                });
                return div;
            };
            readout.addTo(map);
            var full = L.control({position: 'topleft'});
            full.onAdd = function() {
                var bar = L.DomUtil.create('div', 'leaflet-bar sz-fullscreen');
                var a = L.DomUtil.create('a', '', bar);
                a.href = '#'; a.title = text.fullscreen;
                var ns = 'http://www.w3.org/2000/svg';
                var svg = document.createElementNS(ns, 'svg');
                svg.setAttribute('viewBox', '0 0 16 16'); svg.setAttribute('width', '16');
                svg.setAttribute('height', '16'); svg.style.verticalAlign = 'middle';
                var path = document.createElementNS(ns, 'path');
                path.setAttribute('d', 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4');
                path.setAttribute('fill', 'none'); path.setAttribute('stroke', '#333');
                path.setAttribute('stroke-width', '2');
                svg.appendChild(path); a.appendChild(svg);
                a.setAttribute('role', 'button'); a.setAttribute('aria-label', text.fullscreen);
                var c = map.getContainer();
                function maximise() {
                    c.classList.toggle('sz-maximised'); map.invalidateSize();
                }
                L.DomEvent.on(a, 'click', function(e) {
                    L.DomEvent.stop(e);
                    if (document.fullscreenElement) { document.exitFullscreen(); return; }
                    if (c.classList.contains('sz-maximised') || !c.requestFullscreen) {
                        maximise(); return;
                    }
                    c.requestFullscreen().catch(maximise);
                });
                document.addEventListener('fullscreenchange', function() {
                    map.invalidateSize();
                });
                return bar;
            };
            full.addTo(map);
            var style = document.createElement('style');
            style.textContent = '.sz-readout{background:rgba(255,255,255,.85);padding:1px 6px;'
                + 'font:11px/1.6 sans-serif;border-radius:3px}'
                + '.sz-fullscreen a{font-size:18px;line-height:30px;text-decoration:none}'
                + '.sz-maximised{position:fixed!important;inset:0;width:auto!important;'
                + 'height:auto!important;z-index:10000}'
                + '.sz-label{background:none;border:none;box-shadow:none;color:#444;'
                + 'font:12px/1.2 sans-serif;text-shadow:0 0 3px #fff,0 0 3px #fff;'
                + 'white-space:nowrap;pointer-events:none}'
                + '.sz-label.missing{color:#8e44ad;font-style:italic}'
                + '.leaflet-tooltip{max-width:320px;white-space:normal}';
            document.head.appendChild(style);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str, gcj02: bool = False):
        super().__init__()
        self._name = "MapTools"
        self.text_literal = js_json_literal(
            {
                "frame": "GCJ-02" if gcj02 else "WGS84",
                "hint": t("map_readout_hint", lang),
                "fullscreen": t("map_fullscreen", lang),
            }
        )


class PlaceLabels(VerbatimScript, MacroElement):
    """Names written on the map (district labels), as text: each travels in a script-safe JSON
    literal and is set with ``textContent``, so no name is ever read as HTML or template."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var group = L.layerGroup();
            JSON.parse({{ this.labels_literal }}).forEach(function(p) {
                var marker = L.marker([p.lat, p.lng], {
                    icon: L.divIcon({className: 'sz-label' + (p.missing ? ' missing' : ''),
                                     html: '', iconSize: null}),
                    interactive: false, keyboard: false
                });
                marker.on('add', function() {
                    var el = marker.getElement();
                    el.textContent = p.text;
                    el.style.transform += ' translate(-50%, -50%)';
                });
                group.addLayer(marker);
            });
            group.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[dict]):
        super().__init__()
        self._name = "PlaceLabels"
        self.labels_literal = js_json_literal(labels)


def district_labels(
    districts: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, lang: str
) -> tuple[list[dict], list[str]]:
    """A label per district at a point inside it; a district with no public outline is
    labelled "outline missing" where its located projects are (or not at all), and named in
    the second list for the legend."""
    name_col = "name_zh" if lang == "zh" else "name_en"
    labels, missing = [], []
    drawn = districts[districts.geometry.notna() & ~districts.geometry.is_empty]
    points = drawn.geometry.representative_point()
    for name, point in zip(drawn[name_col], points, strict=True):
        labels.append({"lat": point.y, "lng": point.x, "text": str(name), "missing": False})
    for _, row in districts[~districts.index.isin(drawn.index)].iterrows():
        name = str(row[name_col])
        missing.append(name)
        located = projects[
            (projects["district_id"] == row["district_id"]) & projects.geometry.notna()
        ]
        if not located.empty:
            centre = located.geometry.union_all().centroid
            labels.append(
                {
                    "lat": centre.y,
                    "lng": centre.x,
                    "text": t("outline_missing", lang, name=name),
                    "missing": True,
                }
            )
    return labels, missing


def legend_html(
    lang: str, missing_outlines: list[str] | None = None, with_sites: bool = False
) -> str:
    """The legend; ``missing_outlines``: districts drawn without a boundary (none is public);
    ``with_sites``: the sites layer's readiness colours too."""
    items = []
    for status in Status:
        items.append(
            f'<div><span class="dot" style="background:{STATUS_COLOURS[status]}"></span>'
            f"{esc(label(STATUS_LABELS, status, lang))}</div>"
        )
    items.append(f'<div class="note">{esc(t("legend_size", lang))}</div>')
    items.append(
        '<div><span class="box" style="border:2px solid #c0392b;background:rgba(192,57,43,.18)">'
        f"</span>{esc(t('layer_control_level1', lang))}</div>"
    )
    items.append(
        '<div><span class="box" style="border:2px dashed #e67e22;background:rgba(230,126,34,.10)">'
        f"</span>{esc(t('layer_control_level2', lang))}</div>"
    )
    items.append(
        '<div><span class="dot" style="background:#fff;border:2px dashed #6c3483"></span>'
        f"{esc(t('layer_parks', lang))}</div>"
    )
    if with_sites:
        for code, colour in SITE_COLOURS.items():
            items.append(
                f'<div><span class="box" style="border:1px solid {colour};background:{colour}">'
                f"</span>{esc(t('site', lang))} · {esc(label(READINESS, code, lang))}</div>"
            )
    for name in missing_outlines or []:
        items.append(f'<div class="note">{esc(t("outline_missing", lang, name=name))}</div>')
    style = (
        "<style>.sz-legend{background:rgba(255,255,255,.92);padding:6px 8px;font:12px/1.5 "
        "sans-serif;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3)}"
        ".sz-legend .dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
        "margin-right:6px;vertical-align:middle}.sz-legend .box{display:inline-block;width:14px;"
        "height:10px;margin-right:6px;vertical-align:middle}.sz-legend .note{color:#555}"
        ".sz-popup th{text-align:left;padding-right:8px;color:#555;font-weight:normal;"
        "white-space:nowrap;vertical-align:top}.sz-popup td{max-width:260px;"
        "overflow-wrap:anywhere}"
        "</style>"
    )
    return style + f"<b>{esc(t('legend', lang))}</b>" + "".join(items)


def _data_layer(
    frame: gpd.GeoDataFrame,
    name: str,
    style_columns: list[str],
    id_column: str | None = None,
) -> DataLayer:
    """One overlay: geometry, the escaped tooltip and popup, Leaflet style options per feature
    (``style_*`` columns) — carried as data (:mod:`spatial.outputs.map_data`), never as template."""
    styles = frame[style_columns].rename(columns=lambda c: c.removeprefix("style_"))
    style_records = styles.to_dict("records")
    ids = frame[id_column].tolist() if id_column else [None] * len(frame)
    features = []
    for geom, tooltip, popup, style, fid in zip(
        frame.geometry.to_numpy(),
        frame["tooltip_html"],
        frame["popup_html"],
        style_records,
        ids,
        strict=True,
    ):
        properties = {"_tooltip": tooltip, "_popup": popup, "_style": style}
        if id_column:
            properties[id_column] = fid
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": properties,
            }
        )
    return DataLayer(features, name)


@dataclass(frozen=True)
class _Drawing:
    """What every part of one map needs: the map, its language, its basemap (and so whether
    overlays shift to GCJ-02) and the names of districts and parks in that language."""

    map: folium.Map
    lang: str
    basemap: Basemap
    district_names: dict
    park_names: dict
    detail_zoom: float = OPENING_ZOOM + DETAIL_ZOOMS
    shown_apart: bool = False  # a tiled layer is told which projects it shows apart

    @property
    def name_col(self) -> str:
        return "name_zh" if self.lang == "zh" else "name_en"

    def shift(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """A layer in the frame the map is drawn in (GCJ-02 on GCJ-02 tiles)."""
        return frame_to_gcj02(frame) if self.basemap.gcj02 else frame


def _add_districts(districts: gpd.GeoDataFrame, dr: _Drawing) -> None:
    """The districts: the always-there vector basemap."""
    d = districts[districts.geometry.notna()].copy()
    d["geometry"] = d.geometry.simplify(DISPLAY_SIMPLIFY_DEG, preserve_topology=True)
    d = dr.shift(d)
    d["tooltip_html"] = d[dr.name_col].map(esc)
    d["popup_html"] = [
        _rows_html(
            [
                (t("district", dr.lang), r[dr.name_col]),
                (t("quality", dr.lang), label(QUALITY_LABELS, r["quality"], dr.lang)),
                (t("source", dr.lang), r["source"]),
            ]
        )
        for _, r in d.iterrows()
    ]
    d["style_color"] = "#7f8c8d"
    d["style_weight"] = 1.2
    d["style_fillColor"] = "#f3efe6" if not dr.basemap.url else "#ffffff"
    d["style_fillOpacity"] = 0.85 if not dr.basemap.url else 0.05
    _data_layer(
        d,
        t("layer_districts", dr.lang),
        ["style_color", "style_weight", "style_fillColor", "style_fillOpacity"],
    ).add_to(dr.map)


def _add_control_lines(control_lines: gpd.GeoDataFrame, dr: _Drawing) -> None:
    """Control lines: level 1 and level 2 styled apart, each its own toggle."""
    styles = {
        ControlLevel.LEVEL1: ("#c0392b", 0.18, None, "layer_control_level1"),
        ControlLevel.LEVEL2: ("#e67e22", 0.10, "6 4", "layer_control_level2"),
    }
    for level, (colour, opacity, dash, key) in styles.items():
        c = control_lines[(control_lines["level"] == level.value) & control_lines.geometry.notna()]
        if c.empty:
            continue
        c = dr.shift(c.copy())
        illustrative = (c["quality"] == Quality.ILLUSTRATIVE.value).any()
        c["tooltip_html"] = [
            esc(f"{label(CONTROL_LEVEL_LABELS, level, dr.lang)} {lid}") for lid in c["line_id"]
        ]
        c["popup_html"] = [
            _rows_html(
                [
                    ("ID", r["line_id"]),
                    (t("control_level", dr.lang), label(CONTROL_LEVEL_LABELS, r["level"], dr.lang)),
                    (
                        t("district", dr.lang),
                        dr.district_names.get(r["district_id"], r["district_id"]),
                    ),
                    (t("area_m2", dr.lang), _num(r.get("area_m2"))),
                    (t("quality", dr.lang), label(QUALITY_LABELS, r["quality"], dr.lang)),
                    (t("source", dr.lang), r["source"]),
                ]
            )
            for _, r in c.iterrows()
        ]
        c["style_color"] = colour
        c["style_weight"] = 1.5
        c["style_fillColor"] = colour
        c["style_fillOpacity"] = opacity
        cols = ["style_color", "style_weight", "style_fillColor", "style_fillOpacity"]
        if dash:
            c["style_dashArray"] = dash
            cols.append("style_dashArray")
        name = (
            t(key, dr.lang)
            if illustrative
            else t(key, dr.lang).replace("（示意）", "").replace(" (illustrative)", "")
        )
        _data_layer(c, name, cols).add_to(dr.map)


def _add_parks(parks: gpd.GeoDataFrame, dr: _Drawing) -> None:
    """The parks: approximate locations (or polygons once uploaded)."""
    pk = parks[parks.geometry.notna()].copy()
    if not pk.empty:
        pk = dr.shift(pk)
        pk["tooltip_html"] = pk[dr.name_col].map(esc)
        pk["popup_html"] = [
            _rows_html(
                [
                    (t("park", dr.lang), r[dr.name_col]),
                    ("ID", r["park_id"]),
                    (t("name_status", dr.lang), t(f"name_{r['name_status']}", dr.lang)),
                    (
                        t("district", dr.lang),
                        "、".join(
                            dr.district_names.get(x, x) for x in str(r["district_ids"]).split(";")
                        ),
                    ),
                    (t("industries", dr.lang), r.get("lead_clusters") or "—"),
                    (
                        t("location_quality", dr.lang),
                        label(QUALITY_LABELS, r["location_quality"], dr.lang),
                    ),
                    ("", r.get("location_note")),
                    (t("source", dr.lang), r.get("source")),
                ]
            )
            for _, r in pk.iterrows()
        ]
        pk["style_color"] = "#6c3483"
        pk["style_weight"] = 2
        pk["style_dashArray"] = "4 3"
        pk["style_fillColor"] = "#ffffff"
        pk["style_fillOpacity"] = 0.15
        pk["style_radius"] = 11
        pk["style_fill"] = True
        _data_layer(
            pk,
            t("layer_parks", dr.lang),
            [
                "style_color",
                "style_weight",
                "style_dashArray",
                "style_fill",
                "style_fillColor",
                "style_fillOpacity",
                "style_radius",
            ],
            id_column="park_id",
        ).add_to(dr.map)


def _add_projects(
    projects: gpd.GeoDataFrame,
    dr: _Drawing,
    popups: bool,
    selected: str | None,
    tiles: MapTiles | None = None,
) -> None:
    """The projects: sized by floor area, coloured by status, ``selected`` highlighted; sent
    as a compact layer (:class:`~spatial.outputs.map_data.CompactLayer`) with shapes drawn
    for ``dr.detail_zoom`` — or, with ``tiles``, drawn from vector tiles
    (:class:`~spatial.outputs.map_data.TiledProjects`) with the selected one on top."""
    pr = located(projects)
    if pr.empty:
        return
    pr = dr.shift(pr)
    name = t("layer_projects", dr.lang)
    if tiles is None:
        CompactLayer(project_payload(pr, dr, popups, selected), name).add_to(dr.map)
        return
    TiledProjects(tiled_payload(pr, dr, tiles, dr.shown_apart), name).add_to(dr.map)
    chosen = pr[pr["project_id"] == selected]
    if not chosen.empty:
        CompactLayer(project_payload(chosen, dr, popups, selected), name + " ★").add_to(dr.map)


def tiled_payload(
    pr: gpd.GeoDataFrame, dr: _Drawing, tiles: MapTiles, shown_apart: bool = False
) -> dict:
    """What the tiled layer needs besides the tiles: which features are shown (None with
    ``shown_apart``: all, until :func:`shown_projects` says which), the colours and the
    status labels (no project text: that is in the tiles). ``sources``: each archive, where
    it is read (``url``) or its tiles embedded (``tiles``), and where its features' bits start
    (``offset``)."""
    urls = tiles.urls()
    sources = [
        {"url": None if urls is None else urls[k],
         "tiles": embedded_tiles(archive.path, tiles.bounds) if urls is None else None,
         "offset": offset}
        for k, (archive, offset) in enumerate(zip(tiles.archives, tiles.offsets, strict=True))
    ]  # fmt: skip
    return {
        "layer": LAYER,
        "sources": sources,
        "visible": None if shown_apart else visible_bits(tiles, pr["project_id"].astype(str)),
        "palette": [*STATUS_COLOURS.values(), "#999999"],
        "status_labels": [label(STATUS_LABELS, s, dr.lang) for s in STATUSES]
        + [label(STATUS_LABELS, None, dr.lang)],
        "lang": dr.lang,
        "max_data_zoom": MAX_DATA_ZOOM,
    }


def shown_projects(projects: gpd.GeoDataFrame, tiles: MapTiles) -> folium.FeatureGroup:
    """Which of the tiles' projects are ``projects`` (the located ones), as a layer of its own
    for a map built with ``shown_apart``: handed to streamlit-folium as the layer to add, it is
    replaced in the open map when the filters change (ShownProjects), so the map itself — and
    with it the decoded tiles and the user's view — stays as it is."""
    ids = located(projects)["project_id"]
    group = folium.FeatureGroup(name="shown projects", control=False)
    ShownProjects({"visible": visible_bits(tiles, ids)}).add_to(group)
    return group


def project_at(
    projects: gpd.GeoDataFrame, lat: float, lon: float, zoom: float, gcj02: bool = False
) -> str | None:
    """The project a click at (``lat``, ``lon``) in the display frame falls on, as the tiled
    layer draws it: a shape containing the point, else the nearest point or line within its
    drawn radius plus a few pixels at ``zoom``; None if none."""
    pr = located(projects)
    if pr.empty:
        return None
    geoms = (frame_to_gcj02(pr) if gcj02 else pr).geometry.to_numpy()
    here = shapely.points(lon, lat)
    tree = shapely.STRtree(geoms)
    inside = tree.query(here, predicate="intersects")
    polygons = inside[np.isin(shapely.get_type_id(geoms[inside]), (3, 6))]  # (multi)polygons
    if len(polygons):
        smallest = polygons[np.argmin(shapely.area(geoms[polygons]))]
        return str(pr["project_id"].iloc[smallest])
    reach = (24.0 + 4.0) * pixel_degrees(zoom)  # the largest drawn radius, and a margin
    near, dist = tree.query_nearest(here, max_distance=reach, return_distance=True)
    if not len(near):
        return None
    radius = point_radius(pr["floor_area_m2"].iloc[near]) + 4.0
    hit = dist <= radius * pixel_degrees(zoom)
    return str(pr["project_id"].iloc[near[hit][0]]) if hit.any() else None


def projects_in_view(projects: gpd.GeoDataFrame, view: MapView | None) -> gpd.GeoDataFrame:
    """The located projects that meet ``view`` (WGS84, as :meth:`MapView.from_leaflet` gives
    it; all located ones when None)."""
    shown = located(projects)
    if view is None:
        return shown
    west, south, east, north = view.west, view.south, view.east, view.north
    b = shown.geometry.bounds
    meets = (b["maxx"] >= west) & (b["minx"] <= east) & (b["maxy"] >= south) & (b["miny"] <= north)
    return rows_where(shown, meets.to_numpy())


def pixel_degrees(zoom: float) -> float:
    """The width of one web-map pixel at ``zoom`` in degrees of longitude (a north-south
    distance looks ~8 % longer on screen at Shenzhen's latitude)."""
    return 360.0 / (256 * 2**zoom)


def project_payload(pr: gpd.GeoDataFrame, dr: _Drawing, popups: bool, selected) -> dict:
    """The projects as columns: shapes, the tooltip's and the popup's text, the colours."""
    lang = dr.lang
    shapes, scale, origin = encode_shapes(pr.geometry.to_numpy(), dr.detail_zoom)
    statuses = [s.value for s in STATUS_COLOURS]
    colour = pd.Categorical(pr["status"], categories=statuses).codes
    palette = [*STATUS_COLOURS.values(), "#999999"]
    columns = popup_columns(pr, lang, dr.district_names, dr.park_names)
    rows = [
        ("ID" if key == "ID" else t(key, lang), key) for key in columns if key not in TOOLTIP[2:]
    ]
    rows = rows if popups else []
    ids = pr["project_id"].astype(str).tolist()
    text = {key: text_column(columns[key], ids) for key in columns if popups or key in TOOLTIP}
    return {
        "id_key": "project_id",
        "ids": ids,
        "selected": selected,
        "shapes": shapes,
        "scale": scale,
        "origin": origin,
        "text": text,
        "tooltip": list(TOOLTIP),
        "popup": rows,
        "palette": palette,
        "colour": coded(np.where(colour < 0, len(palette) - 1, colour).tolist()),
        "radius": coded(np.round(point_radius(pr["floor_area_m2"]), 1).tolist()),
        "style": {"color": "#333333", "weight": 1, "fill": True, "fillColor": "#999999",
                  "fillOpacity": 0.85, "radius": 4.0},
    }  # fmt: skip


TOOLTIP = ("name", "status", "tooltip_area")  # the tooltip: name; status · area


def popup_rows(columns: dict, lang: str) -> list[tuple[str, str]]:
    """(label, column key) of each popup row, in order."""
    return [("ID" if k == "ID" else t(k, lang), k) for k in columns if k not in TOOLTIP[2:]]


def popup_columns(p: pd.DataFrame, lang: str, district_names: dict, park_names: dict) -> dict:
    """Per popup row (keyed by its label's key), each project's display text — the same text
    :func:`project_popup_html` shows for one project ("—" where missing)."""

    def shown(values) -> pd.Series:
        s = pd.Series(values, index=p.index, dtype=object)
        return s.where(s.notna(), "—").map(str)

    def number(col: str, digits: int = 0) -> pd.Series:
        v = pd.to_numeric(p[col], errors="coerce") if col in p else pd.Series(np.nan, p.index)
        return v.map(lambda x: "—" if math.isnan(x) else f"{x:,.{digits}f}")

    def labelled(col: str, labels: dict) -> pd.Series:
        v = p[col] if col in p else pd.Series(None, index=p.index, dtype=object)
        return v.map(lambda x: label(labels, x, lang))

    get = lambda col: p[col] if col in p else pd.Series(None, index=p.index, dtype=object)  # noqa: E731
    name = get("name_zh") if lang == "zh" else get("name_en").fillna(get("name_zh"))
    park = get("park_id")
    level = get("control_level")
    return {
        "name": shown(name),
        "ID": shown(get("project_id")),
        "district": shown(get("district_id").map(lambda d: district_names.get(d, d))),
        "park": shown(park.map(lambda x: park_names.get(x, "—") if x else "—")),
        "status": shown(labelled("status", STATUS_LABELS)),
        "floor_area": number("floor_area_m2"),
        "factory_floor_area": number("factory_floor_area_m2"),
        "land_area": number("land_area_m2"),
        "plot_ratio": number("plot_ratio", 2),
        "start_date": shown(get("start_date")),
        "completion_date": shown(get("completion_date")),
        "delivery_date": shown(get("delivery_date")),
        "developer": shown(get("developer")),
        "industries": shown(get("industries")),
        "control_level": shown(level.map(
            lambda x: label(CONTROL_LEVEL_LABELS, x, lang) if x not in (None, "none") else "—"
        )),
        "location_quality": shown(labelled("location_quality", QUALITY_LABELS)),
        "source": shown(get("source")),
        "tooltip_area": shown(
            pd.Series(fmt_areas(pd.to_numeric(get("floor_area_m2"), errors="coerce")
                                .to_numpy(dtype=float), lang), index=p.index)
        ),
    }  # fmt: skip


def _add_sites(sites: gpd.GeoDataFrame | None, dr: _Drawing) -> None:
    """The sites (地块), coloured by readiness; the capacity and, on the site finder, the rank
    and its reason in the tooltip. Named 示意 while they are the illustrative set."""
    if sites is None or sites.empty:
        return
    shown = dr.shift(sites[sites.geometry.notna()].copy())
    illustrative = (shown["quality"] == Quality.ILLUSTRATIVE.value).any()
    ready = shown["readiness"].map(lambda v: label(READINESS, v, dr.lang) if v else "—")
    capacity = (
        shown["capacity_m2"] if "capacity_m2" in shown else pd.Series(np.nan, index=shown.index)
    )
    head = [
        f"#{int(r)} " if r == r else ""
        for r in shown.get("rank", pd.Series(np.nan, index=shown.index))
    ]
    reasons = (
        shown["reason_zh" if dr.lang == "zh" else "reason_en"] if "reason_en" in shown else None
    )
    shown["tooltip_html"] = [
        esc(f"{h}{t('site', dr.lang)} {sid} · {r} · {t('capacity_m2', dr.lang)} {_num(c)}")
        + ("" if reasons is None else "<br>" + esc(reasons.loc[i]))
        for i, h, sid, r, c in zip(
            shown.index, head, shown["site_id"], ready, capacity, strict=True
        )
    ]
    fields = [("site_id", "ID"), ("name", t("name", dr.lang)), ("land_use", t("land_use", dr.lang)),
              ("land_area_m2", t("land_area_m2", dr.lang)),
              ("existing_floor_area_m2", t("existing_floor_area_m2", dr.lang)),
              ("attainable_plot_ratio", t("attainable_plot_ratio", dr.lang)),
              ("ratio_source", t("source", dr.lang)), ("capacity_m2", t("capacity_m2", dr.lang)),
              ("owner_type", t("owner_type", dr.lang))]  # fmt: skip
    shown["popup_html"] = [
        _rows_html(
            [
                (head_, _num(r.get(col)) if col.endswith("_m2") else r.get(col))
                for col, head_ in fields
                if col in r
            ]  # fmt: skip
            + [
                (t("readiness", dr.lang), label(READINESS, r["readiness"], dr.lang)),
                (t("district", dr.lang), dr.district_names.get(r["district_id"], r["district_id"])),
                (t("quality", dr.lang), label(QUALITY_LABELS, r["quality"], dr.lang)),
            ]
        )
        for _, r in shown.iterrows()
    ]
    shown["style_color"] = shown["readiness"].map(SITE_COLOURS).fillna("#5d6d7e")
    shown["style_weight"] = 1.0
    shown["style_fillColor"] = shown["style_color"]
    shown["style_fillOpacity"] = 0.45
    name = t("layer_sites_illustrative" if illustrative else "layer_sites", dr.lang)
    cols = ["style_color", "style_weight", "style_fillColor", "style_fillOpacity"]
    _data_layer(shown, name, cols, "site_id").add_to(dr.map)


def _add_labels(districts: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, dr: _Drawing) -> list:
    """District labels; returns the districts drawn without an outline (for the legend)."""
    labels, missing = district_labels(districts, projects, dr.lang)
    if dr.basemap.gcj02 and labels:
        lon, lat = wgs84_to_gcj02(
            np.array([p["lng"] for p in labels]), np.array([p["lat"] for p in labels])
        )
        labels = [
            p | {"lng": float(x), "lat": float(y)} for p, x, y in zip(labels, lon, lat, strict=True)
        ]
    PlaceLabels(labels).add_to(dr.map)
    return missing


def build_map(
    *,
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    lang: str = "zh",
    basemap: Basemap | None = None,
    asset_mode: str = "static",
    asset_base_url: str = STATIC_URL,
    height: int | str = 640,
    view: MapView | None = None,
    popups: bool = True,
    selected: str | None = None,
    opening: tuple[tuple[float, float], int] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    detail_zoom: float | None = None,
    tiles: MapTiles | None = None,
    shown_apart: bool = False,
) -> folium.Map:
    """The product map with districts (labelled), parks, control lines (一级/二级) and projects;
    opened on ``view`` when given (in the display frame: shifted like the overlays on GCJ-02
    tiles). ``popups=False``: a project shows a compact tooltip only, its details being shown
    beside the map (the app); ``selected``: the project drawn highlighted; ``opening``: the
    ((lat, lon), zoom) the map opens on, in the display frame (default: the whole city);
    ``sites``: the sites layer (地块) with their capacity, drawn under the parks;
    ``detail_zoom``: the zoom up to which the projects' shapes show no loss (simplified and
    rounded to half a pixel there; default: three zooms past the opening); ``tiles``: the
    projects drawn from vector tiles (:class:`MapTiles`, for large layers) instead, with
    ``shown_apart`` told which of them to show by :func:`shown_projects` (the app)."""
    basemap = basemap or Basemap.vector_only()
    centre, zoom = opening or (SHENZHEN_CENTRE, OPENING_ZOOM)
    m = folium.Map(
        location=[float(centre[0]), float(centre[1])],
        zoom_start=int(zoom),
        tiles=None,
        control_scale=False,  # MapTools draws a metric-only one
        prefer_canvas=False,
        height=height,
    )
    use_local_assets(m, asset_mode, asset_base_url, tiles=tiles is not None)
    if basemap.url:
        folium.TileLayer(
            tiles=basemap.url,
            attr=basemap.attribution,
            name=t(f"basemap_{basemap.key}", lang),
            subdomains=basemap.subdomains,
            max_zoom=basemap.max_zoom,
            overlay=False,
        ).add_to(m)
    name_col = "name_zh" if lang == "zh" else "name_en"
    dr = _Drawing(
        m,
        lang,
        basemap,
        dict(zip(districts["district_id"], districts[name_col], strict=True)),
        dict(zip(parks["park_id"], parks[name_col], strict=True)),
        detail_zoom or int(zoom) + DETAIL_ZOOMS,
        shown_apart,
    )
    _add_districts(districts, dr)
    _add_control_lines(control_lines, dr)
    _add_sites(sites, dr)
    _add_parks(parks, dr)
    _add_projects(projects, dr, popups, selected, tiles)
    missing = _add_labels(districts, projects, dr)
    MapTools(lang, gcj02=basemap.gcj02).add_to(m)
    Legend(legend_html(lang, missing, with_sites=sites is not None and not sites.empty)).add_to(m)
    # beside the app's details panel the map is narrower: the layer list opens on hover there
    folium.LayerControl(collapsed=not popups).add_to(m)
    if view is not None:
        lon, lat = np.array([view.west, view.east]), np.array([view.south, view.north])
        if basemap.gcj02:
            lon, lat = wgs84_to_gcj02(lon, lat)
        m.fit_bounds([[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]])
    return m
