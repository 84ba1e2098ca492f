"""What a GeoDataFrame holds in memory — the denominator of every "× the frame" figure.

pandas' ``memory_usage(deep=True)`` counts a geometry column as one pointer per row: the
shapes themselves live in GEOS's heap (C++ objects allocated through malloc), each behind a
Python object. So the shapes are measured by making them again from their WKB and reading
how much the C heap grew (glibc's ``mallinfo2``), plus their Python objects. At 10⁵ points
that is about 20 MB where their WKB is 2.9 MB: counting the shapes as WKB, as the benchmarks did
up to 2026-12-03, made the frame 12 MB instead of 29 MB. Without ``mallinfo2`` (not glibc ≥
2.33) the shapes are counted as WKB, and :func:`frame_mb` says so."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

import shapely


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]  # fmt: skip


def _heap_in_use():
    """Bytes the C heap holds in use now (None where glibc's mallinfo2 is missing)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        info = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    info.restype = _MallInfo2
    got = info()
    return got.uordblks + got.hblkhd


def frame_mb(frame) -> tuple[float, float, bool]:
    """(the frame held in memory, the same with its shapes counted as WKB — both MB; whether
    the shapes were measured in GEOS's heap) for a GeoDataFrame."""
    geoms = frame.geometry.to_numpy()
    columns = frame.drop(columns=frame.geometry.name).memory_usage(deep=True).sum()
    wkb = shapely.to_wkb(geoms)
    as_wkb = columns + sum(len(w) for w in wkb if w is not None) + 8 * len(wkb)
    gc.collect()
    before = _heap_in_use()
    if before is None:
        return as_wkb / 2**20, as_wkb / 2**20, False
    again = shapely.from_wkb(wkb)
    grown = _heap_in_use() - before  # GEOS's objects and the array that points at them
    python = sum(sys.getsizeof(g) for g in again if g is not None)
    del again
    return (columns + grown + python) / 2**20, as_wkb / 2**20, True


if __name__ == "__main__":  # python benchmarks/frame_size.py FILE: the frame pyogrio reads
    import pyogrio

    held, as_wkb, measured = frame_mb(pyogrio.read_dataframe(sys.argv[1]))
    print(f"{held:.1f} MB held ({'shapes in GEOS' if measured else 'shapes as WKB'}); "
          f"{as_wkb:.1f} MB with the shapes as WKB")  # fmt: skip
