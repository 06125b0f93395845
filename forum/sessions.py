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

from flask import Flask, Request, Response, g, has_app_context, has_request_context
from flask import session as request_session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import String, bindparam, cast, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict
from werkzeug.http import parse_cookie

from forum.accounts.models import Member, MemberMute, Notice, WebSession
from forum.db import DriverStatement, RowLoader, as_utc, db, utcnow
from forum.transport import PREFIX as SOCKET_PREFIX

# How stale ``last_seen_at`` may get before a request writes it again (saves a write per request).
TOUCH_INTERVAL = timedelta(seconds=60)
# Never stored: Flask-Login's "_id" is a hash of the client's address and browser.
UNSTORED_KEYS = frozenset({"_id"})


def hash_session_id(sid: str) -> str:
    """What the table keeps instead of the cookie's id (a stolen table can't be replayed)."""
    return hashlib.sha256(sid.encode()).hexdigest()



def _storable(session: ServerSession) -> dict[str, Any]:
    return {k: v for k, v in session.items() if k not in UNSTORED_KEYS}


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
        self.stale_cookie = False  # the browser sent an id we no longer know: clear it
        self.unavailable = False  # the store could not be read: write nothing back

    def bind_member(self, member_id: int) -> None:
        """Start a fresh session for ``member_id``.

        The id changes and whatever the visitor's session held (its CSRF token
        included) is dropped, so an id or token planted before log-in is useless.
        """
        if self.sid is not None and self.rotated_from is None:
            self.rotated_from = self.sid
        self.clear()
        self.sid = None
        self.member_id = member_id
        self.created_at = utcnow()
        self.modified = True

    def end(self) -> None:
        """End this session: its row goes, and the cookie is cleared."""
        self.clear()
        self.ended = True
        self.member_id = None


# The session, its member, whom they muted (thread pages, chat history) and one more thing, in one
# round trip per request and per socket event: for pages, the member's unread-notice count (the
# menu); for socket events, who muted the member (every chat line they send skips those readers'
# sockets). Built once each, so their cache keys are computed once. The member comes as its
# table's columns, made an object of the request's session by ``_MEMBERS`` (the ORM's row loading
# cost more than the query).
_MEMBERS = RowLoader(Member, tuple(Member.__table__.c))
_UNREAD = (select(func.count(Notice.id)).where(Notice.member_id == WebSession.member_id, Notice.read_at.is_(None))
           .correlate(WebSession).scalar_subquery())


def _ids_of(column: Any, where: Any) -> Any:
    """A correlated subquery: the ids in ``column`` of the rows ``where`` picks, as "1,2,3" (or NULL)."""
    return (select(func.aggregate_strings(cast(column, String), ",")).where(where)
            .correlate(WebSession).scalar_subquery())


def _session_with_member(extra: Any) -> Any:
    return (select(WebSession.created_at, WebSession.last_seen_at, WebSession.data, extra,
                   _ids_of(MemberMute.muted_id, MemberMute.muter_id == WebSession.member_id),
                   *_MEMBERS.columns)
            .outerjoin(Member.__table__, Member.id == WebSession.member_id)
            .where(WebSession.id_hash == bindparam("id_hash")))


# Run on the driver's cursor (forum.db.DriverStatement): SQLAlchemy's execution layer cost
# several times SQLite's work for this one statement of ~30 columns.
_FOR_PAGES = DriverStatement(_session_with_member(_UNREAD))
_FOR_SOCKETS = DriverStatement(_session_with_member(_ids_of(MemberMute.muter_id,
                                                            MemberMute.muted_id == WebSession.member_id)))
_ID_AT = _MEMBERS.position(Member.__table__.c.id)
_TOKEN_AT = _MEMBERS.position(Member.__table__.c.auth_token)


def _is_socket_event(request: Request) -> bool:
    """A socket's connect and disconnect run in a request context made from its own request (to /socket.io)."""
    path = request.path
    return path == SOCKET_PREFIX or path.startswith(SOCKET_PREFIX + "/")


