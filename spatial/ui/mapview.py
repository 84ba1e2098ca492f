"""地图 Map: all layers on one folium map, with filters and a choice of basemap."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from spatial.auth import Action, PermissionDenied, Principal, Role
from spatial.clock import beijing_column, beijing_text, shenzhen_today
from spatial.crs import wgs84_to_gcj02
from spatial.districts import UnknownDistrict, resolve_district
from spatial.figures.filters import ProjectFilter, search_projects
from spatial.figures.project_details import ProjectNotFound, change_kind_label, project_details
from spatial.figures.snapshot import Snapshot
from spatial.i18n import t
from spatial.layers import (
    EVIDENCE_LABELS,
    QUALITY_LABELS,
    STAGE_CHOICES,
    STAGE_DATE_COLUMN,
    STAGE_EVIDENCE_COLUMN,
    STATUS_LABELS,
    Status,
    label,
)
from spatial.outputs.maps import (
    OPENING_ZOOM,
    SHENZHEN_CENTRE,
    Basemap,
    MapView,
    build_map,
    project_at,
    projects_in_view,
    shown_projects,
)
from spatial.outputs.offline_map import offline_map_html
from spatial.outputs.vector_tiles import (
    SERVED_TILES_DIR,
    TILES_KEY_FILE,
    MapTiles,
    cut_ahead,
    readers_after_change,
    tiles_for_map,
)
from spatial.rows import located
from spatial.store.database import default_database_url
from spatial.ui.common import (
    COUNTED_FILTER,
    PROJECT_FOCUS,
    as_of_input,
    counted_filter_banner,
    grouped_numbers,
    lang,
    markdown_text,
    principal,
    shared_snapshot,
    snapshot,
    store,
)

log = logging.getLogger(__name__)

BASEMAPS = ("none", "osm", "tianditu", "amap", "custom")


def project_filter_inputs(snap: Snapshot, lg: str, key: str) -> ProjectFilter:
    """The filter widgets (district, park, status, cluster, year), shared with the projects page."""
    parks = snap.park_names(lg)
    clusters = snap.cluster_names(lg)
    with st.sidebar.expander(t("filters", lg), expanded=True):
        chosen_districts = district_input(snap, lg, f"{key}_district")
        chosen_parks = st.multiselect(
            t("park", lg),
            list(parks),
            format_func=parks.get,
            key=f"{key}_park",
            placeholder=t("all", lg),
        )
        chosen_status = st.multiselect(
            t("status", lg),
            [s.value for s in Status],
            format_func=lambda v: label(STATUS_LABELS, v, lg),
            key=f"{key}_status",
            placeholder=t("all", lg),
        )
        chosen_clusters = st.multiselect(
            t("cluster", lg),
            list(clusters),
            format_func=clusters.get,
            key=f"{key}_cluster",
            placeholder=t("all", lg),
        )
        year = st.selectbox(
            t("year_filter", lg),
            [None, *range(2018, 2031)],
            format_func=lambda y: t("any_year", lg) if y is None else str(y),
            key=f"{key}_year",
            help=t("year_filter_help", lg),
        )
    return ProjectFilter(
        districts=tuple(chosen_districts),
        parks=tuple(chosen_parks),
        statuses=tuple(chosen_status),
        clusters=tuple(chosen_clusters),
        year=year,
        counted=counted_filter_banner(lg, key),
    )


def district_input(snap: Snapshot, lg: str, key: str) -> list[str]:
    """The district filter. A district may be typed as people write it (宝安区, 宝安, Bao'an,
    baoan): it becomes its district, shown by its name; a name that matches none is dropped
    and said. (A typed value arrives as a new option; the widget is then drawn anew — a new
    key — from the resolved ids, so the chip shows the district's name.)"""
    names = snap.district_names(lg)
    ids = {name: district for district, name in names.items()}  # the options are the names
    value_key, generation = f"{key}__value", st.session_state.get(f"{key}__generation", 0)
    # its own widget per language (the option names change) and per generation
    widget_key = f"{key}__{lg}" + (f"_{generation}" if generation else "")

    def resolve() -> None:
        kept, typed = [], False
        for value in st.session_state.get(widget_key, []):
            if value in ids:
                kept.append(ids[value])
                continue
            typed = True
            try:
                kept.append(resolve_district(value, snap.districts))
            except UnknownDistrict as exc:
                st.session_state[f"{key}_unknown"] = exc
        st.session_state[value_key] = list(dict.fromkeys(kept))
        if typed:
            st.session_state[f"{key}__generation"] = generation + 1

    fresh = widget_key not in st.session_state
    chosen = st.multiselect(
        t("district", lg),
        list(ids),
        default=[names[d] for d in st.session_state.get(value_key, []) if d in names]
        if fresh
        else None,
        key=widget_key,
        placeholder=t("all", lg),
        accept_new_options=True,
        on_change=resolve,
    )
    unknown = st.session_state.pop(f"{key}_unknown", None)
    if unknown:
        st.warning(markdown_text(unknown.text(lg)))  # it repeats what was typed
    return [ids[name] for name in chosen if name in ids]


def basemap_input(lg: str) -> Basemap:
    choice = st.sidebar.selectbox(
        t("basemap", lg), BASEMAPS, format_func=lambda k: t(f"basemap_{k}", lg), key="basemap"
    )
    if choice == "osm":
        return Basemap.openstreetmap()
    if choice == "amap":
        return Basemap.amap()
    try:
        if choice == "tianditu":
            key = st.sidebar.text_input(t("tianditu_key", lg), type="password", key="tdt_key")
            return Basemap.tianditu(key) if key else Basemap.vector_only()
        if choice == "custom":
            url = st.sidebar.text_input(t("custom_url", lg), key="custom_url")
            gcj = st.sidebar.checkbox(t("custom_gcj", lg), key="custom_gcj")
            return Basemap.custom(url, gcj02=gcj) if url else Basemap.vector_only()
    except ValueError as exc:  # the library says what a key or URL must look like
        st.sidebar.error(str(exc))
    return Basemap.vector_only()


MAP_HEIGHT = 720  # px: most of a laptop's window beside the details panel (a CSS height
# override would fight the component's own frame height and make the map report two views)
STATE = "map_state"  # the view, the selected project and what the last run saw
LISTED_UP_TO = 5_000  # projects the search lists; above, it searches what is typed
TABLE_ROWS = 1_000  # rows of the table under the map; above, the projects in view, this many
TILES_URL = "/app/static/tiles"  # where Streamlit serves SERVED_TILES_DIR


_TILES: OrderedDict[tuple, MapTiles | None] = OrderedDict()  # the last 16, newest last
_TILES_LOCK = threading.Lock()  # guards _TILES and _CUTTING
_CUTTING: dict[tuple, threading.Lock] = {}  # one cut per key; other keys are not held up


def _tiles_key(snap: Snapshot, who: Principal, revision, as_of) -> tuple:
    """What a map's tiles depend on: the store's revision, the date, and the districts the
    reader may read (as the library scopes them) — not the reader: every city-wide reader
    shares the archive cut ahead after a commit, found in memory, not looked up on disk
    (1.5 s at 10⁵ footprints)."""
    readable = tuple(who.readable_districts(snap.districts["district_id"]))
    return (default_database_url(), revision, as_of, readable)


def _map_tiles(snap: Snapshot, key: tuple, who, gcj02: bool, note) -> MapTiles | None:
    """The readable projects' vector tiles, once per store revision, date, readable districts
    and frame (``key``, see :func:`_tiles_key`); None for a layer small enough for GeoJSON.
    ``note`` says so while they are cut (an empty placeholder otherwise: nothing above the map
    moves on a rerun; None: nothing to say). A second page asking for the same key while it
    is cut waits for that cut."""
    key = key + (gcj02,)
    with _TILES_LOCK:
        if key in _TILES:
            _TILES.move_to_end(key)
            return _TILES[key]
        cutting = _CUTTING.setdefault(key, threading.Lock())
    with cutting:
        with _TILES_LOCK:
            if key in _TILES:
                return _TILES[key]
        tiles = tiles_for_map(
            snap, who, SERVED_TILES_DIR, TILES_URL, TILES_KEY_FILE, gcj02=gcj02, before_build=note
        )
        with _TILES_LOCK:
            _TILES[key] = tiles
            _CUTTING.pop(key, None)
            while len(_TILES) > 16:
                _TILES.popitem(last=False)
    return tiles


def prepare_after_commit(who: Principal) -> None:
    """After a commit: in the background, read today's snapshot into the cache every session
    reads from (:func:`~spatial.ui.common.shared_snapshot`) and cut the archives the map will
    ask for today — the city's and, for a district officer, their district's — so the first
    viewer after the change finds both ready, not a 10⁵-project read and a cut (nothing is cut
    for a layer small enough for GeoJSON)."""
    threading.Thread(
        target=_prepare,
        args=(readers_after_change(who), shenzhen_today()),
        name="prepare-after-commit",
        daemon=True,
    ).start()


PREPARE_ON_START = "SPATIAL_PREPARE_ON_START"  # "0": a new server reads nothing ahead
_STARTED = threading.Event()


def prepare_on_start() -> None:
    """Once per server process, at its first page run (the sign-in page): in the background,
    what :func:`prepare_after_commit` does for the city — today's snapshot read into the
    shared cache, the city's archives found (or cut, for a store written by other means) and
    held under the key the map asks with — and the map's code run once on a few projects.
    The first planner finds them ready, as after a commit, instead of paying for them on
    the first map visit (10⁵ points: 3.4 s, against 1.4 s after a commit). Off with
    ``SPATIAL_PREPARE_ON_START=0``."""
    if os.environ.get(PREPARE_ON_START, "1") == "0" or _STARTED.is_set():
        return
    with _TILES_LOCK:
        if _STARTED.is_set():
            return
        _STARTED.set()
    threading.Thread(
        target=_prepare_city,
        args=(shenzhen_today(),),
        name="prepare-on-start",
        daemon=True,
    ).start()


def _prepare_city(today) -> None:
    _prepare(readers_after_change(Principal("map-tiles", Role.VIEWER)), today)
    try:  # the map's code once (folium's templates compiled), on a few projects
        snap = shared_snapshot(default_database_url(), store().revision(), today)
        few = located(snap.projects.iloc[:10])
        m = build_map(districts=snap.districts, parks=snap.parks,
                      control_lines=snap.control_lines, projects=few, popups=False)  # fmt: skip
        m.get_root().render()
    except Exception:  # a background helper: the first map page runs it instead
        log.exception("the map's code could not be run ahead")


def _prepare(readers: list[Principal], today) -> None:
    s = store()
    revision = s.revision()
    try:  # the key every page reads the snapshot under
        snap = shared_snapshot(default_database_url(), revision, today)
    except Exception:  # a background helper: the pages read the store when asked instead
        log.exception("the snapshot could not be read ahead; the first page will read it")
        cut_ahead(s, readers, SERVED_TILES_DIR, TILES_KEY_FILE, today)
        return
    for reader in readers:  # the tiles a page will ask for, under the key it asks with
        try:
            _map_tiles(snap, _tiles_key(snap, reader, revision, today), reader, False, None)
        except Exception:  # a background helper: the map cuts on demand instead
            log.exception("tiles could not be cut ahead; the map will cut them when asked")


def _state() -> dict:
    return st.session_state.setdefault(
        STATE,
        {
            "centre": None,  # the user's view: (lat, lon) in the display frame, as last reported
            "zoom": None,
            "passed": None,  # the (centre, zoom) the map opens on: changed only to move it
            "moved": False,  # this run asks the map to move (a district, a search, a row)
            "drawn": None,  # what the map was last drawn from (filters, date, language …)
            "selected": None,  # project_id shown in the panel and highlighted
            "districts": (),  # the district filter the view was last fitted to
            "search": None,
            "returned": None,  # the map's last reported (centre, zoom)
            "clicked": None,  # the last clicked feature's id, as reported
            "clicked_at": None,  # the last click's place on a tiled map, as reported
            "table": 0,  # generation of the table's key: a new one clears its selection
        },
    )


def _display(point: tuple[float, float], gcj02: bool) -> tuple[float, float]:
    """A (lat, lon) in the frame the map is drawn in (shifted on GCJ-02 tiles)."""
    if not gcj02:
        return point
    lon, lat = wgs84_to_gcj02(np.array([point[1]]), np.array([point[0]]))
    return float(lat[0]), float(lon[0])


def _fit(state: dict, view: MapView | None, gcj02: bool, max_zoom: int = 15) -> None:
    """Ask the map to move to ``view`` (None: the whole city)."""
    if view is None:
        state["passed"] = (_display(SHENZHEN_CENTRE, gcj02), OPENING_ZOOM)
    else:
        centre, zoom = view.centre_and_zoom(900, MAP_HEIGHT, max_zoom)
        state["passed"] = (_display(centre, gcj02), zoom)
    state["moved"] = True


def render() -> None:
    lg = lang()
    st.title(t("nav_map", lg))
    counted = st.session_state.get(COUNTED_FILTER)  # a dashboard figure's own date rules
    as_of = counted.as_of if counted is not None else as_of_input()
    snap = snapshot(as_of)
    flt = project_filter_inputs(snap, lg, "map")
    basemap = basemap_input(lg)
    shown = flt.apply(snap.projects)
    state = _state()
    _follow_district_choice(state, flt, snap, shown, basemap.gcj02)
    on_map = located(shown)  # once: every piece below draws or searches only these
    _search_box(state, on_map, lg, basemap.gcj02)
    unlocated = len(shown) - len(on_map)
    st.caption(
        t("shown_projects", lg, n=len(shown) - unlocated, total=len(snap.projects),
          unlocated=unlocated)
    )  # fmt: skip
    chosen = state["selected"]
    selected = chosen if chosen is not None and (shown["project_id"] == chosen).any() else None
    # The map opens where it should be: where the user was when it is drawn anew (a filter,
    # the date, the language, the selection changed), or where the page moves it (a district,
    # a search, a row). While nothing changes, the same map is handed over again and stays
    # where the user put it (the figure, and with it the map, is unchanged).
    who = principal()
    note = st.empty()
    tiles = _map_tiles(
        snap,
        _tiles_key(snap, who, store().revision(), as_of),
        who,
        basemap.gcj02,
        lambda: note.info(t("map_tiles_building", lg)),
    )
    note.empty()
    # a tiled map is told which projects to show apart from the map (shown_projects), so a
    # filter leaves the map — its decoded tiles, its view — as it is
    drawn = (repr(flt) if tiles is None else None, as_of, lg, basemap, selected)
    if drawn != state["drawn"] and not state["moved"] and state["centre"] is not None:
        state["passed"] = (state["centre"], state["zoom"])
    state["drawn"], state["moved"] = drawn, False
    m = build_map(
        districts=snap.districts,
        parks=snap.parks,
        control_lines=snap.control_lines,
        projects=on_map,
        lang=lg,
        basemap=basemap,
        popups=False,  # the details are in the panel beside the map
        selected=selected,
        opening=state["passed"],
        tiles=tiles,
        shown_apart=tiles is not None,
    )
    left, right = st.columns([3, 1.3])
    with left:
        out = (
            st_folium(
                m,
                height=MAP_HEIGHT,
                use_container_width=True,
                # the view comes back as bounds: returning Leaflet's centre and zoom as well
                # made streamlit-folium redraw the map at its opening view on some reruns
                # a tiled layer's features are no Leaflet layers: its clicks come back as places
                returned_objects=["bounds", "last_active_drawing"]
                + (["last_clicked"] if tiles is not None else []),
                feature_group_to_add=None if tiles is None else shown_projects(on_map, tiles),
                key="main_map",
            )
            or {}
        )
    _keep_reported_view(state, m, out)
    if tiles is not None:
        _follow_tiled_click(state, out, on_map, basemap.gcj02)
    _follow_click(state, out)
    with right:
        details_panel(snap, selected, lg)
    view = MapView.from_leaflet(out.get("bounds"), gcj02=basemap.gcj02)
    linked_table(snap, shown, selected, lg, state, basemap.gcj02, view)
    offline_map_button(flt, as_of, lg, view)


def _follow_district_choice(state: dict, flt, snap, shown, gcj02: bool) -> None:
    """Choosing districts zooms to them, and the view stays until the user moves it."""
    if flt.districts == state["districts"]:
        return
    state["districts"] = flt.districts
    chosen = snap.districts[snap.districts["district_id"].isin(flt.districts)].geometry
    inside = shown[shown["district_id"].isin(flt.districts)].geometry
    view = MapView.around(chosen) or MapView.around(inside)
    _fit(state, view if flt.districts else None, gcj02, max_zoom=14)


def _search_box(state: dict, located: pd.DataFrame, lg: str, gcj02: bool) -> None:
    """Find a project by id or name: it is selected and brought into view. A long register is
    searched as typed (a list of every project would weigh megabytes in the page)."""
    if len(located) > LISTED_UP_TO:
        typed = st.text_input(
            t("map_search", lg), placeholder=t("map_search_placeholder", lg), key="map_search_q"
        )
        located = search_projects(located, typed or "", limit=50)
        if typed and located.empty:
            st.caption(t("map_search_none", lg))
            return
        if not typed:
            return
    names = dict(
        zip(
            located["project_id"],
            located["name_zh"] if lg == "zh" else located["name_en"].fillna(located["name_zh"]),
            strict=True,
        )
    )
    found = st.selectbox(
        t("map_search", lg) if len(names) <= LISTED_UP_TO else t("map_search_matches", lg),
        list(names),
        index=None,
        format_func=lambda i: f"{i} · {names.get(i, '')}",
        placeholder=t("map_search_placeholder", lg),
        key="map_search",
    )
    if found != state["search"]:
        state["search"] = found
        if found is not None:
            _select(state, found, located, gcj02)


def _keep_reported_view(state: dict, m, out: dict) -> None:
    """The view the user moved to, as the map reports it (bounds, read live from the map
    when it reports — a click's report included); a map not yet drawn reports its own
    bounds, which say nothing."""
    shown_view = MapView.from_leaflet(out.get("bounds"))  # in the display frame
    (south, west), (north, east) = m.get_bounds()
    placeholder = out.get("bounds") == {
        "_southWest": {"lat": south, "lng": west},
        "_northEast": {"lat": north, "lng": east},
    }
    if shown_view is not None and not placeholder:
        reported = shown_view.shown_at(MAP_HEIGHT)
        if reported != state["returned"]:
            state["returned"] = reported
            state["centre"], state["zoom"] = reported


def _follow_click(state: dict, out: dict) -> None:
    """A project clicked on the map is selected (and the table follows)."""
    clicked = ((out.get("last_active_drawing") or {}).get("properties") or {}).get("project_id")
    if clicked != state["clicked"]:
        state["clicked"] = clicked
        if clicked is not None and clicked != state["selected"]:
            state["selected"] = clicked
            state["table"] += 1  # the table follows the map
            st.rerun()


def _follow_tiled_click(state: dict, out: dict, shown: pd.DataFrame, gcj02: bool) -> None:
    """A click on a tiled map selects the shown project drawn under it (found in the library
    as the layer draws it); a click beside every project changes nothing."""
    at = out.get("last_clicked")
    if not at or at == state["clicked_at"]:
        return
    state["clicked_at"] = at
    zoom = state["zoom"] if state["zoom"] is not None else OPENING_ZOOM
    found = project_at(shown, float(at["lat"]), float(at["lng"]), zoom, gcj02)
    if found is not None and found != state["selected"]:
        state["selected"] = found
        state["table"] += 1
        st.rerun()


def _select(state: dict, project_id: str, located: pd.DataFrame, gcj02: bool) -> None:
    """Select a project and bring it into view (zoomed in, not beyond street level)."""
    state["selected"] = project_id
    state["table"] += 1
    _fit(state, MapView.around(located[located["project_id"] == project_id].geometry, 0.004), gcj02)


def linked_table(
    snap: Snapshot,
    shown: pd.DataFrame,
    selected: str | None,
    lg: str,
    state: dict,
    gcj02: bool,
    view: MapView | None = None,
) -> None:
    """The projects on the map as a table: a row picked here is selected on the map; the
    project selected on the map is highlighted here."""
    from spatial.ui.projects import project_table  # the projects page's own table

    if len(shown) > TABLE_ROWS:  # a long register: the projects in view, the first rows
        in_view = projects_in_view(shown, view)
        st.caption(t("map_table_in_view", lg, n=min(len(in_view), TABLE_ROWS),
                     total=len(in_view)))  # fmt: skip
        shown = in_view.sort_values("project_id", kind="stable").head(TABLE_ROWS)
    table = project_table(snap, shown, lg)
    event = st.dataframe(
        _highlighted(table, selected),
        hide_index=True,
        width="stretch",
        height=320,
        column_config=grouped_numbers(table),
        on_select="rerun",
        selection_mode="single-row",
        key=f"map_table_{state['table']}",
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        picked = table["ID"].iloc[rows[0]]
        if picked != state["selected"]:
            on_map = located(shown)
            if (on_map["project_id"] == picked).any():
                _select(state, picked, on_map, gcj02)
            else:
                state["selected"] = picked
            st.rerun()


def _highlighted(table: pd.DataFrame, selected: str | None):
    """The table with the selected project's row highlighted; the table as it is when that
    project is not among its rows (a Styler renders every cell of the table again on each run:
    1.2 s for the 1,000 rows under the map, for a highlight that is not there)."""
    chosen = np.flatnonzero((table["ID"] == selected).to_numpy())
    if selected is None or not len(chosen):
        return table

    def colours(frame: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
        styles.iloc[chosen] = "background-color:#fff3b0"
        return styles

    return table.style.apply(colours, axis=None)


def details_panel(snap: Snapshot, project_id: str | None, lg: str) -> None:
    """The selected project's fields, comments and history, with a link to the table."""
    if project_id is None:
        st.caption(t("map_details_hint", lg))
        return
    try:
        details = project_details(store(), principal(), snap, project_id)
    except (ProjectNotFound, PermissionDenied) as exc:
        st.info(markdown_text(exc.text(lg)))
        return
    p = details.project
    name = p["name_en"] if lg == "en" and _given(p["name_en"]) else p["name_zh"]
    st.subheader(markdown_text(str(name)), anchor=False)  # a name is text, not markdown
    st.caption(markdown_text(f"ID {p['project_id']}"))
    districts, parks = snap.district_names(lg), snap.park_names(lg)
    rows = [
        (t("district", lg), districts.get(p["district_id"], p["district_id"])),
        (t("park", lg), parks.get(p["park_id"], "—") if _given(p["park_id"]) else "—"),
        (t("status", lg), label(STATUS_LABELS, p["status"], lg)),
        (t("floor_area", lg), _number(p["floor_area_m2"])),
        (t("factory_floor_area", lg), _number(p["factory_floor_area_m2"])),
        (t("land_area", lg), _number(p["land_area_m2"])),
    ]
    for stage in STAGE_CHOICES:
        column = STAGE_DATE_COLUMN[stage]
        evidence = p.get(STAGE_EVIDENCE_COLUMN[stage])
        when = p[column] if _given(p[column]) else "—"
        if _given(p[column]) and _given(evidence):
            when = f"{when}（{label(EVIDENCE_LABELS, evidence, lg)}）"
        rows.append((t(column, lg), when))
    rows += [
        (t("developer", lg), p["developer"] if _given(p["developer"]) else "—"),
        (t("quality", lg), label(QUALITY_LABELS, p["quality"], lg)),
        (t("source", lg), p["source"] if _given(p["source"]) else "—"),
    ]
    st.dataframe(
        pd.DataFrame(rows, columns=[t("field", lg), t("value", lg)]).astype(str),
        hide_index=True,
        width="stretch",
    )
    if st.button(t("map_open_in_table", lg), key="map_open_in_table"):
        st.session_state[PROJECT_FOCUS] = project_id
        st.switch_page("spatial/ui/pages/projects.py")
    with st.expander(t("map_comments", lg, n=len(details.comments))):
        if details.comments.empty:
            st.caption(t("map_no_comments", lg))
        for row in details.comments.itertuples():
            st.text(f"{beijing_text(row.at, seconds=False)} {row.user_name}: {row.text}")
    with st.expander(t("map_history", lg, n=len(details.history))):
        history = details.history
        st.dataframe(
            pd.DataFrame(
                {
                    t("map_history_when", lg): beijing_column(history["valid_from"]),
                    t("map_history_change", lg): history["change_kind"].map(
                        lambda k: change_kind_label(k, lg)
                    ),
                    t("map_history_by", lg): history["changed_by"],
                    t("status", lg): history["status"].map(lambda v: label(STATUS_LABELS, v, lg)),
                    t("floor_area", lg): history["floor_area_m2"],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def _given(value) -> bool:
    return value is not None and value == value and value != ""


def _number(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{float(value):,.0f}"


def offline_map_button(flt: ProjectFilter, as_of, lg: str, view: MapView | None) -> None:
    who = principal()
    if who is not None and who.can(Action.EXPORT, who.district_id):
        label_text = (
            "生成当前视图的离线地图（HTML，无需联网）"
            if lg == "zh"
            else "Offline map of this view (HTML, no internet)"
        )
        if st.button(label_text, key="offline_map"):
            st.download_button(
                "下载离线地图" if lg == "zh" else "Download the offline map",
                offline_map_html(store(), who, flt, as_of, lg, view),
                f"shenzhen_map_{as_of.isoformat()}.html",
                "text/html",
                key="offline_download",
                on_click="ignore",  # no rerun: the file stays until it is fetched
            )
