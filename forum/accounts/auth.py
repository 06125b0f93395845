"""Flask-Login wiring: members are loaded by their opaque auth token, never by row id."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, session
from flask_login import login_user, logout_user, user_loaded_from_cookie
from sqlalchemy import select

from forum.accounts.models import Member
from forum.db import db, utcnow
from forum.extensions import login_manager
from forum.sessions import ServerSession


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    # Flask-Login's session protection keeps a hash of the address and browser in the
    # session; Haven binds sessions server-side instead and keeps no address at all.
    login_manager.session_protection = None
    app.config["REMEMBER_COOKIE_DURATION"] = app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=14))

    @login_manager.user_loader
    def load_member(token: str) -> Member | None:
        if not token or len(token) > 64:
            return None
        member = db.session.scalar(select(Member).where(Member.auth_token == token))
        if member is None or not member.is_active:
            return None
        return member

    @user_loaded_from_cookie.connect_via(app)
    def _drop_identifier(_sender: object, **_kw: object) -> None:
        session.pop("_id", None)


def start_member_session(member: Member, remember: bool = False) -> None:
    """Log ``member`` in on a brand-new server-side session."""
    sess = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(sess, ServerSession)
    sess.bind_member(member.id)
    login_user(member, remember=remember)
    session.pop("_id", None)  # Flask-Login's hash of address and browser: not kept
    session["login_at"] = utcnow().isoformat()


def end_member_session() -> None:
    logout_user()
    sess = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(sess, ServerSession)
    sess.end()
