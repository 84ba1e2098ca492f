"""Reading the files districts actually have into one raw frame, safely.

GeoJSON (and its variants) is parsed strictly by :mod:`spatial.ingest.geojson`; zipped
Shapefile, GeoPackage, KML/KMZ go through pyogrio (GDAL); CSV and Excel need longitude/latitude
or WKT columns. Archives are inspected before anything is read: member count, total size,
expansion ratio, nesting and path names are bounded, and members are extracted in memory into a
private temporary folder under names this module chooses — never the names in the archive.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import sqlite3
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyogrio.raw
import shapely

from spatial.collector import collector_paused
from spatial.ingest.fields import FIELD_ALIASES, normalise_header
from spatial.ingest.findings import Finding, UploadRejected, error, warning
from spatial.ingest.gdal_drivers import UPLOAD_DRIVERS, GdalUnavailable, identify
from spatial.ingest.geojson import parse_geojson
from spatial.ingest.limits import UploadLimits

GEOJSON_EXT = {".geojson", ".json", ".geojsonl", ".geojsons", ".ndjson", ".jsonl"}
GDAL_EXT = {".gpkg", ".kml", ".kmz", ".shp", ".fgb"}
TABLE_EXT = {".csv", ".txt", ".xlsx", ".xls"}
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".xml"}


@dataclass
class RawLayer:
    """Features as read, before CRS resolution: geometry in the file's own coordinates.

    ``frame`` has ``_feature`` (1-based position in the file), ``_id`` (the feature id, if
    any) and ``_broken`` (structurally unusable) beside the file's own attribute columns.
    """

    frame: gpd.GeoDataFrame
    format: str
    declared_crs: str | None = None
    findings: list[Finding] = field(default_factory=list)


def _reject(code: str, zh: str, en: str, fix_zh: str, fix_en: str) -> UploadRejected:
    return UploadRejected([error(code, zh, en, fix_zh, fix_en)])


def _frame_from_geojson(parsed) -> gpd.GeoDataFrame:
    if parsed.columns is not None:  # read as columns (geojson.bulk): shapes built already
        return _frame(
            parsed.columns.properties,
            parsed.columns.shapes,
            np.arange(1, parsed.feature_count + 1),
            parsed.columns.ids,
            np.zeros(parsed.feature_count, dtype=bool),
            [None] * parsed.feature_count,
        )
    feats = parsed.walked
    geometry_json = [
        json.dumps(f["geometry"]) if f["geometry"] is not None else None for f in feats
    ]
    geoms = shapely.from_geojson(np.array(geometry_json, dtype=object), on_invalid="ignore")
    return _frame(
        [f["properties"] for f in feats],
        shapely.force_2d(geoms),
        [f["index"] for f in feats],
        [f["id"] for f in feats],
        [f["broken"] for f in feats],
        [f.get("bbox") for f in feats],
    )


def _frame(properties, shapes, index, ids, broken, bbox) -> gpd.GeoDataFrame:
    """The raw layer's frame: the properties, then the bookkeeping columns."""
    if isinstance(properties, pd.DataFrame):  # read in slices, already a frame
        props = properties
    else:
        props = pd.DataFrame.from_records(properties) if len(properties) else pd.DataFrame()
    frame = gpd.GeoDataFrame(props, geometry=list(shapes) if len(shapes) else [], crs=None)
    frame.insert(0, "_feature", index)
    frame.insert(1, "_id", ids)
    frame["_broken"] = broken
    frame["_bbox"] = bbox
    return frame


def read_geojson(data: bytes, limits: UploadLimits) -> RawLayer:
    parsed = parse_geojson(data, max_features=limits.max_features, max_depth=limits.max_json_depth)
    if parsed.kind == "invalid":
        raise UploadRejected(parsed.findings)
    if parsed.feature_count > limits.max_features:
        raise _too_many_features(limits)
    frame = _frame_from_geojson(parsed)
    return RawLayer(frame, f"GeoJSON ({parsed.kind})", parsed.declared_crs, parsed.findings)


# -- archives ---------------------------------------------------------------------------------
def _damaged(exc: Exception) -> UploadRejected:
    return _reject(
        "bad_zip",
        f"压缩包已损坏（{exc}）",
        f"the archive is damaged ({exc})",
        "重新压缩后上传。",
        "Zip the files again and upload.",
    )


def safe_members(data: bytes, limits: UploadLimits) -> dict[str, bytes]:
    """Read a zip archive's members into memory after checking every bound.

    Returns {safe base name: bytes}. Raises UploadRejected for zip bombs, ``..``/absolute
    paths, nested archives, too many members, or a damaged archive.
    """
    archive, infos = _open_archive(data)
    _check_directory(infos, len(data), limits)
    budget = min(limits.max_uncompressed_bytes, int(max(len(data), 1) * limits.max_expansion_ratio))
    return _extract(archive, infos, budget)


