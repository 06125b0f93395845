"""The one screening pipeline every member's text passes before anyone else sees it.

``screen_member_text`` is the only entry: posts, replies, edits, titles, content
warnings and chat lines all call it. It loads the moderators' watched words (compiled
once per change), builds the context (who, how new), runs the engine in
``forum.moderation.screening`` and raises for the two outcomes where nothing is
stored: a refusal, and a nudge the author has not yet confirmed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.accounts.models import Member
from forum.errors import ActionError
from forum.moderation.models import WatchedWord
from forum.moderation.screening import ScreenContext, Screener, Verdict, WatchedTerm

Kind = Literal["post", "reply", "edit", "chat", "title", "warning"]

_EXTENSION = "haven_screener"
# How often a process re-reads the watched-word list's version (changes made here apply at once).
WORDS_RECHECK_SECONDS = 2.0


@dataclass
class _Cached:
    version: tuple[int, int, str]
    screener: Screener
    checked_at: float


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
    """The compiled screener for the current watched-word list (recompiled when it changes).

    Each app keeps its own. A change made in this process applies from the next text
    (``invalidate_cache`` runs after the commit); the list's version is re-read at
    most every ``WORDS_RECHECK_SECONDS``, which bounds how long a change made by
    another server process takes to arrive, and keeps that query off every message.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached: _Cached | None = app.extensions.get(_EXTENSION)
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < WORDS_RECHECK_SECONDS:
        return cached.screener
    count, max_id, newest = session.execute(
        select(func.count(WatchedWord.id), func.coalesce(func.max(WatchedWord.id), 0),
               func.max(WatchedWord.created_at))).one()
    version = (int(count), int(max_id), str(newest))
    if cached is not None and cached.version == version:
        cached.checked_at = now
        return cached.screener
    rows = session.scalars(select(WatchedWord)).all()
    terms = [WatchedTerm(phrase=w.phrase, action=w.action, replacement=w.replacement,  # type: ignore[arg-type]
                         label=w.label) for w in rows]
    screener = Screener(terms)
    app.extensions[_EXTENSION] = _Cached(version, screener, now)
    return screener


def invalidate_cache() -> None:
    """Forget the compiled list of the current app (after a watched-word change commits)."""
    current_app.extensions.pop(_EXTENSION, None)


def watched_terms_in(session: Session, text: str) -> list[WatchedTerm]:
    """The moderators' watched words and phrases found in ``text`` (a name, say), whatever their action.

    A pseudonym is shown beside everything its member writes and cannot be held or
    flagged like a post, so a name containing any watched term is simply refused.
    """
    return _screener(session).find_terms(text)


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
