"""How uploaded text reaches a map: as data, never as template (issue 9).

folium renders each element's script from a Jinja template, and branca then wraps that output in
``Element(...)``, which compiles it *again* as a template. Any ``{{ … }}`` or ``{% … %}`` that
arrived in a project name would run on the server: a template injection. HTML escaping does not
help; the braces pass through it.

So no uploaded text is ever interpolated into a folium template here. A map's features travel as
one JavaScript string literal handed to ``JSON.parse`` (:func:`js_json_literal`) in which every
character that any interpreter on the way treats as syntax is written as a ``\\uXXXX`` escape:

* Jinja (whole grammar): every delimiter starts with ``{`` (``{{``, ``{%``, ``{#``, and their
  ``-``/``+`` whitespace-control forms); line statements and line comments are off in the
  environments folium and branca use. With no ``{`` in the literal, there is no template token.
  ``}``, ``%`` and ``#`` are escaped as well, so the literal is inert under any delimiters.
* HTML: no ``<``, ``>``, ``&``, so ``</script>`` or ``<!--`` cannot end or change the script.
* JavaScript: a double-quoted literal with ``"``, ``\\``, ``'``, U+2028/U+2029 and every control
  character escaped; JSON.parse gives back exactly the original strings.

:class:`DataLayer` also skips branca's second compilation altogether (its script is added to the
page verbatim), so a map never pays for compiling megabytes of data as a template either.
Tooltips and popups are bound by script from the feature's own (already HTML-escaped) text.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

# characters written as \uXXXX inside the literal (see the module docstring for why each)
_ESCAPED = "{}%#<>&'\u2028\u2029"
_ESCAPE_TABLE = {ord(c): f"\\u{ord(c):04x}" for c in _ESCAPED}


def js_json_literal(value) -> str:
    """``value`` as JSON inside a JavaScript string literal that holds no template, HTML or
    script syntax: ``JSON.parse(<this>)`` in the page returns ``value``.

    Refuses NaN and infinities (not JSON)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    literal = json.dumps(text, ensure_ascii=False)  # a JS string literal: "…", \-escaped
    return literal.translate(_ESCAPE_TABLE)


