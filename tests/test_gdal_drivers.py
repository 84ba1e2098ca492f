"""Each upload format opens with its own GDAL driver only (spatial.ingest.gdal_drivers, issue 9).

GDAL picks a driver from content. Before this fix an OGR VRT or GDALG renamed ``.kml`` read the
app's database (password hashes in the preview), local files and URLs. Here every virtual
driver and path prefix is tried under every GDAL upload name, plain and inside archives, with a
local HTTP server that counts requests and a secret file that must never show up.
"""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import threading
import zipfile
from pathlib import Path

import pyogrio
import pytest

from spatial.auth import Principal, Role
from spatial.ingest import submissions as sub
from spatial.ingest.findings import UploadRejected
from spatial.ingest.formats import read_upload
from spatial.ingest.gdal_drivers import KEPT_DRIVERS, identify, registered_drivers, restrict_drivers
from spatial.ingest.limits import UploadLimits
from spatial.ingest.upload import UploadOptions

OFFICER = Principal("ba-officer", Role.DISTRICT, "baoan")
SECRET = "SECRET-7f3a9c"


@pytest.fixture(scope="module")
def server():
    """A local HTTP server that records every request (nothing may reach it)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            seen.append(self.path)
            body = f"lon,lat,name\n113.87,22.75,{SECRET}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> dict[str, Path]:
    """Files on the server an attacker would like to read: a CSV and an app-like database."""
    folder = tmp_path_factory.mktemp("server-files")
    csv = folder / "secret.csv"
    csv.write_text(f"lon,lat,name\n113.87,22.75,{SECRET}\n")
    db = folder / "spatial.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE users (user_name TEXT, password_hash TEXT)")
    con.execute("INSERT INTO users VALUES ('admin', ?)", (f"scrypt${SECRET}",))
    con.commit()
    con.close()
    return {"csv": csv, "db": db}


def _vrt(source: str, layer: str = "x") -> bytes:
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="{layer}"><SrcDataSource>{source}</SrcDataSource>'
        f"<SrcLayer>{layer}</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def hostile_contents(url: str, secrets: dict[str, Path]) -> dict[str, bytes]:
    """Content that makes GDAL reach beyond the file: every virtual driver and prefix."""
    csv, db = secrets["csv"], secrets["db"]
    return {
        "vrt-csv-prefix": _vrt(f"CSV:{csv}", "secret"),
        "vrt-etc-passwd": _vrt("CSV:/etc/passwd", "passwd"),
        "vrt-app-database": _vrt(str(db), "users"),
        "vrt-sqlite-prefix": _vrt(f"SQLite:{db}", "users"),
        "vrt-vsicurl": _vrt(f"/vsicurl/{url}/remote.csv", "remote"),
        "vrt-vsicurl-csv": _vrt(f"CSV:/vsicurl/{url}/remote.csv", "remote"),
        "vrt-http": _vrt(f"{url}/remote.csv", "remote"),
        "vrt-vsizip": _vrt(f"/vsizip/{db}.zip/a.csv", "a"),
        "vrt-vsistdin": _vrt("/vsistdin/", "stdin"),
        "vrt-vsisubfile": _vrt(f"/vsisubfile/0_100,{csv}", "secret"),
        "vrt-vsis3": _vrt("/vsis3/bucket/key.csv", "key"),
        "vrt-wfs": _vrt(f"WFS:{url}/wfs", "w"),
        "vrt-union-sql": (
            f"<OGRVRTDataSource><OGRVRTUnionLayer name='u'><OGRVRTLayer name='users'>"
            f"<SrcDataSource>{db}</SrcDataSource><SrcSQL>SELECT * FROM users</SrcSQL>"
            "</OGRVRTLayer></OGRVRTUnionLayer></OGRVRTDataSource>"
        ).encode(),
        "gdalg-read": json.dumps(
            {"type": "gdal_streamed_alg", "command_line": f"gdal vector pipeline ! read {csv}"}
        ).encode(),
        "gdalg-sql": json.dumps(
            {
                "type": "gdal_streamed_alg",
                "command_line": f"gdal vector sql --input {db} --sql 'SELECT * FROM users'",
            }
        ).encode(),
        "gdalg-vsicurl": json.dumps(
            {
                "type": "gdal_streamed_alg",
                "command_line": f"gdal vector pipeline ! read /vsicurl/{url}/r.csv",
            }
        ).encode(),
        "csv-text": csv.read_bytes(),
        "app-database": db.read_bytes(),  # a SQLite file that is no GeoPackage
        "gml": (
            b'<?xml version="1.0"?><ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/"'
            b' xmlns:gml="http://www.opengis.net/gml"/>'
        ),
    }


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def wrappings(content: bytes) -> dict[str, tuple[str, bytes]]:
    """The same content under every GDAL upload name, plain and inside archives."""
    shx = b"\x00\x00\x27\x0a" + b"\x00" * 96
    return {
        "kml": ("x.kml", content),
        "gpkg": ("x.gpkg", content),
        "fgb": ("x.fgb", content),
        "kmz": ("x.kmz", _zip({"doc.kml": content})),
        "zip-shp": ("x.zip", _zip({"a.shp": content, "a.shx": shx, "a.dbf": b"\x03" + b"\0" * 40})),
        "zip-gpkg": ("x.zip", _zip({"a.gpkg": content})),
        "zip-kml": ("x.zip", _zip({"a.kml": content})),
        "zip-fgb": ("x.zip", _zip({"a.fgb": content})),
    }


CONTENTS = [
    "vrt-csv-prefix", "vrt-etc-passwd", "vrt-app-database", "vrt-sqlite-prefix", "vrt-vsicurl",
    "vrt-vsicurl-csv", "vrt-http", "vrt-vsizip", "vrt-vsistdin", "vrt-vsisubfile", "vrt-vsis3",
    "vrt-wfs", "vrt-union-sql", "gdalg-read", "gdalg-sql", "gdalg-vsicurl", "csv-text",
    "app-database", "gml",
]  # fmt: skip
WRAPPINGS = ["kml", "gpkg", "fgb", "kmz", "zip-shp", "zip-gpkg", "zip-kml", "zip-fgb"]


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize("content", CONTENTS)
def test_content_that_reaches_beyond_the_file_is_refused(server, secrets, content, wrapping):
    url, seen = server
    before = len(seen)
    name, data = wrappings(hostile_contents(url, secrets)[content])[wrapping]
    with pytest.raises(UploadRejected) as caught:
        read_upload(name, data, UploadLimits())
    text = " ".join(f.message_zh + f.message_en + f.fix_en for f in caught.value.findings)
    assert SECRET not in text and "root:" not in text
    assert "/tmp/" not in text and "spatial-upload-" not in text  # no server paths
    assert len(seen) == before, f"GDAL fetched {seen[before:]}"


def test_the_payloads_cover_every_virtual_driver_and_prefix(server, secrets):
    contents = hostile_contents(server[0], secrets)
    assert set(contents) == set(CONTENTS)
    text = b" ".join(contents.values()).decode("utf-8", "replace")
    for marker in (
        "OGRVRTDataSource", "gdal_streamed_alg", "CSV:", "SQLite:", "/vsicurl/", "/vsizip/",
        "/vsistdin/", "/vsisubfile/", "/vsis3/", "WFS:", "http://",
    ):  # fmt: skip
        assert marker in text, marker


def test_only_the_kept_drivers_remain():
    restrict_drivers()
    assert set(registered_drivers()) == set(KEPT_DRIVERS)
    assert set(pyogrio.list_drivers()) <= KEPT_DRIVERS
    for gone in ("OGR_VRT", "VRT", "GDALG", "HTTP", "WFS", "OAPIF", "GPSBabel", "SQLite", "PG"):
        assert gone not in registered_drivers()


def test_identify_names_each_formats_own_driver(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(113.87, 22.75)], crs=4326)
    for driver, suffix, expected in [
        ("GPKG", ".gpkg", "GPKG"),
        ("ESRI Shapefile", ".shp", "ESRI Shapefile"),
        ("FlatGeobuf", ".fgb", "FlatGeobuf"),
        ("KML", ".kml", "LIBKML"),
    ]:
        path = tmp_path / f"a{suffix}"
        pyogrio.write_dataframe(frame, path, driver=driver)
        assert identify(path) == expected
    for name in ("v.gpkg", "v.fgb", "v.vrt", "v.xml"):
        vrt = tmp_path / name
        vrt.write_bytes(_vrt("CSV:/etc/passwd"))
        assert identify(vrt) is None  # no VRT driver left to claim it
    # LIBKML claims any *.kml by its name (and would read it as KML only): the signature check
    # in spatial.ingest.formats refuses non-KML content before that (test above, wrapping "kml")


def test_kml_links_are_not_followed(server):
    url, seen = server
    before = len(seen)
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<NetworkLink><name>n</name><Link><href>{url}/network.kml</href></Link></NetworkLink>
<Style id="s"><IconStyle><Icon><href>{url}/icon.png</href></Icon></IconStyle></Style>
<Placemark><name>BA-1</name><styleUrl>{url}/styles.kml#s</styleUrl>
<Point><coordinates>113.87,22.75</coordinates></Point></Placemark>
</Document></kml>""".encode()
    layer = read_upload("links.kml", kml, UploadLimits())
    assert len(layer.frame) == 1
    layer = read_upload("links.kmz", _zip({"doc.kml": kml}), UploadLimits())
    assert len(layer.frame) == 1 and len(seen) == before


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
        b'<!doctype kml SYSTEM "http://127.0.0.1:9/x.dtd">',
    ],
)
def test_kml_entities_are_refused(doctype):
    kml = (
        b'<?xml version="1.0"?>' + doctype + b'<kml xmlns="http://www.opengis.net/kml/2.2">'
        b"<Placemark><name>&x;</name><Point><coordinates>113.87,22.75</coordinates></Point>"
        b"</Placemark></kml>"
    )
    with pytest.raises(UploadRejected) as caught:
        read_upload("e.kml", kml, UploadLimits())
    assert caught.value.findings[0].code == "xml_entities"


