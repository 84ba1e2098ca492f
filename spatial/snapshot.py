"""A snapshot: every layer as the store held it on a date, with projects enriched by overlays.

The app, the command line and (later) exports all start from a snapshot, so they show the
same figures for the same date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import geopandas as gpd
import pandas as pd

from spatial.analysis import cluster_codes, enrich_projects
from spatial.auth import Principal
from spatial.clock import shenzhen_today
from spatial.layers import Quality, Stage
from spatial.ledger import Ledger, build_ledger
from spatial.store import Store, end_of_day


@dataclass(frozen=True)
class Snapshot:
    as_of: date
    districts: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    control_lines: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    pledge: pd.DataFrame
    clusters: pd.DataFrame
    programme_reports: pd.DataFrame
    sources: pd.DataFrame

    def readable_by(self, actor: Principal) -> Snapshot:
        """The same snapshot with only the projects ``actor`` may read (reference layers are
        for everyone). Used by the app, exports and the offline map alike."""
        districts = set(actor.readable_districts(self.districts["district_id"]))
        keep = self.projects["district_id"].isin(districts)
        if keep.all():
            return self
        return replace(self, projects=self.projects[keep])

    def ledger(self, stage: Stage = Stage.DELIVERED) -> Ledger:
        return build_ledger(self.projects, self.pledge, Stage(stage), self.as_of)

    def district_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.districts["district_id"], self.districts[col], strict=True))

    def park_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.parks["park_id"], self.parks[col], strict=True))

    def cluster_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.clusters["code"], self.clusters[col], strict=True))


def take_snapshot(store: Store, as_of: date | None = None) -> Snapshot:
    """Read all layers as of the end of ``as_of`` (today when None) and derive overlays."""
    as_of = as_of or shenzhen_today()
    districts = store.layer("districts")
    parks = store.layer("parks")
    control_lines = store.layer("control_lines")
    projects = store.projects(at=end_of_day(as_of))
    projects = enrich_projects(projects, districts, parks, control_lines)
    projects["clusters"] = cluster_codes(
        projects["industries"].fillna("") + ";" + projects["clusters"].fillna(""),
        store.table("cluster_aliases"),
        store.table("clusters"),
    )
    return Snapshot(
        as_of=as_of,
        districts=districts,
        parks=parks,
        control_lines=control_lines,
        projects=projects,
        pledge=store.table("pledge"),
        clusters=store.table("clusters"),
        programme_reports=store.table("programme_reports"),
        sources=store.table("sources"),
    )


COVERAGE_ASPECTS: dict[str, tuple[str, str]] = {
    "boundary": ("边界", "boundary"),
    "name": ("名称", "name"),
    "location": ("位置", "location"),
    "polygon": ("范围", "polygon"),
    "figures": ("数字", "figures"),
}


def coverage(snapshot: Snapshot) -> pd.DataFrame:
    """Per layer and aspect: how many features are official, approximate, illustrative, missing."""
    rows = []

    def add(layer: str, aspect: str, values: pd.Series, source: str) -> None:
        counts = values.fillna(Quality.MISSING.value).value_counts()
        rows.append(
            {"layer": layer, "aspect": aspect, "features": int(len(values))}
            | {q.value: int(counts.get(q.value, 0)) for q in Quality}
            | {"source": source}
        )

    d = snapshot.districts
    add("districts", "boundary", d["quality"], "; ".join(sorted(set(d["source"].dropna()))))
    p = snapshot.parks
    name_quality = p["name_status"].map(
        {"confirmed": Quality.APPROXIMATE.value, "inferred": Quality.APPROXIMATE.value}
    )
    add("parks", "name", name_quality, "shared/reference/parks.csv (press, per-row URLs)")
    add("parks", "location", p["location_quality"], "inferred from street/landmark names")
    add("parks", "boundary", p["boundary_quality"], "no park polygon is public")
    c = snapshot.control_lines
    add("control_lines", "polygon", c["quality"], "; ".join(sorted(set(c["source"].dropna()))))
    pr = snapshot.projects
    add("projects", "figures", pr["quality"], "shared/reference/projects.csv (press, per-row URLs)")
    add("projects", "location", pr["location_quality"], "inferred from street/landmark names")
    return pd.DataFrame(rows)
