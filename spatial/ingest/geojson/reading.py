"""What one reading of a GeoJSON file has found so far, each finding placed at its feature."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spatial.ingest.findings import Finding, error, warning


@dataclass
class FeatureColumns:
    """Sound features read as columns: their ids (as given), properties (dicts) and shapely
    shapes (None for a null geometry); positions in the file are 1, 2, …"""

    ids: list
    properties: list[dict] | pd.DataFrame  # a frame when read in slices (slices.py)
    shapes: np.ndarray

    def as_features(self) -> list[dict]:
        """The features as the walk keeps them (one dict each; the geometry as a shape; a
        frame's missing values left out of its rows' dicts)."""
        properties = self.properties
        if isinstance(properties, pd.DataFrame):
            properties = [
                {k: v for k, v in row.items() if not _missing(v)}
                for row in properties.to_dict("records")
            ]
        return [
            {"index": n, "id": i, "properties": p, "geometry": g, "broken": False, "bbox": None}
            for n, (i, p, g) in enumerate(
                zip(self.ids, properties, self.shapes, strict=True), start=1
            )
        ]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


@dataclass
class Reading:
    """The findings and features of one reading. ``index`` (1-based) and ``fid`` name the
    feature being read, so every rule's finding says where it is without being told."""

    findings: list[Finding] = field(default_factory=list)
    features: list[dict] = field(default_factory=list)
    index: int = 0
    fid: str | None = None
    precision_warned: bool = False  # file-wide notes, said once
    heights_warned: bool = False
    names_unique: bool = False  # no object gives a name twice: features may be read as columns
    booleans: bool = True  # the text may hold true/false (numpy would read them as numbers)
    columns: FeatureColumns | None = None  # the features, when read as columns (bulk.py)

    def at(self, index: int, fid: str | None = None) -> None:
        """From here on, findings belong to feature ``index`` (``fid`` its id)."""
        self.index, self.fid = index, fid

    def err(self, code, zh, en, fix_zh="", fix_en="", **where) -> None:
        self.findings.append(
            error(code, zh, en, fix_zh, fix_en, feature=self.index or None, feature_id=self.fid,
                  **where)
        )  # fmt: skip

    def warn(self, code, zh, en, fix_zh="", fix_en="", **where) -> None:
        self.findings.append(
            warning(code, zh, en, fix_zh, fix_en, feature=self.index or None, feature_id=self.fid,
                    **where)
        )  # fmt: skip

    def add_feature(self, properties: dict, geometry, broken: bool, fid=None, bbox=None) -> None:
        """One feature as plain data for the frame (``geometry`` as given, or None)."""
        self.features.append(
            {"index": self.index, "id": fid, "properties": properties, "geometry": geometry,
             "broken": broken, "bbox": bbox}
        )  # fmt: skip
