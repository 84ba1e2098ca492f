"""A standalone HTML map of the current view, for e-mail and intranets: Leaflet, jQuery and all
data are inlined, so it opens with no internet and no server."""

from __future__ import annotations

import html
import tempfile
from datetime import date
from pathlib import Path

from spatial.auth import Action, Principal, require
from spatial.clock import beijing_text
from spatial.figures.filters import ProjectFilter
from spatial.figures.snapshot import take_snapshot
from spatial.outputs.maps import Basemap, MapView, build_map
from spatial.outputs.vector_tiles import tiles_for_map
from spatial.store.database import Store, utcnow


def offline_map_html(
    store: Store,
    actor: Principal,
    filters: ProjectFilter | None = None,
    as_of: date | None = None,
    lang: str = "zh",
    view: MapView | None = None,
) -> bytes:
    """The map as one self-contained HTML file (vector basemap; no tiles to fetch), opened on
    ``view`` (the user's current extent) when given, else on the whole city. Many projects
    (see :func:`~spatial.outputs.vector_tiles.tiles_for_map`) travel as the vector tiles of
    that extent, embedded."""
    require(actor, Action.EXPORT, actor.district_id)
    filters = filters or ProjectFilter()
    snap = take_snapshot(store, as_of).readable_by(actor)
    projects = filters.apply(snap.projects)
    extent = None if view is None else (view.west, view.south, view.east, view.north)
    with tempfile.TemporaryDirectory(prefix="offline-map-") as work:
        tiles = tiles_for_map(
            snap, actor, Path(work) / "tiles", None, Path(work) / "key", bounds=extent
        )
        m = build_map(
            districts=snap.districts,
            parks=snap.parks,
            control_lines=snap.control_lines,
            projects=projects,
            lang=lang,
            basemap=Basemap.vector_only(),
            asset_mode="inline",
            height=900,
            view=view,
            tiles=tiles,
        )
    title = "深圳工业空间地图" if lang == "zh" else "Shenzhen industrial space map"
    extent = (
        ("全市" if lang == "zh" else "whole city")
        if view is None
        else ("视图 " if lang == "zh" else "view ") + view.describe()
    )
    exported = beijing_text(utcnow(), seconds=False)
    stamp = (
        f"{title} · {extent} · 统计截止 {snap.as_of.isoformat()} · "
        f"导出 {exported} 北京时间 · {actor.user_name} · "
        f"{len(projects)} 个项目（位置为近似/示意，非官方边界）"
        if lang == "zh"
        else f"{title} · {extent} · as of {snap.as_of.isoformat()} · exported "
        f"{exported} Beijing time by {actor.user_name} · {len(projects)} projects "
        "(approximate / illustrative locations)"
    )
    root = m.get_root()
    root.title = title
    page = root.render()
    banner = (
        '<div id="sz-stamp" style="position:fixed;top:0;left:50px;z-index:1000;'
        'background:rgba(255,255,255,.9);padding:4px 8px;font:13px sans-serif">'
        f"{html.escape(stamp)}</div>"
    )
    page = page.replace("<body>", "<body>" + banner, 1)
    store.record_event(
        actor.user_name,
        "export",
        "offline_map",
        detail={
            "format": "html",
            "filters": filters.describe(),
            "as_of": snap.as_of.isoformat(),
            "projects": len(projects),
            "view": None if view is None else view.describe(),
        },
    )
    return page.encode("utf-8")
