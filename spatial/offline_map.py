"""A standalone HTML map of the current view, for e-mail and intranets: Leaflet, jQuery and all
data are inlined, so it opens with no internet and no server."""

from __future__ import annotations

import html
from datetime import date

from spatial.auth import Action, Principal, require
from spatial.filters import ProjectFilter
from spatial.maps import Basemap, build_map
from spatial.snapshot import take_snapshot
from spatial.store import Store, utcnow


def offline_map_html(
    store: Store,
    actor: Principal,
    filters: ProjectFilter | None = None,
    as_of: date | None = None,
    lang: str = "zh",
) -> bytes:
    """The map as one self-contained HTML file (vector basemap; no tiles to fetch)."""
    require(actor, Action.EXPORT, actor.district_id)
    filters = filters or ProjectFilter()
    snap = take_snapshot(store, as_of).readable_by(actor)
    projects = filters.apply(snap.projects)
    m = build_map(
        districts=snap.districts,
        parks=snap.parks,
        control_lines=snap.control_lines,
        projects=projects,
        lang=lang,
        basemap=Basemap.vector_only(),
        asset_mode="inline",
        height=900,
    )
    title = "深圳工业空间地图" if lang == "zh" else "Shenzhen industrial space map"
    stamp = (
        f"{title} · 统计截止 {snap.as_of.isoformat()} · 导出 {utcnow():%Y-%m-%d %H:%M} UTC · "
        f"{actor.user_name} · {len(projects)} 个项目（位置为近似/示意，非官方边界）"
        if lang == "zh"
        else f"{title} · as of {snap.as_of.isoformat()} · exported "
        f"{utcnow():%Y-%m-%d %H:%M} UTC by {actor.user_name} · {len(projects)} projects "
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
        },
    )
    return page.encode("utf-8")
