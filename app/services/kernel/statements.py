"""Running the conditional UPDATEs and DELETEs the rules are built on."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def rows_changed(dbsession: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed.

    A conditional UPDATE that changes one row has won its race; one that changes none
    found the condition false (the code spent, the password changed meanwhile)."""
    result = cast(CursorResult[Any], dbsession.execute(statement))
    return result.rowcount


def insert_unless_present(
    dbsession: Session,
    model: type[Any],
    values: dict[str, Any],
    unique: list[Any],
    returning: Any = None,
) -> Any:
    """INSERT a row unless one with the same `unique` columns exists; the new row's id
    (or its `returning` column), or None if there was one already.

    When two requests insert the same row at the same moment, the unique index decides
    and the loser's insert does nothing: no savepoint, no broken transaction."""
    dialect = dbsession.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
    column = model.id if returning is None else returning
    return dbsession.scalar(statement.returning(column))
