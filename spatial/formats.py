"""Reading the files districts actually have into one raw frame, safely.

GeoJSON (and its variants) is parsed strictly by :mod:`spatial.geojson_check`; zipped
Shapefile, GeoPackage, KML/KMZ go through pyogrio (GDAL); CSV and Excel need longitude/latitude
or WKT columns. Archives are inspected before anything is read: member count, total size,
expansion ratio, nesting and path names are bounded, and members are extracted in memory into a
private temporary folder under names this module chooses — never the names in the archive.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from spatial.fields import FIELD_ALIASES, normalise_header
from spatial.findings import Finding, UploadRejected, error, warning
from spatial.geojson_check import parse_geojson
from spatial.limits import UploadLimits

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
    feats = parsed.features
    props = pd.DataFrame.from_records([f["properties"] for f in feats]) if feats else pd.DataFrame()
    geometry_json = [
        json.dumps(f["geometry"]) if f["geometry"] is not None else None for f in feats
    ]
    geoms = shapely.from_geojson(np.array(geometry_json, dtype=object), on_invalid="ignore")
    geoms = shapely.force_2d(geoms)
    frame = gpd.GeoDataFrame(props, geometry=list(geoms) if len(feats) else [], crs=None)
    frame.insert(0, "_feature", [f["index"] for f in feats])
    frame.insert(1, "_id", [f["id"] for f in feats])
    frame["_broken"] = [f["broken"] for f in feats]
    frame["_bbox"] = [f.get("bbox") for f in feats]
    return frame


def read_geojson(data: bytes, limits: UploadLimits) -> RawLayer:
    parsed = parse_geojson(data, max_features=limits.max_features, max_depth=limits.max_json_depth)
    if parsed.kind == "invalid":
        raise UploadRejected(parsed.findings)
    if len(parsed.features) > limits.max_features:
        raise _reject(
            "too_many_features",
            f"文件有 {len(parsed.features)} 个要素，超过上限 {limits.max_features}",
            f"the file has {len(parsed.features)} features, over the limit of "
            f"{limits.max_features}",
            "分成几个文件上传，或请管理员调整上限。",
            "Split the file, or ask the administrator to raise the limit.",
        )
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
    if declared > limits.max_uncompressed_bytes or declared > max(len(data), 1) * (
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
    members: dict[str, bytes] = {}
    budget = min(limits.max_uncompressed_bytes, int(max(len(data), 1) * limits.max_expansion_ratio))
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
    sample = " ".join(text.head(200).astype(str).to_numpy().ravel().tolist())
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


def _read_gdal(path: Path, fmt: str) -> RawLayer:
    findings: list[Finding] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                frame = pyogrio.read_dataframe(path)
            except UnicodeDecodeError:
                dbf = next(iter(path.parent.glob(path.stem + ".[dD][bB][fF]")), None)
                if dbf is None or not repair_dbf_field_names(dbf):
                    raise
                frame = pyogrio.read_dataframe(path)
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
            if fmt == "Shapefile" and _mojibake(frame):
                frame = pyogrio.read_dataframe(path, encoding="cp936")
                findings.append(
                    warning(
                        "encoding_guessed",
                        "属性表没有 .cpg 编码说明，按 GBK（cp936）读取中文",
                        "the attribute table has no .cpg; Chinese text was read as GBK (cp936)",
                        "在压缩包中加入内容为 UTF-8 或 GBK 的 .cpg 文件。",
                        "Add a .cpg file saying UTF-8 or GBK to the archive.",
                    )
                )
    except Exception as exc:  # GDAL's message names the problem
        raise _reject(
            "unreadable",
            f"无法读取该 {fmt} 文件：{exc}",
            f"the {fmt} file cannot be read: {exc}",
            "在 QGIS 中打开检查，或另存后重新上传。",
            "Open it in QGIS to check, or save it again and upload.",
        ) from exc
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


def _gdal_from_members(members: dict[str, bytes], tmp: Path) -> RawLayer:
    by_ext: dict[str, list[str]] = {}
    for name in members:
        by_ext.setdefault(Path(name).suffix.lower(), []).append(name)
    for name, content in members.items():
        (tmp / name).write_bytes(content)
    if ".shp" in by_ext:
        if len(by_ext[".shp"]) > 1:
            raise _reject(
                "zip_several_layers",
                f"压缩包内有多个 Shapefile：{', '.join(by_ext['.shp'])}",
                f"the archive holds several Shapefiles: {', '.join(by_ext['.shp'])}",
                "每次上传一个图层。",
                "Upload one layer at a time.",
            )
        shp = by_ext[".shp"][0]
        stem = Path(shp).stem
        missing = [
            ext
            for ext in (".shx", ".dbf")
            if f"{stem}{ext}" not in members and f"{stem}{ext.upper()}" not in members
        ]
        if missing:
            raise _reject(
                "shapefile_incomplete",
                f"Shapefile 缺少 {'、'.join(missing)} 文件",
                f"the Shapefile is missing its {', '.join(missing)} file(s)",
                "把同名的 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩上传。",
                "Zip the .shp, .shx, .dbf, .prj (and .cpg) of the same name together.",
            )
        layer = _read_gdal(tmp / shp, "Shapefile")
        if f"{stem}.prj" not in members and f"{stem}.PRJ" not in members:
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
            return _read_gdal(tmp / by_ext[ext][0], fmt)
    for ext in GEOJSON_EXT:
        if ext in by_ext:
            return read_geojson(members[by_ext[ext][0]], UploadLimits())
    raise _reject(
        "zip_no_layer",
        "压缩包里没有可识别的图层（.shp、.gpkg、.kml、.geojson）",
        "the archive holds no layer this tool reads (.shp, .gpkg, .kml, .geojson)",
        "检查压缩包内容。",
        "Check what the archive contains.",
    )


# -- tables -----------------------------------------------------------------------------------
def _read_table(data: bytes, ext: str) -> pd.DataFrame:
    if ext in (".xlsx", ".xls"):
        return pd.read_excel(io.BytesIO(data), dtype=object)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(
                io.BytesIO(data),
                dtype=object,
                encoding=encoding,
                keep_default_na=False,
                na_values=[""],
            )
        except UnicodeDecodeError:
            continue
    raise _reject(
        "csv_encoding",
        "CSV 既不是 UTF-8 也不是 GBK 编码",
        "the CSV is neither UTF-8 nor GBK",
        "另存为“CSV UTF-8”后上传。",
        "Save as 'CSV UTF-8' and upload.",
    )


def read_table(data: bytes, ext: str) -> RawLayer:
    try:
        table = _read_table(data, ext)
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
        from spatial.fields import parse_numbers

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


def read_upload(filename: str, data: bytes, limits: UploadLimits | None = None) -> RawLayer:
    """Read an uploaded file into a :class:`RawLayer`. Raises UploadRejected with findings."""
    limits = limits or UploadLimits.from_env()
    if len(data) > limits.max_bytes:
        raise _reject(
            "too_large",
            f"文件大小 {len(data) / 2**20:,.1f} MB，超过上限 {limits.max_bytes / 2**20:,.0f} MB",
            f"the file is {len(data) / 2**20:,.1f} MB, over the {limits.max_bytes / 2**20:,.0f} "
            "MB limit",
            "分成几个文件上传，或请管理员调整上限。",
            "Split the file, or ask the administrator to raise the limit.",
        )
    if not data.strip():
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
        return read_table(data, ext)
    if ext == ".shp":
        raise _reject(
            "shapefile_alone",
            "只上传了 .shp；Shapefile 需要 .shp、.shx、.dbf、.prj 一起",
            "only the .shp was uploaded; a Shapefile needs its .shp, .shx, .dbf and .prj",
            "把这些同名文件压缩成一个 .zip 上传。",
            "Zip the files of the same name into one .zip and upload it.",
        )
    tmp = Path(tempfile.mkdtemp(prefix="spatial-upload-"))
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
                layer = _read_gdal(tmp / "doc.kml", "KMZ")
            else:
                layer = _gdal_from_members(members, tmp)
        elif ext in GDAL_EXT:
            fmt = {".gpkg": "GeoPackage", ".kml": "KML", ".fgb": "FlatGeobuf"}[ext]
            path = tmp / f"upload{ext}"
            path.write_bytes(data)
            layer = _read_gdal(path, fmt)
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
        raise _reject(
            "too_many_features",
            f"文件有 {len(layer.frame)} 个要素，超过上限 {limits.max_features}",
            f"the file has {len(layer.frame)} features, over the limit of {limits.max_features}",
            "分成几个文件上传。",
            "Split the file.",
        )
    if layer.format in ("KML", "KMZ"):
        layer.declared_crs = layer.declared_crs or "EPSG:4326"
        rename = {c: "name" for c in layer.frame.columns if c == "Name"}
        layer.frame = layer.frame.rename(columns=rename)
    return layer