def _open_archive(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _reject(
            "bad_zip",
            f"压缩包已损坏或不是 zip 格式（{exc}）",
            f"the archive is damaged or not a zip ({exc})",
            "重新压缩后上传（右键 → 压缩为 .zip）。",
            "Zip the files again and upload.",
        ) from exc
    return archive, infos


def _check_directory(infos: list[zipfile.ZipInfo], size: int, limits: UploadLimits) -> None:
    """What the archive's directory says, checked before anything is unpacked: the number
    of members, each path (no ``..``, no absolute path), no archive inside, the total size."""
    if len(infos) > limits.max_archive_members:
        raise _reject(
            "zip_too_many_members",
            f"压缩包内有 {len(infos)} 个文件，超过上限 {limits.max_archive_members}",
            f"the archive holds {len(infos)} files, over the limit of {limits.max_archive_members}",
            "只压缩需要上传的图层文件。",
            "Zip only the layer's own files.",
        )
    for info in infos:
        name = info.filename.replace("\\", "/")
        if (
            name.startswith("/")
            or re.match(r"^[A-Za-z]:", name)
            or ".." in PurePosixPath(name).parts
        ):
            raise _reject(
                "zip_path_traversal",
                f"压缩包内的路径 “{info.filename}” 指向压缩包之外，已拒收",
                f"the archive path '{info.filename}' points outside the archive; rejected",
                "重新压缩，文件放在压缩包根目录。",
                "Zip the files again with plain names at the top level.",
            )
        if PurePosixPath(name).suffix.lower() in {".zip", ".kmz", ".7z", ".rar", ".gz"}:
            raise _reject(
                "zip_nested",
                f"压缩包内还有压缩包 “{info.filename}”，不支持嵌套",
                f"the archive contains another archive ('{info.filename}'); nesting is not allowed",
                "解压内层压缩包，把其中的文件直接压缩上传。",
                "Unpack the inner archive and zip its files directly.",
            )
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_uncompressed_bytes or declared > max(size, 1) * (
        limits.max_expansion_ratio
    ):
        raise _reject(
            "zip_bomb",
            f"压缩包解压后 {declared:,} 字节，超过允许的大小或压缩比（疑似压缩炸弹）",
            f"the archive expands to {declared:,} bytes, beyond the allowed size or ratio "
            "(a zip bomb?)",
            "只上传图层本身的文件。",
            "Upload only the layer's own files.",
        )


def _extract(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], budget: int) -> dict:
    """The members' bytes, counted as they really come out (a directory's sizes can lie):
    past ``budget`` bytes the reading stops. Hidden and ``__MACOSX`` files are skipped."""
    members: dict[str, bytes] = {}
    used = 0
    for info in infos:
        base = PurePosixPath(info.filename.replace("\\", "/")).name
        if base.startswith(".") or base.startswith("__MACOSX"):
            continue
        chunks = []
        try:
            fh = archive.open(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise _damaged(exc) from exc
        with fh:
            while True:
                try:
                    chunk = fh.read(1 << 20)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise _damaged(exc) from exc
                if not chunk:
                    break
                used += len(chunk)
                if used > budget:  # sizes in the directory can lie: count what really comes out
                    raise _reject(
                        "zip_bomb",
                        "压缩包解压后的实际大小超过允许范围（疑似压缩炸弹）",
                        "the archive expands beyond the allowed size (a zip bomb?)",
                        "只上传图层本身的文件。",
                        "Upload only the layer's own files.",
                    )
                chunks.append(chunk)
        safe = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base)
        members[safe] = b"".join(chunks)
    return members


def _mojibake(frame: pd.DataFrame) -> bool:
    text = frame.select_dtypes(include=["object", "string"])
    if text.empty:
        return False
    # str() of each cell: an empty cell may be a float NaN even in a text column
    sample = " ".join(map(str, text.head(200).to_numpy().ravel().tolist()))
    return "\ufffd" in sample or bool(re.search(r"[\u00c0-\u00ff]{2,}", sample))


