"""Cursor pagination by id: a page holds items with ids above the cursor, oldest first.

The cursor is the last id of the previous page, so a client that keeps its last cursor
can fetch only what is new since (messages, alerts, audit events) without gaps.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.registry import INT_MAX
from api.schemas import PageQuery

T = TypeVar("T")


def page(
    session: Session, stmt: Select[tuple[T]], id_col: InstrumentedAttribute[Any], q: PageQuery
) -> tuple[list[T], str | None]:
    """(rows of this page, the next page's cursor or None on the last page)."""
    if q.cursor is not None:
        after = int(q.cursor)
        if after >= INT_MAX:  # past any id a 32-bit column can hold: the end
            return [], None
        stmt = stmt.where(id_col > after)
    rows = list(session.scalars(stmt.order_by(id_col).limit(q.limit + 1)).unique())
    if len(rows) > q.limit:
        rows = rows[: q.limit]
        return rows, str(getattr(rows[-1], id_col.key))
    return rows, None
