"""The moderation log: append-only, one row per action, with the state before it.

``record`` is the only write. Rows are never changed or deleted by Haven: a guard on
every session refuses to flush a changed or deleted ``ModerationLog`` row, and one on
statement execution refuses an UPDATE or DELETE aimed at the table, so a future code
path that tries fails loudly in tests instead of quietly rewriting history. (Removing a
member's account clears ``member_id``/``moderator_id`` through the foreign key's
``ON DELETE SET NULL`` in the database, or an UPDATE that sets only those two columns
to NULL: the one change the log accepts. The entry stays; the link to a deleted
pseudonym does not. Their own words go too: ``forget_member_text`` clears the
``text`` a redaction kept in ``before``, the only other change the log accepts.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Delete, Update, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from forum.accounts.models import Member
from forum.db import HavenSession, utcnow
from forum.moderation.models import ModerationLog


class AppendOnlyViolation(RuntimeError):
    """Something tried to change or delete a moderation log entry."""


def record(session: Session, moderator: Member | None, action: str, *, member_id: int | None = None,
           item_type: str | None = None, item_id: int | None = None, reason: str | None = None,
           before: dict[str, Any] | None = None) -> ModerationLog:
    """Append one entry; ``moderator`` None marks an automatic action (screening, flag threshold, CLI)."""
    entry = ModerationLog(moderator_id=moderator.id if moderator else None, action=action, member_id=member_id,
                          item_type=item_type, item_id=item_id, reason=reason, before=before or {},
                          created_at=utcnow())
    session.add(entry)
    return entry


@event.listens_for(HavenSession, "before_flush")
def _refuse_changes(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, ModerationLog):
            raise AppendOnlyViolation("moderation log entries are never deleted")
    for obj in session.dirty:
        if isinstance(obj, ModerationLog) and session.is_modified(obj):
            raise AppendOnlyViolation("moderation log entries are never changed")


_UNLINKABLE = frozenset({"member_id", "moderator_id"})
_FORGET_TEXT = "haven_forget_member_text"


def forget_member_text(session: Session, member_id: int) -> None:
    """Account deletion: the member's own text, kept in ``before`` by a redaction of their
    post or chat line, is cleared from the entries about them. The entries stay."""
    rows = session.execute(select(ModerationLog.id, ModerationLog.before)
                           .where(ModerationLog.member_id == member_id)).all()
    for entry_id, before in rows:
        if isinstance(before, dict) and before.get("text") is not None:
            session.execute(update(ModerationLog).where(ModerationLog.id == entry_id)
                            .values(before={**before, "text": None})
                            .execution_options(**{_FORGET_TEXT: True}))


def _only_forgets_text(statement: Update) -> bool:
    values = getattr(statement, "_values", None) or {}
    return (bool(statement.get_execution_options().get(_FORGET_TEXT))
            and [getattr(column, "key", None) for column in values] == ["before"])


def _only_unlinks(statement: Update) -> bool:
    """An UPDATE that only clears the link to a member (account deletion) is allowed."""
    values = getattr(statement, "_values", None) or {}
    return bool(values) and all(
        getattr(column, "key", None) in _UNLINKABLE and getattr(value, "value", object()) is None
        for column, value in values.items())


@event.listens_for(HavenSession, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    statement = state.statement
    if getattr(getattr(statement, "table", None), "name", None) != ModerationLog.__tablename__:
        return
    if isinstance(statement, Delete) or (isinstance(statement, Update) and not _only_unlinks(statement)
                                         and not _only_forgets_text(statement)):
        raise AppendOnlyViolation("moderation log entries are never changed or deleted")
