"""Uploaded text reaches a map as data, never as a template (spatial.outputs.map_data, issue 9).

branca compiles every rendered script again as a Jinja template; before this fix a project
named ``{{7*7}}`` showed ``49`` and ``{{ cycler.__init__.__globals__.os… }}`` ran code. Each
payload here goes through every path that builds a map: the rendered page (offline map), what
streamlit-folium sends to the browser (the app's map and the upload preview), and the offline
map and upload preview made from a real store on both backends.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit_folium import generate_leaflet_string

from spatial.auth import Principal, Role
from spatial.figures.snapshot import take_snapshot
from spatial.ingest import submissions as sub
from spatial.ingest.upload import UploadOptions
from spatial.outputs.map_data import CompactLayer, DataLayer, Verbatim, js_json_literal
from spatial.outputs.maps import Basemap, build_map, check_tile_url
from spatial.outputs.offline_map import offline_map_html

from conftest import map_features

OFFICER = Principal("ba-officer", Role.DISTRICT, "baoan")
PLANNER = Principal("planner-li", Role.PLANNER)
INERT = set("{}%#<>&'")  # never inside a data literal


def jinja_payloads(canary: Path) -> list[str]:
    """The Jinja grammar, as an attacker would use it: expressions, statements, comments,
    whitespace control, raw blocks, unbalanced delimiters, and code execution aimed at
    ``canary`` (a file that exists only if something ran)."""
    touch = f"touch {canary}"
    return [
        "SSTI {{7*7}}",
        "{{ 7 * 7 }}{{'a' ~ 'b'}}",
        "{{- 7*7 -}} {{+ 7*7 +}}",
        f"{{{{ cycler.__init__.__globals__.os.system('{touch}') }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{touch}').read() }}}}",
        f"{{{{ joiner.__init__.__globals__.os.system('{touch}') }}}}",
        f"{{{{ namespace.__init__.__globals__.os.system('{touch}') }}}}",
        f"{{% set x = cycler.__init__.__globals__.os.system('{touch}') %}}",
        "{{ self._TemplateReference__context }}{{ config }}{{ request }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{% raw %}",
        "{% endraw %}{% raw %}x",
        "{%- if true -%}yes{%- endif -%}",
        "{%+ macro m() %}{% endmacro %}{% call m() %}{% endcall %}",
        "{% include '/etc/passwd' %}{% import 'x' as y %}{% extends 'base' %}",
        "{# a comment that never ends",
        "{{ unbalanced",
        "}} %} #} stray closers",
        "# line statement\n## line comment\n% also",
        "{{'</script><script>window.__ssti=1</script>'}}",
        "\u2028\u2029 line separators {{7*7}}",
        '"quotes\' and \\ backslashes {{"{{"}}',
    ]


TEXT_FIELDS = ["name_zh", "name_en", "developer", "industries", "source", "street", "clusters"]


@pytest.fixture
def snapshot(seeded_store):
    return take_snapshot(seeded_store, date(2026, 11, 21))


def _hostile(frame, payload: str, fields: list[str]):
    frame = frame.copy()
    for field in fields:
        if field in frame:
            frame[field] = frame[field].astype(object)
            frame.loc[frame.index[0], field] = payload
    return frame


def _all_paths(m) -> dict[str, str]:
    """The map as each consumer renders it: the whole page (offline map, standalone), and
    streamlit-folium's way (render, then header, html and the per-element script)."""
    page = m.get_root().render()
    m.render()
    root = m.get_root()
    streamlit = root.header.render() + root.html.render() + generate_leaflet_string(m)
    return {"page": page, "streamlit-folium": streamlit}


def _payload_shown(text: str, payload: str) -> bool:
    """``payload`` is in the map's data exactly as typed (HTML-escaped for display)."""
    escaped = html.escape(payload, quote=True)
    for feature in map_features(text):
        props = feature["properties"]
        if escaped in (props.get("_tooltip") or "") or escaped in (props.get("_popup") or ""):
            return True
    return False


def _data_literals_inert(text: str) -> None:
    literals = re.findall(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)', text)
    assert literals, "no data literal on the page"
    for literal in literals:
        assert not INERT & set(literal[1:-1]), "template/HTML syntax inside a data literal"