def repair_dbf_field_names(dbf: Path) -> bool:
    """Cut DBF field names back to whole UTF-8 characters, in place (our private copy).

    The DBF format allows 10 bytes per field name; a writer that cuts 项目名称 (12 bytes)
    leaves half a character, which no reader can decode. Returns True when a name was changed.
    """
    data = bytearray(dbf.read_bytes())
    header_len = int.from_bytes(data[8:10], "little")
    changed, seen = False, set()
    for offset in range(32, min(header_len, len(data)) - 1, 32):
        if data[offset] == 0x0D:
            break
        raw = bytes(data[offset : offset + 11]).split(b"\0", 1)[0]
        name = raw
        while name:
            try:
                name.decode("utf-8")
                break
            except UnicodeDecodeError:
                name = name[:-1]
        text = name.decode("utf-8") or "field"
        base, n = text, 1
        while text in seen:
            suffix = str(n)
            text = base[: max(1, len(base) - len(suffix))] + suffix
            n += 1
        seen.add(text)
        fixed = text.encode("utf-8")[:10]
        if fixed != raw:
            data[offset : offset + 11] = fixed.ljust(11, b"\0")
            changed = True
    if changed:
        dbf.write_bytes(bytes(data))
    return changed


def _read_gdal(path: Path, fmt: str, limits: UploadLimits) -> RawLayer:
    """Read one GDAL format with exactly its own driver (spatial.ingest.gdal_drivers),
    within limits: the signature, the driver GDAL would pick, the layer's columns, then the
    rows in batches — each checked before the next is read."""
    check_signature(path, fmt, limits)
    _own_driver_only(path, fmt)
    layer_name = geopackage_feature_table(path, limits) if fmt == "GeoPackage" else None
    findings: list[Finding] = []
    frame = _read_layer(path, fmt, layer_name, limits, findings)
    return _raw_layer(frame, fmt, limits, findings)


def _own_driver_only(path: Path, fmt: str) -> None:
    """The driver GDAL picks from the content is the one this format's name promises."""
    expected = UPLOAD_DRIVERS[fmt]
    try:
        found = identify(path)
    except GdalUnavailable as exc:
        raise _reject(
            "gdal_unavailable",
            "服务器无法限定 GDAL 驱动，出于安全考虑不读取此格式",
            "the server cannot restrict GDAL's drivers, so this format is not read (safety)",
            "改用 GeoJSON 或 Excel/CSV 上传，并告知管理员。",
            "Upload GeoJSON or Excel/CSV instead, and tell the administrator.",
        ) from exc
    if found != expected:
        raise _wrong_content(fmt, found)


def _read_layer(path: Path, fmt: str, layer_name, limits: UploadLimits, findings: list):
    """The layer's frame, its columns counted before any row is read. A Shapefile without
    a .cpg is read again as GBK when its text is not UTF-8; field names cut mid-character by
    the 10-byte limit are repaired. GDAL's own message explains a file it cannot read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read = functools.partial(read_gdal_layer, path, layer_name, limits)

            def columns_then_read(**kwargs):
                info = pyogrio.read_info(path, layer=layer_name, **kwargs)
                _check_columns(len(info["fields"]), limits)  # before any row is read
                return read(**kwargs)

            try:
                frame = columns_then_read()
            except TextNotUtf8:
                if fmt != "Shapefile":
                    raise
                frame = None  # read again as GBK below
            except UnicodeDecodeError:
                dbf = next(iter(path.parent.glob(path.stem + ".[dD][bB][fF]")), None)
                if dbf is None or not repair_dbf_field_names(dbf):
                    raise
                frame = columns_then_read()
                findings.append(
                    warning(
                        "truncated_field_names",
                        "有字段名超过 Shapefile 的 10 字节限制被截断，截断处的半个汉字已去掉",
                        "some field names were cut by the Shapefile 10-byte limit; the half "
                        "character at the cut was dropped",
                        "用 GeoPackage 或 GeoJSON 上传，可保留完整的中文字段名。",
                        "Upload GeoPackage or GeoJSON to keep full Chinese field names.",
                    )
                )
            if fmt == "Shapefile" and (frame is None or _mojibake(frame)):
                frame = read(encoding="cp936")
                findings.append(
                    warning(
                        "encoding_guessed",
                        "属性表没有 .cpg 编码说明，按 GBK（cp936）读取中文",
                        "the attribute table has no .cpg; Chinese text was read as GBK (cp936)",
                        "在压缩包中加入内容为 UTF-8 或 GBK 的 .cpg 文件。",
                        "Add a .cpg file saying UTF-8 or GBK to the archive.",
                    )
                )
    except UploadRejected:
        raise
    except Exception as exc:  # GDAL's message names the problem (server paths removed)
        message = str(exc).replace(str(path.parent) + os.sep, "").replace(str(path.parent), "")
        raise _reject(
            "unreadable",
            f"无法读取该 {fmt} 文件：{message}",
            f"the {fmt} file cannot be read: {message}",
            "在 QGIS 中打开检查，或另存后重新上传。",
            "Open it in QGIS to check, or save it again and upload.",
        ) from exc
    return frame


def _raw_layer(frame, fmt: str, limits: UploadLimits, findings: list) -> RawLayer:
    """The frame as every reader hands it on: 2D shapes, the CRS apart, and the bookkeeping
    columns (1-based position, the feature's id, not broken)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise _reject(
            "no_geometry",
            f"该 {fmt} 图层没有几何（只是属性表）",
            f"the {fmt} layer has no geometry (it is an attribute table)",
            "导出带点位或红线的图层，或改用带经纬度列的 Excel。",
            "Export the layer with its points or polygons, or use Excel with lon/lat columns.",
        )
    if len(frame) > limits.max_features:
        raise _too_many_features(limits)
    crs = frame.crs.to_string() if frame.crs is not None else None
    frame = frame.set_crs(None, allow_override=True) if frame.crs is not None else frame
    frame = frame.reset_index(drop=True)
    frame.insert(0, "_feature", np.arange(1, len(frame) + 1))
    fid_col = next(
        (c for c in frame.columns if normalise_header(c) in FIELD_ALIASES["project_id"]), None
    )
    frame.insert(1, "_id", frame[fid_col].astype(str) if fid_col else None)
    frame["_broken"] = False
    frame[frame.geometry.name] = shapely.force_2d(frame.geometry.to_numpy())
    return RawLayer(frame, fmt, crs, findings)


