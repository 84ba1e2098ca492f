"""What every GeoJSON object carries: its ``type`` (RFC 7946 §1.4), an optional ``bbox``
(§5), no member that would change its meaning (§7.1), and no name given twice (RFC 8259
§4 says names SHOULD be unique; a GIS would silently keep one of the values)."""

from __future__ import annotations

from spatial.ingest.geojson.reading import Reading

GEOMETRY_DEPTH = {  # how deep each geometry type nests its positions (§3.1)
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
# §7.1: members that would change the meaning of an object of each type
FORBIDDEN_MEMBERS = {
    "FeatureCollection": ("coordinates", "geometries", "geometry", "properties"),
    "Feature": ("coordinates", "geometries", "features"),
}
GEOMETRY_FORBIDDEN = ("geometry", "properties", "features")


def duplicate_members(reading: Reading, obj, where: str) -> None:
    """An error for each name ``obj`` holds twice (the parser marks them)."""
    for key in getattr(obj, "duplicate_keys", ()):
        reading.err(
            "duplicate_member",
            f"{where} 中成员 “{key}” 出现了不止一次，无法确定取哪个值",
            f"member '{key}' appears more than once in the {where}; the value is ambiguous",
            f"删除重复的 “{key}”，只保留一个。",
            f"Keep one '{key}' member and delete the others.",
        )


def object_type(reading: Reading, obj, expected: set[str], where: str) -> str | None:
    """``obj``'s ``type`` when it is an object of one of the ``expected`` types; else an
    error (a wrong case such as ``feature`` is named with its right spelling) and None."""
    if not isinstance(obj, dict):
        reading.err(
            "not_an_object",
            f"{where} 应为 JSON 对象，实际是 {type(obj).__name__}",
            f"the {where} must be a JSON object, found {type(obj).__name__}",
            '按 GeoJSON 格式写成 {"type": …} 对象。',
            'Write it as a GeoJSON object {"type": …}.',
        )
        return None
    duplicate_members(reading, obj, where)
    if "type" not in obj:
        reading.err(
            "missing_type",
            f"{where} 缺少 “type” 成员",
            f"the {where} has no 'type' member",
            f'加上 "type"，取值为 {"/".join(sorted(expected))} 之一。',
            f'Add "type" with one of {", ".join(sorted(expected))}.',
        )
        return None
    kind = obj["type"]
    if not isinstance(kind, str):
        reading.err(
            "bad_type",
            f"{where} 的 “type” 应为字符串，实际是 {type(kind).__name__}",
            f"the 'type' of the {where} must be a string, found {type(kind).__name__}",
            '把 type 写成字符串，如 "Feature"。',
            'Make "type" a string such as "Feature".',
        )
        return None
    if kind not in expected:
        proper = _TYPES_LOWER.get(kind.lower())
        reading.err(
            "unknown_type",
            f"{where} 的类型 “{kind}” 不是有效的 GeoJSON 类型",
            f"'{kind}' is not a valid GeoJSON type for the {where}",
            f"应写作 “{proper}”（区分大小写）。" if proper else
            f"应为 {'/'.join(sorted(expected))} 之一。",
            f"Write '{proper}' (case matters)." if proper else
            f"Use one of {', '.join(sorted(expected))}.",
        )  # fmt: skip
        return None
    return kind


def forbidden_members(reading: Reading, obj: dict, kind: str) -> None:
    """§7.1: a Feature has no ``coordinates``, a geometry no ``properties``, and so on."""
    for member in FORBIDDEN_MEMBERS.get(kind, GEOMETRY_FORBIDDEN):
        if member in obj:
            reading.err(
                "changed_semantics",
                f"{kind} 对象不能含有 “{member}” 成员（RFC 7946 §7.1）",
                f"a {kind} must not have a '{member}' member (RFC 7946 §7.1)",
                f"删除 “{member}”，或把它放进 properties。",
                f"Delete '{member}', or move it into properties.",
            )


def bbox(reading: Reading, obj: dict) -> None:
    """§5: 2×2 or 2×3 numbers, south below north; west above east only across 180°."""
    if "bbox" not in obj:
        return
    box = obj["bbox"]
    ok = (
        isinstance(box, list)
        and len(box) in (4, 6)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
    )
    if not ok:
        reading.err(
            "bad_bbox",
            "bbox 应为 4 个（二维）或 6 个（三维）数字的数组",
            "bbox must be an array of 4 (2D) or 6 (3D) numbers",
            "改正 bbox，或直接删除它（可选成员）。",
            "Correct the bbox or delete it (it is optional).",
        )
        return
    half = len(box) // 2
    if box[1] > box[half + 1]:
        reading.err(
            "bbox_order",
            "bbox 的南边界大于北边界",
            "bbox has its south edge above its north edge",
            "bbox 顺序应为 [西, 南, 东, 北]。",
            "Order the bbox as [west, south, east, north].",
        )
    elif box[0] > box[half]:
        reading.warn(
            "bbox_antimeridian",
            "bbox 的西边界大于东边界（仅在跨越 180° 经线时合理）",
            "bbox has west > east (only right when it crosses the antimeridian)",
            "检查 bbox 顺序 [西, 南, 东, 北]。",
            "Check the bbox order [west, south, east, north].",
        )


def common_members(reading: Reading, obj: dict, kind: str) -> None:
    """The rules every object of a known ``kind`` follows: §7.1 and §5."""
    forbidden_members(reading, obj, kind)
    bbox(reading, obj)


def objects_seen(doc) -> tuple[int, int]:
    """(objects, members) of ``doc`` as a quick look at a feature collection sees them: the
    root and what it holds beside its features, each feature, its properties and its
    geometry. Parsing keeps one value of a name given twice, so the pair equals what the text
    holds (:class:`~.text.Structure`) only when no object hides elsewhere (in a property, a
    foreign member, the coordinates) and no object gives a name twice."""
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return all_objects(doc)
    rest = all_objects([v for k, v in doc.items() if k != "features"])
    dicts = [f for f in features if type(f) is dict]
    props = [p for f in dicts if type(p := f.get("properties")) is dict]
    geoms = [g for f in dicts if type(g := f.get("geometry")) is dict]
    objects = 1 + rest[0] + len(dicts) + len(props) + len(geoms)
    members = len(doc) + rest[1] + sum(map(len, dicts)) + sum(map(len, props))
    return objects, members + sum(map(len, geoms))


def all_objects(value) -> tuple[int, int]:
    """(objects, members) of every object inside ``value``, searched everywhere."""
    objects, members, stack = 0, 0, [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            objects, members = objects + 1, members + len(item)
            stack.extend(v for v in item.values() if type(v) in (dict, list))
        elif type(item) is list:
            stack.extend(v for v in item if type(v) in (dict, list))
    return objects, members
