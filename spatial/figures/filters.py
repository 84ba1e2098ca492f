"""Project filters shared by the map, the projects table and (later) exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from spatial.figures.ledger import stage_year
from spatial.layers import PROJECT_DATE_FIELDS, Stage
from spatial.rows import rows_where


@dataclass(frozen=True)
class CountedAt:
    """The projects behind a figure: those whose area counts at ``stage`` in a year from
    ``first_year`` to ``last_year``, as of ``as_of`` (the ledger's own rule, so the list adds
    up to the figure)."""

    stage: Stage
    first_year: int
    last_year: int
    as_of: date

    def mask(self, projects: pd.DataFrame) -> pd.Series:
        years = stage_year(projects, Stage(self.stage), self.as_of)
        return years.between(self.first_year, self.last_year).fillna(False).astype(bool)

    def describe(self) -> dict[str, object]:
        return {
            "stage": Stage(self.stage).value,
            "first_year": self.first_year,
            "last_year": self.last_year,
            "as_of": self.as_of.isoformat(),
        }


@dataclass(frozen=True)
class ProjectFilter:
    """Empty selections mean "all". ``year`` keeps projects with a start, completion or delivery
    date in that year."""

    districts: tuple[str, ...] = field(default_factory=tuple)
    parks: tuple[str, ...] = field(default_factory=tuple)
    statuses: tuple[str, ...] = field(default_factory=tuple)
    clusters: tuple[str, ...] = field(default_factory=tuple)
    year: int | None = None
    counted: CountedAt | None = None  # the projects behind a dashboard figure

    def mask(self, projects: pd.DataFrame) -> pd.Series:
        keep = pd.Series(True, index=projects.index)
        if self.districts:
            keep &= projects["district_id"].isin(self.districts)
        if self.parks:
            keep &= projects["park_id"].isin(self.parks)
        if self.statuses:
            keep &= projects["status"].isin(self.statuses)
        if self.clusters:
            codes = projects["clusters"].fillna("").str.split(";")
            wanted = set(self.clusters)
            keep &= codes.map(lambda cs: bool(wanted.intersection(cs)))
        if self.year is not None:
            years = pd.concat(
                [
                    pd.to_datetime(projects[c], errors="coerce", format="%Y-%m-%d").dt.year
                    for c in PROJECT_DATE_FIELDS
                ],
                axis=1,
            )
            keep &= (years == self.year).any(axis=1)
        if self.counted is not None:
            keep &= self.counted.mask(projects)
        return keep

    def apply(self, projects: pd.DataFrame) -> pd.DataFrame:
        return rows_where(projects, self.mask(projects).to_numpy())

    def describe(self) -> dict[str, object]:
        """The filter as plain data (for provenance in exports and the URL of a view)."""
        return {
            "districts": list(self.districts),
            "parks": list(self.parks),
            "statuses": list(self.statuses),
            "clusters": list(self.clusters),
            "year": self.year,
            "counted": self.counted.describe() if self.counted else None,
        }


def search_projects(projects: pd.DataFrame, query: str, limit: int = 50) -> pd.DataFrame:
    """Projects whose id or name (Chinese or English) contains ``query`` as typed (case and
    surrounding spaces ignored; the text is matched literally, never as a pattern): exact ids
    first, then ids that start with it, then the rest, each by id; at most ``limit``."""
    q = query.strip().casefold()
    if not q:
        return projects.iloc[:0]
    ids = projects["project_id"].astype(str).str.casefold()
    hit = ids.str.contains(q, regex=False)
    for col in ("name_zh", "name_en"):
        if col in projects:
            hit |= projects[col].fillna("").astype(str).str.casefold().str.contains(q, regex=False)
    rank = (ids != q).astype(int) + (~ids.str.startswith(q)).astype(int)
    found = projects.assign(_rank=rank)[hit]
    return (
        found.sort_values(["_rank", "project_id"], kind="stable").drop(columns="_rank").head(limit)
    )
