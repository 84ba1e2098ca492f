"""Reading GeoJSON uploads strictly, with a finding for every departure from the standards.

Each module checks one part of the standards, as their sections are laid out:

* :mod:`.text` — the bytes as JSON text (RFC 8259: UTF-8, no BOM, no NaN, no duplicate
  names), nesting bounded before parsing, and GeoJSON Text Sequences / Lines (RFC 8142);
* :mod:`.members` — what every GeoJSON object carries: ``type`` (RFC 7946 §1.4), ``bbox``
  (§5) and the members that would change an object's meaning (§7.1);
* :mod:`.positions` — positions and their nesting per geometry type (§3.1.1);
* :mod:`.geometry` — geometry objects by type: line strings (§3.1.4), polygons and their
  rings (§3.1.6), geometry collections (§3.1.8);
* :mod:`.features` — Feature (§3.2), FeatureCollection (§3.3), and the file's root object
  (also a bare array of features, and the legacy ``crs`` member);
* :mod:`.reader` — :func:`parse_geojson`, the composition of the above (a sound collection
  is checked as columns by :mod:`.bulk`, and a large one parsed a slice at a time by
  :mod:`.slices`, so its parsed document is never held whole).

Accepted inputs: a FeatureCollection, a single Feature, a bare Geometry, a bare JSON array of
Features (common in web-map exports), and GeoJSON Text Sequences / GeoJSON Lines. Syntax
errors carry their line and column. The structure is checked here; geometry validity is
checked afterwards, vectorised, on the shapes (:mod:`spatial.ingest.geometry_rules`).
"""

from spatial.ingest.geojson.reader import ParsedGeoJSON, parse_geojson

__all__ = ["ParsedGeoJSON", "parse_geojson"]
