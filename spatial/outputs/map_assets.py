"""Leaflet and jQuery from installed packages, so the map works with no internet.

Two ways to hand them to a page:

* ``static``: copied under the app's ``static/vendor/`` and served by Streamlit's static file
  serving (same origin as the streamlit-folium iframe, cached by the browser);
* ``inline``: ``data:`` URIs, for a standalone HTML file that must open anywhere.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import folium
import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet

STATIC_URL = "/app/static/vendor"

_LEAFLET_DIR = Path(xs_leaflet.BASE_DIR)
_JQUERY_DIR = Path(xs_jquery.BASE_DIR)
_VENDORED = Path(__file__).resolve().parent / "vendor"  # see vendor/README.md

# name in static/vendor -> file in the installed package
VENDOR_FILES: dict[str, Path] = {
    "leaflet.js": _LEAFLET_DIR / "leaflet.js",
    "leaflet.css": _LEAFLET_DIR / "leaflet.css",
    "jquery.min.js": _JQUERY_DIR / "jquery.min.js",
    "protomaps-leaflet.js": _VENDORED / "protomaps-leaflet.js",  # vector tiles (issue 14)
    "images/layers.png": _LEAFLET_DIR / "images" / "layers.png",
    "images/layers-2x.png": _LEAFLET_DIR / "images" / "layers-2x.png",
    "images/marker-icon.png": _LEAFLET_DIR / "images" / "marker-icon.png",
    "images/marker-icon-2x.png": _LEAFLET_DIR / "images" / "marker-icon-2x.png",
    "images/marker-shadow.png": _LEAFLET_DIR / "images" / "marker-shadow.png",
}


def install_static_assets(static_dir: Path) -> Path:
    """Copy the vendor files into ``static_dir/vendor`` (only those missing or changed)."""
    vendor = static_dir / "vendor"
    for name, src in VENDOR_FILES.items():
        dest = vendor / name
        if dest.exists() and dest.stat().st_size == src.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
        shutil.copyfile(src, partial)
        os.replace(partial, dest)  # atomic: a concurrent reader never sees half a file
    return vendor


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css() -> str:
    css = VENDOR_FILES["leaflet.css"].read_text(encoding="utf-8")

    def embed(match: re.Match) -> str:
        name = match.group(1)
        path = VENDOR_FILES.get(name)
        return f"url({_data_uri(path, 'image/png')})" if path else match.group(0)

    css = re.sub(r"url\((images/[\w\-.]+\.png)\)", embed, css)
    return "data:text/css;base64," + base64.b64encode(css.encode("utf-8")).decode("ascii")


def asset_links(
    mode: str = "static", base_url: str = STATIC_URL, tiles: bool = False
) -> tuple[list, list]:
    """(js, css) lists in folium's ``default_js``/``default_css`` form; ``tiles``: with the
    vector-tile renderer (protomaps-leaflet) too."""
    scripts = ["leaflet.js", "jquery.min.js"] + (["protomaps-leaflet.js"] if tiles else [])
    names = {"leaflet.js": "leaflet", "jquery.min.js": "jquery",
             "protomaps-leaflet.js": "protomaps_leaflet"}  # fmt: skip
    if mode == "inline":
        js = [(names[s], _data_uri(VENDOR_FILES[s], "text/javascript")) for s in scripts]
        return js, [("leaflet_css", _inline_css())]
    if mode != "static":
        raise ValueError(f"unknown asset mode {mode!r}: use 'static' or 'inline'")
    base = base_url.rstrip("/")
    js = [(names[s], f"{base}/{s}") for s in scripts]
    return js, [("leaflet_css", f"{base}/leaflet.css")]


def use_local_assets(
    m: folium.Map, mode: str = "static", base_url: str = STATIC_URL, tiles: bool = False
) -> None:
    """Point a folium map at local Leaflet/jQuery (and, with ``tiles``, protomaps-leaflet)
    instead of the CDNs (no bootstrap/fontawesome: the map uses neither)."""
    js, css = asset_links(mode, base_url, tiles)
    m.default_js = js
    m.default_css = css
