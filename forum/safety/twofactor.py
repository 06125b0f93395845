"""The moderators' second factor (TOTP) and the gate every moderation page and event passes.

Moderators see the most sensitive text on Haven, so with ``REQUIRE_MODERATOR_TOTP``
on, a moderator must have enrolled an authenticator app and entered a current code
in this session before any moderation page or socket event works. Every
moderation action also needs a log-in from the last ``MODERATOR_REAUTH_HOURS``.

The session flag lives in the server-side session, which starts empty at every
log-in (forum.sessions.ServerSession.bind_member), so each log-in asks again.

Use ``moderator_verified(user)`` in socket handlers (it reads the same server-side
session as HTTP), and ``moderator_gate()`` in a blueprint's ``before_request``.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any, Literal

import pyotp
import segno
from flask import current_app, flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from forum.accounts.models import Member
from forum.db import as_utc, utcnow
from forum.sessions import acting_session

ISSUER = "Haven"
SESSION_FLAG = "second_factor_at"
# A code stays valid one 30-second step either side, for clocks that drift a little.
VALID_WINDOW = 1

Missing = Literal["not_moderator", "enrol", "code", "reauth"]


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(member: Member, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code.

    The account name is a neutral "moderator", not the pseudonym: an authenticator
    app on a phone is one more place a pseudonym could be seen.
    """
    return pyotp.TOTP(secret).provisioning_uri(name="moderator", issuer_name=ISSUER)


def qr_svg(data: str) -> bytes:
    """An SVG QR code built on the server (no external request, no inline style)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=5, xmldecl=True, svgns=True,
                                     title="QR code for your authenticator app")
    return buffer.getvalue()


def check_code(secret: str | None, code: object) -> bool:
    """Whether ``code`` (6 digits, spaces allowed) is current for ``secret``."""
    if not secret or not isinstance(code, str):
        return False
    digits = "".join(code.split())
    if len(digits) != 6 or not digits.isdigit():
        return False
    return bool(pyotp.TOTP(secret).verify(digits, valid_window=VALID_WINDOW))


def first_use(member_id: int, code: str) -> bool:
    """Whether this is the first use of ``code`` by ``member_id`` while it can be valid.

    A code someone watched being typed can't be used again (in another session) for
    as long as it stays valid. Kept in the rate-limit store, shared across processes
    when that is Redis; if the store is unreachable the code is accepted.
    """
    from forum.extensions import limiter

    digits = "".join(code.split())
    try:
        return int(limiter.storage.incr(f"totp-used:{member_id}:{digits}", 30 * (2 * VALID_WINDOW + 2))) == 1
    except Exception:  # noqa: BLE001 - the store being down must not lock moderators out
        current_app.logger.warning("second-factor replay check unavailable")
        return True


def has_second_factor(member: Member) -> bool:
    return member.totp_secret is not None and member.totp_confirmed_at is not None


def mark_verified() -> None:
    """Record in this session that its moderator entered a valid code."""
    session[SESSION_FLAG] = utcnow().isoformat()


def _login_at() -> datetime | None:
    acting = acting_session()
    raw = acting.get("login_at") if acting is not None else None
    if not isinstance(raw, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(raw))
    except ValueError:
        return None


def recent_login() -> bool:
    """Whether this session's log-in is within MODERATOR_REAUTH_HOURS."""
    login_at = _login_at()
    limit = timedelta(hours=int(current_app.config["MODERATOR_REAUTH_HOURS"]))
    return login_at is not None and utcnow() - login_at <= limit


def missing_step(user: Any) -> Missing | None:
    """What ``user`` still lacks before moderation works in this session (None: nothing)."""
    if not isinstance(user, Member) or not user.is_active or not user.is_moderator:
        return "not_moderator"
    acting = acting_session()  # a page's session, or the one a socket event reads
    if acting is None:
        return "code"  # no session to have entered a code in (a CLI task, a background job)
    if current_app.config.get("REQUIRE_MODERATOR_TOTP", True):
        if not has_second_factor(user):
            return "enrol"
        if not acting.get(SESSION_FLAG):
            return "code"
    if not recent_login():
        return "reauth"
    return None


def moderator_verified(user: Any) -> bool:
    """Predicate for moderation pages and socket events: a moderator, second factor entered
    this session (when required), logged in within MODERATOR_REAUTH_HOURS."""
    return missing_step(user) is None


def moderator_gate() -> Response | None:
    """For a moderation blueprint's ``before_request``: None to go on, or where to go first.

    Non-moderators get 404 (moderation pages do not exist for them). A moderator
    without a second factor is sent to enrol, one without this session's code to
    enter it, and one whose log-in is too old to log in again.
    """
    from flask_login import current_user

    from forum.errors import NotFound

    step = missing_step(current_user._get_current_object() if current_user else None)  # type: ignore[attr-defined]
    if step is None:
        return None
    if step == "not_moderator":
        raise NotFound()
    target = request.full_path if request.method == "GET" else None
    if step == "enrol":
        flash("Moderators need a second factor. Please set up an authenticator app first.")
        return redirect(url_for("safety.two_factor"))
    if step == "code":
        return redirect(url_for("safety.verify_code", next=target.rstrip("?") if target else None))
    from forum.accounts.auth import end_member_session

    end_member_session()
    flash("For moderation, please log in again (it has been a while since you last did).")
    return redirect(url_for("accounts.login", next=target.rstrip("?") if target else None))