class TextNotUtf8(ValueError):
    """A layer's text is not UTF-8 (a Shapefile's .dbf without .cpg, written as GBK)."""


GDAL_BATCH_FEATURES = 2_000  # features GDAL reads between two checks of the limits


def read_gdal_layer(
    path: Path, layer: str | None, limits: UploadLimits, encoding: str | None = None
) -> pd.DataFrame:
    """One layer read as a stream of Arrow batches, the limits checked between batches: a
    reader stops at the feature, cell and time limits while GDAL reads, not after. Returns a
    GeoDataFrame, or a plain DataFrame when the layer has no geometry."""
    deadline = limits.deadline()
    batches, rows = [], 0
    with pyogrio.raw.open_arrow(
        path,
        layer=layer,
        encoding=encoding,
        batch_size=GDAL_BATCH_FEATURES,
        use_pyarrow=True,
        datetime_as_string=True,
    ) as (meta, reader):
        max_rows = _row_limit(len(meta["fields"]), limits)
        for batch in reader:
            rows += batch.num_rows
            if rows > max_rows:
                raise _too_many_features(limits)
            if deadline.expired():
                raise _too_slow(limits)
            batches.append(batch)
        table = pa.Table.from_batches(batches, schema=reader.schema)
    try:
        table.validate(full=True)  # GDAL passes text it could not decode on as raw bytes
    except pa.ArrowInvalid as exc:
        raise TextNotUtf8(str(exc)) from exc
    frame = table.to_pandas()
    geometry_name = meta["geometry_name"] or "wkb_geometry"
    if geometry_name not in frame.columns:
        return frame
    geometry = shapely.from_wkb(frame.pop(geometry_name).to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=meta["crs"])


# -- what each GDAL format must look like before any driver opens it --------------------------
GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}  # 'GPKG', 'GP10', 'GP11'
SHAPEFILE_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian
FLATGEOBUF_MAGIC = b"fgb\x03"
_KML_ROOT = re.compile(
    rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:[A-Za-z_][\w.\-]*:)?kml[\s>]",
    re.DOTALL,
)
_XML_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _wrong_content(fmt: str, found: str | None) -> UploadRejected:
    what = {
        None: ("无法识别的内容", "content no reader recognises"),
        "OGR_VRT": ("GDAL 虚拟数据集（VRT）", "a GDAL virtual dataset (VRT)"),
        "GDALG": ("GDAL 算法管线（GDALG）", "a GDAL algorithm pipeline (GDALG)"),
    }.get(found, (f"{found} 格式", f"{found} content"))
    return _reject(
        "format_mismatch",
        f"文件名是 {fmt}，内容却是{what[0]}，已拒收（只按文件类型本身的格式读取）",
        f"the file is named as {fmt} but holds {what[1]}; refused (each format is read with "
        "its own reader only)",
        f"从 GIS 软件重新导出为 {fmt}，或按实际格式改正扩展名。",
        f"Export it again as {fmt} from your GIS, or give it the extension of what it is.",
    )


