"""选址 Site finder: rank the sites for the next projects by criteria a planner sets, with the
reason for each rank.

Each criterion is met or not by each site (vectorised over all sites): inside an accepted
control-line level, inside a park, an accepted readiness, at least a land area, at least a
capacity, and a park whose lead clusters include a "20+8" cluster. A criterion the planner marks
**required** removes the sites that miss it; the others rank: more criteria met first, then more
capacity, then the site id (so a rank is reproducible). Each site's reason lists what it meets
and misses, in Chinese and English. A park whose clusters are not published ("unknown …")
meets no cluster criterion, and the reason says the clusters are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CRITERIA = ("level", "park", "readiness", "land", "capacity", "cluster")


@dataclass(frozen=True)
class SiteCriteria:
    """What a planner asks of a site; ``required`` names the criteria a site must meet."""

    levels: tuple[str, ...] = ("level1", "level2")
    in_park: bool = False
    readiness: tuple[str, ...] = ()  # empty: any readiness
    min_land_m2: float = 0.0
    min_capacity_m2: float = 0.0
    cluster: str | None = None  # a "20+8" cluster name as the parks list them
    required: frozenset[str] = field(default_factory=frozenset)

    def asked(self) -> tuple[str, ...]:
        """The criteria this search actually sets (an unset one ranks nothing)."""
        asked = ["level"]
        asked += ["park"] if self.in_park else []
        asked += ["readiness"] if self.readiness else []
        asked += ["land"] if self.min_land_m2 > 0 else []
        asked += ["capacity"] if self.min_capacity_m2 > 0 else []
        asked += ["cluster"] if self.cluster else []
        return tuple(asked)


LABELS = {
    "level": ("在所选区块线内", "inside the chosen control lines"),
    "park": ("在园区内", "inside a park"),
    "readiness": ("用地状态符合", "readiness as asked"),
    "land": ("用地面积达标", "land area as asked"),
    "capacity": ("潜在面积达标", "capacity as asked"),
    "cluster": ("园区主导产业含所选集群", "the park leads the chosen cluster"),
}


def criteria_met(sites: pd.DataFrame, parks: pd.DataFrame, criteria: SiteCriteria) -> pd.DataFrame:
    """One boolean column per criterion asked (True: met), and ``cluster_unknown`` where the
    site's park has no published clusters."""
    out = pd.DataFrame(index=sites.index)
    out["level"] = sites["control_level"].isin(criteria.levels)
    if criteria.in_park:
        out["park"] = sites["park_id"].notna()
    if criteria.readiness:
        out["readiness"] = sites["readiness"].isin(criteria.readiness)
    if criteria.min_land_m2 > 0:
        out["land"] = sites["land_area_m2"] >= criteria.min_land_m2
    if criteria.min_capacity_m2 > 0:
        out["capacity"] = sites["capacity_m2"] >= criteria.min_capacity_m2
    clusters = sites["park_id"].map(parks.set_index("park_id")["lead_clusters"]).fillna("")
    unknown = clusters.str.startswith("unknown") | (clusters == "")
    if criteria.cluster:
        out["cluster"] = ~unknown & clusters.str.contains(criteria.cluster, regex=False)
    out["cluster_unknown"] = unknown & sites["park_id"].notna()
    return out


def rank_sites(sites: pd.DataFrame, parks: pd.DataFrame, criteria: SiteCriteria) -> pd.DataFrame:
    """The sites that meet every required criterion, ranked (1 = best), with ``met`` (the
    number of criteria met), ``reason_zh`` and ``reason_en``."""
    unknown_required = set(criteria.required) - set(criteria.asked())
    if unknown_required:
        raise ValueError(f"required criteria not asked: {sorted(unknown_required)}")
    met = criteria_met(sites, parks, criteria)
    asked = list(criteria.asked())
    keep = met[list(criteria.required)].all(axis=1)  # no required criterion: all kept
    out = sites.assign(met=met[asked].sum(axis=1).astype(int))[keep].copy()
    flags = met.loc[out.index]
    out["reason_zh"] = _reasons(flags, asked, 0)
    out["reason_en"] = _reasons(flags, asked, 1)
    out = out.sort_values(["met", "capacity_m2", "site_id"], ascending=[False, False, True])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _reasons(flags: pd.DataFrame, asked: list[str], lang: int) -> pd.Series:
    """Per site: "meets: …; misses: …" in one language (vectorised over criteria)."""
    sep, meets, misses = (
        ("、", "符合：", "不符合：") if lang == 0 else (", ", "meets: ", "misses: ")
    )
    met_text = pd.Series("", index=flags.index)
    miss_text = pd.Series("", index=flags.index)
    for c in asked:
        name = LABELS[c][lang]
        if c == "cluster":
            unknown = "（园区产业未公开）" if lang == 0 else " (the park's clusters are unknown)"
            name_missed = np.where(flags["cluster_unknown"], name + unknown, name)
        else:
            name_missed = name
        met_text = met_text + np.where(flags[c], name + sep, "")
        miss_text = miss_text + np.where(flags[c], "", pd.Series(name_missed, index=flags.index)
                                         + sep)  # fmt: skip
    met_text = met_text.str.removesuffix(sep)
    miss_text = miss_text.str.removesuffix(sep)
    join = "；" if lang == 0 else "; "
    return (meets + met_text.where(met_text != "", "—") + join + misses
            + miss_text.where(miss_text != "", "—"))  # fmt: skip
