"""用地潜力 Land capacity: where the pledge's floor area can still be built.

A **site** (地块) is a parcel polygon with its land use, land area, existing floor area, a
permitted plot ratio where one is set, its readiness (已出让 / 整备中 / 储备) and owner type.
The method, which a planner can check by hand:

1. **Where each site is.** Its district, control-line level and park come from spatial joins
   on a point inside the site (``representative_point``), vectorised with ``sjoin``: the
   district and the control line containing it (一级线 before 二级线; "outside" otherwise);
   the park is the nearest located park within ``PARK_RADIUS_M`` (the parks are published as
   points, not boundaries; 1.5 km reaches the corner of the 2 km level-1 square around each).
2. **The attainable plot ratio.** The site's own permitted plot ratio where it has one; else
   the plot-ratio table's value for its park, else for its district, else for its land use,
   else the city default — each row of the table with its source (or "assumption"), admins
   change it (audited).
3. **Capacity** = land area × attainable plot ratio − existing floor area, never below zero
   (a site already built denser than attainable has none left).
4. **Totals** per park and per district: the land bank (ha) by readiness, the potential floor
   area, and how many years of the pledge it covers (potential ÷ the pledge's yearly target);
   for the city, the potential against what the pledge still needs (its total minus what is
   counted so far at the official stage).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.auth import Action, Principal, Role, require
from spatial.crs import METRIC
from spatial.figures.snapshot import take_snapshot
from spatial.i18n import BilingualError
from spatial.layers import READINESS, SITE_FIELDS
from spatial.store.database import Store, end_of_day, utcnow
from spatial.store.illustrative import illustrative_sites

PARK_RADIUS_M = 1_500.0
PLOT_RATIO_SCOPES = ("park", "district", "land_use", "city")  # most specific first
DEFAULT_PLOT_RATIOS = pd.DataFrame(
    [
        ("city", "all", 3.0, "S40: 坝光试点“容积率3.0以上”（下限，用作全市默认）"),
        ("land_use", "M0", 4.0, "本工具假设 / assumption: 在库项目的容积率多为 3–7"),
    ],
    columns=["scope", "key", "plot_ratio", "source"],
)
PLOT_RATIOS_KEY = "plot_ratio_assumptions"


class CapacityError(BilingualError):
    """A refused change to the plot-ratio table; says why in Chinese and English."""


def locate_sites(
    sites: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    control_lines: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """``sites`` with ``district_id`` (where not given), ``control_level`` (level1 / level2 /
    outside) and ``park_id`` (None when no park is within ``PARK_RADIUS_M``), by vectorised
    spatial joins in EPSG:4547."""
    out = sites.copy()
    probe = gpd.GeoDataFrame(
        {"_row": np.arange(len(out))},
        geometry=out.geometry.to_crs(METRIC).representative_point().to_numpy(),
        crs=METRIC,
    )
    in_district = _first_containing(probe, districts[["district_id", "geometry"]])
    given = out["district_id"] if "district_id" in out else pd.Series(None, index=out.index)
    out["district_id"] = given.where(given.notna(), in_district["district_id"].to_numpy())
    lines = control_lines[["level", "geometry"]].sort_values("level")  # level1 before level2
    out["control_level"] = _first_containing(probe, lines)["level"].fillna("outside").to_numpy()
    located = parks[parks.geometry.notna() & ~parks.geometry.is_empty][["park_id", "geometry"]]
    near = gpd.sjoin_nearest(
        probe, located.to_crs(METRIC), how="left", max_distance=PARK_RADIUS_M
    ).sort_values(["_row", "park_id"])
    out["park_id"] = near.drop_duplicates("_row").set_index("_row")["park_id"].reindex(
        range(len(out))
    ).to_numpy()  # fmt: skip
    return out


def _first_containing(probe: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """For each probe point, the attributes of the first polygon (in ``polygons``' order)
    that contains it; NaN where none does."""
    shapes = polygons[polygons.geometry.notna()].to_crs(METRIC).reset_index(drop=True)
    shapes["_order"] = np.arange(len(shapes))
    hits = gpd.sjoin(probe, shapes, how="left", predicate="within").sort_values(["_row", "_order"])
    first = hits.drop_duplicates("_row").set_index("_row")
    return first.drop(columns=["geometry", "index_right", "_order"]).reindex(range(len(probe)))


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A numeric column (NaN where missing or not a number; all NaN without the column)."""
    if column not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def attainable_plot_ratio(sites: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per site, the plot ratio used and where it comes from (``ratio_basis``: site, park,
    district, land_use, city) with the table row's source."""
    ratio = _numbers(sites, "plot_ratio")
    ratio = ratio.where(ratio > 0)
    basis = pd.Series(np.where(ratio.notna(), "site", None), index=sites.index, dtype=object)
    source = pd.Series(np.where(ratio.notna(), "site", None), index=sites.index, dtype=object)
    keys = {
        "park": sites.get("park_id"),
        "district": sites.get("district_id"),
        "land_use": sites.get("land_use"),
        "city": pd.Series("all", index=sites.index),
    }
    for scope in PLOT_RATIO_SCOPES:
        rows = table[table["scope"] == scope].set_index("key")
        if rows.empty or keys[scope] is None:
            continue
        found = keys[scope].map(rows["plot_ratio"].astype(float))
        fill = ratio.isna() & found.notna()
        ratio[fill] = found[fill]
        basis[fill] = scope
        source[fill] = keys[scope][fill].map(rows["source"])
    return pd.DataFrame({"attainable_plot_ratio": ratio, "ratio_basis": basis,
                         "ratio_source": source})  # fmt: skip


def site_capacity(sites: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """``sites`` (located) with their attainable plot ratio and ``capacity_m2`` = land area ×
    plot ratio − existing floor area, at least 0. A site without a land area is measured from
    its polygon (EPSG:4547)."""
    out = sites.copy()
    land = _numbers(out, "land_area_m2")
    measured = out.geometry.to_crs(METRIC).area
    out["land_area_m2"] = land.where(land > 0, measured)
    existing = _numbers(out, "existing_floor_area_m2").fillna(0.0)
    out = out.join(attainable_plot_ratio(out, table))
    potential = out["land_area_m2"] * out["attainable_plot_ratio"] - existing
    out["capacity_m2"] = potential.clip(lower=0.0)
    return out


@dataclass
class CapacitySummary:
    """Capacity by park or district, and the city's total against what the pledge still
    needs."""

    by_group: pd.DataFrame  # group; land (ha) by readiness; capacity_m2; pledge_years
    total_capacity_m2: float
    pledge_remaining_m2: float
    yearly_target_m2: float
    covers_remaining: float  # total capacity ÷ what the pledge still needs
    illustrative: bool  # the sites are the illustrative set (示意), not real parcels
    measured: bool = True  # False: a district without an allocation (no target to set against)


def summarise_capacity(
    sites: gpd.GeoDataFrame, group: str, yearly_target_m2: float, remaining_m2: float
) -> CapacitySummary:
    """Totals per ``group`` (``park_id`` or ``district_id``); sites in no park are "—"."""
    frame = sites.assign(_group=sites[group].fillna("—"), _ha=sites["land_area_m2"] / 1e4)
    land = frame.pivot_table(index="_group", columns="readiness", values="_ha", aggfunc="sum",
                             fill_value=0.0)  # fmt: skip
    land = land.reindex(columns=list(READINESS), fill_value=0.0).add_prefix("land_ha_")
    out = land.join(frame.groupby("_group")["capacity_m2"].sum())
    out["sites"] = frame.groupby("_group").size()
    out["pledge_years"] = out["capacity_m2"] / yearly_target_m2 if yearly_target_m2 else np.nan
    out = out.reset_index().rename(columns={"_group": group})
    total = float(sites["capacity_m2"].sum())
    quality = sites["quality"] if "quality" in sites else pd.Series(dtype=object)
    return CapacitySummary(
        by_group=out.sort_values("capacity_m2", ascending=False, ignore_index=True),
        total_capacity_m2=total,
        pledge_remaining_m2=remaining_m2,
        yearly_target_m2=yearly_target_m2,
        covers_remaining=total / remaining_m2 if remaining_m2 > 0 else np.nan,
        illustrative=bool(len(quality)) and bool((quality == "illustrative").all()),
    )


def plot_ratios_of(store: Store) -> pd.DataFrame:
    """The plot-ratio table in force: the defaults with each admin change applied."""
    row = store.setting(PLOT_RATIOS_KEY)
    table = DEFAULT_PLOT_RATIOS.copy()
    for change in row["value"] if row else []:
        table = table[(table["scope"] != change["scope"]) | (table["key"] != change["key"])]
        if change["plot_ratio"] is not None:
            table = pd.concat([table, pd.DataFrame([change])], ignore_index=True)
    return table.reset_index(drop=True)


def set_plot_ratio(
    store: Store,
    actor: Principal,
    scope: str,
    key: str,
    plot_ratio: float | None,
    source: str,
) -> None:
    """Set (or, with None, remove) the plot ratio for a park, district, land use or the city
    (admins only, re-checked here), with its source, audited in the same write."""
    require(actor, Action.SET_COUNTING)
    if scope not in PLOT_RATIO_SCOPES or not key:
        raise CapacityError(
            f"范围须为 {'/'.join(PLOT_RATIO_SCOPES)} 之一，并给出对象",
            f"the scope must be one of {', '.join(PLOT_RATIO_SCOPES)}, with a key",
        )
    if plot_ratio is not None and not (0 < plot_ratio <= 20):
        raise CapacityError("容积率须在 0 到 20 之间", "the plot ratio must be above 0, at most 20")
    source = (source or "").strip()
    if len(source) < 4:
        raise CapacityError(
            "请写明依据（规划文件，或“假设”及提出人）",
            "give a source (a planning document, or 'assumption' and whose)",
        )
    change = {"scope": scope, "key": key, "plot_ratio": plot_ratio, "source": source}
    with store.transaction(lock="settings") as conn:
        row = store.setting(PLOT_RATIOS_KEY, conn)
        kept = [c for c in (row["value"] if row else []) if (c["scope"], c["key"]) != (scope, key)]
        now = utcnow()
        store.put_setting(conn, PLOT_RATIOS_KEY, [*kept, change], reason=f"{scope}/{key}",
                          source=source, set_by=actor.user_name, set_at=now)  # fmt: skip
        store.record_event(actor.user_name, "set_plot_ratio", f"{scope}/{key}", detail=change,
                           conn=conn, at=now)  # fmt: skip


_GENERATED: dict[str, gpd.GeoDataFrame] = {}  # illustrative sites by control-line content


def sites_of(store: Store, as_of: date | None = None) -> gpd.GeoDataFrame:
    """The sites layer: the parcels districts and admins have loaded (the store's current
    sites). Until any are loaded, the illustrative set generated from the store's control
    lines, every site marked 示意 — generated once per content of the control lines (a
    replaced layer generates anew). The two are never mixed: loaded parcels replace the
    illustrative set everywhere, and a district that has loaded none has no known sites.
    ``as_of``: the sites as the store held them at the end of that day."""
    stored = store.sites(end_of_day(as_of) if as_of else None)
    if len(stored):
        return stored[[*SITE_FIELDS, "geometry"]]
    lines = store.layer("control_lines")
    digest = hashlib.sha256(
        b"".join(shapely.to_wkb(lines.geometry.to_numpy()).tolist())
        + "|".join(lines["district_id"].fillna("").astype(str)).encode()
    ).hexdigest()
    if digest not in _GENERATED:
        if len(_GENERATED) >= 8:
            _GENERATED.clear()
        _GENERATED[digest] = illustrative_sites(lines)
    return _GENERATED[digest].copy()


def capacity(
    store: Store, actor: Principal, group: str = "district_id", as_of: date | None = None
) -> tuple[CapacitySummary, gpd.GeoDataFrame]:
    """Capacity of the sites ``actor`` may read, by ``group`` (``district_id`` or
    ``park_id``), with the pledge as the store held it at the end of ``as_of``."""
    if group not in ("district_id", "park_id"):
        raise CapacityError("只能按区或园区汇总", "group by district_id or park_id only")
    snapshot = take_snapshot(store, as_of)
    located = locate_sites(sites_of(store, as_of), snapshot.districts, snapshot.parks,
                           snapshot.control_lines)  # fmt: skip
    readable = set(actor.readable_districts(snapshot.districts["district_id"]))
    located = located[located["district_id"].isin(readable)]
    sites = site_capacity(located, plot_ratios_of(store))
    if actor.role == Role.DISTRICT:  # measured against its own allocation, never the city's
        judgement = snapshot.judgement(actor.district_id)
        if judgement.allocation is None:
            summary = summarise_capacity(sites, group, np.nan, np.nan)
            summary.measured = False
            return summary, sites
        ledger = judgement.ledger
    else:
        ledger = snapshot.ledger()
    targets = ledger.by_year["target_m2"].astype(float)
    remaining = max(0.0, float(targets.sum()) - float(ledger.summary.cumulative_m2))
    return summarise_capacity(sites, group, float(targets.mean()), remaining), sites
