"""方案 Scenarios: named sets of changes on top of the official register — a planned date
moved, a plot ratio raised, a site turned into a planned project — stored apart (the
``scenarios`` table) and **never** changing the official register or the ledger.

Planners and admins make city-wide scenarios; district staff make scenarios of their own
district, and every change in one must concern that district (the project's district, the
site's, the plot ratio's district or park). The library checks this inside the write, and
every create and change is in the audit trail.

A scenario changes plans, not what happened: a stage that is confirmed cannot be moved.
Compared with the baseline (up to four at once), each shows the trajectory's band, the year the
pledge is expected to be met, the years of supply, and the capacity it uses.
"""

from __future__ import annotations

import json
import re
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.auth import Action, Principal, Role, require
from spatial.clock import shenzhen_today
from spatial.figures.capacity import (
    PLOT_RATIO_SCOPES,
    locate_sites,
    plot_ratios_of,
    site_capacity,
    sites_of,
)
from spatial.figures.ledger import stage_reached
from spatial.figures.trajectory import (
    DEFAULT_DRAWS,
    Trajectory,
    build_trajectory,
    trajectory_inputs,
)
from spatial.i18n import BilingualError
from spatial.layers import PROJECT_FIELDS, STAGE_DATE_COLUMN, Stage
from spatial.store.database import Store, utcnow

MAX_COMPARED = 4
NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,64}$")
KINDS = ("move", "plot_ratio", "site")


class ScenarioError(BilingualError):
    """A refused scenario action; says why and what to do in Chinese and English."""


def create_scenario(
    store: Store, actor: Principal, name: str, note: str = "", district_id: str | None = None
) -> None:
    """A new, empty scenario. A district officer's is of their own district."""
    if actor.role == Role.DISTRICT:
        district_id = actor.district_id
    require(actor, Action.PLAN, district_id)
    if not NAME.match(name or ""):
        raise ScenarioError(
            "方案名称须为 1–64 个字母、数字、汉字、- 或 _",
            "a scenario name is 1–64 letters, digits, Chinese, - or _",
        )
    now = utcnow()
    with store.transaction(lock="scenarios") as conn:
        if store.scenario(name, conn) is not None:
            raise ScenarioError(f"方案“{name}”已存在", f"a scenario '{name}' exists already")
        store.put_scenario(conn, name, note=note or None, district_id=district_id, changes=[],
                           created_by=actor.user_name, created_at=now,
                           updated_by=actor.user_name, updated_at=now)  # fmt: skip
        store.record_event(actor.user_name, "scenario_create", name,
                           detail={"district_id": district_id}, conn=conn, at=now)  # fmt: skip


def change_scenario(store: Store, actor: Principal, name: str, change: dict) -> None:
    """Add one change to a scenario, after checking it names real things, concerns a
    district ``actor`` may plan in (and the scenario's district, if it has one), and moves
    no confirmed stage. Audited in the same write."""
    change = _checked(store, change)
    with store.transaction(lock="scenarios") as conn:
        scenario = store.scenario(name, conn)
        if scenario is None:
            raise ScenarioError(f"没有名为“{name}”的方案", f"no scenario named '{name}'")
        require(actor, Action.PLAN, scenario["district_id"])
        for district in _districts_of(store, change):
            require(actor, Action.PLAN, district)
            if scenario["district_id"] not in (None, district):
                raise ScenarioError(
                    "区方案只能修改本区的项目、地块和容积率",
                    "a district's scenario changes only its own projects, sites and ratios",
                )
        now = utcnow()
        store.put_scenario(conn, name, **{k: v for k, v in scenario.items() if k != "name"}
                           | {"changes": [*scenario["changes"], change],
                              "updated_by": actor.user_name, "updated_at": now})  # fmt: skip
        store.record_event(actor.user_name, "scenario_change", name, detail=change, conn=conn,
                           at=now)  # fmt: skip


def _checked(store: Store, change: dict) -> dict:
    """The change in its stored form; a ScenarioError for anything missing or wrong."""
    try:
        return _checked_fields(store, change)
    except (KeyError, ValueError, TypeError) as exc:
        raise ScenarioError(f"变更内容不完整或有误：{exc}",
                            f"the change is incomplete or wrong: {exc}") from exc  # fmt: skip


