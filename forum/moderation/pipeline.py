"""The one screening pipeline every member's text passes before anyone else sees it.

``screen_member_text`` is the only entry: posts, replies, edits, titles and chat
lines all call it. It loads the moderators' watched words (compiled once per
change), builds the context (who, how new), runs the engine in
``forum.moderation.screening`` and raises for the two outcomes where nothing is
stored: a refusal, and a nudge the author has not yet confirmed.
"""

from __future__ import annotations

import threading
from typing import Literal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.errors import ActionError
from forum.moderation.models import WatchedWord
from forum.moderation.screening import ScreenContext, Screener, Verdict, WatchedTerm

Kind = Literal["post", "reply", "edit", "chat", "title"]

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, str], Screener]] = {}


class NeedsConfirmation(ActionError):
    """The author is asked to rephrase or confirm before the text is published."""

    status = 409

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message or "Please review your message before posting.", code="confirm")
        self.verdict = verdict
        self.confirm_kind = verdict.confirm_kind

    def to_ack(self) -> dict[str, object]:
        ack = super().to_ack()
        ack["confirm"] = self.confirm_kind
        return ack


def _screener(session: Session) -> Screener:
    """The compiled screener for the current watched-word list (recompiled when it changes)."""
    count, max_id, newest = session.execute(
        select(func.count(WatchedWord.id), func.coalesce(func.max(WatchedWord.id), 0),
               func.max(WatchedWord.created_at))).one()
    version = (int(count), int(max_id), str(newest))
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached and cached[0] == version:
        return cached[1]
    rows = session.scalars(select(WatchedWord)).all()
    terms = [WatchedTerm(phrase=w.phrase, action=w.action, replacement=w.replacement,  # type: ignore[arg-type]
                         label=w.label) for w in rows]
    screener = Screener(terms)
    with _cache_lock:
        _cache[key] = (version, screener)
    return screener


def invalidate_cache() -> None:
    with _cache_lock:
        _cache.clear()


def is_new_member(member: Member) -> bool:
    return not member.is_moderator and member.published_posts < current_app.config["NEW_MEMBER_HELD_POSTS"]


def screen_member_text(session: Session, member: Member, text: str, *, kind: Kind,
                       confirmed: bool = False) -> Verdict:
    """Screen ``text`` written by ``member``; return the verdict to store it under.

    Raises ActionError (code "refused") when the text may not be stored, and
    NeedsConfirmation when the author should see a nudge first.
    """
    new = is_new_member(member)
    ctx = ScreenContext(kind=kind, author_is_new=new, author_is_moderator=member.is_moderator,
                        confirmed=confirmed, allow_links=not new)
    verdict = _screener(session).screen(text, ctx)
    if verdict.decision == "refuse":
        raise ActionError(verdict.message or "This can't be posted here.", code="refused", status=422)
    if verdict.decision == "confirm":
        raise NeedsConfirmation(verdict)
    return verdict