def check_signature(path: Path, fmt: str, limits: UploadLimits) -> None:
    """Refuse a file whose bytes are not its format's (before GDAL sees it)."""
    head = path.read_bytes()[:4096] if fmt not in ("KML", "KMZ") else path.read_bytes()
    ok = True
    if fmt == "GeoPackage":
        ok = head.startswith(b"SQLite format 3\x00") and (
            int.from_bytes(head[68:72], "big") in GPKG_APPLICATION_IDS
        )
    elif fmt == "Shapefile":
        ok = head.startswith(SHAPEFILE_MAGIC)
    elif fmt == "FlatGeobuf":
        ok = head.startswith(FLATGEOBUF_MAGIC)
    elif fmt in ("KML", "KMZ"):
        body = head.removeprefix(b"\xef\xbb\xbf")
        if _XML_DECLARATIONS.search(body):
            raise _reject(
                "xml_entities",
                "KML 中含有 DOCTYPE/ENTITY 声明（可用于实体扩展攻击），已拒收",
                "the KML holds a DOCTYPE/ENTITY declaration (used for entity-expansion "
                "attacks); refused",
                "从 Google Earth 或 GIS 软件重新导出 KML。",
                "Export the KML again from Google Earth or your GIS.",
            )
        ok = bool(_KML_ROOT.match(body[:65536]))
    if not ok:
        raise _wrong_content(fmt, None)


