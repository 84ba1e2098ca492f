"""Reading GeoJSON uploads strictly (RFC 7946), with a finding for every departure.

Accepted inputs: a FeatureCollection, a single Feature, a bare Geometry, a bare JSON array of
Features (common in web-map exports), and GeoJSON Text Sequences / GeoJSON Lines (RFC 8142).
Syntax errors carry their line and column. The walk over features checks structure only;
geometry validity is checked afterwards, vectorised, on the shapes (see ``spatial.ingest``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from spatial.findings import Finding, error, warning

GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
GEOMETRY_TYPES = set(GEOMETRY_DEPTH) | {"GeometryCollection"}
ALL_TYPES = GEOMETRY_TYPES | {"Feature", "FeatureCollection"}
_TYPES_LOWER = {t.lower(): t for t in ALL_TYPES}
_PRECISION_SCALE = 1e7  # 7 decimals ≈ 1 cm: what the store keeps


@dataclass
class ParsedGeoJSON:
    """Features as plain dicts (``geometry`` may be None), plus what the file declared."""

    features: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    declared_crs: str | None = None
    kind: str = "FeatureCollection"


class _DuplicateKeys(dict):
    pass


def _pairs_hook(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen, dupes = set(), []
        for key, _ in pairs:
            if key in seen:
                dupes.append(key)
            seen.add(key)
        out = _DuplicateKeys(obj)
        out.duplicate_keys = dupes
        return out
    return obj


def _syntax_error(exc: json.JSONDecodeError) -> Finding:
    return error(
        "json_syntax",
        f"JSON 语法错误：{exc.msg}",
        f"JSON syntax error: {exc.msg}",
        "用文本编辑器或 geojson.io 打开，修正该位置的括号、逗号或引号后重新上传。",
        "Open the file in a text editor (or geojson.io), fix the bracket, comma or quote at "
        "that position, and upload again.",
        line=exc.lineno,
        column=exc.colno,
    )


def crs_from_member(crs) -> str | None:
    """The CRS named by a legacy GeoJSON ``crs`` member (or JSON-FG ``coordRefSys``)."""
    if isinstance(crs, str):
        name = crs
    elif isinstance(crs, dict):
        props = crs.get("properties") or {}
        name = props.get("name") or props.get("href") or ""
    else:
        return None
    name = str(name).strip("[]")
    if re.search(r"CRS84$|CRS:84", name, re.I):
        return "OGC:CRS84"
    m = re.search(r"EPSG(?::[\d.]*)?::?(\d+)", name, re.I)
    if m:
        return f"EPSG:{m.group(1)}"
    return name or None


class _Walker:
    """Walks parsed JSON, collecting findings; builds one dict per feature."""

    def __init__(self):
        self.findings: list[Finding] = []
        self.features: list[dict] = []
        self.index = 0  # 1-based feature position, set while walking a feature
        self.fid: str | None = None
        self.precision_warned = False
        self.heights_warned = False

    # -- helpers --------------------------------------------------------------------------------
    def err(self, code, zh, en, fix_zh="", fix_en="", **kw):
        self.findings.append(
            error(
                code, zh, en, fix_zh, fix_en, feature=self.index or None, feature_id=self.fid, **kw
            )
        )

    def warn(self, code, zh, en, fix_zh="", fix_en="", **kw):
        self.findings.append(
            warning(
                code, zh, en, fix_zh, fix_en, feature=self.index or None, feature_id=self.fid, **kw
            )
        )

    def duplicates(self, obj, where: str) -> None:
        for key in getattr(obj, "duplicate_keys", ()):
            self.err(
                "duplicate_member",
                f"{where} 中成员 “{key}” 出现了不止一次，无法确定取哪个值",
                f"member '{key}' appears more than once in the {where}; the value is ambiguous",
                f"删除重复的 “{key}”，只保留一个。",
                f"Keep one '{key}' member and delete the others.",
            )

    def check_type(self, obj, expected: set[str], where: str) -> str | None:
        if not isinstance(obj, dict):
            self.err(
                "not_an_object",
                f"{where} 应为 JSON 对象，实际是 {type(obj).__name__}",
                f"the {where} must be a JSON object, found {type(obj).__name__}",
                '按 GeoJSON 格式写成 {"type": …} 对象。',
                'Write it as a GeoJSON object {"type": …}.',
            )
            return None
        self.duplicates(obj, where)
        kind = obj.get("type")
        if "type" not in obj:
            self.err(
                "missing_type",
                f"{where} 缺少 “type” 成员",
                f"the {where} has no 'type' member",
                f'加上 "type"，取值为 {"/".join(sorted(expected))} 之一。',
                f'Add "type" with one of {", ".join(sorted(expected))}.',
            )
            return None
        if not isinstance(kind, str):
            self.err(
                "bad_type",
                f"{where} 的 “type” 应为字符串，实际是 {type(kind).__name__}",
                f"the 'type' of the {where} must be a string, found {type(kind).__name__}",
                '把 type 写成字符串，如 "Feature"。',
                'Make "type" a string such as "Feature".',
            )
            return None
        if kind not in expected:
            proper = _TYPES_LOWER.get(kind.lower())
            hint_zh = (
                f"应写作 “{proper}”（区分大小写）。"
                if proper
                else (f"应为 {'/'.join(sorted(expected))} 之一。")
            )
            hint_en = (
                f"Write '{proper}' (case matters)."
                if proper
                else (f"Use one of {', '.join(sorted(expected))}.")
            )
            self.err(
                "unknown_type",
                f"{where} 的类型 “{kind}” 不是有效的 GeoJSON 类型",
                f"'{kind}' is not a valid GeoJSON type for the {where}",
                hint_zh,
                hint_en,
            )
            return None
        return kind

    def forbidden_members(self, obj: dict, kind: str) -> None:
        # RFC 7946 §7.1: members that would change the meaning of an object
        rules = {
            "FeatureCollection": ("coordinates", "geometries", "geometry", "properties"),
            "Feature": ("coordinates", "geometries", "features"),
        }
        banned = rules.get(kind, ("geometry", "properties", "features"))
        for member in banned:
            if member in obj:
                self.err(
                    "changed_semantics",
                    f"{kind} 对象不能含有 “{member}” 成员（RFC 7946 §7.1）",
                    f"a {kind} must not have a '{member}' member (RFC 7946 §7.1)",
                    f"删除 “{member}”，或把它放进 properties。",
                    f"Delete '{member}', or move it into properties.",
                )

    def bbox(self, obj: dict) -> None:
        if "bbox" not in obj:
            return
        box = obj["bbox"]
        ok = (
            isinstance(box, list)
            and len(box) in (4, 6)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        )
        if not ok:
            self.err(
                "bad_bbox",
                "bbox 应为 4 个（二维）或 6 个（三维）数字的数组",
                "bbox must be an array of 4 (2D) or 6 (3D) numbers",
                "改正 bbox，或直接删除它（可选成员）。",
                "Correct the bbox or delete it (it is optional).",
            )
            return
        half = len(box) // 2
        if box[1] > box[half + 1]:
            self.err(
                "bbox_order",
                "bbox 的南边界大于北边界",
                "bbox has its south edge above its north edge",
                "bbox 顺序应为 [西, 南, 东, 北]。",
                "Order the bbox as [west, south, east, north].",
            )
        elif box[0] > box[half]:
            self.warn(
                "bbox_antimeridian",
                "bbox 的西边界大于东边界（仅在跨越 180° 经线时合理）",
                "bbox has west > east (only right when it crosses the antimeridian)",
                "检查 bbox 顺序 [西, 南, 东, 北]。",
                "Check the bbox order [west, south, east, north].",
            )

    # -- geometry -------------------------------------------------------------------------------
    def positions(self, coords, depth: int, kind: str) -> list | None:
        """Check nesting and positions; return coords as nested lists of numpy arrays (rings/
        lines as (n, d) arrays, points as 1-D arrays) or None when broken."""
        if depth == 0:
            return self.position(coords, kind)
        if not isinstance(coords, list):
            self.depth_error(kind)
            return None
        if depth == 1:
            try:
                arr = np.asarray(coords, dtype=float)
            except (TypeError, ValueError):
                arr = None
            if (
                arr is not None
                and arr.ndim == 2
                and 2 <= arr.shape[1] <= 3
                and all(not isinstance(v, bool) for p in coords for v in p)
            ):
                self.precision(arr)
                return arr
            parts = [self.position(p, kind) for p in coords]
            if any(p is None for p in parts):
                return None
            sizes = {len(p) for p in parts}
            if len(sizes) > 1:
                self.warn(
                    "mixed_dimensions",
                    f"{kind} 的坐标维数不一致（有的 2 个数，有的 3 个数）；高程将被忽略",
                    f"the positions of the {kind} mix 2 and 3 numbers; heights are dropped",
                    "所有坐标统一为 [经度, 纬度] 或统一为 [经度, 纬度, 高程]。",
                    "Make every position [lon, lat] or every one [lon, lat, height].",
                )
                return np.array([np.pad(p, (0, 3 - len(p)), constant_values=np.nan) for p in parts])
            return np.asarray(parts, dtype=float) if parts else np.empty((0, 2))
        out = []
        for part in coords:
            checked = self.positions(part, depth - 1, kind)
            if checked is None:
                return None
            out.append(checked)
        return out

    def position(self, p, kind: str):
        if not isinstance(p, list):
            self.depth_error(kind)
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p):
            self.err(
                "position_not_numbers",
                f"{kind} 的坐标中有非数字的值：{json.dumps(p, ensure_ascii=False)[:60]}",
                f"a position of the {kind} holds something other than numbers: "
                f"{json.dumps(p)[:60]}",
                "坐标必须是数字，如 [114.05, 22.54]，不能带引号或为空。",
                "Positions must be numbers like [114.05, 22.54], not quoted strings or nulls.",
            )
            return None
        if len(p) < 2 or len(p) > 3:
            self.err(
                "position_size",
                f"{kind} 的一个坐标有 {len(p)} 个数，应为 2 个（经度, 纬度）或 3 个（含高程）",
                f"a position of the {kind} has {len(p)} numbers; it needs 2 (lon, lat) or 3 "
                "(with height)",
                "写成 [经度, 纬度] 或 [经度, 纬度, 高程]。",
                "Write [lon, lat] or [lon, lat, height].",
            )
            return None
        arr = np.asarray(p, dtype=float)
        self.precision(arr)
        return arr

    def precision(self, arr: np.ndarray) -> None:
        if not self.heights_warned and arr.size and arr.shape[-1] == 3:
            self.heights_warned = True
            self.warn(
                "heights_dropped",
                "坐标带有高程（第三个数），本系统只保存平面位置，高程将被忽略",
                "positions carry heights (a third number); only the plane position is kept",
                "如需记录建筑高度，请填写“建筑高度”字段。",
                "Record building height in the 'height' field instead.",
            )
        if self.precision_warned or arr.size == 0:
            return
        scaled = arr * _PRECISION_SCALE
        if np.any(np.abs(scaled - np.round(scaled)) > 1e-4):
            self.precision_warned = True
            self.warn(
                "excess_precision",
                "坐标小数位超过 7 位（不到 1 厘米），保存时将四舍五入到 7 位",
                "coordinates have more than 7 decimals (under 1 cm); they are rounded to 7",
                "无需处理；如需精确到毫米请说明用途。",
                "Nothing to do; coordinates are kept to 7 decimals (about 1 cm).",
            )

    def depth_error(self, kind: str) -> None:
        depth = GEOMETRY_DEPTH.get(kind, 0)
        shape = {0: "[x, y]", 1: "[[x, y], …]", 2: "[[[x, y], …], …]", 3: "[[[[x, y], …]]]"}
        self.err(
            "coordinates_nesting",
            f"{kind} 的坐标嵌套层数不对，应为 {shape[depth]}",
            f"the coordinates of the {kind} are nested wrongly; expected {shape[depth]}",
            "检查几何类型与坐标嵌套是否一致（例如点被标成了多面）。",
            "Check that the geometry type matches the nesting (e.g. a point labelled as a "
            "MultiPolygon).",
        )

    def line_rules(self, kind: str, lines: list[np.ndarray]) -> bool:
        for line in lines:
            if len(line) < 2:
                self.err(
                    "short_line",
                    f"{kind} 中有线段少于 2 个点",
                    f"a line of the {kind} has fewer than 2 positions",
                    "每条线至少需要 2 个点。",
                    "Every line needs at least 2 positions.",
                )
                return False
        return True

    def ring_rules(self, kind: str, polygons: list[list[np.ndarray]]) -> bool:
        ok = True
        wrong_winding = False
        for rings in polygons:
            if not rings:
                continue
            for r, ring in enumerate(rings):
                if len(ring) < 4:
                    self.err(
                        "short_ring",
                        f"{kind} 的一个环只有 {len(ring)} 个点，闭合环至少需要 4 个",
                        f"a ring of the {kind} has {len(ring)} positions; a closed ring needs 4",
                        "环的首尾点必须相同，且至少包含 3 个不同的点。",
                        "A ring needs at least 3 distinct positions plus the first repeated last.",
                    )
                    ok = False
                    continue
                if not np.array_equal(ring[0], ring[-1], equal_nan=True):
                    self.err(
                        "ring_not_closed",
                        f"{kind} 的一个环首尾坐标不同，没有闭合",
                        f"a ring of the {kind} does not end where it starts",
                        "把第一个坐标复制到环的末尾。",
                        "Repeat the first position at the end of the ring.",
                    )
                    ok = False
                    continue
                x, y = ring[:, 0], ring[:, 1]
                signed = float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))
                if (r == 0 and signed < 0) or (r > 0 and signed > 0):
                    wrong_winding = True
        if ok and wrong_winding:
            self.warn(
                "winding_order",
                f"{kind} 的环方向不符合右手规则（外环应逆时针、内环应顺时针）；已自动调整",
                f"the rings of the {kind} do not follow the right-hand rule (exterior "
                "counter-clockwise, holes clockwise); reoriented",
                "无需处理；导出时按右手规则写出。",
                "Nothing to do; exports follow the right-hand rule.",
            )
        return ok

    def geometry(self, geom, where: str = "geometry", nested: bool = False):
        """Validate a geometry object; return it (as given) when usable, else None."""
        kind = self.check_type(geom, GEOMETRY_TYPES, where)
        if kind is None:
            return None
        self.forbidden_members(geom, kind)
        self.bbox(geom)
        if kind == "GeometryCollection":
            if nested:
                self.err(
                    "nested_collection",
                    "GeometryCollection 中嵌套了 GeometryCollection",
                    "a GeometryCollection is nested inside another",
                    "把内层几何直接放进外层 geometries 数组。",
                    "Put the inner geometries directly into the outer 'geometries' array.",
                )
                return None
            members = geom.get("geometries")
            if not isinstance(members, list):
                self.err(
                    "missing_geometries",
                    "GeometryCollection 缺少 “geometries” 数组",
                    "the GeometryCollection has no 'geometries' array",
                    '加上 "geometries": [ … ]。',
                    'Add "geometries": [ … ].',
                )
                return None
            if any(m is None for m in members):
                self.err(
                    "null_in_collection",
                    "GeometryCollection 的 geometries 中有 null",
                    "the GeometryCollection's 'geometries' holds a null",
                    "删除 null 项。",
                    "Delete the null entries.",
                )
                return None
            results = [self.geometry(m, "geometry", nested=True) for m in members]
            if any(r is None for r in results):
                return None
            if len(members) == 1:
                self.warn(
                    "single_member_collection",
                    "GeometryCollection 只含一个几何，建议直接使用该几何",
                    "the GeometryCollection holds a single geometry; use that geometry directly",
                    "",
                    "",
                )
            return geom
        if "coordinates" not in geom or geom["coordinates"] is None:
            self.err(
                "missing_coordinates",
                f"{kind} 缺少 “coordinates”",
                f"the {kind} has no 'coordinates'",
                "加上坐标，或把整个 geometry 设为 null。",
                "Add the coordinates, or set the whole geometry to null.",
            )
            return None
        coords = self.positions(geom["coordinates"], GEOMETRY_DEPTH[kind], kind)
        if coords is None:
            return None
        if kind == "LineString" and not self.line_rules(kind, [coords]):
            return None
        if kind == "MultiLineString" and not self.line_rules(kind, coords):
            return None
        if kind == "Polygon" and not self.ring_rules(kind, [coords]):
            return None
        if kind == "MultiPolygon" and not self.ring_rules(kind, coords):
            return None
        return geom

    # -- features -------------------------------------------------------------------------------
    def feature(self, obj, position: int) -> None:
        self.index = position
        self.fid = None
        kind = self.check_type(obj, {"Feature"}, "feature")
        if kind is None:
            self.features.append(
                {"index": position, "id": None, "properties": {}, "geometry": None, "broken": True}
            )
            return
        broken = False
        fid = obj.get("id")
        if "id" in obj and not (
            fid is None
            or isinstance(fid, str)
            or (isinstance(fid, int | float) and not isinstance(fid, bool))
        ):
            self.err(
                "bad_feature_id",
                f"要素的 “id” 应为字符串或数字，实际是 {type(fid).__name__}",
                f"the feature 'id' must be a string or a number, found {type(fid).__name__}",
                "把 id 改为字符串或数字，或删除。",
                "Make the id a string or a number, or delete it.",
            )
            broken = True
            fid = None
        self.fid = None if fid is None else str(fid)
        self.forbidden_members(obj, "Feature")
        self.bbox(obj)
        props = obj.get("properties", ...)
        if props is ...:
            self.err(
                "missing_properties",
                "要素缺少 “properties” 成员（可为 null，但不能省略）",
                "the feature has no 'properties' member (it may be null, not absent)",
                '加上 "properties": { … } 或 "properties": null。',
                'Add "properties": { … } or "properties": null.',
            )
            broken = True
            props = {}
        elif props is not None and not isinstance(props, dict):
            self.err(
                "bad_properties",
                f"要素的 “properties” 应为对象或 null，实际是 {type(props).__name__}",
                f"the feature 'properties' must be an object or null, found {type(props).__name__}",
                '把属性写成 {"字段": 值} 的形式。',
                'Write the attributes as {"field": value}.',
            )
            broken = True
            props = {}
        else:
            if props is not None:
                self.duplicates(props, "properties")
            props = dict(props or {})
        if "geometry" not in obj:
            self.err(
                "missing_geometry_member",
                '要素缺少 “geometry” 成员（没有位置时应写 "geometry": null）',
                "the feature has no 'geometry' member (write \"geometry\": null when it has "
                "no location)",
                "检查是否把 geometry 拼写成了别的名字（如 geom）。",
                "Check whether 'geometry' was spelled differently (e.g. 'geom').",
            )
            geom, broken = None, True
        elif obj["geometry"] is None:
            geom = None
        else:
            geom = self.geometry(obj["geometry"])
            broken = broken or geom is None
        box = obj.get("bbox")
        self.features.append(
            {
                "index": position,
                "id": fid,
                "properties": props,
                "geometry": geom,
                "broken": broken,
                "bbox": box if isinstance(box, list) else None,
            }
        )

    def root(self, doc) -> str:
        if isinstance(doc, list):
            self.warn(
                "bare_feature_array",
                "文件是要素数组，没有 FeatureCollection 外壳；已按 FeatureCollection 读取",
                "the file is a bare array of features without a FeatureCollection; read as one",
                "建议导出为标准 FeatureCollection。",
                "Export a standard FeatureCollection next time.",
            )
            for i, item in enumerate(doc, start=1):
                self.feature(item, i)
            return "FeatureArray"
        if not isinstance(doc, dict):
            self.err(
                "not_geojson",
                f"文件内容不是 GeoJSON 对象，而是 {type(doc).__name__}",
                f"the file is not a GeoJSON object but a JSON {type(doc).__name__}",
                "上传 FeatureCollection 格式的 GeoJSON。",
                "Upload a GeoJSON FeatureCollection.",
            )
            return "invalid"
        if "type" not in doc and (
            "rings" in str(doc.get("features", ""))[:2000]
            or "geometryType" in doc
            or "spatialReference" in doc
        ):
            self.err(
                "esri_json",
                "文件像是 Esri JSON（ArcGIS 格式），不是 GeoJSON",
                "the file looks like Esri JSON (ArcGIS), not GeoJSON",
                "在 ArcGIS/QGIS 中导出为 GeoJSON，或上传压缩的 Shapefile。",
                "Export it as GeoJSON from ArcGIS/QGIS, or upload a zipped Shapefile.",
            )
            return "invalid"
        kind = self.check_type(doc, ALL_TYPES, "file")
        if kind is None:
            return "invalid"
        self.forbidden_members(doc, kind)
        self.bbox(doc)
        if kind == "FeatureCollection":
            features = doc.get("features")
            if not isinstance(features, list):
                self.err(
                    "missing_features",
                    "FeatureCollection 缺少 “features” 数组",
                    "the FeatureCollection has no 'features' array",
                    '加上 "features": [ … ]。',
                    'Add "features": [ … ].',
                )
                return "invalid"
            for i, item in enumerate(features, start=1):
                if item is None:
                    self.index, self.fid = i, None
                    self.err(
                        "null_feature",
                        "features 数组中有 null",
                        "the 'features' array holds a null",
                        "删除该 null。",
                        "Delete the null.",
                    )
                    self.features.append(
                        {"index": i, "id": None, "properties": {}, "geometry": None, "broken": True}
                    )
                    continue
                self.feature(item, i)
            return kind
        if kind == "Feature":
            self.feature(doc, 1)
            return kind
        self.index = 1
        geom = self.geometry(doc, "file")
        self.features.append(
            {"index": 1, "id": None, "properties": {}, "geometry": geom, "broken": geom is None}
        )
        return kind


class _NotJsonNumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, RFC 8259 does not."""