# -- GeoPackage: only plain tables --------------------------------------------------------------
def _geopackage(tmp_path: Path, *statements: str) -> bytes:
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "g.gpkg"
    frame = gpd.GeoDataFrame(
        {"项目编号": ["BA-1"], "项目名称": ["a"], "状态": ["在建"], "总建筑面积": [1.0]},
        geometry=[Point(113.87, 22.75)],
        crs=4326,
    )
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="projects")
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW v AS SELECT * FROM projects",
        # a view that never ends (the 98 KB GeoPackage of the issue)
        "CREATE VIEW forever AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT x FROM c",
        "CREATE VIRTUAL TABLE t USING fts5(body)",
        "CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2))",
        "CREATE TABLE h (a INTEGER, b INTEGER AS (abs(a)))",
    ],
)
def test_geopackage_with_anything_but_plain_tables_is_refused(tmp_path, statement):
    data = _geopackage(tmp_path, statement)
    with pytest.raises(UploadRejected) as caught:
        read_upload("g.gpkg", data, UploadLimits())
    assert caught.value.findings[0].code == "gpkg_not_plain"
    assert "QGIS" in caught.value.findings[0].fix_en


def test_geopackage_with_attribute_tables_only_says_so(tmp_path):
    path = tmp_path / "attrs.gpkg"
    import pandas as pd

    pyogrio.write_dataframe(pd.DataFrame({"项目编号": ["BA-1"]}), path, driver="GPKG")
    with pytest.raises(UploadRejected) as caught:
        read_upload("attrs.gpkg", path.read_bytes(), UploadLimits())
    assert caught.value.findings[0].code == "no_geometry"


def test_a_plain_geopackage_still_reads(tmp_path):
    layer = read_upload("g.gpkg", _geopackage(tmp_path), UploadLimits())
    assert list(layer.frame["项目编号"]) == ["BA-1"]


# -- through the upload workflow, on both backends: refused, recorded, nothing leaked ----------
@pytest.mark.parametrize("content", ["vrt-app-database", "vrt-csv-prefix", "gdalg-sql"])
def test_hostile_upload_is_refused_and_kept(seeded_store, server, secrets, content):
    name, data = wrappings(hostile_contents(server[0], secrets)[content])["kml"]
    sid = sub.receive(seeded_store, name, data, "baoan", OFFICER)
    checked = sub.validate(seeded_store, sid, UploadOptions("baoan"))
    assert not checked.accepted and checked.projects.empty
    assert seeded_store.submission_content(sid) == data  # the bytes are kept
    report = json.dumps(seeded_store.submission_report(sid), ensure_ascii=False)
    assert SECRET not in report and "scrypt" not in report
    assert "format_mismatch" in report
