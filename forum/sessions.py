"""Server-side sessions: the cookie carries only an opaque random id.

Flask's default session is a signed, readable cookie; Haven keeps the data in the
``web_session`` table instead and stores only the SHA-256 of the cookie's id, so a
copy of the database cannot be replayed as a cookie. Sessions end after
``SESSION_IDLE_TIMEOUT`` without a request and ``SESSION_MAX_AGE`` in all.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from forum.accounts.models import WebSession
from forum.db import as_utc, db, utcnow

# How stale ``last_seen_at`` may get before a request writes it again (saves a write per request).
TOUCH_INTERVAL = timedelta(seconds=60)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """Session data plus the bookkeeping the interface needs to save it."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None,
                 member_id: int | None = None, created_at: datetime | None = None,
                 last_seen_at: datetime | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.member_id = member_id
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.modified = False
        self.ended = False  # log-out: delete the row and the cookie
        self.rotated_from: str | None = None  # log-in: replace the id

    def bind_member(self, member_id: int) -> None:
        """Start a fresh session for ``member_id`` (new id, so a pre-log-in id is useless)."""
        if self.sid is not None and self.rotated_from is None:
            self.rotated_from = self.sid
        self.sid = None
        self.member_id = member_id
        self.created_at = utcnow()
        self.modified = True

    def end(self) -> None:
        """End this session: its row goes, and the cookie is cleared."""
        self.clear()
        self.ended = True
        self.member_id = None


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        with db.new_session() as s:
            row = s.get(WebSession, _hash(sid))
            if row is None:
                return ServerSession()
            now = utcnow()
            created = as_utc(row.created_at)
            seen = as_utc(row.last_seen_at)
            assert created is not None and seen is not None
            if now - seen > app.config["SESSION_IDLE_TIMEOUT"] or now - created > app.config["SESSION_MAX_AGE"]:
                s.delete(row)
                s.commit()
                return ServerSession()
            return ServerSession(dict(row.data or {}), sid=sid, member_id=row.member_id,
                                 created_at=created, last_seen_at=seen)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.ended:
            if session.sid:
                with db.new_session() as s:
                    s.execute(delete(WebSession).where(WebSession.id_hash == _hash(session.sid)))
                    s.commit()
            response.delete_cookie(name, domain=domain, path=path,
                                   secure=self.get_cookie_secure(app), httponly=True,
                                   samesite=self.get_cookie_samesite(app))
            return
        if not session.sid and not session.modified:
            return  # a visitor who never needed a session gets no cookie
        if not session and not session.sid and session.member_id is None:
            return
        now = utcnow()
        with db.new_session() as s:
            if session.rotated_from:
                s.execute(delete(WebSession).where(WebSession.id_hash == _hash(session.rotated_from)))
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                _prune_expired(s, app, now)
                s.add(WebSession(id_hash=_hash(session.sid), member_id=session.member_id,
                                 data=dict(session), created_at=session.created_at or now,
                                 last_seen_at=now))
            elif session.modified:
                row = s.get(WebSession, _hash(session.sid))
                if row is None:  # ended elsewhere meanwhile (password change, log-out elsewhere)
                    return
                row.data = dict(session)
                row.member_id = session.member_id
                row.last_seen_at = now
            elif session.last_seen_at is None or now - session.last_seen_at > TOUCH_INTERVAL:
                row = s.get(WebSession, _hash(session.sid))
                if row is None:
                    return
                row.last_seen_at = now
            else:
                return
            s.commit()
        response.set_cookie(name, session.sid, domain=domain, path=path, httponly=True,
                            secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))


def _prune_expired(s: Session, app: Flask, now: datetime) -> None:
    s.execute(delete(WebSession).where(WebSession.last_seen_at < now - app.config["SESSION_IDLE_TIMEOUT"]))
    s.execute(delete(WebSession).where(WebSession.created_at < now - app.config["SESSION_MAX_AGE"]))


def end_member_sessions(s: Session, member_id: int, keep_sid: str | None = None) -> None:
    """Delete every session of ``member_id`` (except ``keep_sid``), within the caller's transaction."""
    stmt = delete(WebSession).where(WebSession.member_id == member_id)
    if keep_sid:
        stmt = stmt.where(WebSession.id_hash != _hash(keep_sid))
    s.execute(stmt)


def member_session_count(s: Session, member_id: int) -> int:
    return len(s.scalars(select(WebSession.id_hash).where(WebSession.member_id == member_id)).all())
