"""Flask-Login wiring: members are loaded by their opaque auth token, never by row id.

Flask-Login's session protection stores ``_id``, an unsalted hash of the client's
address and browser, in the session. Haven binds sessions on the server instead, so
the identifier generator is replaced by a constant and the session store refuses
to keep ``_id`` at all (see forum.sessions.UNSTORED_KEYS).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, session
from flask_login import LoginManager, current_user, login_user, logout_user, user_loaded_from_cookie
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.extensions import login_manager
from forum.sessions import ServerSession


def current_member() -> Member:
    """The member behind ``current_user`` (on routes that require a log-in), unwrapped once:
    the proxy costs a lookup on every attribute read through it."""
    member: Member = current_user._get_current_object()  # type: ignore[attr-defined]
    return member


def _no_identifier() -> str:
    return ""


def _restore_if_enabled(cookie: str) -> Member | None:
    """A "remember me" cookie counts only while the operator has the feature enabled."""
    if not current_app.config.get("REMEMBER_ME_ENABLED"):
        return None
    member: Member | None = LoginManager._load_user_from_remember_cookie(login_manager, cookie)
    return member


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = None
    login_manager._session_identifier_generator = _no_identifier
    login_manager._load_user_from_remember_cookie = _restore_if_enabled  # type: ignore[method-assign]
    # "Remember me" is off unless the operator enables it; when on, its cookie holds the
    # member's random auth token (never the row id) and an HMAC, and is HttpOnly/SameSite.
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")

    @login_manager.user_loader
    def load_member(token: str) -> Member | None:
        if not token or len(token) > 64:
            return None
        member = db.session.scalar(select(Member).where(Member.auth_token == token))
        if member is None or not member.is_active:
            return None
        return member

    @user_loaded_from_cookie.connect_via(app)
    def _bind_restored_session(_sender: object, user: Any = None, **_kw: object) -> None:
        """A session restored from "remember me" gets a fresh server-side row tied to the member."""
        sess = _server_session()
        if isinstance(user, Member) and sess.member_id != user.id:
            token = session.get("_user_id")
            sess.bind_member(user.id)
            session["_user_id"] = token
            session["_fresh"] = False


def _server_session() -> ServerSession:
    sess = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(sess, ServerSession):
        raise TypeError("Haven's sessions are ServerSession objects")
    return sess


def start_member_session(member: Member, remember: bool = False) -> None:
    """Log ``member`` in on a brand-new server-side session (new id, nothing carried over)."""
    _server_session().bind_member(member.id)
    login_user(member, remember=remember)
    session.pop("_id", None)
    session["login_at"] = utcnow().isoformat()


def end_member_session() -> None:
    """Log out: the session's row is deleted and its cookie cleared (see ServerSession.end)."""
    logout_user()  # asks Flask-Login to clear a "remember me" cookie, through the session
    remember = session.get("_remember")
    _server_session().end()
    if remember:
        session["_remember"] = remember