def _no_constants(name: str):
    raise _NotJsonNumber(name)


def _strict_loads(text: str):
    return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_no_constants)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings ignored), counted
    without parsing, so a hostile file cannot exhaust the parser's stack. Vectorised."""
    skeleton = np.frombuffer(_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    step = (np.isin(skeleton, (ord("["), ord("{"))).astype(np.int32)) - np.isin(
        skeleton, (ord("]"), ord("}"))
    ).astype(np.int32)
    return int(np.cumsum(step).max()) if len(step) else 0


def _position(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle)
    if at < 0:
        return 0, 0
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def _not_a_number_error(text: str, name: str) -> Finding:
    line, column = _position(text, name)
    return error(
        "json_not_a_number",
        f"JSON 中不允许 {name}（不是数字）",
        f"{name} is not allowed in JSON (it is not a number)",
        "填写实际数值，或留空表示未知。",
        "Write the real value, or leave the field empty when unknown.",
        line=line or None,
        column=column or None,
    )


def _too_many(count: int, limit: int) -> Finding:
    return error(
        "too_many_features",
        f"文件有 {count} 个要素，超过上限 {limit}",
        f"the file has {count} features, over the limit of {limit}",
        "分成几个文件上传，或请管理员调整上限。",
        "Split the file, or ask the administrator to raise the limit.",
    )


def _json_sequence(text: str) -> list | None:
    """GeoJSON Text Sequences (RS-separated) or GeoJSON Lines: one object per line."""
    chunks = [c for c in re.split(r"[\x1e\n]", text) if c.strip()]
    if len(chunks) < 2:
        return None
    out = []
    for chunk in chunks:
        try:
            out.append(_strict_loads(chunk))
        except json.JSONDecodeError:
            return None
    return out


def parse_geojson(
    data: bytes, max_features: int | None = None, max_depth: int = 64
) -> ParsedGeoJSON:
    """Parse and structurally check GeoJSON bytes. Never raises on bad content.

    Arrays and objects nested deeper than ``max_depth`` are refused before parsing."""
    result = ParsedGeoJSON()
    walker = _Walker()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        walker.warn(
            "utf8_bom",
            "文件以 UTF-8 BOM 开头（RFC 8259 不允许）；已忽略",
            "the file starts with a UTF-8 byte-order mark (not allowed by RFC 8259); ignored",
            "保存为“UTF-8（无 BOM）”。",
            "Save as UTF-8 without BOM.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.findings = walker.findings + [
            error(
                "not_utf8",
                f"文件不是 UTF-8 编码（第 {exc.start} 个字节无法解码）",
                f"the file is not UTF-8 (byte {exc.start} cannot be decoded)",
                "GeoJSON 必须是 UTF-8：在编辑器中“另存为 UTF-8”。",
                "GeoJSON must be UTF-8: save it as UTF-8 in your editor.",
            )
        ]
        result.kind = "invalid"
        return result
    depth = nesting_depth(text)
    if depth > max_depth:
        result.findings = walker.findings + [
            error(
                "too_deep",
                f"JSON 嵌套 {depth} 层，超过上限 {max_depth}（GeoJSON 最多约 8 层）",
                f"the JSON is nested {depth} levels deep, over the limit of {max_depth} "
                "(GeoJSON needs about 8)",
                "检查文件是否损坏，或是否真是 GeoJSON。",
                "Check whether the file is damaged, or is GeoJSON at all.",
            )
        ]
        result.kind = "invalid"
        return result
    try:
        doc = _strict_loads(text)
    except _NotJsonNumber as exc:
        result.findings = walker.findings + [_not_a_number_error(text, str(exc))]
        result.kind = "invalid"
        return result
    except json.JSONDecodeError as exc:
        try:
            seq = _json_sequence(text)
        except _NotJsonNumber as bad:
            result.findings = walker.findings + [_not_a_number_error(text, str(bad))]
            result.kind = "invalid"
            return result
        if seq is None:
            result.findings = walker.findings + [_syntax_error(exc)]
            result.kind = "invalid"
            return result
        if max_features is not None and len(seq) > max_features:
            result.findings = walker.findings + [_too_many(len(seq), max_features)]
            result.kind = "invalid"
            return result
        for i, item in enumerate(seq, start=1):
            walker.feature(item, i)
        result.kind = "GeoJSONSeq"
    except RecursionError:
        result.findings = walker.findings + [
            error(
                "too_deep",
                "JSON 嵌套层数过多，无法读取",
                "the JSON is nested too deeply to read",
                "检查文件是否损坏。",
                "Check whether the file is damaged.",
            )
        ]
        result.kind = "invalid"
        return result
    else:
        if isinstance(doc, dict):
            walker.duplicates(doc, "file")
            declared = doc.get("crs", doc.get("coordRefSys"))
            if declared is not None:
                result.declared_crs = crs_from_member(declared)
                walker.warn(
                    "legacy_crs_member",
                    f"文件声明了坐标系 {result.declared_crs}（RFC 7946 已取消 crs 成员）；"
                    "按声明处理",
                    f"the file declares CRS {result.declared_crs} (RFC 7946 removed the 'crs' "
                    "member); it is honoured",
                    "如声明有误，请在上传时选择正确的坐标系。",
                    "If the declaration is wrong, choose the right CRS when uploading.",
                )
        if (
            max_features is not None
            and isinstance(doc, dict)
            and isinstance(doc.get("features"), list)
            and len(doc["features"]) > max_features
        ):
            result.findings = walker.findings + [_too_many(len(doc["features"]), max_features)]
            result.kind = "invalid"
            return result
        result.kind = walker.root(doc)
    result.features = walker.features
    result.findings = walker.findings
    return result
