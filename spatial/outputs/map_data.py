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

import json
from collections.abc import Iterable

import folium
from branca.element import Element, Figure
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


class DataLayer(VerbatimScript, folium.map.Layer):
    """A GeoJSON overlay whose features — and every uploaded text in them — are data.

    Each feature's ``properties`` hold ``_style`` (Leaflet path options), ``_tooltip`` and
    ``_popup`` (HTML escaped by the caller) and, optionally, its id.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(JSON.parse({{ this.payload }}), {
            style: function(f) { return f.properties._style; },
            pointToLayer: function(f, latlng) {
                return L.circleMarker(latlng, f.properties._style);
            },
            onEachFeature: function(f, layer) {
                if (f.properties._tooltip) {
                    layer.bindTooltip(f.properties._tooltip, {sticky: true});
                }
                if (f.properties._popup) {
                    layer.bindPopup(f.properties._popup, {maxWidth: 360, maxHeight: 420});
                }
            }
        });
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, features: Iterable[dict], name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "DataLayer"
        self.payload = js_json_literal({"type": "FeatureCollection", "features": list(features)})
