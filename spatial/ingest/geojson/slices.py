"""A large feature collection read a slice of features at a time, so the parsed document is
never held whole: the peak is one slice's Python objects, not the file's (a parsed GeoJSON
document takes about seven times its bytes).

The structure scan (:func:`~.text.structure`) has already found where the root's containers
and the elements of each lie. The root is parsed with its containers' insides left out, so
``features`` is known to be the k-th container; every other container is parsed whole; the
features are parsed ``slice_bytes`` at a time, each slice read as columns (:mod:`.bulk`) and
its properties turned into a frame before the next is parsed.

This is only a faster way to the same result. Whenever anything is not plain — the root is
not a FeatureCollection, an object gives a name twice (a slice's objects and members differ
from what the scan counted there), a feature is not sound, a slice is not JSON — the reader
gives up (None) and the whole document is read and walked as before, which names the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd

from spatial.frames import join_parts
from spatial.ingest.geojson.bulk import ColumnPart, columns_of
from spatial.ingest.geojson.members import all_objects, objects_seen
from spatial.ingest.geojson.text import Layout, NotJsonNumber, strict_loads

SLICE_BYTES = 1 << 20  # a slice's text; its parsed objects take about seven times this


@dataclass
class SlicedCollection:
    """What the slices gave: the root (its ``features`` left empty), the features' ids,
    properties (a frame, one row per feature) and shapes, their notes, or — past the limit —
    only how many features there are."""

    root: dict
    count: int
    ids: list = field(default_factory=list)
    properties: pd.DataFrame | None = None
    shapes: np.ndarray | None = None
    notes: list = field(default_factory=list)


def read_in_slices(
    data: bytes,
    layout: Layout | None,
    booleans: bool,
    max_features: int | None,
    slice_bytes: int = SLICE_BYTES,
) -> SlicedCollection | None:
    """The collection in ``data`` read slice by slice; None when it must be read whole."""
    if layout is None:
        return None
    root = _root(data, layout)
    if root is None:
        return None
    doc, features_at = root
    bounds = _element_bounds(layout, features_at)
    if bounds is None:
        return None
    count = len(bounds) - 1
    if max_features is not None and count > max_features:
        return SlicedCollection(doc, count)
    counts = _counts_at(layout, bounds, features_at)
    props = _PropertyFrames()
    ids: list = []
    shapes: list[np.ndarray] = []
    notes: list = []
    for first, last in _slices(bounds, slice_bytes):
        part = _slice(data, bounds, counts, first, last, booleans)
        if part is None:
            return None
        ids += part.ids
        shapes.append(part.shapes)
        notes += part.notes
        props.add(part.properties, (first, last))
        del part
    frame = props.frame(lambda span: _reread_properties(data, bounds, span))
    return SlicedCollection(doc, count, ids, frame, np.concatenate(shapes), notes)


def _root(data: bytes, layout: Layout) -> tuple[dict, int] | None:
    """The root object with every container inside it parsed but ``features`` (left an empty
    list), and which container ``features`` is; None unless the root is a FeatureCollection
    whose ``features`` is an array and no object in it gives a name twice."""
    pieces, at = [], 0
    for start, end in zip(layout.opens.tolist(), layout.closes.tolist(), strict=True):
        pieces += [data[at : start + 1]]
        at = end
    pieces.append(data[at:])
    try:
        root = strict_loads(b"".join(pieces).decode("utf-8"))
    except (ValueError, NotJsonNumber, RecursionError):  # JSONDecodeError, UnicodeDecodeError
        return None
    if type(root) is not dict or root.get("type") != "FeatureCollection":
        return None
    held = [name for name, value in root.items() if type(value) in (list, dict)]
    if len(held) != len(layout.opens) or "features" not in held:
        return None
    features_at = held.index("features")
    if layout.kinds[features_at] != ord("["):
        return None
    for k, name in enumerate(held):
        if k == features_at:
            continue
        value = _container(data, layout, k)
        if value is None:
            return None
        root[name] = value
    return root, features_at


def _container(data: bytes, layout: Layout, k: int):
    """The root's k-th container parsed; None when it is not JSON or an object in it gives a
    name twice (what the parse holds is fewer objects and members than the scan counted)."""
    start, end = int(layout.opens[k]), int(layout.closes[k])
    try:
        value = orjson.loads(data[start : end + 1])
    except orjson.JSONDecodeError:
        return None
    counted = layout.close_counts[k] - layout.open_counts[k]
    return value if all_objects(value) == tuple(counted.tolist()) else None


def _element_bounds(layout: Layout, k: int) -> np.ndarray | None:
    """Positions of the ``[``, the commas and the ``]`` of the root's k-th container (so
    element i lies between bounds i and i + 1); None for an empty array."""
    start, end = int(layout.opens[k]), int(layout.closes[k])
    commas = layout.commas[(layout.commas > start) & (layout.commas < end)]
    bounds = np.concatenate(([start], commas, [end]))
    return bounds if end - start > 1 else None


def _counts_at(layout: Layout, bounds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(objects, members) before each bound of the k-th container."""
    commas = layout.commas
    inside = (commas > bounds[0]) & (commas < bounds[-1])
    counts = np.concatenate(
        (layout.open_counts[k : k + 1], layout.comma_counts[inside], layout.close_counts[k : k + 1])
    )
    return counts[:, 0], counts[:, 1]