@pytest.mark.parametrize("index", range(22))
def test_every_template_payload_stays_text_in_every_field(snapshot, tmp_path, index):
    canary = tmp_path / "ran"
    payload = jinja_payloads(canary)[index]
    projects = _hostile(snapshot.projects[snapshot.projects.geometry.notna()], payload, TEXT_FIELDS)
    parks = _hostile(snapshot.parks, payload, ["name_zh", "name_en", "lead_clusters", "source"])
    districts = _hostile(snapshot.districts, payload, ["name_zh", "name_en", "source"])
    lines = _hostile(snapshot.control_lines, payload, ["source"])
    for lang in ("zh", "en"):
        m = build_map(
            districts=districts,
            parks=parks,
            control_lines=lines,
            projects=projects,
            lang=lang,
            asset_mode="inline",
        )
        for path, text in _all_paths(m).items():
            assert not canary.exists(), f"{path}: a template payload ran code"
            assert "SSTI 49" not in text, path
            assert "<script>window.__ssti" not in text, path  # shown, never a tag
            assert _payload_shown(text, payload), f"{path}: {payload!r} not shown as typed"
            _data_literals_inert(text)


def test_payloads_cover_the_grammar(tmp_path):
    payloads = jinja_payloads(tmp_path / "x")
    assert len(payloads) == 22  # the parametrised range above
    for token in ("{{", "{%", "{#", "{{-", "{%-", "{%+", "raw", "endraw", "}}", "%}", "#}"):
        assert any(token in p for p in payloads)


def test_data_layers_skip_the_second_compilation(snapshot):
    m = build_map(
        districts=snapshot.districts,
        parks=snapshot.parks,
        control_lines=snapshot.control_lines,
        projects=snapshot.projects,
    )
    m.get_root().render()
    layers = [c for c in m._children.values() if isinstance(c, DataLayer | CompactLayer)]
    assert len(layers) == 5
    scripts = m.get_root().script._children
    assert all(isinstance(scripts[layer.get_name()], Verbatim) for layer in layers)


JINJA_HEAVY = st.text(
    alphabet=st.sampled_from(list("{}%#-+~ raw end()'\"\\<>/&\n\t") + ["\u2028", "é", "区"]),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), JINJA_HEAVY))
def test_literal_round_trips_and_is_plain_text_to_jinja(text):
    literal = js_json_literal({"name": text, "nested": [text, {"k": text}]})
    assert not INERT & set(literal[1:-1])
    assert json.loads(json.loads(literal)) == {"name": text, "nested": [text, {"k": text}]}
    source = f"var data = JSON.parse({literal});"
    # what branca does to a rendered script: compile it as a template and render it
    assert jinja2.Template(source).render() == source
    assert jinja2.Environment(autoescape=True).from_string(source).render() == source


def test_literal_refuses_numbers_that_are_not_json():
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            js_json_literal({"area": value})


# -- tile basemaps: the URL and the key typed on the map page reach its script too ------------
@pytest.mark.parametrize(
    "url",
    [
        "http://tiles.intranet/{{7*7}}/{z}/{x}/{y}.png",
        "http://tiles/{%raw%}/{z}/{x}/{y}.png",
        "http://tiles/{#/{z}/{x}/{y}.png",
        "javascript:alert(1)//{z}",
        'http://tiles/{z}/{x}/{y}.png"+alert(1)+"',
        "http://tiles/{z}/{x}/{y}.png'</script><script>alert(1)</script>",
        "file:///etc/passwd?{z}",
        "http://tiles/{z}/{x}/{y}.png {foo}",
        "http://tiles/{q}/{z}/{x}/{y}.png",
        "http://tiles/no-placeholders.png",
    ],
)
def test_hostile_tile_urls_are_refused(url):
    with pytest.raises(ValueError) as caught:
        Basemap.custom(url)
    assert "瓦片地址" in str(caught.value) and "tile URL" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png",
        "https://gis.sz.gov.cn/arcgis/rest/services/base/MapServer/tile/{z}/{y}/{x}",
        "https://{s}.tiles.local/{z}/{x}/{-y}.png?style=grey&v=2",
    ],
)
def test_plain_tile_urls_are_accepted(url):
    assert check_tile_url(url) == url


@pytest.mark.parametrize(
    "key", ["{{7*7}}", "abc", "0123456789abcdef0123456789abcdeg", "x" * 32, "'+alert(1)+'"]
)
def test_hostile_tianditu_keys_are_refused(key):
    with pytest.raises(ValueError, match="Tianditu"):
        Basemap.tianditu(key)


