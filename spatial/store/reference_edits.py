"""Changes to the reference data — layers and the pledge table — by admins only, audited."""

from __future__ import annotations

import geopandas as gpd

from spatial.auth import Action, Principal, require
from spatial.store.database import REFERENCE_TABLES, Store


def set_pledge_target(store: Store, actor: Principal, year: int, target_m2: float) -> None:
    """Change one year's target of the pledge schedule."""
    require(actor, Action.EDIT_REFERENCE)
    if target_m2 < 0:
        raise ValueError("a target cannot be negative")
    pledge = store.table("pledge")
    if str(year) not in set(pledge["year"].astype(str)):
        raise ValueError(f"{year} is not a pledge year")
    before = pledge.loc[pledge["year"].astype(str) == str(year), "target_m2"].iloc[0]
    pledge.loc[pledge["year"].astype(str) == str(year), "target_m2"] = str(int(target_m2))
    with store.transaction() as conn:
        store.replace_table("pledge", pledge, conn)
        store.record_event(
            actor.user_name,
            "reference_change",
            f"pledge {year}",
            detail={"before": before, "after": int(target_m2)},
            conn=conn,
        )


def replace_layer(store: Store, actor: Principal, name: str, frame: gpd.GeoDataFrame) -> None:
    """Replace a reference layer (parks, control lines, districts), e.g. with official data."""
    require(actor, Action.EDIT_REFERENCE)
    if name not in REFERENCE_TABLES:
        raise ValueError(f"unknown reference layer {name}")
    with store.transaction() as conn:
        store.replace_reference_layer(name, frame, conn=conn)
        store.record_event(
            actor.user_name, "reference_change", name, detail={"features": len(frame)}, conn=conn
        )
