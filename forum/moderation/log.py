"""The moderation log: append-only, one row per action, with the state before it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.moderation.models import ModerationLog


def record(session: Session, moderator: Member | None, action: str, *, member_id: int | None = None,
           item_type: str | None = None, item_id: int | None = None, reason: str | None = None,
           before: dict[str, Any] | None = None) -> ModerationLog:
    """Append one entry; ``moderator`` None marks an automatic action (screening, flag threshold, CLI)."""
    entry = ModerationLog(moderator_id=moderator.id if moderator else None, action=action, member_id=member_id,
                          item_type=item_type, item_id=item_id, reason=reason, before=before or {})
    session.add(entry)
    return entry
