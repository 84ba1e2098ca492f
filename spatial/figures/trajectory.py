"""供给轨迹 The supply trajectory: when the pipeline's floor area is expected to reach each
stage, year by year 2023–2030, with a P10/P50/P90 band; the year the pledge is expected to be
met; and the years of supply the pipeline holds.

The method, step by step (the README says the same in a planner's words):

1. **Observed slippage.** Every version of a project keeps its stage dates as they were then.
   For each project and stage that is confirmed by the as-of date, the slippage is the
   confirmed date minus the *first planned date* the history recorded for that stage (the
   original plan), in days. Only versions the store held on the as-of date are read.
2. **Expected dates.** A confirmed stage stays at its date. A planned (or inferred) stage is
   moved by a slippage drawn at random from those observed for the same stage — ``draws``
   times, with a fixed seed, so the same store gives the same band. A stage still
   unconfirmed on the as-of date cannot have happened before it: it is placed on the next
   day at the earliest. With fewer than ``MIN_OBSERVED`` observed slippages for a stage, the
   default slippage from the assumption table is used for every draw (the band of that stage
   then has no width, and the result says so).
3. **Missing dates.** A stage with no date follows the stage before it by the default
   duration for the project's size (lead-in from the as-of date to the start; start to
   completion; completion to delivery), from the assumption table, each with its source or
   "assumption". A stage whose status says it happened but whose date is unknown is left out
   of every year, as in the ledger.
4. **The band.** For each draw the counted floor area (as in the ledger) reaching each stage
   is summed per year; P10 / P50 / P90 are taken over the draws, year by year. The cumulative
   area at the official stage from 2023 gives, per draw, the first year the pledge total is
   reached; the reported year is the median draw's, beside the share of draws that reach it
   by the end of the pledge period.
5. **Years of supply** (as England's five-year housing land supply, with the shortfall spread
   over the pledge years left): (a) the year's target; (b) the shortfall of the whole years
   already past; (c) the pledge years left, this one included; (d) = a + b ÷ c, the yearly
   requirement; (e) the floor area expected to reach the official stage in the five years
   after the as-of date (P50, with P10–P90); (f) = e ÷ d, years of supply.

Everything is vectorised: the draws are columns of one array per stage and each year's sum is
one ``bincount`` over (group, year, draw). The projects are drawn :data:`CHUNK` at a time and
only their sums are kept, so memory does not grow with the register.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from spatial.auth import Action, Principal, Role, require
from spatial.figures.ledger import counted_area, stage_reached, stage_undated
from spatial.figures.snapshot import Snapshot, take_snapshot
from spatial.i18n import BilingualError
from spatial.layers import STAGE_DATE_COLUMN, Stage
from spatial.store.database import Store, end_of_day, utcnow

STAGES = (Stage.STARTED, Stage.COMPLETED, Stage.DELIVERED)
FIRST_YEAR, LAST_YEAR = 2023, 2030
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
MIN_OBSERVED = 5  # fewer observed slippages than this for a stage: the default is used
DEFAULT_DRAWS = 200
SUPPLY_WINDOW_YEARS = 5
EPOCH = np.datetime64("1970-01-01", "D")

# size bands by counted floor area (m²): a large tower takes longer to build
SIZE_BANDS = (("small", 0.0), ("medium", 100_000.0), ("large", 300_000.0))
ASSUMPTION_KEYS = {
    "lead_in": ("开工前准备（从截止日到开工）", "lead-in (as-of date to start)"),
    "build": ("建设期（开工到竣工）", "build (start to completion)"),
    "hand_over": ("交付期（竣工到交付）", "hand-over (completion to delivery)"),
    "slip_started": ("开工的默认延误", "default slippage of the start"),
    "slip_completed": ("竣工的默认延误", "default slippage of completion"),
    "slip_delivered": ("交付的默认延误", "default slippage of delivery"),
}
ASSUMPTION = "本工具假设 / assumption"
DEFAULT_ASSUMPTIONS = pd.DataFrame(
    [
        ("lead_in", "small", 180, ASSUMPTION),
        ("lead_in", "medium", 270, ASSUMPTION),
        ("lead_in", "large", 365, ASSUMPTION),
        ("build", "small", 540, ASSUMPTION),
        ("build", "medium", 730, ASSUMPTION),
        ("build", "large", 1_095, ASSUMPTION),
        ("hand_over", "small", 90, ASSUMPTION),
        ("hand_over", "medium", 120, ASSUMPTION),
        ("hand_over", "large", 180, ASSUMPTION),
        ("slip_started", "all", 0, ASSUMPTION),
        ("slip_completed", "all", 0, ASSUMPTION),
        ("slip_delivered", "all", 0, ASSUMPTION),
    ],
    columns=["key", "band", "days", "source"],
)
_DURATION_BEFORE = {
    Stage.STARTED: "lead_in",
    Stage.COMPLETED: "build",
    Stage.DELIVERED: "hand_over",
}


def size_band(area: pd.Series) -> pd.Series:
    """small (< 100,000 m²), medium (< 300,000 m²) or large, by counted floor area; small when
    the area is unknown (such a project adds no area to any year anyway)."""
    band = pd.Series("small", index=area.index, dtype=object)
    for name, lower in SIZE_BANDS[1:]:
        band[area >= lower] = name
    return band


def observed_slippage(history: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per project and stage confirmed by ``as_of`` whose plan the history recorded
    first: ``planned_date`` (the first plan), ``confirmed_date``, ``slip_days`` (may be
    negative: early). ``history`` holds every version the store had on ``as_of``."""
    columns = ["project_id", "stage", "planned_date", "confirmed_date", "slip_days"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    history = history.sort_values("version_id", kind="stable").reset_index(drop=True)
    out = []
    for stage in STAGES:
        when = pd.to_datetime(history[STAGE_DATE_COLUMN[stage]], errors="coerce", format="%Y-%m-%d")
        confirmed = stage_reached(history, stage, as_of)
        planned = when.notna() & ~confirmed
        first_plan = history.loc[planned, ["project_id"]].assign(planned_date=when[planned])
        first_plan = first_plan.drop_duplicates("project_id")
        first_plan["plan_order"] = first_plan.index
        done = history.loc[confirmed, ["project_id"]].assign(confirmed_date=when[confirmed])
        done["done_order"] = done.index
        done = done.drop_duplicates("project_id")
        both = first_plan.merge(done, on="project_id")
        both = both[both["plan_order"] < both["done_order"]]
        slip = (both["confirmed_date"] - both["planned_date"]).dt.days
        out.append(both[["project_id", "planned_date", "confirmed_date"]].assign(
            stage=stage.value, slip_days=slip))  # fmt: skip
    return pd.concat(out, ignore_index=True)[columns]


@dataclass
class Trajectory:
    """The trajectory as of a date (see the module's method)."""

    as_of: date
    official: Stage
    draws: int
    seed: int
    by_year: pd.DataFrame  # year; per stage: confirmed_m2, p10/p50/p90_m2; cumulative, target
    measured: bool  # False: a district without an allocation, never set against the city
    year_met: int | None  # the median draw's year; None: not by LAST_YEAR (or not measured)
    met_by_period_end: float | None  # share of draws reaching the total by the pledge's end
    pledge_total_m2: float | None
    pledge_end: int | None
    observed: dict[str, int]  # stage → observed slippages
    banded: dict[str, bool]  # stage → band from observed slippage (False: default used)
    supply: dict[str, float | int | None] | None  # the years-of-supply table (a–f)
    undated: dict[str, int]  # stage → projects whose stage happened on an unknown date
    assumptions: pd.DataFrame = field(repr=False, default_factory=lambda: DEFAULT_ASSUMPTIONS)
    groups: pd.DataFrame | None = field(repr=False, default=None)  # by district/park (P50)


def _days(values: pd.Series) -> np.ndarray:
    """ISO dates (or timestamps) as days since 1970 (float, NaN when missing)."""
    parsed = pd.to_datetime(values, errors="coerce")
    out = (parsed.to_numpy(dtype="datetime64[D]") - EPOCH).astype("float64")
    out[parsed.isna().to_numpy()] = np.nan
    return out


def _day(d: date) -> float:
    return float((np.datetime64(d, "D") - EPOCH).astype(int))


def _assumed_days(assumptions: pd.DataFrame, key: str, band: pd.Series) -> np.ndarray:
    table = assumptions[assumptions["key"] == key]
    by_band = dict(zip(table["band"], table["days"].astype(float), strict=True))
    return band.map(by_band).fillna(by_band.get("all", 0.0)).to_numpy(dtype=np.float32)


def expected_days(
    projects: pd.DataFrame,
    slips: pd.DataFrame,
    assumptions: pd.DataFrame,
    as_of: date,
    draws: int,
    seed: int | np.random.Generator,
) -> tuple[dict[Stage, np.ndarray], dict[str, int], dict[str, bool], dict[str, int]]:
    """Per stage, an (n projects × draws) array of the day each project is expected to reach
    it (NaN: never, or on an unknown date); with the observed count, whether the band comes
    from observation, and the undated count, per stage."""
    rng = np.random.default_rng(seed)
    band = size_band(counted_area(projects))
    today, n = _day(as_of), len(projects)
    # days since 1970 fit float32 exactly; (n × draws) arrays stay small at 10⁵ projects
    previous = np.full((n, draws), today, dtype=np.float32)  # the lead-in runs from as-of
    out, observed, banded, undated = {}, {}, {}, {}
    for stage in STAGES:
        when = _days(projects[STAGE_DATE_COLUMN[stage]]).astype(np.float32)[:, None]
        confirmed = stage_reached(projects, stage, as_of).to_numpy()[:, None]
        unknown = stage_undated(projects, stage).to_numpy()
        stage_slips = slips.loc[slips["stage"] == stage.value, "slip_days"].to_numpy(float)
        observed[stage.value] = len(stage_slips)
        banded[stage.value] = len(stage_slips) >= MIN_OBSERVED
        if banded[stage.value]:
            pick = rng.integers(0, len(stage_slips), size=(n, draws), dtype=np.int32)
            slip = stage_slips.astype(np.float32)[pick]  # a resampled slippage per draw
            del pick
        else:
            slip = _assumed_days(assumptions, f"slip_{stage.value}", band)[:, None]
        duration = _assumed_days(assumptions, _DURATION_BEFORE[stage], band)[:, None]
        planned = np.where(np.isnan(when), previous + duration, when + slip)
        days = np.where(confirmed, when, np.maximum(planned, today + 1))
        days[unknown] = np.nan
        undated[stage.value] = int(unknown.sum())
        out[stage] = days
        previous = np.where(np.isnan(days), previous + duration, days)
    return out, observed, banded, undated


def _year_index(days: np.ndarray) -> np.ndarray:
    """0 … len(YEARS)-1 for a day in YEARS; -1 before (or NaN), len(YEARS) after. Counted
    as the number of year starts reached, in int8: a few passes over the array, no index
    array of 64-bit integers."""
    index = np.full(days.shape, -1, dtype=np.int8)
    for y in (*YEARS, LAST_YEAR + 1):
        index += days >= _day(date(y, 1, 1))  # NaN reaches no start
    return index


def yearly_sums(days: np.ndarray, area: np.ndarray, groups: np.ndarray, n_groups: int):
    """(n_groups × years × draws) floor area reaching the stage: one ``bincount`` over the
    projects per draw. The loop runs over draws (a few hundred), never over projects, and
    keeps memory at one column's size instead of (projects × draws) index arrays."""
    n, draws = days.shape
    n_years = len(YEARS)
    sums = np.zeros((n_groups * n_years, draws))
    weights = np.nan_to_num(area, nan=0.0)
    base = groups.astype(np.int64) * n_years
    years = np.ascontiguousarray(_year_index(days).T)  # draws × projects, int8
    for d in range(draws):
        year = years[d].astype(np.int64)
        keep = (year >= 0) & (year < n_years)
        sums[:, d] = np.bincount(base[keep] + year[keep], weights=weights[keep],
                                 minlength=n_groups * n_years)  # fmt: skip
    return sums.reshape(n_groups, n_years, draws)


def build_trajectory(
    projects: pd.DataFrame,
    history: pd.DataFrame,
    pledge: pd.DataFrame | None,
    official: Stage,
    as_of: date,
    assumptions: pd.DataFrame | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    group_by: str | None = None,
) -> Trajectory:
    """The trajectory of ``projects`` (the versions valid on ``as_of``) given their
    ``history`` (every version the store held then) and the ``pledge`` table (year,
    target_m2): the city's, or a district's allocation; None: not measured against one."""
    assumptions = DEFAULT_ASSUMPTIONS if assumptions is None else assumptions
    slips = observed_slippage(history, as_of)
    drawn = _drawn_sums(projects, slips, assumptions, as_of, draws, seed, official, group_by)
    observed, banded, undated, sums = drawn.observed, drawn.banded, drawn.undated, drawn.sums
    by_year = pd.DataFrame({"year": YEARS})
    for stage in STAGES:
        by_year[f"{stage.value}_confirmed_m2"] = drawn.confirmed[stage]
        for q in (10, 50, 90):
            by_year[f"{stage.value}_p{q}_m2"] = np.percentile(sums[stage], q, axis=1)
    cumulative = np.cumsum(sums[official], axis=0)  # years × draws
    for q in (10, 50, 90):
        by_year[f"cumulative_p{q}_m2"] = np.percentile(cumulative, q, axis=1)
    if pledge is None:  # not measured: no target, no year met, no supply against one
        by_year["target_m2"] = by_year["cumulative_target_m2"] = np.nan
        return Trajectory(
            as_of, official, draws, seed, by_year, False, None, None, None, None,
            observed, banded, None, undated, assumptions, drawn.groups,
        )  # fmt: skip
    targets = pd.Series(
        pledge["target_m2"].astype(float).to_numpy(), index=pledge["year"].astype(int)
    )
    by_year["target_m2"] = by_year["year"].map(targets).fillna(0.0)
    by_year["cumulative_target_m2"] = by_year["target_m2"].cumsum()
    total = float(targets.sum())
    pledge_end = int(targets.index.max())
    reached = cumulative >= total
    first = np.where(reached.any(axis=0), reached.argmax(axis=0), len(YEARS))  # per draw
    median = int(np.sort(first)[(len(first) - 1) // 2])
    year_met = YEARS[median] if median < len(YEARS) else None
    by_end = float((first <= YEARS.index(pledge_end)).mean()) if pledge_end in YEARS else 0.0
    return Trajectory(
        as_of=as_of,
        official=official,
        draws=draws,
        seed=seed,
        by_year=by_year,
        measured=True,
        year_met=year_met,
        met_by_period_end=by_end,
        pledge_total_m2=total,
        pledge_end=pledge_end,
        observed=observed,
        banded=banded,
        supply=years_of_supply(projects, drawn.supply, drawn.area, targets, official, as_of),
        undated=undated,
        assumptions=assumptions,
        groups=drawn.groups,
    )


def years_of_supply(
    projects: pd.DataFrame,
    supply: np.ndarray,
    area: np.ndarray,
    targets: pd.Series,
    official: Stage,
    as_of: date,
) -> dict[str, float | int | None]:
    """The years-of-supply table (a–f in the module's method) from ``supply``, the floor area
    reaching the official stage in the window, per draw (:func:`supply_in_window`). After the
    pledge's last year there is no requirement left: (c), (d) and (f) are None."""
    year = as_of.year
    last = int(targets.index.max())
    reached = stage_reached(projects, official, as_of)
    done_year = pd.to_datetime(projects[STAGE_DATE_COLUMN[official]], errors="coerce").dt.year
    past = [y for y in targets.index if y < year]
    counted_past = float(np.nansum(area[(reached & done_year.isin(past)).to_numpy()]))
    shortfall = max(0.0, float(targets.loc[past].sum()) - counted_past)
    left = last - year + 1 if year <= last else 0
    requirement = float(targets.get(year, np.nan))
    per_year = requirement + shortfall / left if left > 0 else None
    p10, p50, p90 = (float(np.percentile(supply, q)) for q in (10, 50, 90))
    return {
        "a_target_m2": None if np.isnan(requirement) else requirement,
        "b_shortfall_m2": shortfall,
        "c_years_left": left or None,
        "d_requirement_per_year_m2": per_year,
        "e_supply_p50_m2": p50,
        "e_supply_p10_m2": p10,
        "e_supply_p90_m2": p90,
        "f_years_of_supply": p50 / per_year if per_year else None,
    }


def supply_in_window(days: np.ndarray, area: np.ndarray, as_of: date) -> np.ndarray:
    """Per draw, the floor area expected to reach the stage in the five years after
    ``as_of`` ((e) of the years of supply)."""
    window_end = _day(as_of + timedelta(days=round(365.25 * SUPPLY_WINDOW_YEARS)))
    ahead = (days > _day(as_of)) & (days <= window_end) & ~np.isnan(area)[:, None]
    return np.where(ahead, area[:, None], 0.0).sum(axis=0)


CHUNK = 20_000  # projects drawn at once: (chunk × draws) arrays, ~16 MB a stage at 200 draws


@dataclass
class _DrawnSums:
    """What the band needs, summed over the projects chunk by chunk."""

    sums: dict  # stage -> (years × draws)
    confirmed: dict  # stage -> (years,) the confirmed floor area per year
    supply: np.ndarray  # (draws,) at the official stage, in the window
    groups: pd.DataFrame | None
    observed: dict
    banded: dict
    undated: dict
    area: np.ndarray


def _drawn_sums(
    projects: pd.DataFrame,
    slips: pd.DataFrame,
    assumptions: pd.DataFrame,
    as_of: date,
    draws: int,
    seed: int,
    official: Stage,
    group_by: str | None,
) -> _DrawnSums:
    """Draw the expected dates for :data:`CHUNK` projects at a time and keep only their sums
    per year, so memory stays at one chunk's (chunk × draws) arrays whatever the register's
    size. The first chunk draws from ``seed`` itself (a register of up to CHUNK projects gets
    exactly the band of one draw over all of it); chunk k > 0 from the seed sequence
    (seed, k), so the same store and seed always give the same band."""
    area = counted_area(projects).to_numpy(dtype=float)
    n_years = len(YEARS)
    if group_by:
        codes, names = pd.factorize(projects[group_by].fillna("—").astype(str), sort=True)
        group_sums = np.zeros((len(names), n_years, draws))
    sums = {stage: np.zeros((n_years, draws)) for stage in STAGES}
    confirmed = {stage: np.zeros(n_years) for stage in STAGES}
    supply = np.zeros(draws)
    undated = dict.fromkeys((s.value for s in STAGES), 0)
    observed, banded = {}, {}
    for k, start in enumerate(range(0, max(len(projects), 1), CHUNK)):
        part = projects.iloc[start : start + CHUNK]
        rng = np.random.default_rng(seed if k == 0 else [seed, k])
        days, observed, banded, undated_part = expected_days(
            part, slips, assumptions, as_of, draws, rng
        )
        a = area[start : start + CHUNK]
        whole = np.zeros(len(part), dtype=np.int64)
        for stage in STAGES:
            undated[stage.value] += undated_part[stage.value]
            sums[stage] += yearly_sums(days[stage], a, whole, 1)[0]
            reached = stage_reached(part, stage, as_of).to_numpy()
            sure = yearly_sums(days[stage][:, :1], np.where(reached, a, np.nan), whole, 1)
            confirmed[stage] += sure[0, :, 0]
        supply += supply_in_window(days[official], a, as_of)
        if group_by:
            chunk_codes = codes[start : start + CHUNK].astype(np.int64)
            group_sums += yearly_sums(days[official], a, chunk_codes, len(names))
        del days
    groups = None
    if group_by:
        p50 = np.percentile(group_sums, 50, axis=2)  # groups × years
        frame = pd.DataFrame(p50, index=pd.Index(names, name=group_by), columns=YEARS)
        groups = frame.reset_index().melt(id_vars=group_by, var_name="year", value_name="p50_m2")
    return _DrawnSums(sums, confirmed, supply, groups, observed, banded, undated, area)


ASSUMPTIONS_KEY = "trajectory_assumptions"


class TrajectoryError(BilingualError):
    """A refused change to the trajectory's assumptions; says why in Chinese and English."""


def assumptions_of(store: Store) -> pd.DataFrame:
    """The assumption table in force: the defaults with each admin change applied."""
    table = DEFAULT_ASSUMPTIONS.copy()
    row = store.setting(ASSUMPTIONS_KEY)
    for change in row["value"] if row else []:
        hit = (table["key"] == change["key"]) & (table["band"] == change["band"])
        table.loc[hit, ["days", "source"]] = [int(change["days"]), change["source"]]
    return table


def set_assumption(
    store: Store, actor: Principal, key: str, band: str, days: int, source: str
) -> None:
    """Change one assumption (admins only, re-checked here), audited in the same write. The
    source is required: a document, or the word "assumption" and who made it."""
    require(actor, Action.SET_COUNTING)
    bands = {b for b, _ in SIZE_BANDS} if not key.startswith("slip_") else {"all"}
    if key not in ASSUMPTION_KEYS or band not in bands:
        raise TrajectoryError(
            f"未知的假设 {key}/{band}；可用：{', '.join(ASSUMPTION_KEYS)}，规模 small/medium/large"
            "（延误为 all）",
            f"unknown assumption {key}/{band}; use one of {', '.join(ASSUMPTION_KEYS)}, size "
            "small/medium/large (all for slippage)",
        )
    if not isinstance(days, int) or not -3_650 <= days <= 3_650:
        raise TrajectoryError("天数须为 -3650 到 3650 之间的整数", "days must be a whole number "
                              "from -3650 to 3650")  # fmt: skip
    source = (source or "").strip()
    if len(source) < 4:
        raise TrajectoryError(
            "请写明依据（文件、会议，或“假设”及提出人）",
            "give a source (a document or meeting, or 'assumption' and whose)",
        )
    with store.transaction(lock="settings") as conn:
        row = store.setting(ASSUMPTIONS_KEY, conn)
        changes = [c for c in (row["value"] if row else []) if (c["key"], c["band"]) != (key, band)]
        changes.append({"key": key, "band": band, "days": days, "source": source})
        now = utcnow()
        store.put_setting(conn, ASSUMPTIONS_KEY, changes, reason=f"{key}/{band}={days}",
                          source=source, set_by=actor.user_name, set_at=now)  # fmt: skip
        store.record_event(actor.user_name, "set_trajectory_assumption", f"{key}/{band}",
                           detail={"days": days, "source": source}, conn=conn, at=now)  # fmt: skip


@dataclass
class TrajectoryInputs:
    """What a trajectory reads from the store for one user on one date."""

    snapshot: Snapshot  # what the user may read
    history: pd.DataFrame  # every version the store held then, of the readable districts
    pledge: pd.DataFrame | None  # the city's, the district's allocation, or None
    assumptions: pd.DataFrame


def trajectory_inputs(store: Store, actor: Principal, as_of: date | None) -> TrajectoryInputs:
    """The versioned reads a trajectory needs, as the store held them at the end of
    ``as_of`` (today when None): the same reads as the ledger."""
    whole = take_snapshot(store, as_of)
    snapshot = whole.readable_by(actor)
    pledge = whole.pledge
    if actor.role == Role.DISTRICT:
        # a district is measured against its own allocation, never the city's target
        judgement = whole.judgement(actor.district_id)
        allocated = judgement.allocation is not None
        pledge = judgement.ledger.by_year[["year", "target_m2"]] if allocated else None
    history = store.stage_history(end_of_day(snapshot.as_of))
    readable = set(actor.readable_districts(snapshot.districts["district_id"]))
    history = history[history["district_id"].isin(readable)]
    return TrajectoryInputs(snapshot, history, pledge, assumptions_of(store))


def trajectory(
    store: Store,
    actor: Principal,
    as_of: date | None = None,
    group_by: str | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> Trajectory:
    """The trajectory of what ``actor`` may read, as the store held it at the end of
    ``as_of`` (today when None)."""
    if group_by not in (None, "district_id", "park_id"):
        raise TrajectoryError("只能按区或园区分组", "group by district_id or park_id only")
    inputs = trajectory_inputs(store, actor, as_of)
    return build_trajectory(
        inputs.snapshot.projects,
        inputs.history,
        inputs.pledge,
        inputs.snapshot.official.stage,
        inputs.snapshot.as_of,
        inputs.assumptions,
        draws=draws,
        seed=seed,
        group_by=group_by,
    )
