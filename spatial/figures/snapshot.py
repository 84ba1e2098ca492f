"""A snapshot: every layer as the store held it on a date, with projects enriched by overlays.

The app, the command line and (later) exports all start from a snapshot, so they show the
same figures for the same date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date

import geopandas as gpd
import pandas as pd
from sqlalchemy.exc import DBAPIError

from spatial.auth import Principal
from spatial.clock import shenzhen_today
from spatial.figures.counting import (
    Judgement,
    OfficialStage,
    RegisterCoverage,
    coverage_threshold,
    judge,
    official_stage,
    register_coverage,
)
from spatial.figures.ledger import Ledger, build_ledger
from spatial.figures.overlays import with_overlays
from spatial.layers import (
    PROJECT_DATE_FIELDS,
    PROJECT_EVIDENCE_FIELDS,
    Quality,
    Stage,
)
from spatial.store.database import OVERLAY_COLUMNS, Store, end_of_day
from spatial.store.overlays import OverlayReference

log = logging.getLogger(__name__)


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
    official: OfficialStage
    coverage_threshold: float
    allocations: pd.DataFrame  # district_id, year, target_m2, source (分解指标)
    uploads: pd.DataFrame  # per district: last accepted upload (UTC), uploads

    def register_coverage(self) -> RegisterCoverage:
        """The register against the reported programme, and per district (city-wide)."""
        return register_coverage(
            self.projects,
            self.programme_reports,
            self.uploads,
            list(self.districts["district_id"]),
            self.as_of,
            self.coverage_threshold,
        )

    def judgement(self, district_id: str | None = None) -> Judgement:
        """The verdict at the official stage for the city, or for one district (measured
        against its allocation if it has one, never against the city's target). Take it from
        the whole snapshot (before :meth:`readable_by`): a district's share is of the city."""
        return judge(
            self.projects,
            self.pledge,
            self.register_coverage(),
            self.official,
            self.as_of,
            district_id,
            self.allocations,
        )

    def readable_by(self, actor: Principal) -> Snapshot:
        """The same snapshot with only the projects ``actor`` may read (reference layers are
        for everyone). Used by the app, exports and the offline map alike."""
        districts = set(actor.readable_districts(self.districts["district_id"]))
        keep = self.projects["district_id"].isin(districts)
        if keep.all():
            return self
        return replace(self, projects=self.projects[keep])

    def ledger(self, stage: Stage | None = None) -> Ledger:
        """The ledger at ``stage`` (the official stage when None)."""
        stage = Stage(stage) if stage else self.official.stage
        return build_ledger(self.projects, self.pledge, stage, self.as_of)

    def district_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.districts["district_id"], self.districts[col], strict=True))

    def park_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.parks["park_id"], self.parks[col], strict=True))

    def cluster_names(self, lang: str) -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.clusters["code"], self.clusters[col], strict=True))


# what the ledger and the verdict read of each project (``spatial ledger``, the headline)
LEDGER_COLUMNS: tuple[str, ...] = (
    "name_zh", "district_id", "status", "floor_area_m2", "factory_floor_area_m2",
    *PROJECT_DATE_FIELDS, *PROJECT_EVIDENCE_FIELDS,
)  # fmt: skip


def take_snapshot(
    store: Store, as_of: date | None = None, project_columns: tuple[str, ...] | None = None
) -> Snapshot:
    """Read all layers as of the end of ``as_of`` (today when None) and derive overlays.

    With ``project_columns`` (e.g. :data:`LEDGER_COLUMNS`) only those project fields are read,
    in the database's order — no geometry, no overlays, no cluster matching, no sort: what the
    ledger and the verdict need, at the cost of reading those columns."""
    as_of = as_of or shenzhen_today()
    reference = OverlayReference.of_store(store)
    districts, parks, control_lines = reference.districts, reference.parks, reference.control_lines
    clusters = reference.clusters
    if project_columns is not None:
        projects = store.projects(
            at=end_of_day(as_of), columns=list(project_columns), ordered=False
        )
    else:
        projects = _projects_with_overlays(store, as_of, reference)
    return Snapshot(
        as_of=as_of,
        districts=districts,
        parks=parks,
        control_lines=control_lines,
        projects=projects,
        pledge=store.table("pledge"),
        clusters=clusters,
        programme_reports=store.table("programme_reports"),
        sources=store.table("sources"),
        official=official_stage(store),
        coverage_threshold=coverage_threshold(store),
        allocations=store.allocations(),
        uploads=store.last_accepted_uploads(),
    )