class Verbatim(Element):
    """Page text added as it is: never compiled as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class VerbatimScript:
    """Mixin for a folium element whose rendered script is added to the page as it is: branca
    would compile it again as a template (the injection this module exists to prevent)."""

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        assert isinstance(figure, Figure), "rendered inside a map's Figure"
        script = self._template.module.script(self, kwargs)
        figure.script.add_child(Verbatim(script), name=self.get_name())


# how a data layer's features are drawn: its own style, a circle for a point, the escaped
# tooltip and popup it carries (shared by DataLayer and CompactLayer; no data in it)
FEATURE_OPTIONS = """{
    style: function(f) { return f.properties._style; },
    pointToLayer: function(f, latlng) { return L.circleMarker(latlng, f.properties._style); },
    onEachFeature: function(f, layer) {
        if (f.properties._tooltip) { layer.bindTooltip(f.properties._tooltip, {sticky: true}); }
        if (f.properties._popup) {
            layer.bindPopup(f.properties._popup, {maxWidth: 360, maxHeight: 420});
        }
    }
}"""


class DataLayer(VerbatimScript, folium.map.Layer):
    """A GeoJSON overlay whose features — and every uploaded text in them — are data.

    Each feature's ``properties`` hold ``_style`` (Leaflet path options), ``_tooltip`` and
    ``_popup`` (HTML escaped by the caller) and, optionally, its id.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(JSON.parse({{ this.payload }}),
            {{ this.feature_options }});
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    feature_options = FEATURE_OPTIONS

    def __init__(self, features: Iterable[dict], name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "DataLayer"
        self.payload = js_json_literal({"type": "FeatureCollection", "features": list(features)})


# -- a compact layer: the same features, a tenth of the bytes ------------------------------------
# The projects can number 10⁴–10⁵. Sent as GeoJSON with a popup's HTML per feature they weigh
# more than geopandas' explore(); sent as columns they weigh a tenth of it. The page expands the
# columns into exactly the FeatureCollection a DataLayer carries (the same properties: _tooltip,
# _popup, _style, the id), so everything downstream — Leaflet, the tests — sees the same features.
#
# * shapes: simplified (topology preserved) to half a pixel at the zoom they are drawn for, then
#   rounded to integers of 1/scale degree, each ring written as deltas from its previous vertex;
# * text: each column written once per distinct value ("v") and a code per feature ("c");
# * tooltip and popup: built in the page from those columns, HTML-escaped there exactly as
#   Python's ``html.escape`` does (the Python expansion below is the reference, and a browser
#   test compares the two).

METRES_PER_DEGREE = 111_320.0
GEOMETRY_CODES = {"Point": 0, "LineString": 1, "Polygon": 2, "MultiPoint": 3,
                  "MultiLineString": 4, "MultiPolygon": 5}  # fmt: skip
GEOMETRY_TYPES = {code: kind for kind, code in GEOMETRY_CODES.items()}


def pixel_metres(zoom: float, lat: float = 22.6) -> float:
    """The ground size of one web-map pixel at ``zoom`` and latitude ``lat``."""
    return 156_543.03392 * math.cos(math.radians(lat)) / 2**zoom


def drawing_precision(zoom: float) -> tuple[float, int]:
    """(simplification tolerance in degrees, integer scale) that lose nothing visible at
    ``zoom``: half a pixel, and a unit no larger than that."""
    tolerance = pixel_metres(zoom) / 2 / METRES_PER_DEGREE
    return tolerance, 10 ** math.ceil(math.log10(1 / tolerance))


def encode_shapes(geoms: np.ndarray, zoom: float) -> tuple[list, int, list[int]]:
    """Each shape as ``[type code, parts…]`` of integer deltas (see above); the scale; the
    origin (in those integers) the first vertex of each part is written from — the layer's
    south-west corner: a Shenzhen vertex in 5 digits, not 8."""
    tolerance, scale = drawing_precision(zoom)
    lines = shapely.get_type_id(geoms) > 0
    simple = geoms.copy()
    simple[lines] = shapely.simplify(geoms[lines], tolerance, preserve_topology=True)
    bounds = shapely.bounds(simple)
    drawn = ~np.isnan(bounds[:, 0])
    corner = bounds[drawn, :2].min(axis=0) if drawn.any() else np.zeros(2)
    origin = np.floor(corner * scale).astype(np.int64)
    return [_encode(g, scale, origin) for g in simple], scale, origin.tolist()


def _ints(coords, scale: int, origin: np.ndarray) -> list[int]:
    xy = np.round(np.asarray(coords)[:, :2] * scale).astype(np.int64)
    xy[1:] -= xy[:-1].copy()
    xy[0] -= origin
    return xy.ravel().tolist()


def _encode(g, scale: int, origin: np.ndarray) -> list | None:
    if g is None or g.is_empty:
        return None
    kind = g.geom_type
    if kind == "Point":
        x, y = round(g.x * scale) - int(origin[0]), round(g.y * scale) - int(origin[1])
        return [0, int(x), int(y)]
    if kind in ("LineString", "MultiPoint"):
        return [GEOMETRY_CODES[kind], _ints(shapely.get_coordinates(g), scale, origin)]
    if kind == "Polygon":
        return [2, *(_ints(r.coords, scale, origin) for r in (g.exterior, *g.interiors))]
    if kind == "MultiLineString":
        return [4, *(_ints(part.coords, scale, origin) for part in g.geoms)]
    if kind == "MultiPolygon":
        return [5, *([_ints(r.coords, scale, origin) for r in (p.exterior, *p.interiors)]
                     for p in g.geoms)]  # fmt: skip
    return None  # a collection: not drawn


def decode_shape(code: list | None, scale: int, origin=(0, 0)) -> dict | None:
    """The GeoJSON geometry of one encoded shape (what the page's decoder gives)."""
    if code is None:
        return None

    def ring(a: list[int]) -> list[list[float]]:
        x, y = origin
        out = []
        for i in range(0, len(a), 2):
            x, y = x + a[i], y + a[i + 1]
            out.append([x / scale, y / scale])
        return out

    kind = GEOMETRY_TYPES[code[0]]
    if kind == "Point":
        x, y = code[1] + origin[0], code[2] + origin[1]
        return {"type": kind, "coordinates": [x / scale, y / scale]}
    if kind in ("LineString", "MultiPoint"):
        return {"type": kind, "coordinates": ring(code[1])}
    if kind in ("Polygon", "MultiLineString"):
        return {"type": kind, "coordinates": [ring(r) for r in code[1:]]}
    return {"type": kind, "coordinates": [[ring(r) for r in p] for p in code[1:]]}


def point_radius(area) -> np.ndarray:
    """A point's circle on the map, in pixels, from its floor area (m²): 4 px for none, growing
    with the square root, at most 24 px."""
    a = pd.to_numeric(pd.Series(area), errors="coerce").fillna(0.0).to_numpy()
    return np.clip(4.0 + np.sqrt(a) / 120.0, 4.0, 24.0)


# a text column's codes, written in as few bytes as they can be (see text_column): no quote,
# brace or angle bracket among them
CODE_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
_DIGIT_BYTES = np.frombuffer(CODE_DIGITS.encode("ascii"), dtype=np.uint8)


def coded(values) -> dict:
    """A column written once per distinct value: ``{"v": values, "c": codes}``, the codes in
    the fewest bytes that say them: none when each row has its own value in order (``"c"``
    absent), one number when every row has the same, else a string of ``"w"`` base-64 digits
    (:data:`CODE_DIGITS`) per row — a third of a list of numbers."""
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=False)
    column: dict = {"v": uniques.tolist()}
    if len(uniques) == len(codes):
        return column  # codes 0, 1, 2 …: the row's own value
    if len(uniques) == 1:
        return column | {"c": 0}
    width = 1
    while 64**width < len(uniques):
        width += 1
    places = 64 ** np.arange(width - 1, -1, -1)
    digits = _DIGIT_BYTES[(codes[:, None] // places) % 64]
    return column | {"w": width, "c": digits.tobytes().decode("ascii")}


def values_of(column: dict, rows: int) -> list:
    """Every row's value of a :func:`coded` column (what the page's ``pick`` decodes)."""
    values, codes = column["v"], column.get("c")
    if codes is None:
        return list(values)
    if isinstance(codes, int):
        return [values[codes]] * rows
    width = column["w"]
    value = {d: k for k, d in enumerate(CODE_DIGITS)}
    out = []
    for i in range(0, len(codes), width):
        k = 0
        for d in codes[i : i + width]:
            k = k * 64 + value[d]
        out.append(values[k])
    return out


def text_column(values, ids: list[str] | None = None) -> dict:
    """A column of display text (missing as "—"), :func:`coded`; a column that is the layer's
    ``ids`` (the popup's ID) is ``{"ids": 1}``: not written twice."""
    text = pd.Series(list(values), dtype=object).fillna("—").map(str)
    if ids is not None and len(text) == len(ids) and text.tolist() == list(ids):
        return {"ids": 1}
    return coded(text)


def text_of(column: dict, ids: list[str]) -> list[str]:
    """Every row's text of a :func:`text_column`."""
    return [str(i) for i in ids] if column.get("ids") else values_of(column, len(ids))


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def expand_compact(payload: dict) -> dict:
    """The FeatureCollection the page builds from a compact layer (the reference for the JS in
    :class:`CompactLayer`)."""
    text = {name: text_of(col, payload["ids"]) for name, col in payload["text"].items()}
    name, status, area = (text[c] for c in payload["tooltip"])
    palette, base = payload["palette"], payload["style"]
    rows = len(payload["ids"])
    colours, radii = values_of(payload["colour"], rows), values_of(payload["radius"], rows)
    features = []
    for i, fid in enumerate(payload["ids"]):
        chosen = fid == payload["selected"]
        style = dict(base) | {
            "color": "#000000" if chosen else base["color"],
            "weight": 4 if chosen else base["weight"],
            "fillColor": palette[colours[i]],
            "radius": radii[i] + (6.0 if chosen else 0.0),
        }
        popup = ""
        if payload["popup"]:
            cells = "".join(
                f"<tr><th>{_esc(label)}</th><td>{_esc(text[col][i])}</td></tr>"
                for label, col in payload["popup"]
            )
            popup = f'<table class="sz-popup">{cells}</table>'
        tooltip = (
            f'<b style="white-space:normal">{_esc(name[i])}</b><br>'
            f"{_esc(status[i])} · {_esc(area[i])}"
        )
        features.append({
            "type": "Feature",
            "geometry": decode_shape(payload["shapes"][i], payload["scale"], payload["origin"]),
            "properties": {"_tooltip": tooltip, "_popup": popup, "_style": style,
                           payload["id_key"]: fid},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


# the page's HTML escaping (as Python's ``html.escape`` does) and a project's tooltip, as
# ``expand_compact`` and ``maps.project_tooltips`` write them; shared by the compact and the
# tiled layer (our own text: no data in it)
PAGE_TEXT = """var esc = function(s) {
                return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
                    .replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
            };
            var projectTip = function(name, status, area) {
                return '<b style="white-space:normal">' + esc(name) + "</b><br>" + esc(status)
                    + " \u00b7 " + esc(area);
            };"""


class CompactLayer(VerbatimScript, folium.map.Layer):
    """A layer sent as columns (see above) and expanded in the page into the FeatureCollection
    a :class:`DataLayer` carries; every text stays data (one ``JSON.parse`` literal)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function() {
            var d = JSON.parse({{ this.payload }});
            {{ this.page_text }}
            var ring = function(a) {
                var out = [], x = d.origin[0], y = d.origin[1];
                for (var i = 0; i < a.length; i += 2) {
                    x += a[i]; y += a[i + 1]; out.push([x / d.scale, y / d.scale]);
                }
                return out;
            };
            var types = ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                         "MultiPolygon"];
            var shape = function(g) {
                if (g === null) { return null; }
                var kind = types[g[0]], parts = g.slice(1), c;
                if (g[0] === 0) {
                    c = [(g[1] + d.origin[0]) / d.scale, (g[2] + d.origin[1]) / d.scale];
                }
                else if (g[0] === 1 || g[0] === 3) { c = ring(g[1]); }
                else if (g[0] === 2 || g[0] === 4) { c = parts.map(ring); }
                else { c = parts.map(function(p) { return p.map(ring); }); }
                return {type: kind, coordinates: c};
            };
            var digit = {};
            {{ this.code_digits }}.split("").forEach(
                function(ch, k) { digit[ch] = k; });
            var pick = function(col, i) {
                var c = col.c;
                if (c === undefined) { return col.v[i]; }
                if (typeof c === "number") { return col.v[c]; }
                var k = 0;
                for (var j = i * col.w; j < (i + 1) * col.w; j++) { k = k * 64 + digit[c[j]]; }
                return col.v[k];
            };
            var text = function(name, i) {
                var col = d.text[name];
                return col.ids ? String(d.ids[i]) : pick(col, i);
            };
            var features = d.ids.map(function(fid, i) {
                var chosen = fid === d.selected, style = Object.assign({}, d.style);
                style.color = chosen ? "#000000" : d.style.color;
                style.weight = chosen ? 4 : d.style.weight;
                style.fillColor = d.palette[pick(d.colour, i)];
                style.radius = pick(d.radius, i) + (chosen ? 6.0 : 0.0);
                var popup = "";
                if (d.popup.length) {
                    popup = '<table class="sz-popup">' + d.popup.map(function(row) {
                        return "<tr><th>" + esc(row[0]) + "</th><td>" + esc(text(row[1], i))
                            + "</td></tr>";
                    }).join("") + "</table>";
                }
                var tip = projectTip(text(d.tooltip[0], i), text(d.tooltip[1], i),
                                     text(d.tooltip[2], i));
                var props = {_tooltip: tip, _popup: popup, _style: style};
                props[d.id_key] = fid;
                return {type: "Feature", geometry: shape(d.shapes[i]), properties: props};
            });
            return L.geoJSON({type: "FeatureCollection", features: features},
                {{ this.feature_options }});
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    feature_options = FEATURE_OPTIONS
    page_text = PAGE_TEXT
    code_digits = json.dumps(CODE_DIGITS)

    def __init__(self, payload: dict, name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "CompactLayer"
        self.payload = js_json_literal(payload | {"type": "CompactFeatures"})


# -- a tiled layer: the projects as vector tiles (issue 14) --------------------------------------
# Above spatial.outputs.vector_tiles.TILED_FROM located projects the page reads them from a
# PMTiles archive per district (served, or embedded as {"z/x/y": base64 MVT} in a standalone
# file) and draws them with protomaps-leaflet on canvas tiles, one canvas layer per archive, in a
# pane of their own above the other overlays (it lets the pointer through to them). The payload
# carries no project text: names and areas are in the tiles, and the tooltip is built and escaped
# here from a feature's properties, as ``project_tooltips`` builds it. ``visible`` has one bit
# per feature of the archives end to end (an archive's feature ``i`` is bit ``offset + i``): a
# filter changes the bits, never an archive.


class TiledProjects(VerbatimScript, folium.map.Layer):
    """The projects drawn from vector tiles (see above); every text stays data."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(map) {
            var d = JSON.parse({{ this.payload }});
            var bytes = function(b64) {
                var s = atob(b64), a = new Uint8Array(s.length);
                for (var k = 0; k < s.length; k++) { a[k] = s.charCodeAt(k); }
                return a;
            };
            var bits = d.visible === null ? null : bytes(d.visible);  // null: all, until told
            var painted = false;  // whether any tile has been painted with the bits so far
            var shownFrom = function(offset) {  // an archive's feature i is bit offset + i
                return function(f) {
                    painted = true;
                    if (bits === null) { return true; }
                    var i = offset + f.props.i;
                    return ((bits[i >> 3] >> (i & 7)) & 1) === 1;
                };
            };
            var sourceOf = function(s) {
                return s.url !== null ? s.url : {  // embedded: gzipped tiles, inflated here
                    getZxy: function(z, x, y) {
                        var t = s.tiles[z + "/" + x + "/" + y];
                        if (t === undefined) { return Promise.resolve(undefined); }
                        var inflated = new Blob([bytes(t)]).stream()
                            .pipeThrough(new DecompressionStream("gzip"));
                        return new Response(inflated).arrayBuffer().then(function(b) {
                            return {data: b};
                        });
                    }
                };
            };
            var fill = function(z, f) { return d.palette[f.props.s]; };
            var pane = map.getPane("szProjects") || map.createPane("szProjects");
            pane.style.zIndex = 450;
            pane.style.pointerEvents = "none";
            // one canvas layer per archive (a district's projects each), drawn as one layer
            var parts = d.sources.map(function(s) {
                var shown = shownFrom(s.offset);
                var rule = function(kind, symbolizer) {
                    return {dataLayer: d.layer, symbolizer: symbolizer,
                            filter: function(z, f) { return f.geomType === kind && shown(f); }};
                };
                var part = protomapsL.leafletLayer({
                    url: sourceOf(s), levelDiff: 0, maxDataZoom: d.max_data_zoom,
                    pane: "szProjects", attribution: "", labelRules: [],
                    paintRules: [
                        // outlined only where a footprint is more than a few pixels across:
                        // at the city view an outline would hide the status colour
                        rule(3, new protomapsL.PolygonSymbolizer({fill: fill, opacity: 0.85,
                            stroke: "#333333",
                            width: function(z) { return z >= 13 ? 0.6 : 0; }})),
                        rule(2, new protomapsL.LineSymbolizer({color: fill, width: 2})),
                        rule(1, new protomapsL.CircleSymbolizer({
                            radius: function(z, f) { return f.props.r; }, fill: fill,
                            opacity: 0.85, stroke: "#333333", width: 1}))
                    ]
                });
                part.shown = shown;
                return part;
            });
            var layer = L.layerGroup(parts);
            {{ this.page_text }}
            layer.projectAt = function(latlng) {  // the one drawn on top: the last archive's
                for (var j = parts.length - 1; j >= 0; j--) {
                    var hits = parts[j].queryTileFeaturesDebug(latlng.lng, latlng.lat, 8)
                        .get("") || [];
                    for (var k = hits.length - 1; k >= 0; k--) {
                        if (hits[k].layerName === d.layer && parts[j].shown(hits[k].feature)) {
                            return hits[k].feature.props;
                        }
                    }
                }
                return null;
            };
            layer.tooltipText = function(p) {
                var zh = d.lang === "zh";
                return projectTip(zh ? p.n : p.e, d.status_labels[p.s], zh ? p.az : p.ae);
            };
            var tip = L.tooltip({direction: "top", offset: [0, -8], className: "sz-tile-tip"});
            map.on("mousemove", function(e) {
                if (!map.hasLayer(layer)) { return; }
                var p = layer.projectAt(e.latlng);
                if (p === null) { map.closeTooltip(tip); return; }
                tip.setContent(layer.tooltipText(p)).setLatLng(e.latlng);
                if (!map.hasLayer(tip)) { map.openTooltip(tip); }
            });
            map.on("mouseout", function() { map.closeTooltip(tip); });
            // another filter's projects (ShownProjects): the decoded tiles painted again
            layer.told = 0;  // how many filters the open map was told (a test waits on it)
            layer.showOnly = function(visible) {
                bits = visible === null ? null : bytes(visible);
                layer.told += 1;
                map.closeTooltip(tip);
                if (painted) {  // told before the first paint: no repaint
                    parts.forEach(function(part) { part.rerenderTiles(); });
                }
            };
            // a click on a drawn project reaches the map's own click listeners (where
            // streamlit-folium reads the place clicked) even over a district or park whose
            // popup would stop it; that popup is not opened
            var picked = false;
            map.getContainer().addEventListener("click", function(ev) {  // before Leaflet's
                var at = map.mouseEventToLatLng(ev);
                picked = map.hasLayer(layer) && layer.projectAt(at) !== null;
                if (picked) { map.fire("click", {latlng: at, originalEvent: ev}); }
            }, true);
            map.on("popupopen", function(e) {
                if (picked) { picked = false; map.closePopup(e.popup); }
            });
            window.szTiledProjects = layer;
            return layer;
        })({{ this._parent.get_name() }});
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    page_text = PAGE_TEXT

    def __init__(self, payload: dict, name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "TiledProjects"
        self.payload = js_json_literal(payload | {"type": "TiledProjects"})


class ShownProjects(VerbatimScript, MacroElement):
    """Which projects the open tiled layer shows (``{"visible": bits}``), told to it apart
    from the map: the app hands it to streamlit-folium as a layer to add, which replaces it in
    the open map when a filter changes — the tiles stay decoded and the view stays where the
    user put it, where a new map would be drawn from scratch."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var d = JSON.parse({{ this.payload }});
            if (window.szTiledProjects) { window.szTiledProjects.showOnly(d.visible); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "ShownProjects"
        self.payload = js_json_literal(payload | {"type": "ShownProjects"})