def _slices(bounds: np.ndarray, slice_bytes: int):
    """(first, last) element runs of about ``slice_bytes`` each (at least one element)."""
    count, first = len(bounds) - 1, 0
    while first < count:
        last = int(np.searchsorted(bounds, bounds[first] + slice_bytes, side="right")) - 1
        last = min(max(last, first + 1), count)
        yield first, last
        first = last


def _slice(
    data: bytes,
    bounds: np.ndarray,
    counts: tuple[np.ndarray, np.ndarray],
    first: int,
    last: int,
    booleans: bool,
) -> ColumnPart | None:
    """Elements ``first``..``last - 1`` of ``features`` parsed and read as columns."""
    try:
        items = orjson.loads(_slice_text(data, bounds, first, last))
    except orjson.JSONDecodeError:
        return None
    if len(items) != last - first:
        return None
    objects, members = counts
    counted = (int(objects[last] - objects[first]), int(members[last] - members[first]))
    if _features_seen(items) != counted:
        return None  # an object gives a name twice, or one hides where the quick count misses
    return columns_of(items, booleans, first=first + 1)


def _slice_text(data: bytes, bounds: np.ndarray, first: int, last: int) -> bytes:
    """Elements ``first``..``last - 1`` of the array as a JSON array of their own."""
    return b"[" + data[int(bounds[first]) + 1 : int(bounds[last])] + b"]"


def _features_seen(items: list) -> tuple[int, int]:
    """(objects, members) of a run of features as :func:`objects_seen` counts them."""
    objects, members = objects_seen({"features": items})
    return objects - 1, members - 1  # less the wrapper and its one member


def _reread_properties(data: bytes, bounds: np.ndarray, span: tuple[int, int]) -> list[dict]:
    items = orjson.loads(_slice_text(data, bounds, *span))
    return [f["properties"] if f["properties"] is not None else {} for f in items]


class _PropertyFrames:
    """The slices' properties, each slice's as a frame, joined into the frame that
    ``DataFrame.from_records`` of every feature's properties at once would give
    (:func:`spatial.frames.join_parts`; a column it cannot join exactly is parsed again from
    the slices that hold it and inferred at once)."""

    def __init__(self) -> None:
        self.parts: list[tuple[pd.DataFrame, tuple[int, int]]] = []

    def add(self, properties: list[dict], span: tuple[int, int]) -> None:
        frame = pd.DataFrame.from_records(properties) if properties else pd.DataFrame()
        frame.index = pd.RangeIndex(len(properties))
        self.parts.append((frame, span))

    def frame(self, reread) -> pd.DataFrame:
        frames = [f for f, _ in self.parts]
        names = list(dict.fromkeys(c for f in frames for c in f.columns))
        joined, left = join_parts(frames)
        values: dict[str, list] = {name: [] for name in left}
        for frame, span in self.parts:  # each slice holding a column left parsed once, for all
            held = [name for name in left if name in frame.columns]
            again = reread(span) if held else []
            for name in left:
                values[name] += (
                    [p.get(name, np.nan) for p in again] if name in held else [np.nan] * len(frame)
                )
        for name, column in values.items():
            joined[name] = pd.DataFrame.from_records([(v,) for v in column], columns=[name])[name]
        rows = sum(len(f) for f in frames)
        return pd.DataFrame({n: joined[n] for n in names}, index=pd.RangeIndex(rows))
