"""Running the conditional UPDATEs and DELETEs the rules are built on."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def rows_changed(dbsession: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed.

    A conditional UPDATE that changes one row has won its race; one that changes none
    found the condition false (the code spent, the password changed meanwhile)."""
    result = cast(CursorResult[Any], dbsession.execute(statement))
    return result.rowcount
