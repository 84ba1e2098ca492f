"""Resolving an upload's coordinate system and normalising it to lon-lat (DESIGN.md §5).

A declared CRS is honoured. With none declared, projected coordinates are recognised by their
ranges over Shenzhen (EPSG:4547 / 4526). GeoJSON is lon-lat by definition (RFC 7946), so metres
in a GeoJSON without a ``crs`` member are caught, not silently stored. The officer may declare
GCJ-02 (Amap/Tencent) or BD-09 (Baidu). Files that land outside Shenzhen are rejected with the
likely cause, and boundary-like data that sits ~600 m off the district outlines is caught as
GCJ-02.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from spatial.crs import (
    METRIC,
    METRIC_ZONE_PREFIXED,
    WGS84,
    bd09_to_gcj02,
    gcj02_to_wgs84,
    transformer,
)
from spatial.ingest.district_rules import outline_union
from spatial.ingest.findings import Finding, error, warning
from spatial.shapes import surface_points

GCJ02 = "GCJ-02"
BD09 = "BD-09"
AUTO = "auto"
CRS_CHOICES: dict[str, tuple[str, str]] = {
    AUTO: ("自动识别（按文件声明或坐标范围）", "automatic (as declared, or by coordinate ranges)"),
    "EPSG:4326": (
        "WGS84 经纬度（GPS、OpenStreetMap、天地图）",
        "WGS84 lon-lat (GPS, OSM, Tianditu)",
    ),
    "EPSG:4490": ("CGCS2000 经纬度", "CGCS2000 lon-lat"),
    "EPSG:4547": ("CGCS2000 3度带 114°E 平面坐标（米）", "CGCS2000 3° GK CM 114°E (metres)"),
    "EPSG:4526": ("CGCS2000 3度带第38带（带号坐标，米）", "CGCS2000 3° GK zone 38 (metres)"),
    GCJ02: ("GCJ-02（高德、腾讯地图坐标）", "GCJ-02 (Amap, Tencent)"),
    BD09: ("BD-09（百度地图坐标）", "BD-09 (Baidu)"),
}
GEOGRAPHIC = {"EPSG:4326", "EPSG:4490", "OGC:CRS84"}

# Shenzhen incl. 深汕 (no public boundary: its extent is a box)
SHENZHEN_BOX = (113.70, 22.40, 114.70, 22.90)
SHENSHAN_BOX = (114.85, 22.70, 115.60, 23.10)


@dataclass
class ResolvedLayer:
    frame: gpd.GeoDataFrame  # lon-lat, EPSG:4326
    crs_label: str
    findings: list[Finding] = field(default_factory=list)
    fatal: bool = False


def _extent(frame: gpd.GeoDataFrame) -> np.ndarray | None:
    geoms = frame.geometry
    ok = geoms.notna() & ~geoms.is_empty
    if not ok.any():
        return None
    return np.asarray(shapely.total_bounds(geoms[ok].to_numpy()))


def _probe_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = frame.geometry
    ok = (geoms.notna() & ~geoms.is_empty).to_numpy()
    pts = surface_points(geoms.to_numpy()[ok])
    return shapely.get_coordinates(pts)


def shenzhen_mask(xy: np.ndarray, land: shapely.Geometry | None) -> np.ndarray:
    """Which lon-lat points lie in Shenzhen (district land + 3 km, or the 深汕 box)."""
    x, y = xy[:, 0], xy[:, 1]
    box = (
        (x >= SHENZHEN_BOX[0])
        & (x <= SHENZHEN_BOX[2])
        & (y >= SHENZHEN_BOX[1])
        & (y <= SHENZHEN_BOX[3])
    )
    shenshan = (
        (x >= SHENSHAN_BOX[0])
        & (x <= SHENSHAN_BOX[2])
        & (y >= SHENSHAN_BOX[1])
        & (y <= SHENSHAN_BOX[3])
    )
    if land is None:
        return box | shenshan
    inside = np.zeros(len(xy), dtype=bool)
    if box.any():
        inside[box] = shapely.contains_xy(land, x[box], y[box])
    return inside | shenshan


def _transform(xy: np.ndarray, source: str) -> np.ndarray:
    if source == GCJ02:
        return np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    if source == BD09:
        glon, glat = bd09_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack(gcj02_to_wgs84(glon, glat))
    t = transformer(source, WGS84)
    lon, lat = t.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _to_lonlat(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    out = frame.copy(deep=False)  # its columns replaced, never changed in place
    geoms = frame.geometry.to_numpy()
    if source in (GCJ02, BD09):
        out[frame.geometry.name] = shapely.transform(geoms, lambda c: _transform(c, source))
        return out.set_crs(WGS84, allow_override=True)
    if source in GEOGRAPHIC:
        return out.set_crs(WGS84, allow_override=True)
    return out.set_crs(source, allow_override=True).to_crs(WGS84)


HYPOTHESES: tuple[tuple[str, str, str, str], ...] = (
    # (code, source CRS to try, zh, en)
    ("swapped", "swap", "经纬度顺序颠倒（纬度写在了前面）", "lat/lon swapped (latitude first)"),
    (
        "looks_epsg4547",
        METRIC,
        "像是没有 crs 声明的 EPSG:4547 平面坐标（米）",
        "looks like EPSG:4547 (metres) without a crs member",
    ),
    (
        "looks_epsg4526",
        METRIC_ZONE_PREFIXED,
        "像是带带号的 EPSG:4526 平面坐标（米）",
        "looks like EPSG:4526 (metres, zone prefix) without a crs member",
    ),
    ("looks_utm49", "EPSG:32649", "像是 UTM 49N 平面坐标（米）", "looks like UTM 49N (metres)"),
    ("looks_utm50", "EPSG:32650", "像是 UTM 50N 平面坐标（米）", "looks like UTM 50N (metres)"),
    (
        "looks_webmercator",
        "EPSG:3857",
        "像是 Web 墨卡托坐标（米）",
        "looks like Web Mercator (metres)",
    ),
    ("looks_gcj02", GCJ02, "像是 GCJ-02（高德/腾讯）坐标", "looks like GCJ-02 (Amap/Tencent)"),
    ("looks_bd09", BD09, "像是 BD-09（百度）坐标", "looks like BD-09 (Baidu)"),
)


def diagnose(xy: np.ndarray, land) -> tuple[str, str, str] | None:
    """The hypothesis that puts most of these points into Shenzhen, if any does."""
    best, best_share = None, 0.5
    for code, source, zh, en in HYPOTHESES:
        try:
            if source == "swap":
                moved = xy[:, ::-1]
            else:
                metres = np.nanmax(np.abs(xy)) > 400
                if metres == (source in (GCJ02, BD09)):
                    continue  # a metric CRS cannot explain degrees, nor GCJ-02 metres
                moved = _transform(xy, source)
        except Exception:
            continue
        share = float(shenzhen_mask(moved, land).mean()) if len(moved) else 0.0
        if share > best_share:
            best, best_share = (code, zh, en), share
    return best


def _looks_metric(extent: np.ndarray | None) -> bool:
    return extent is not None and (np.abs(extent) > 400).any()


def _range_guess(extent: np.ndarray) -> str | None:
    """EPSG:4547 / 4526 / lon-lat by the coordinate ranges over Shenzhen."""
    minx, miny, maxx, maxy = extent
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        return "EPSG:4326"
    if 300_000 <= minx and maxx <= 800_000 and 2_300_000 <= miny and maxy <= 2_700_000:
        return METRIC
    if 38_300_000 <= minx and maxx <= 38_800_000 and 2_300_000 <= miny and maxy <= 2_700_000:
        return METRIC_ZONE_PREFIXED
    return None


NEAR_BOUNDARY_M = 50.0
POLYGON_TYPE_IDS = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def gcj_offset_test(frame: gpd.GeoDataFrame, boundaries) -> tuple[float, float] | None:
    """Share of the upload's polygon vertices lying within 50 m of a district boundary, as given
    and after a GCJ-02→WGS84 shift. Outlines traced from Amap/Tencent line up with the
    boundaries only after the shift. Only boundary-like data can tell; None when too few
    vertices."""
    geoms = frame.geometry.to_numpy()
    polys = geoms[np.isin(shapely.get_type_id(geoms), POLYGON_TYPE_IDS)]
    if not len(polys) or boundaries is None:
        return None
    coords = shapely.get_coordinates(polys)  # the rings' vertices, as their boundaries hold them
    if len(coords) < 50:
        return None
    sample = coords[:: max(1, len(coords) // 3000)]
    to_m = transformer(WGS84, METRIC)
    bx = shapely.from_wkb(_in_metres(shapely.to_wkb(boundaries)))
    shapely.prepare(bx)

    def near_share(xy: np.ndarray) -> float:
        mx, my = to_m.transform(xy[:, 0], xy[:, 1])
        near = shapely.dwithin(bx, shapely.points(mx, my), NEAR_BOUNDARY_M)  # bx prepared
        return float(near.mean())

    return near_share(sample), near_share(
        np.column_stack(gcj02_to_wgs84(sample[:, 0], sample[:, 1]))
    )


@functools.lru_cache(maxsize=4)
def _in_metres(lines: bytes) -> bytes:
    """The district boundaries (WKB, lon-lat) in EPSG:4547, projected once per outline set."""
    to_m = transformer(WGS84, METRIC)
    geom = shapely.from_wkb(lines)
    moved = shapely.transform(geom, lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
    return shapely.to_wkb(moved)


class CrsRefused(Exception):
    """The coordinates cannot be placed: the finding says why and what to do."""

    def __init__(self, code: str, zh: str, en: str, fix_zh: str, fix_en: str):
        super().__init__(en)
        self.finding = error(code, zh, en, fix_zh, fix_en)


def resolve_crs(
    frame: gpd.GeoDataFrame,
    declared: str | None,
    choice: str = AUTO,
    fmt: str = "",
    districts: gpd.GeoDataFrame | None = None,
) -> ResolvedLayer:
    """Normalise ``frame`` (in the file's coordinates) to lon-lat and say what was done: the
    source CRS (chosen, declared or recognised) → lon-lat → most features in Shenzhen → (when
    automatic) outlines not shifted like GCJ-02. Any stage may refuse the file."""
    findings: list[Finding] = []
    land, boundaries = district_shapes(districts)
    try:
        source = source_crs(frame, declared, choice, fmt, land, findings)
        lonlat = transformed(frame, source, findings)
        flag_outside_shenzhen(frame, lonlat, source, land)
        if choice == AUTO:
            not_shifted_like_gcj02(lonlat, boundaries)
    except CrsRefused as refused:
        findings.append(refused.finding)
        return ResolvedLayer(frame.set_crs(None, allow_override=True), "", findings, fatal=True)
    label = "WGS84" if source in ("EPSG:4326", "OGC:CRS84") else source
    return ResolvedLayer(lonlat, label, findings)


def district_shapes(districts: gpd.GeoDataFrame | None):
    """Shenzhen's land with a ~3 km margin (prepared) and the district boundaries as lines;
    (None, None) without district outlines."""
    d = None if districts is None else districts[districts.geometry.notna()]
    if d is None or d.empty:
        return None, None
    land, boundaries = shapely.from_wkb(_district_shapes(tuple(shapely.to_wkb(d.geometry))))
    shapely.prepare(land)
    return land, boundaries


LAND_MARGIN_DEG = 0.03  # ~3 km: Shenzhen's land for telling a file's coordinate system
LAND_SIMPLIFY_DEG = 0.0005  # ~50 m


@functools.lru_cache(maxsize=4)
def _district_shapes(outlines: tuple[bytes, ...]) -> tuple[bytes, bytes]:
    """The union and buffer of :func:`district_shapes`, computed once per set of outlines
    (they change only when an admin replaces the layer); kept as WKB, so each caller builds
    (and prepares) shapes of its own."""
    geoms = shapely.from_wkb(list(outlines))
    union = outline_union(geoms)
    # ~3 km round the outline simplified to ~50 m (LAND_SIMPLIFY_DEG): a quarter of the
    # buffer's time for a margin that moves by less than 50 m of its 3 km
    land = shapely.buffer(shapely.simplify(union, LAND_SIMPLIFY_DEG), LAND_MARGIN_DEG)
    # the boundaries as one collection of lines (a distance to it is the nearest line's; a
    # union would only merge the edges two districts share)
    lines = shapely.multilinestrings(shapely.get_parts(shapely.boundary(geoms)))
    return shapely.to_wkb(land), shapely.to_wkb(lines)


def source_crs(
    frame: gpd.GeoDataFrame,
    declared: str | None,
    choice: str,
    fmt: str,
    land,
    findings: list[Finding],
) -> str:
    """The coordinate system the file's numbers are in: the user's choice, else the file's
    declaration, else lon-lat for GeoJSON (RFC 7946), else what the ranges say."""
    extent = _extent(frame)
    if choice not in CRS_CHOICES:
        raise CrsRefused(
            "unknown_crs_choice",
            f"不支持的坐标系选项 {choice}",
            f"unsupported CRS option {choice}",
            "从列表中选择。",
            "Choose from the list.",
        )
    if choice != AUTO:
        if declared and declared != choice and not {declared, choice} <= GEOGRAPHIC:
            findings.append(
                warning(
                    "crs_overridden",
                    f"文件声明坐标系 {declared}，按上传时选择的 {choice} 处理",
                    f"the file declares {declared}; treated as {choice} as chosen at upload",
                )
            )
        return choice
    if declared:
        return _declared_crs(declared, extent)
    if extent is None:
        return "EPSG:4326"
    if fmt.startswith("GeoJSON"):
        _lonlat_geojson(frame, extent, land)
        return "EPSG:4326"  # RFC 7946: GeoJSON is WGS84 lon-lat
    return _recognised_by_ranges(frame, extent, land, findings)


def _declared_crs(declared: str, extent: np.ndarray | None) -> str:
    """The declared CRS, when pyproj knows it and the numbers fit it."""
    try:
        source = declared if declared == "OGC:CRS84" else CRS.from_user_input(declared).to_string()
    except Exception as exc:  # pyproj raises several types for a name it does not know
        raise CrsRefused(
            "unknown_declared_crs",
            f"文件声明的坐标系 “{declared}” 无法识别",
            f"the declared CRS '{declared}' is not recognised",
            "上传时手动选择坐标系。",
            "Choose the CRS when uploading.",
        ) from exc
    if CRS.from_user_input(source).is_geographic and _looks_metric(extent):
        guess = _range_guess(extent)
        hint = f"像是 {guess} 平面坐标" if guess else "是平面坐标（米）"
        raise CrsRefused(
            "declared_lonlat_but_metres",
            f"文件声明经纬度（{declared}），但坐标数值{hint}",
            f"the file declares lon-lat ({declared}) but the numbers are metres"
            + (f" (looks like {guess})" if guess else ""),
            "上传时把坐标系选为正确的平面坐标系（如 EPSG:4547）。",
            "Choose the right projected CRS (e.g. EPSG:4547) when uploading.",
        )
    return source


def _lonlat_geojson(frame: gpd.GeoDataFrame, extent: np.ndarray, land) -> None:
    """GeoJSON without a ``crs`` member is lon-lat by definition: metres are refused."""
    if not _looks_metric(extent):
        return
    guess = _range_guess(extent)
    cause = diagnose(_probe_xy(frame), land)
    zh = cause[1] if cause else (f"像是 {guess} 平面坐标" if guess else "是平面坐标（米）")
    en = cause[2] if cause else (f"looks like {guess}" if guess else "metres")
    raise CrsRefused(
        cause[0] if cause else "metres_without_crs",
        f"GeoJSON 应为经纬度，但坐标数值是米：{zh}",
        f"GeoJSON must be lon-lat but the numbers are metres: {en}",
        "在 GIS 软件中导出为 WGS84（EPSG:4326），或上传时把坐标系选为 EPSG:4547。",
        "Export as WGS84 (EPSG:4326) from your GIS, or choose EPSG:4547 when uploading.",
    )


def _recognised_by_ranges(
    frame: gpd.GeoDataFrame, extent: np.ndarray, land, findings: list[Finding]
) -> str:
    """No declaration: the CRS whose ranges over Shenzhen the numbers fit. The Shenzhen local
    grid is recognised and refused (its parameters are not public)."""
    guess = _range_guess(extent)
    minx, miny, maxx, maxy = extent
    if guess is None and 50_000 <= minx and maxx <= 200_000 and -20_000 <= miny <= maxy <= 100_000:
        raise CrsRefused(
            "looks_sz_local_grid",
            "坐标像是深圳独立坐标系（深圳地方平面坐标），其转换参数未公开，无法可靠转换",
            "the coordinates look like the Shenzhen local grid, whose parameters are not "
            "public; they cannot be converted reliably",
            "请在 GIS 软件中转换为 CGCS2000（EPSG:4547 或 EPSG:4490）后上传。",
            "Convert to CGCS2000 (EPSG:4547 or EPSG:4490) in your GIS, then upload.",
        )
    if guess is None:
        cause = diagnose(_probe_xy(frame), land)
        raise CrsRefused(
            "crs_unknown",
            "文件没有坐标系信息，坐标范围也不像深圳常用坐标系" + (f"：{cause[1]}" if cause else ""),
            "the file has no CRS and its coordinate ranges match no system used in Shenzhen"
            + (f": {cause[2]}" if cause else ""),
            "附上 .prj，或上传时选择坐标系。",
            "Include a .prj, or choose the CRS when uploading.",
        )
    if guess != "EPSG:4326":
        findings.append(
            warning(
                "crs_recognised",
                f"文件没有坐标系信息，按坐标范围识别为 {guess}",
                f"the file has no CRS; recognised as {guess} by its coordinate ranges",
                "请在预览地图上确认位置正确。",
                "Check the locations on the preview map.",
            )
        )
    return guess


def transformed(frame: gpd.GeoDataFrame, source: str, findings: list[Finding]):
    """``frame`` in lon-lat (GCJ-02 and BD-09 converted to WGS84, and said so)."""
    try:
        lonlat = _to_lonlat(frame, source)
    except Exception as exc:  # pyproj and the GCJ-02 formulas fail in many ways; all are named
        raise CrsRefused(
            "transform_failed",
            f"坐标转换失败：{exc}",
            f"the transformation failed: {exc}",
            "检查坐标系选择。",
            "Check the CRS choice.",
        ) from exc
    if source in (GCJ02, BD09):
        findings.append(
            warning(
                "converted_from_" + ("gcj02" if source == GCJ02 else "bd09"),
                f"坐标已从 {source} 转换为 WGS84 保存",
                f"coordinates were converted from {source} to WGS84 for storage",
            )
        )
    return lonlat


def flag_outside_shenzhen(
    frame: gpd.GeoDataFrame, lonlat: gpd.GeoDataFrame, source: str, land
) -> None:
    """Marks each feature outside Shenzhen (``_outside_shenzhen``); refuses the file when most
    are, naming the likely cause (swapped axes, metres read as degrees, GCJ-02 …)."""
    xy = _probe_xy(lonlat)
    if not len(xy):
        return
    inside = shenzhen_mask(xy, land)
    if inside.mean() < 0.5:
        cause = diagnose(_probe_xy(frame), land) if source in GEOGRAPHIC else diagnose(xy, land)
        zh = f"：{cause[1]}" if cause else ""
        en = f": {cause[2]}" if cause else ""
        raise CrsRefused(
            cause[0] if cause else "outside_shenzhen",
            f"{int((~inside).sum())}/{len(inside)} 个要素不在深圳范围内，可能原因{zh or '未知'}",
            f"{int((~inside).sum())} of {len(inside)} features fall outside Shenzhen; likely "
            f"cause{en or ' unknown'}",
            "确认坐标系后重新上传（上传时可选择坐标系）。",
            "Check the coordinate system and upload again (you can choose it when uploading).",
        )
    has = (lonlat.geometry.notna() & ~lonlat.geometry.is_empty).to_numpy()
    flags = np.zeros(len(lonlat), dtype=bool)
    flags[has] = ~inside
    lonlat["_outside_shenzhen"] = flags


def not_shifted_like_gcj02(lonlat: gpd.GeoDataFrame, boundaries) -> None:
    """Outlines that meet the district boundaries only once read as GCJ-02 are GCJ-02."""
    test = gcj_offset_test(lonlat, boundaries)
    if test is None:
        return
    as_is, shifted = test
    if shifted >= 0.3 and shifted > 3 * as_is:
        raise CrsRefused(
            "looks_gcj02",
            f"只有 {as_is:.0%} 的边界点贴合行政区界线，按 GCJ-02 换算后 {shifted:.0%} "
            "贴合：像是 GCJ-02（高德/腾讯）坐标",
            f"only {as_is:.0%} of the outline vertices lie on the district boundaries, "
            f"{shifted:.0%} once read as GCJ-02: looks like GCJ-02 (Amap/Tencent)",
            "上传时把坐标系选为 GCJ-02；若确为 WGS84，请选择 WGS84 后重新上传。",
            "Choose GCJ-02 when uploading; if it really is WGS84, choose WGS84.",
        )
