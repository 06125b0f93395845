"""Granting and revoking the moderator role (admins in the web interface, and the CLI)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.accounts.models import Member, Role
from forum.errors import ActionError, NotFound
from forum.live import close_member_sockets
from forum.moderation.log import record


def staff(session: Session) -> list[Member]:
    """Every moderator and admin, by pseudonym."""
    return list(session.scalars(select(Member).where(Member.role.in_([Role.MODERATOR, Role.ADMIN]))
                                .order_by(Member.pseudonym_key)))


def do_set_role(session: Session, actor: Member | None, member: Member, role: str) -> None:
    """Set ``member``'s role; ``actor`` None means the command line. Logged.

    Only admins may change roles (NotFound for anyone else, as for every moderation
    page). An admin can't change their own role (so the last admin can't lock everyone
    out by accident). Losing the moderator role closes the member's open sockets, which
    were in the moderators' socket room.
    """
    if role not in (Role.MEMBER, Role.MODERATOR, Role.ADMIN):
        raise ActionError("Unknown role.")
    if actor is not None and not actor.is_admin:
        raise NotFound()
    if actor is not None and actor.id == member.id:
        raise ActionError("You can't change your own role.", code="self")
    if member.banned_at is not None and role != Role.MEMBER:
        raise ActionError("A banned account can't be given a role.", code="banned")
    if member.role == role:
        return
    before = {"role": member.role}
    was_staff = member.is_moderator
    member.role = role
    record(session, actor, "set_role", member_id=member.id, reason=f"role set to {role}", before=before)
    if was_staff and not member.is_moderator:
        close_member_sockets(session, member.id)