def _checked_fields(store: Store, change: dict) -> dict:
    kind = change.get("kind")
    if kind == "move":
        stage = Stage(change["stage"])
        days = int(change["days"])
        projects = store.projects()
        row = projects[projects["project_id"] == change["project_id"]]
        if row.empty:
            raise ScenarioError(f"没有项目 {change['project_id']}",
                                f"no project {change['project_id']}")  # fmt: skip
        if pd.isna(row[STAGE_DATE_COLUMN[stage]].iloc[0]):
            raise ScenarioError("该阶段没有计划日期，无法移动",
                                "the stage has no planned date to move")  # fmt: skip
        if stage_reached(row, stage, shenzhen_today()).iloc[0]:
            raise ScenarioError(
                "方案只改计划，不改已发生的事：该阶段已证实，不能移动",
                "a scenario changes plans, not what happened: this stage is confirmed",
            )
        return {"kind": kind, "project_id": change["project_id"], "stage": stage.value,
                "days": days}  # fmt: skip
    if kind == "plot_ratio":
        ratio = float(change["plot_ratio"])
        if change["scope"] not in PLOT_RATIO_SCOPES or not 0 < ratio <= 20:
            raise ScenarioError("容积率范围或数值无效", "unknown scope, or a ratio outside (0, 20]")
        return {"kind": kind, "scope": change["scope"], "key": str(change["key"]),
                "plot_ratio": ratio}  # fmt: skip
    if kind == "site":
        sites = sites_of(store)
        if change["site_id"] not in set(sites["site_id"]):
            raise ScenarioError(f"没有地块 {change['site_id']}", f"no site {change['site_id']}")
        start = date.fromisoformat(str(change["start_date"]))
        area = change.get("floor_area_m2")
        return {"kind": kind, "site_id": change["site_id"], "start_date": start.isoformat(),
                "floor_area_m2": None if area is None else float(area)}  # fmt: skip
    raise ScenarioError(f"变更类型须为 {'/'.join(KINDS)}", f"a change is one of {', '.join(KINDS)}")


def _districts_of(store: Store, change: dict) -> list[str | None]:
    """The districts a change concerns (None: the whole city)."""
    if change["kind"] == "move":
        projects = store.projects(columns=["district_id"])
        return projects.loc[projects["project_id"] == change["project_id"], "district_id"].tolist()
    if change["kind"] == "site":
        located = _located_sites(store)
        return located.loc[located["site_id"] == change["site_id"], "district_id"].tolist()
    if change["scope"] == "district":
        return [change["key"]]
    if change["scope"] == "park":
        parks = store.layer("parks")
        ids = parks.loc[parks["park_id"] == change["key"], "district_ids"]
        return str(ids.iloc[0]).split(";") if len(ids) else [None]
    return [None]  # a land use or the city default: city-wide


def _located_sites(store: Store) -> gpd.GeoDataFrame:
    return locate_sites(sites_of(store), store.layer("districts"), store.layer("parks"),
                        store.layer("control_lines"))  # fmt: skip


def apply_changes(
    projects: pd.DataFrame, sites: pd.DataFrame, ratios: pd.DataFrame, changes: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame, float, list[str]]:
    """The projects and the plot-ratio table with a scenario's changes applied, the floor
    area taken from sites turned into projects (their capacity, or the area given), and the
    sites a change names that the layer no longer holds (a district's upload replaced them):
    those changes are left out, and said."""
    projects = projects.copy()
    for c in (c for c in changes if c["kind"] == "move"):
        column = STAGE_DATE_COLUMN[Stage(c["stage"])]
        hit = projects["project_id"] == c["project_id"]
        moved = pd.to_datetime(projects.loc[hit, column], errors="coerce") + pd.Timedelta(
            days=c["days"]
        )
        projects.loc[hit, column] = moved.dt.strftime("%Y-%m-%d")
    for c in (c for c in changes if c["kind"] == "plot_ratio"):
        ratios = ratios[(ratios["scope"] != c["scope"]) | (ratios["key"] != c["key"])]
        ratios = pd.concat([ratios, pd.DataFrame([c | {"source": "scenario"}])[ratios.columns]])
    taken = [c for c in changes if c["kind"] == "site"]
    used, missing = 0.0, []
    if taken:
        capacity = site_capacity(sites, ratios).set_index("site_id")
        missing = [c["site_id"] for c in taken if c["site_id"] not in capacity.index]
        taken = [c for c in taken if c["site_id"] in capacity.index]
        rows = []
        for c in taken:
            site = capacity.loc[c["site_id"]]
            area = c["floor_area_m2"] if c["floor_area_m2"] is not None else site["capacity_m2"]
            used += float(area)
            rows.append(dict.fromkeys(PROJECT_FIELDS) | {
                "project_id": f"SCN-{c['site_id']}", "name_zh": f"方案项目 {c['site_id']}",
                "district_id": site["district_id"], "park_id": site["park_id"],
                "status": "planned", "floor_area_m2": float(area), "start_date": c["start_date"],
                "start_evidence": "planned", "quality": "scenario",
            })  # fmt: skip
        if rows:
            projects = pd.concat([projects, pd.DataFrame(rows)], ignore_index=True)
    return projects, ratios.reset_index(drop=True), used, missing