# -- from a real store: the upload preview and the offline map, on both backends -------------
def _upload(payload: str) -> bytes:
    feature = {
        "type": "Feature",
        "properties": {
            "项目编号": "BA-SSTI",
            "项目名称": payload,
            "英文名称": payload,
            "开发主体": payload,
            "状态": "在建",
            "总建筑面积": 120000,
            "开工日期": "2024-03-01",
        },
        "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
    }
    return json.dumps(
        {"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False
    ).encode()


@pytest.mark.parametrize("index", [0, 3, 4, 10, 15, 19])
def test_preview_and_offline_map_from_the_store(seeded_store, tmp_path, index):
    canary = tmp_path / "ran"
    payload = jinja_payloads(canary)[index]
    sid = sub.receive(seeded_store, "ssti.geojson", _upload(payload), "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert checked.accepted, checked.report.to_dict()
    snap = take_snapshot(seeded_store)
    preview = build_map(  # what the upload page draws before the commit
        districts=snap.districts,
        parks=snap.parks,
        control_lines=snap.control_lines.iloc[0:0],
        projects=checked.projects.assign(park_id=None, control_level=None),
    )
    for text in _all_paths(preview).values():
        assert _payload_shown(text, payload) and not canary.exists()
    sub.commit(seeded_store, sid, OFFICER)
    page = offline_map_html(seeded_store, PLANNER).decode()
    assert _payload_shown(page, payload) and not canary.exists()
    assert "SSTI 49" not in page
    _data_literals_inert(page)


CODED_COLUMNS = {
    "empty": [],
    "one value": ["同一"] * 7,
    "each its own": ["a", "b", "c"],
    "a few, repeated": ["在建", "竣工", "在建", None, "竣工"],
    "64 values": [f"v{i % 64}" for i in range(200)],
    "65 values": [f"v{i % 65}" for i in range(200)],
    "4,097 values": [f"v{i % 4097}" for i in range(5000)],
    "hostile text": ["</script><b>x</b>", "{{ 7*7 }}", '"\\', "{%raw%}", "</script><b>x</b>"],
}


@pytest.mark.parametrize("values", CODED_COLUMNS.values(), ids=CODED_COLUMNS.keys())
def test_a_text_column_reads_back_row_by_row(values):
    """A column written once per distinct value reads back as every row's text (missing as
    "—"); its codes are digits of CODE_DIGITS only, which no interpreter reads as markup."""
    from spatial.outputs.map_data import CODE_DIGITS, text_column, text_of

    ids = [f"ID-{i}" for i in range(len(values))]
    column = text_column(values, ids)
    assert text_of(column, ids) == ["—" if v is None else v for v in values]
    if isinstance(column.get("c"), str):
        assert set(column["c"]) <= set(CODE_DIGITS)
        assert len(column["c"]) == column["w"] * len(values)


def test_a_column_of_the_ids_is_not_written_twice():
    from spatial.outputs.map_data import text_column, text_of

    ids = ["BA-1", "BA-2"]
    assert text_column(["BA-1", "BA-2"], ids) == {"ids": 1}
    assert text_of({"ids": 1}, ids) == ids
    assert text_column(["BA-2", "BA-1"], ids) != {"ids": 1}  # the same ids in another order


@pytest.mark.parametrize("values", [[4.0, 4.0, 9.5], [1, 2, 1, 3], [7.25], [float("nan"), 1.0]])
def test_a_numeric_column_reads_back_as_its_numbers(values):
    from spatial.outputs.map_data import coded, values_of

    got = values_of(coded(values), len(values))
    assert [repr(v) for v in got] == [repr(v) for v in values]


def test_shapes_read_back_within_half_a_pixel_of_where_they_are():
    """Shapes written from the layer's south-west corner read back where they were, to the
    half pixel they are drawn at: points, lines, polygons with holes, multi-parts."""
    import numpy as np
    import shapely

    from spatial.outputs.map_data import decode_shape, drawing_precision, encode_shapes

    geoms = np.array([
        shapely.Point(114.05, 22.55),
        shapely.LineString([(113.9, 22.6), (113.95, 22.62), (114.0, 22.61)]),
        shapely.Polygon([(114, 22.5), (114.02, 22.5), (114.02, 22.52), (114, 22.52)],
                        [[(114.005, 22.505), (114.01, 22.505), (114.01, 22.51)]]),
        shapely.MultiPolygon([shapely.box(113.8, 22.7, 113.81, 22.71),
                              shapely.box(114.3, 22.4, 114.31, 22.41)]),
        None,
    ], dtype=object)  # fmt: skip
    codes, scale, origin = encode_shapes(geoms, 13)
    tolerance, _ = drawing_precision(13)
    assert origin == [int(np.floor(113.8 * scale)), int(np.floor(22.4 * scale))]
    for geom, code in zip(geoms, codes, strict=True):
        decoded = decode_shape(code, scale, origin)
        if geom is None:
            assert decoded is None
            continue
        back = shapely.geometry.shape(decoded)
        assert back.geom_type == geom.geom_type
        assert shapely.hausdorff_distance(back, geom) <= 2 * tolerance