def geopackage_feature_table(path: Path, limits: UploadLimits) -> str:
    """The GeoPackage's first feature table, after checking that nothing in the file reaches
    beyond its own tables: no views (a view can read or recurse without bound), no virtual
    tables but the spatial index, no generated columns. Read-only; bounded in time."""
    deadline = limits.deadline()
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _reject(
            "unreadable",
            f"无法打开该 GeoPackage：{exc}",
            f"the GeoPackage cannot be opened: {exc}",
            "在 QGIS 中打开检查，或另存后重新上传。",
            "Open it in QGIS to check, or save it again and upload.",
        ) from exc
    con.set_progress_handler(lambda: 1 if deadline.expired() else 0, 10_000)
    try:
        con.execute("PRAGMA trusted_schema=OFF")
        objects = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        for kind, name, sql in objects:
            text = (sql or "").upper()
            bad = (
                kind == "view"
                or (text.startswith("CREATE VIRTUAL TABLE") and "USING RTREE(" not in text)
                or " GENERATED ALWAYS " in f" {text} "
                or re.search(r"\bAS\s*\(", text) is not None
                and kind == "table"
            )
            if bad:
                raise _reject(
                    "gpkg_not_plain",
                    f"GeoPackage 中的 {kind} “{name}” 不是普通数据表（视图、虚拟表或计算列），"
                    "已拒收",
                    f"the GeoPackage's {kind} '{name}' is not a plain table (a view, virtual "
                    "table or computed column); refused",
                    "在 QGIS 中把图层“另存为”新的 GeoPackage（只含数据表）后上传。",
                    "In QGIS, 'Save as' the layer to a new GeoPackage (tables only) and upload.",
                )
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
                "ORDER BY table_name"
            )
        ]
    except sqlite3.OperationalError as exc:
        if deadline.expired() or "interrupt" in str(exc):
            raise _too_slow(limits) from exc
        raise _reject(
            "unreadable",
            f"GeoPackage 结构不完整：{exc}",
            f"the GeoPackage is incomplete: {exc}",
            "在 QGIS 中打开检查，或另存后重新上传。",
            "Open it in QGIS to check, or save it again and upload.",
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise _reject(
            "unreadable",
            f"GeoPackage 已损坏：{exc}",
            f"the GeoPackage is damaged: {exc}",
            "在 QGIS 中打开检查，或另存后重新上传。",
            "Open it in QGIS to check, or save it again and upload.",
        ) from exc
    finally:
        con.close()
    if not tables:
        raise _reject(
            "no_geometry",
            "GeoPackage 中没有要素图层（只有属性表）",
            "the GeoPackage holds no feature layer (attribute tables only)",
            "导出带点位或红线的图层，或改用带经纬度列的 Excel。",
            "Export the layer with its points or polygons, or use Excel with lon/lat columns.",
        )
    return tables[0]


def _check_columns(count: int, limits: UploadLimits) -> None:
    if count > limits.max_columns:
        raise _reject(
            "too_many_columns",
            f"文件有 {count:,} 列，超过上限 {limits.max_columns}",
            f"the file has {count:,} columns, over the limit of {limits.max_columns}",
            "只保留模板中的字段后上传。",
            "Keep only the template's fields and upload.",
        )


def _too_many_features(limits: UploadLimits) -> UploadRejected:
    return _reject(
        "too_many_features",
        f"文件的要素超过上限 {limits.max_features:,}（读到上限即停止）",
        f"the file has more than {limits.max_features:,} features (reading stopped there)",
        "分成几个文件上传，或请管理员调整上限。",
        "Split the file, or ask the administrator to raise the limit.",
    )


def _too_slow(limits: UploadLimits) -> UploadRejected:
    return _reject(
        "read_too_slow",
        f"读取超过 {limits.max_read_seconds:.0f} 秒仍未完成，已停止",
        f"reading took longer than {limits.max_read_seconds:.0f} s and was stopped",
        "分成几个较小的文件上传，或改用 GeoJSON。",
        "Split the file into smaller ones, or upload GeoJSON.",
    )


def _member(members: dict[str, bytes], stem: str, ext: str) -> str | None:
    return next((n for n in (f"{stem}{ext}", f"{stem}{ext.upper()}") if n in members), None)


def _gdal_from_members(members: dict[str, bytes], tmp: Path, limits: UploadLimits) -> RawLayer:
    """The one layer in an archive, written under names chosen here; only that layer's own
    files are written (a Shapefile's .shp/.shx/.dbf/.prj/.cpg), nothing else in the archive."""
    by_ext: dict[str, list[str]] = {}
    for name in members:
        by_ext.setdefault(Path(name).suffix.lower(), []).append(name)
    if ".shp" in by_ext:
        if len(by_ext[".shp"]) > 1:
            raise _reject(
                "zip_several_layers",
                f"压缩包内有多个 Shapefile：{', '.join(by_ext['.shp'])}",
                f"the archive holds several Shapefiles: {', '.join(by_ext['.shp'])}",
                "每次上传一个图层。",
                "Upload one layer at a time.",
            )
        stem = Path(by_ext[".shp"][0]).stem
        missing = [ext for ext in (".shx", ".dbf") if _member(members, stem, ext) is None]
        if missing:
            raise _reject(
                "shapefile_incomplete",
                f"Shapefile 缺少 {'、'.join(missing)} 文件",
                f"the Shapefile is missing its {', '.join(missing)} file(s)",
                "把同名的 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩上传。",
                "Zip the .shp, .shx, .dbf, .prj (and .cpg) of the same name together.",
            )
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            name = _member(members, stem, ext)
            if name is not None:
                (tmp / f"layer{ext}").write_bytes(members[name])
        layer = _read_gdal(tmp / "layer.shp", "Shapefile", limits)
        if _member(members, stem, ".prj") is None:
            layer.findings.append(
                warning(
                    "no_prj",
                    "Shapefile 没有 .prj 坐标系文件；坐标系由数值范围判断",
                    "the Shapefile has no .prj; its CRS is judged from the coordinate ranges",
                    "把 .prj 一起压缩上传，或在上传时选择坐标系。",
                    "Include the .prj, or choose the CRS when uploading.",
                )
            )
        return layer
    for ext, fmt in ((".gpkg", "GeoPackage"), (".kml", "KML"), (".fgb", "FlatGeobuf")):
        if ext in by_ext:
            path = tmp / f"layer{ext}"
            path.write_bytes(members[by_ext[ext][0]])
            return _read_gdal(path, fmt, limits)
    for ext in GEOJSON_EXT:
        if ext in by_ext:
            return read_geojson(members[by_ext[ext][0]], limits)
    raise _reject(
        "zip_no_layer",
        "压缩包里没有可识别的图层（.shp、.gpkg、.kml、.geojson）",
        "the archive holds no layer this tool reads (.shp, .gpkg, .kml, .geojson)",
        "检查压缩包内容。",
        "Check what the archive contains.",
    )


# -- tables -----------------------------------------------------------------------------------
def _row_limit(columns: int, limits: UploadLimits) -> int:
    """Rows a table may have: the feature limit, and the cell limit for its width."""
    return min(limits.max_features, limits.max_cells // max(columns, 1))


def _csv_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _reject(
        "csv_encoding",
        "CSV 既不是 UTF-8 也不是 GBK 编码",
        "the CSV is neither UTF-8 nor GBK",
        "另存为“CSV UTF-8”后上传。",
        "Save as 'CSV UTF-8' and upload.",
    )


def _read_csv(data: bytes, limits: UploadLimits) -> pd.DataFrame:
    """CSV read in chunks: columns counted from the header before parsing, rows and time
    checked while reading — a reader stops at the limits, not after."""
    text = _csv_text(data)
    header_line = text.split("\n", 1)[0]
    _check_columns(header_line.count(",") + 1, limits)
    max_rows = _row_limit(header_line.count(",") + 1, limits)
    deadline = limits.deadline()
    chunks, rows = [], 0
    reader = pd.read_csv(
        io.StringIO(text),
        dtype=object,
        keep_default_na=False,
        na_values=[""],
        chunksize=20_000,
    )
    for chunk in reader:
        _check_columns(chunk.shape[1], limits)
        rows += len(chunk)
        if rows > max_rows:
            raise _too_many_features(limits)
        if deadline.expired():
            raise _too_slow(limits)
        chunks.append(chunk)
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def _read_xlsx(data: bytes, limits: UploadLimits) -> pd.DataFrame:
    """The first sheet, streamed row by row (openpyxl read-only): the archive is checked like
    any zip first, then columns, rows, cells and time are bounded while reading."""
    safe_members(data, limits)  # an .xlsx is a zip: bombs and lying sizes refused here
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        deadline = limits.deadline()
        rows_iter = sheet.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            return pd.DataFrame()
        while header and header[-1] is None:
            header = header[:-1]
        _check_columns(len(header), limits)
        width = len(header)
        max_rows = _row_limit(width, limits)
        body = []
        for n, row in enumerate(rows_iter, start=1):
            if n > max_rows:
                raise _too_many_features(limits)
            if len(row) > width and any(v is not None for v in row[width:]):
                _check_columns(len(row), limits)
                raise _reject(
                    "cells_outside_header",
                    f"第 {n + 1} 行在表头之外还有数据",
                    f"row {n + 1} has values beyond the header's columns",
                    "给这些列加上表头，或删除多余的单元格。",
                    "Give those columns a header, or delete the stray cells.",
                )
            if n % 1000 == 0 and deadline.expired():
                raise _too_slow(limits)
            body.append(row[:width])
    finally:
        workbook.close()
    columns = [str(h) if h is not None else f"column{i + 1}" for i, h in enumerate(header)]
    frame = pd.DataFrame(body, columns=columns, dtype=object)
    return frame.dropna(how="all").reset_index(drop=True)


def _read_table(data: bytes, ext: str, limits: UploadLimits) -> pd.DataFrame:
    if ext == ".xls":
        raise _reject(
            "old_excel",
            "不支持旧版 Excel 97–2003（.xls）文件",
            "old Excel 97–2003 (.xls) files are not read",
            "在 Excel 中“另存为” .xlsx 后上传。",
            "Save it as .xlsx in Excel and upload.",
        )
    if ext == ".xlsx":
        return _read_xlsx(data, limits)
    return _read_csv(data, limits)


def read_table(data: bytes, ext: str, limits: UploadLimits | None = None) -> RawLayer:
    limits = limits or UploadLimits.from_env()
    try:
        table = _read_table(data, ext, limits)
    except UploadRejected:
        raise
    except Exception as exc:
        raise _reject(
            "unreadable",
            f"无法读取表格：{exc}",
            f"the table cannot be read: {exc}",
            "用 Excel 打开检查后另存为 .xlsx 或 CSV UTF-8。",
            "Open it in Excel, then save as .xlsx or CSV UTF-8.",
        ) from exc
    headers = {normalise_header(c): c for c in table.columns}
    lon_col = next((headers[a] for a in FIELD_ALIASES["lon"] if a in headers), None)
    lat_col = next((headers[a] for a in FIELD_ALIASES["lat"] if a in headers), None)
    wkt_col = next((headers[a] for a in FIELD_ALIASES["wkt"] if a in headers), None)
    findings: list[Finding] = []
    n = len(table)
    if wkt_col is not None:
        text = table[wkt_col].astype("object").where(table[wkt_col].notna(), None)
        geoms = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
        bad = text.notna().to_numpy() & shapely.is_missing(geoms)
        for i in np.flatnonzero(bad)[:50]:
            findings.append(
                error(
                    "bad_wkt",
                    f"WKT 无法解析：{str(text.iloc[i])[:60]}",
                    f"the WKT cannot be parsed: {str(text.iloc[i])[:60]}",
                    "写成 POINT (114.05 22.54) 或 POLYGON ((…)) 形式。",
                    "Write it like POINT (114.05 22.54) or POLYGON ((…)).",
                    feature=int(i) + 1,
                    field=str(wkt_col),
                )
            )
        table = table.drop(columns=[wkt_col])
    elif lon_col is not None and lat_col is not None:
        from spatial.ingest.fields import parse_numbers

        lon, bad_lon = parse_numbers(table[lon_col])
        lat, bad_lat = parse_numbers(table[lat_col])
        for col, bad in ((lon_col, bad_lon), (lat_col, bad_lat)):
            for i in np.flatnonzero(bad.to_numpy())[:50]:
                findings.append(
                    error(
                        "bad_coordinate",
                        f"坐标 “{table[col].iloc[i]}” 不是数字",
                        f"the coordinate '{table[col].iloc[i]}' is not a number",
                        "经纬度写成小数，如 114.0579。",
                        "Write coordinates as decimals like 114.0579.",
                        feature=int(i) + 1,
                        field=str(col),
                    )
                )
        geoms = gpd.points_from_xy(lon, lat)
        geoms[(lon.isna() | lat.isna()).to_numpy()] = None
        table = table.drop(columns=[lon_col, lat_col])
    else:
        raise _reject(
            "no_coordinates",
            "表格中没有经度/纬度（或 WKT）列",
            "the table has no longitude/latitude (or WKT) columns",
            "加上“经度”“纬度”两列（或 lon、lat），或一列 WKT 几何，可下载模板参考。",
            "Add 'lon' and 'lat' columns (or 经度/纬度), or a WKT column; see the template.",
        )
    frame = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=list(geoms), crs=None)
    frame.insert(0, "_feature", np.arange(1, n + 1))
    id_col = next(
        (c for c in frame.columns if normalise_header(c) in FIELD_ALIASES["project_id"]), None
    )
    frame.insert(1, "_id", frame[id_col].astype(str) if id_col else None)
    frame["_broken"] = False
    return RawLayer(frame, "Excel" if ext.startswith(".xls") else "CSV", None, findings)


def sniff_extension(filename: str, data: bytes) -> str:
    ext = Path(filename).suffix.lower()
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return ".xlsx" if ext in (".xlsx",) else (".kmz" if ext == ".kmz" else ".zip")
    if head.startswith(b"SQLite format 3"[:8]):
        return ".gpkg"
    if ext in GEOJSON_EXT | GDAL_EXT | TABLE_EXT | {".zip"}:
        return ext
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if stripped in (b"{", b"["):
        return ".geojson"
    if stripped == b"<":
        return ".kml"
    return ext


def too_large(size: int, limits: UploadLimits) -> UploadRejected:
    return _reject(
        "too_large",
        f"文件大小 {size / 2**20:,.1f} MB，超过上限 {limits.max_bytes / 2**20:,.0f} MB",
        f"the file is {size / 2**20:,.1f} MB, over the {limits.max_bytes / 2**20:,.0f} MB limit",
        "分成几个文件上传，或请管理员调整上限。",
        "Split the file, or ask the administrator to raise the limit.",
    )


def read_upload(filename: str, data: bytes, limits: UploadLimits | None = None) -> RawLayer:
    """Read an uploaded file into a :class:`RawLayer`. Raises UploadRejected with findings.
    The garbage collector is paused while it reads (:mod:`spatial.collector`)."""
    with collector_paused():
        return _read_upload(filename, data, limits or UploadLimits.from_env())


def _read_upload(filename: str, data: bytes, limits: UploadLimits) -> RawLayer:
    if len(data) > limits.max_bytes:
        raise too_large(len(data), limits)
    if not data or data.isspace():  # (strip() would copy a file that ends in a newline)
        raise _reject(
            "empty_file",
            "文件是空的",
            "the file is empty",
            "检查导出是否成功。",
            "Check that the export worked.",
        )
    ext = sniff_extension(filename, data)
    if ext in GEOJSON_EXT:
        return read_geojson(data, limits)
    if ext in TABLE_EXT:
        return read_table(data, ext, limits)
    if ext == ".shp":
        raise _reject(
            "shapefile_alone",
            "只上传了 .shp；Shapefile 需要 .shp、.shx、.dbf、.prj 一起",
            "only the .shp was uploaded; a Shapefile needs its .shp, .shx, .dbf and .prj",
            "把这些同名文件压缩成一个 .zip 上传。",
            "Zip the files of the same name into one .zip and upload it.",
        )
    tmp = Path(tempfile.mkdtemp(prefix="spatial-upload-"))  # private: mode 0700
    try:
        if ext in (".zip", ".kmz"):
            members = safe_members(data, limits)
            if ext == ".kmz":
                kml = [n for n in members if n.lower().endswith(".kml")]
                if not kml:
                    raise _reject(
                        "kmz_no_kml",
                        "KMZ 内没有 .kml 文件",
                        "the KMZ holds no .kml",
                        "重新导出 KMZ。",
                        "Export the KMZ again.",
                    )
                (tmp / "doc.kml").write_bytes(members[kml[0]])
                layer = _read_gdal(tmp / "doc.kml", "KMZ", limits)
            else:
                layer = _gdal_from_members(members, tmp, limits)
        elif ext in GDAL_EXT:
            fmt = {".gpkg": "GeoPackage", ".kml": "KML", ".fgb": "FlatGeobuf"}[ext]
            path = tmp / f"upload{ext}"
            path.write_bytes(data)
            layer = _read_gdal(path, fmt, limits)
        else:
            raise _reject(
                "unknown_format",
                f"无法识别的文件类型 “{Path(filename).suffix or filename}”",
                f"'{Path(filename).suffix or filename}' is not a format this tool reads",
                "支持：GeoJSON、压缩的 Shapefile（.zip）、GeoPackage、KML/KMZ、Excel/CSV。",
                "Supported: GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, Excel/CSV.",
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(layer.frame) > limits.max_features:
        raise _too_many_features(limits)
    if layer.format in ("KML", "KMZ"):
        layer.declared_crs = layer.declared_crs or "EPSG:4326"
        rename = {c: "name" for c in layer.frame.columns if c == "Name"}
        layer.frame = layer.frame.rename(columns=rename)
    return layer
