"""Project filters shared by the map, the projects table and (later) exports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from spatial.layers import PROJECT_DATE_FIELDS


@dataclass(frozen=True)
class ProjectFilter:
    """Empty selections mean "all". ``year`` keeps projects with a start, completion or delivery
    date in that year."""

    districts: tuple[str, ...] = field(default_factory=tuple)
    parks: tuple[str, ...] = field(default_factory=tuple)
    statuses: tuple[str, ...] = field(default_factory=tuple)
    clusters: tuple[str, ...] = field(default_factory=tuple)
    year: int | None = None

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
        return keep

    def apply(self, projects: pd.DataFrame) -> pd.DataFrame:
        return projects.loc[self.mask(projects)]

    def describe(self) -> dict[str, object]:
        """The filter as plain data (for provenance in exports and the URL of a view)."""
        return {
            "districts": list(self.districts),
            "parks": list(self.parks),
            "statuses": list(self.statuses),
            "clusters": list(self.clusters),
            "year": self.year,
        }