def scenario_trajectory(
    store: Store,
    actor: Principal,
    name: str | None,
    as_of: date | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> tuple[Trajectory, float, float]:
    """The trajectory with scenario ``name`` applied (None: the baseline), the capacity
    (sites × plot ratios, as the scenario sets them) and the floor area its new projects
    take from it. The official register is only read."""
    return _run(store, actor, _Reads.of(store, actor, as_of), name, draws, seed)[:3]


class _Reads:
    """What every scenario of one comparison shares, read from the store once."""

    def __init__(self, inputs, sites: gpd.GeoDataFrame, ratios: pd.DataFrame):
        self.inputs, self.sites, self.ratios = inputs, sites, ratios

    @classmethod
    def of(cls, store: Store, actor: Principal, as_of: date | None) -> _Reads:
        inputs = trajectory_inputs(store, actor, as_of)
        snap = inputs.snapshot
        sites = locate_sites(sites_of(store), snap.districts, snap.parks, snap.control_lines)
        readable = set(actor.readable_districts(snap.districts["district_id"]))
        return cls(inputs, sites[sites["district_id"].isin(readable)], plot_ratios_of(store))


def _run(store: Store, actor: Principal, reads: _Reads, name: str | None, draws: int, seed: int):
    changes = []
    if name is not None:
        scenario = store.scenario(name)
        if scenario is None:
            raise ScenarioError(f"没有名为“{name}”的方案", f"no scenario named '{name}'")
        require(actor, Action.READ, scenario["district_id"])
        changes = scenario["changes"]
    inputs = reads.inputs
    projects, ratios, used, missing = apply_changes(
        inputs.snapshot.projects, reads.sites, reads.ratios, changes
    )
    capacity_m2 = float(site_capacity(reads.sites, ratios)["capacity_m2"].sum())
    tr = build_trajectory(projects, inputs.history, inputs.pledge,
                          inputs.snapshot.official.stage, inputs.snapshot.as_of,
                          inputs.assumptions, draws=draws, seed=seed)  # fmt: skip
    return tr, capacity_m2, used, missing


def compare_scenarios(
    store: Store,
    actor: Principal,
    names: list[str],
    as_of: date | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """The baseline and up to ``MAX_COMPARED`` scenarios side by side: the year met, the
    share of draws meeting the pledge by its end, the cumulative P50 (P10, P90) at the end of
    the pledge, the years of supply, the capacity and the capacity used."""
    if len(names) > MAX_COMPARED:
        raise ScenarioError(f"最多比较 {MAX_COMPARED} 个方案",
                            f"compare at most {MAX_COMPARED} scenarios")  # fmt: skip
    rows = []
    reads = _Reads.of(store, actor, as_of)
    for name in [None, *names]:
        tr, capacity_m2, used, missing = _run(store, actor, reads, name, draws, seed)
        end = tr.by_year.set_index("year").loc[tr.pledge_end or 2027]
        supply = tr.supply or {}
        rows.append({
            "scenario": name or "baseline",
            "year_met": tr.year_met,
            "met_by_pledge_end": tr.met_by_period_end,
            "cumulative_p10_m2": end["cumulative_p10_m2"],
            "cumulative_p50_m2": end["cumulative_p50_m2"],
            "cumulative_p90_m2": end["cumulative_p90_m2"],
            "years_of_supply": supply.get("f_years_of_supply"),
            "capacity_m2": capacity_m2,
            "capacity_used_m2": used,
            "capacity_used_share": used / capacity_m2 if capacity_m2 else np.nan,
            "sites_missing": ", ".join(missing),  # named by a change, gone from the layer
        })  # fmt: skip
    return pd.DataFrame(rows)


def scenario_list(store: Store, actor: Principal) -> pd.DataFrame:
    """The scenarios ``actor`` may read, with how many changes each holds."""
    frame = store.scenarios()
    districts = store.layer("districts")["district_id"]
    readable = set(actor.readable_districts(districts))
    keep = frame["district_id"].isna() | frame["district_id"].isin(readable)
    frame = frame[keep].copy()
    frame["changes"] = frame["changes"].map(lambda text: len(json.loads(text)))
    return frame.reset_index(drop=True)