def acting_session() -> SessionMixin | None:
    """The session of whoever the current work is done for: a page's (Flask's ``session``),
    a socket event's (the one that opened the socket, as ``socket_member`` read it for this
    event), or None outside both (the CLI, a background task), where nobody logged in acts."""
    if has_request_context():
        return request_session
    if has_app_context():
        return g.get("socket_session")
    return None


class StoreUnavailable(Exception):
    """The session store could not be read (the database is briefly away): not a log-out."""


def _ids(text: str | None) -> frozenset[int]:
    return frozenset(int(i) for i in text.split(",")) if text else frozenset()


class ServerSessionInterface(SessionInterface):
    """Flask's session interface over the ``web_session`` table."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid:
            return ServerSession()
        try:
            session = self._load(app, sid, socket=_is_socket_event(request))
        except SQLAlchemyError:
            # The view will answer 503 if it needs the database; the cookie is left alone.
            app.logger.warning("session store unreachable")
            session = ServerSession()
            session.unavailable = True
            return session
        if session is None:
            session = ServerSession()
            session.stale_cookie = True
        return session

    def socket_member(self, app: Flask, environ: dict[str, Any]) -> Member | None:
        """The member behind a socket event, read now from the session that opened the socket.

        A socket keeps the request that opened it (``environ``); each of its events reads
        that request's session and member afresh, in an app context and with the same one
        query as a page (``_load``), so a log-out, an expiry, a password change or a ban made
        since holds from the next event on. Only the server-side session counts: an event
        never starts one (from a "remember me" cookie, say; the page that opened the socket
        did that). Raises StoreUnavailable when the database could not be read.
        """
        g.socket_session = ServerSession()
        sid = environ.get("haven.session_cookie")
        if sid is None:  # parsed once per socket: its cookies never change
            sid = environ["haven.session_cookie"] = parse_cookie(environ).get(self.get_cookie_name(app), "")
        if not sid:
            return None
        try:
            loaded = self._load(app, sid, socket=True)
        except SQLAlchemyError as exc:
            app.logger.warning("session store unreachable")
            raise StoreUnavailable() from exc
        if loaded is not None:  # an ended one acts as an empty session, never as none (the CLI's case)
            g.socket_session = loaded
        member = g.get("_login_user")
        return member if isinstance(member, Member) else None

    def _load(self, app: Flask, sid: str, socket: bool = False) -> ServerSession | None:
        """The session behind cookie ``sid``, read together with its member in one query
        (``socket``: for a socket event, see ``_FOR_SOCKETS``).

        The read goes through the request's own database session, and the member it
        finds is handed to Flask-Login (``g._login_user``) when the session names that
        member's current token and they may log in (``Member.is_active``): views and
        socket events then need no second query.
        """
        if len(sid) > 128:
            return None
        s = db.session
        try:
            rows = (_FOR_SOCKETS if socket else _FOR_PAGES).rows(s.connection(), {"id_hash": hash_session_id(sid)})
        except SQLAlchemyError:
            s.rollback()
            raise
        if not rows:
            return None
        found = rows[0]
        created_at, last_seen_at, data, extra, muted, *member_row = found
        now = utcnow()
        created = as_utc(created_at) or now
        seen = as_utc(last_seen_at) or now
        if now - seen > app.config["SESSION_IDLE_TIMEOUT"] or now - created > app.config["SESSION_MAX_AGE"]:
            with db.new_session() as expired:
                expired.execute(delete(WebSession).where(WebSession.id_hash == hash_session_id(sid)))
                expired.commit()
            return None
        values = dict(data or {})
        member_id = member_row[_ID_AT]  # None when the session belongs to no member
        if member_id is not None and values.get("_user_id") == member_row[_TOKEN_AT]:
            member = _MEMBERS.attach(s, member_row)
            if member.is_active:
                g._login_user = member
                # whom they muted (forum.safety.queries.muted_member_ids)
                g.reader_mutes = (member_id, _ids(muted))
                if socket:  # who muted them (forum.safety.queries.members_muting)
                    g.author_muters = (member_id, _ids(extra))
                else:  # the menu's count (forum.moderation.notices.menu_count)
                    g.unread_notices = int(extra or 0)
        return ServerSession(values, sid=sid, member_id=member_id, created_at=created, last_seen_at=seen)

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(self.get_cookie_name(app), domain=self.get_cookie_domain(app),
                               path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
                               httponly=True, samesite=self.get_cookie_samesite(app))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            raise TypeError("Haven's sessions are ServerSession objects")
        if session.unavailable:
            return
        if session.ended:
            if session.sid:
                try:
                    with db.new_session() as s:
                        s.execute(delete(WebSession).where(WebSession.id_hash == hash_session_id(session.sid)))
                        s.commit()
                except SQLAlchemyError:  # the row expires on its own; the browser forgets the id now
                    app.logger.warning("session store unreachable; session row left to expire")
            self._delete_cookie(app, response)
            return
        if not session.sid and (not session.modified or (not _storable(session) and session.member_id is None)):
            # A visitor who never needed a session gets no cookie (and loses a dead one).
            if session.stale_cookie:
                self._delete_cookie(app, response)
            return
        try:
            keep = self._store(app, session, response)
        except SQLAlchemyError:
            # The page itself is already rendered; this browser just keeps no new session.
            app.logger.warning("session store unreachable; session not saved")
            return
        if keep:
            response.set_cookie(self.get_cookie_name(app), str(session.sid), domain=self.get_cookie_domain(app),
                                path=self.get_cookie_path(app), httponly=True,
                                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))

    def _store(self, app: Flask, session: ServerSession, response: Response) -> bool:
        """Write the session's row; True when the cookie should be (re)sent."""
        now = utcnow()
        if not (session.rotated_from or session.sid is None or session.modified or session.last_seen_at is None
                or now - session.last_seen_at > TOUCH_INTERVAL):
            return False  # nothing to write (most requests)
        with db.new_session() as s:
            if session.rotated_from:
                s.execute(delete(WebSession).where(WebSession.id_hash == hash_session_id(session.rotated_from)))
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                _prune_expired(s, app, now)
                s.add(WebSession(id_hash=hash_session_id(session.sid), member_id=session.member_id,
                                 data=_storable(session), created_at=session.created_at or now,
                                 last_seen_at=now))
            elif session.modified:
                row = s.get(WebSession, hash_session_id(session.sid))
                if row is None:  # ended elsewhere meanwhile (password change, log-out elsewhere)
                    self._delete_cookie(app, response)
                    return False
                row.data = _storable(session)
                row.member_id = session.member_id
                row.last_seen_at = now
            else:  # only last seen is stale
                row = s.get(WebSession, hash_session_id(session.sid))
                if row is None:
                    self._delete_cookie(app, response)
                    return False
                row.last_seen_at = now
            s.commit()
        return True


# Expired rows are swept when new sessions start, at most once a minute per process
# (an expired row is already refused when presented; sweeping only reclaims space).
PRUNE_INTERVAL = timedelta(seconds=60)
_last_prune: datetime | None = None


def _prune_expired(s: Session, app: Flask, now: datetime) -> None:
    global _last_prune
    if _last_prune is not None and timedelta(0) <= now - _last_prune < PRUNE_INTERVAL:
        return
    _last_prune = now
    s.execute(delete(WebSession).where(WebSession.last_seen_at < now - app.config["SESSION_IDLE_TIMEOUT"]))
    s.execute(delete(WebSession).where(WebSession.created_at < now - app.config["SESSION_MAX_AGE"]))


def end_member_sessions(s: Session, member_id: int, keep_sid: str | None = None) -> None:
    """Delete every session of ``member_id`` (except ``keep_sid``), within the caller's transaction."""
    stmt = delete(WebSession).where(WebSession.member_id == member_id)
    if keep_sid:
        stmt = stmt.where(WebSession.id_hash != hash_session_id(keep_sid))
    s.execute(stmt)


def member_session_count(s: Session, member_id: int) -> int:
    return len(s.scalars(select(WebSession.id_hash).where(WebSession.member_id == member_id)).all())
