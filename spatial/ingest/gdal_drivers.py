"""Which GDAL drivers this process may use, and which one opens an upload (issue 9).

GDAL picks a driver from a file's *content*, whatever its name, and the GDAL in pyogrio's wheel
has drivers that reach beyond the file: an OGR VRT or a GDALG pipeline renamed ``.kml`` names
other files (the app's own database, ``CSV:/etc/passwd``) or URLs (``/vsicurl/``); the HTTP,
WFS, OAPIF, Elasticsearch… drivers talk to servers; GPSBabel runs a program.

Two rules, both enforced here through GDAL's own C API (pyogrio has no driver argument for
reading, see geopandas/pyogrio#310):

1. :func:`restrict_drivers` — every driver but :data:`KEPT_DRIVERS` is deregistered from this
   process: the formats districts upload, and those the exports write. No driver that follows a
   path or URL written inside a file remains.
2. :func:`identify` — before an upload is read, GDAL is asked which driver would open the file;
   it must be that format's own (:data:`UPLOAD_DRIVERS`). A VRT, GDALG or anything else under a
   ``.gpkg``/``.kml``/``.shp``/``.fgb`` name is refused before any driver opens it.

If GDAL's library cannot be reached, uploads read through GDAL are refused (fail closed).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from pathlib import Path

import pyogrio
import pyogrio._io  # noqa: F401 - loads libgdal and registers the drivers

# what an upload of each kind must be opened with
UPLOAD_DRIVERS: dict[str, str] = {
    "GeoPackage": "GPKG",
    "Shapefile": "ESRI Shapefile",
    "KML": "LIBKML",  # reads ExtendedData; follows no NetworkLink/href (tested)
    "KMZ": "LIBKML",
    "FlatGeobuf": "FlatGeobuf",
}
# upload formats + what spatial.outputs.export writes (GeoJSON, GPKG, Shapefile, KML, CSV) + MEM
KEPT_DRIVERS = frozenset(
    {
        "GPKG",
        "ESRI Shapefile",
        "LIBKML",
        "KML",
        "FlatGeobuf",
        "GeoJSON",
        "GeoJSONSeq",
        "CSV",
        "MEM",
    }
)
GDAL_OF_VECTOR = 0x04

_lock = threading.Lock()
_gdal: ctypes.CDLL | None = None


class GdalUnavailable(RuntimeError):
    """GDAL's C library could not be reached, so drivers cannot be restricted."""


def _library() -> ctypes.CDLL:
    global _gdal
    if _gdal is not None:
        return _gdal
    base = Path(pyogrio.__file__).resolve().parent
    candidates = sorted(glob.glob(str(base.parent / "pyogrio.libs" / "libgdal*.so*")))
    candidates += sorted(glob.glob(str(base / "libgdal*.so*")))
    if not candidates:
        raise GdalUnavailable(f"libgdal not found beside pyogrio ({base})")
    # RTLD_NOLOAD: the copy pyogrio already loaded (its driver registry), never a second one
    lib = ctypes.CDLL(candidates[0], mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    lib.GDALGetDriverCount.restype = ctypes.c_int
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriver.argtypes = [ctypes.c_int]
    lib.GDALGetDriverShortName.restype = ctypes.c_char_p
    lib.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.restype = None
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    lib.GDALIdentifyDriverEx.restype = ctypes.c_void_p
    lib.GDALIdentifyDriverEx.argtypes = [
        ctypes.c_char_p,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_char_p),
    ]
    _gdal = lib
    return lib


def registered_drivers() -> list[str]:
    """Short names of every driver (raster and vector) registered in this process."""
    lib = _library()
    names = []
    for i in range(lib.GDALGetDriverCount()):
        handle = lib.GDALGetDriver(i)
        if handle:
            names.append(lib.GDALGetDriverShortName(handle).decode())
    return names


def restrict_drivers() -> None:
    """Deregister every GDAL driver not in :data:`KEPT_DRIVERS` (idempotent, thread-safe)."""
    with _lock:
        lib = _library()
        i = 0
        while i < lib.GDALGetDriverCount():
            handle = lib.GDALGetDriver(i)
            name = lib.GDALGetDriverShortName(handle).decode() if handle else ""
            if handle and name not in KEPT_DRIVERS:
                lib.GDALDeregisterDriver(handle)  # the list shifts: look at i again
                continue
            i += 1
        pyogrio.set_gdal_config_options(
            {
                # belt and braces: no network file system, even for a driver kept above
                "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".not-allowed-here",
                "GDAL_HTTP_TIMEOUT": "1",
                "GDAL_VRT_ENABLE_PYTHON": "NO",
                "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
            }
        )


def identify(path: Path) -> str | None:
    """The short name of the driver GDAL would open ``path`` with (None: no driver)."""
    restrict_drivers()
    handle = _library().GDALIdentifyDriverEx(str(path).encode(), GDAL_OF_VECTOR, None, None)
    if not handle:
        return None
    return _library().GDALGetDriverShortName(handle).decode()