def _projects_with_overlays(
    store: Store, as_of: date, reference: OverlayReference
) -> gpd.GeoDataFrame:
    """Every current project with its overlays: those the store keeps under the digest of
    today's reference data (a commit or an undo keeps those of what it wrote), and for the
    rest (reference data changed since, versions written before overlays were kept at the
    write) computed now by vectorised joins and kept for the next read. The ``clusters``
    column holds the matched "20+8" codes."""
    key = reference.key
    projects = store.projects(at=end_of_day(as_of), overlays=key)
    missing = ~projects.pop("overlay_kept").to_numpy(dtype=bool)
    overlays = projects[list(OVERLAY_COLUMNS)].astype(object)
    projects = projects.drop(columns=list(OVERLAY_COLUMNS))
    if missing.any():
        fresh = reference.overlays(projects[missing])
        overlays.loc[missing, list(OVERLAY_COLUMNS)] = fresh[list(OVERLAY_COLUMNS)]
        try:
            store.keep_overlays(fresh.assign(version_id=projects.loc[missing, "version_id"]), key)
        except DBAPIError as exc:  # a read-only role, a busy store: read again next time
            log.warning("overlays not kept (%s); they are computed again on the next read", exc)
    overlays = overlays.where(overlays.notna(), None)  # missing is None however it was read
    out = with_overlays(projects, overlays, reference.control_lines)
    out["clusters"] = overlays["cluster_codes"].fillna("")
    return out


COVERAGE_ASPECTS: dict[str, tuple[str, str]] = {
    "boundary": ("边界", "boundary"),
    "name": ("名称", "name"),
    "location": ("位置", "location"),
    "polygon": ("范围", "polygon"),
    "figures": ("数字", "figures"),
    "dates": ("日期", "dates"),
}


# where each aspect comes from, as a reader of the coverage table needs it (no internal paths)
COVERAGE_SOURCES: dict[tuple[str, str], tuple[str, str]] = {
    ("districts", "boundary"): (
        "TransBigData 深圳行政区边界（BSD-3-Clause，DataV 边界由 GCJ-02 转为 WGS84）；"
        "深汕特别合作区无公开边界",
        "TransBigData Shenzhen districts (BSD-3-Clause; DataV outline converted from GCJ-02 "
        "to WGS84); no public boundary of Shenzhen-Shanwei",
    ),
    ("parks", "name"): (
        "公开报道与政府公告，每个园区附来源链接",
        "press and government notices, a source link per park",
    ),
    ("parks", "location"): (
        "按街道、地标名称推定的位置",
        "located from street and landmark names",
    ),
    ("parks", "boundary"): ("园区边界未公开", "no park boundary is public"),
    ("control_lines", "polygon"): (
        "示意：按规则生成（已定位园区周边 2 公里方块为一级线、外围 600 米为二级线，裁至区界），"
        "并非官方工业区块线",
        "illustrative: generated by a stated rule (a 2 km square around each located park as "
        "level 1, a 600 m band as level 2, clipped to the district); not the official lines",
    ),
    ("projects", "figures"): (
        "公开报道与政府公告（每个项目附来源链接），经第二次核对修正",
        "press and government notices (a source link per project), corrected on a second reading",
    ),
    ("projects", "dates"): (
        "公开报道与政府公告（每个项目附来源链接），经第二次核对修正",
        "press and government notices (a source link per project), corrected on a second reading",
    ),
    ("projects", "location"): (
        "按街道、地标名称推定的位置；区上传的项目按其文件",
        "located from street and landmark names; a district's uploads as given in its file",
    ),
}


def coverage(snapshot: Snapshot) -> pd.DataFrame:
    """Per layer and aspect: how many features are official, exact, approximate, illustrative
    or missing, and where the aspect comes from (``source_zh`` / ``source_en``)."""
    rows = []

    def add(layer: str, aspect: str, values: pd.Series, given: pd.Series | None = None) -> None:
        counts = values.fillna(Quality.MISSING.value).value_counts()
        zh, en = COVERAGE_SOURCES[(layer, aspect)]
        if given is not None:  # a layer an admin replaced names its own sources
            zh = en = "; ".join(sorted(set(given.dropna().astype(str))))
        rows.append(
            {"layer": layer, "aspect": aspect, "features": int(len(values))}
            | {q.value: int(counts.get(q.value, 0)) for q in Quality}
            | {"source_zh": zh, "source_en": en}
        )

    d = snapshot.districts
    add("districts", "boundary", d["quality"])
    p = snapshot.parks
    name_quality = p["name_status"].map(
        {"confirmed": Quality.APPROXIMATE.value, "inferred": Quality.APPROXIMATE.value}
    )
    add("parks", "name", name_quality)
    add("parks", "location", p["location_quality"])
    add("parks", "boundary", p["boundary_quality"])
    c = snapshot.control_lines
    replaced = not c.empty and (c["quality"] != Quality.ILLUSTRATIVE.value).any()
    add("control_lines", "polygon", c["quality"], c["source"] if replaced else None)
    pr = snapshot.projects
    add("projects", "figures", _aspect(pr, "figures_quality"))
    add("projects", "dates", _aspect(pr, "dates_quality"))
    add("projects", "location", pr["location_quality"])
    return pd.DataFrame(rows)


def _aspect(projects: pd.DataFrame, column: str) -> pd.Series:
    """A per-aspect quality column; a store from before it was recorded gives the project's
    overall quality."""
    if column not in projects.columns:
        return projects["quality"]
    return projects[column].where(projects[column].notna(), projects["quality"])
