"""Planners' comments on projects (the ``comment`` right), each one audited."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import insert, select

from spatial.auth import Action, Principal, require
from spatial.store.database import Store, comments_table, utcnow


def _district_of(store: Store, project_id: str) -> str | None:
    current = store.projects(columns=["district_id"])
    match = current.loc[current["project_id"] == project_id, "district_id"]
    return None if match.empty else match.iloc[0]


def add_comment(store: Store, actor: Principal, project_id: str, text: str) -> None:
    district = _district_of(store, project_id)
    require(actor, Action.COMMENT, district)
    text = text.strip()
    if not text:
        raise ValueError("empty comment")
    with store.transaction() as conn:
        conn.execute(
            insert(comments_table).values(
                project_id=project_id, user_name=actor.user_name, at=utcnow(), text=text[:4000]
            )
        )
        store.record_event(actor.user_name, "comment", project_id, conn=conn)


def comments(store: Store, actor: Principal, project_id: str) -> pd.DataFrame:
    require(actor, Action.READ, _district_of(store, project_id))
    stmt = (
        select(comments_table)
        .where(comments_table.c.project_id == project_id)
        .order_by(comments_table.c.comment_id)
    )
    with store.engine.connect() as conn:
        return pd.read_sql(stmt, conn)
