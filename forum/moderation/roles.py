"""Granting and revoking the moderator role (admins, and the CLI)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from forum.accounts.models import Member, Role
from forum.errors import ActionError
from forum.moderation.log import record


def do_set_role(session: Session, actor: Member | None, member: Member, role: str) -> None:
    """Set ``member``'s role; ``actor`` None means the command line. Logged."""
    if role not in (Role.MEMBER, Role.MODERATOR, Role.ADMIN):
        raise ActionError("Unknown role.")
    if actor is not None and not actor.is_admin:
        raise ActionError("Only admins can change roles.", status=403)
    before = {"role": member.role}
    member.role = role
    record(session, actor, "set_role", member_id=member.id, reason=f"role set to {role}", before=before)
