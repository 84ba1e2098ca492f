"""Positions (RFC 7946 §3.1.1) and how deep each geometry type nests them (§3.1.2–3.1.7).

A position is two or three numbers; a line string's positions are read as one (n, d) numpy
array at once, and only a line that does not convert is read position by position to say
which one is wrong."""

from __future__ import annotations

import json

import numpy as np

from spatial.ingest.geojson.members import GEOMETRY_DEPTH
from spatial.ingest.geojson.reading import Reading

PRECISION_SCALE = 1e7  # 7 decimals ≈ 1 cm: what the store keeps
NESTING_SHAPE = {0: "[x, y]", 1: "[[x, y], …]", 2: "[[[x, y], …], …]", 3: "[[[[x, y], …]]]"}


def positions(reading: Reading, coords, depth: int, kind: str):
    """``coords`` checked for nesting ``depth`` (0: a position) and for their positions, as
    nested lists of numpy arrays (lines and rings as (n, d) arrays, a point as a 1-D array);
    None (with an error) when they are broken."""
    if depth == 0:
        return position(reading, coords, kind)
    if not isinstance(coords, list):
        nesting_error(reading, kind)
        return None
    if depth == 1:
        return position_list(reading, coords, kind)
    out = []
    for part in coords:
        checked = positions(reading, part, depth - 1, kind)
        if checked is None:
            return None
        out.append(checked)
    return out


def position_list(reading: Reading, coords: list, kind: str):
    """A line's or ring's positions as an (n, d) array; positions of mixed sizes are padded
    with NaN heights (and said so)."""
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
        precision(reading, arr)
        return arr
    parts = [position(reading, p, kind) for p in coords]
    if any(p is None for p in parts):
        return None
    if len({len(p) for p in parts}) > 1:
        reading.warn(
            "mixed_dimensions",
            f"{kind} 的坐标维数不一致（有的 2 个数，有的 3 个数）；高程将被忽略",
            f"the positions of the {kind} mix 2 and 3 numbers; heights are dropped",
            "所有坐标统一为 [经度, 纬度] 或统一为 [经度, 纬度, 高程]。",
            "Make every position [lon, lat] or every one [lon, lat, height].",
        )
        return np.array([np.pad(p, (0, 3 - len(p)), constant_values=np.nan) for p in parts])
    return np.asarray(parts, dtype=float) if parts else np.empty((0, 2))


def position(reading: Reading, p, kind: str):
    """One position: a list of 2 or 3 numbers (booleans, strings and nulls are not)."""
    if not isinstance(p, list):
        nesting_error(reading, kind)
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p):
        reading.err(
            "position_not_numbers",
            f"{kind} 的坐标中有非数字的值：{json.dumps(p, ensure_ascii=False)[:60]}",
            f"a position of the {kind} holds something other than numbers: {json.dumps(p)[:60]}",
            "坐标必须是数字，如 [114.05, 22.54]，不能带引号或为空。",
            "Positions must be numbers like [114.05, 22.54], not quoted strings or nulls.",
        )
        return None
    if len(p) < 2 or len(p) > 3:
        reading.err(
            "position_size",
            f"{kind} 的一个坐标有 {len(p)} 个数，应为 2 个（经度, 纬度）或 3 个（含高程）",
            f"a position of the {kind} has {len(p)} numbers; it needs 2 (lon, lat) or 3 "
            "(with height)",
            "写成 [经度, 纬度] 或 [经度, 纬度, 高程]。",
            "Write [lon, lat] or [lon, lat, height].",
        )
        return None
    arr = np.asarray(p, dtype=float)
    precision(reading, arr)
    return arr


def precision(reading: Reading, arr: np.ndarray) -> None:
    """Notes, once per file, that heights are dropped and that coordinates are rounded to
    7 decimals (what the store keeps)."""
    if not reading.heights_warned and arr.size and arr.shape[-1] == 3:
        heights_note(reading)
    if reading.precision_warned or arr.size == 0:
        return
    scaled = arr * PRECISION_SCALE
    if np.any(np.abs(scaled - np.round(scaled)) > 1e-4):
        precision_note(reading)


def heights_note(reading: Reading) -> None:
    reading.heights_warned = True
    reading.warn(
        "heights_dropped",
        "坐标带有高程（第三个数），本系统只保存平面位置，高程将被忽略",
        "positions carry heights (a third number); only the plane position is kept",
        "如需记录建筑高度，请填写“建筑高度”字段。",
        "Record building height in the 'height' field instead.",
    )


def precision_note(reading: Reading) -> None:
    reading.precision_warned = True
    reading.warn(
        "excess_precision",
        "坐标小数位超过 7 位（不到 1 厘米），保存时将四舍五入到 7 位",
        "coordinates have more than 7 decimals (under 1 cm); they are rounded to 7",
        "无需处理；如需精确到毫米请说明用途。",
        "Nothing to do; coordinates are kept to 7 decimals (about 1 cm).",
    )


def nesting_error(reading: Reading, kind: str) -> None:
    reading.err(
        "coordinates_nesting",
        f"{kind} 的坐标嵌套层数不对，应为 {NESTING_SHAPE[GEOMETRY_DEPTH.get(kind, 0)]}",
        f"the coordinates of the {kind} are nested wrongly; expected "
        f"{NESTING_SHAPE[GEOMETRY_DEPTH.get(kind, 0)]}",
        "检查几何类型与坐标嵌套是否一致（例如点被标成了多面）。",
        "Check that the geometry type matches the nesting (e.g. a point labelled as a "
        "MultiPolygon).",
    )
