"""The shipped reference data: geodata/ layers and seeds/ tables, read into frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from spatial.crs import WGS84
from spatial.layers import PROJECT_FIELDS

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
GEODATA_DIR = PACKAGE_ROOT / "geodata"
SEEDS_DIR = PACKAGE_ROOT / "seeds"


def write_layer(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write a lon-lat layer as RFC 7946 GeoJSON with 7 decimals (~1 cm), replacing the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(
        frame.to_crs(WGS84),
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 7, "WRITE_NAME": "NO"},
    )


def read_layer(path: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path)
    return frame.set_crs(WGS84, allow_override=True)


def projects_from_table(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Project rows with lon/lat columns -> GeoDataFrame of points (no point where lon is empty)."""
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    geometry = gpd.points_from_xy(lon, lat)
    geometry[lon.isna().to_numpy() | lat.isna().to_numpy()] = None
    frame = gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=geometry, crs=WGS84)
    for column in PROJECT_FIELDS:
        if column not in frame.columns:
            frame[column] = None
    return frame


@dataclass(frozen=True)
class ReferenceData:
    districts: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    control_lines: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    pledge: pd.DataFrame
    clusters: pd.DataFrame
    cluster_aliases: pd.DataFrame
    programme_reports: pd.DataFrame
    sources: pd.DataFrame


def _csv(name: str, seeds_dir: Path) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / name, dtype=str, keep_default_na=False, encoding="utf-8")


def load_reference(geodata_dir: Path = GEODATA_DIR, seeds_dir: Path = SEEDS_DIR) -> ReferenceData:
    projects = pd.read_csv(seeds_dir / "projects.csv", encoding="utf-8", keep_default_na=False)
    projects = projects.replace({"": None})
    return ReferenceData(
        districts=read_layer(geodata_dir / "districts.geojson"),
        parks=read_layer(geodata_dir / "parks.geojson"),
        control_lines=read_layer(geodata_dir / "control_lines.geojson"),
        projects=projects_from_table(projects),
        pledge=_csv("pledge.csv", seeds_dir),
        clusters=_csv("clusters.csv", seeds_dir),
        cluster_aliases=_csv("cluster_aliases.csv", seeds_dir),
        programme_reports=_csv("programme_reports.csv", seeds_dir),
        sources=_csv("sources.csv", seeds_dir),
    )


def source_location(url_or_file: object, lang: str) -> str:
    """Where a reader finds a source: its web address, or — for a source kept only as the
    project's archived copy of the article — saying so, without an internal path."""
    text = "" if url_or_file is None else str(url_or_file).strip()
    links = [part.strip() for part in text.split(";") if part.strip().startswith("http")]
    if links:
        return " ; ".join(links)
    if not text:
        return "—"
    return "存档原文（无在线链接）" if lang == "zh" else "archived copy (no online link)"
