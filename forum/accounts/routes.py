"""Sign-up, log-in, log-out, password change and recovery (HTTP). Thin: parse, act, render.

Every form is a plain POST with a CSRF token; none needs JavaScript. The one-time
recovery code is rendered straight into the response that created it, so it is
never stored anywhere, not even in the session.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from forum.accounts.actions import (
    authenticate,
    do_change_password,
    do_register,
    do_reset_with_code,
    suggest_free_pseudonym,
)
from forum.accounts.auth import end_member_session, start_member_session
from forum.accounts.pseudonyms import TAKEN
from forum.db import db
from forum.errors import ActionError
from forum.extensions import limiter
from forum.live import close_member_sockets

bp = Blueprint("accounts", __name__)

# Sent with every log-out: the browser drops its cache, cookies and storage for Haven.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def _limit(name: str):  # type: ignore[no-untyped-def]
    """Rate-limit POSTs by the hashed client address (forum.privacy.client_key), never by account,
    so someone guessing elsewhere cannot lock the real member out."""
    return limiter.limit(lambda: current_app.config[name], methods=["POST"])


@bp.route("/signup", methods=["GET", "POST"])
@_limit("SIGNUP_RATE_LIMIT")
def signup():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("rooms.index"))
    form = request.form
    if request.method == "GET":
        suggestion = suggest_free_pseudonym(db.session) if request.args.get("suggest") else ""
        return render_template("accounts/signup.html", values={"pseudonym": suggestion}, errors={})
    try:
        member, code = do_register(
            db.session, pseudonym=form.get("pseudonym"), password=form.get("password"),
            path=form.get("path"), accepted_guidelines=form.get("guidelines") == "yes")
        db.session.commit()
    except (ActionError, IntegrityError) as exc:
        db.session.rollback()
        errors = exc.fields if isinstance(exc, ActionError) else {"pseudonym": TAKEN}
        values = {"pseudonym": str(form.get("pseudonym", ""))[:64], "path": form.get("path", "")}
        return render_template("accounts/signup.html", values=values, errors=errors), 400
    start_member_session(member)
    return render_template("accounts/recovery_code.html", code=code, welcome=True)


@bp.get("/signup/suggest")
@limiter.limit("60 per minute")  # each answer reads the member table: plenty for a person, not for a script
def suggest():  # type: ignore[no-untyped-def]
    """The same suggestion as /signup?suggest=1, as JSON for the page's script."""
    return {"pseudonym": suggest_free_pseudonym(db.session)}


@bp.route("/login", methods=["GET", "POST"])
@_limit("LOGIN_RATE_LIMIT")
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("rooms.index"))
    if request.method == "GET":
        return render_template("accounts/login.html", error=None, pseudonym="")
    form = request.form
    try:
        member = authenticate(db.session, form.get("pseudonym"), form.get("password"))
        db.session.commit()  # a rehashed password is saved
    except ActionError as exc:
        db.session.rollback()
        return render_template("accounts/login.html", error=exc.message,
                               pseudonym=str(form.get("pseudonym", ""))[:64]), exc.status
    remember = current_app.config["REMEMBER_ME_ENABLED"] and form.get("remember") == "yes"
    start_member_session(member, remember=remember)
    return redirect(safe_next(request.args.get("next")) or url_for("rooms.index"))


def safe_next(target: str | None) -> str | None:
    """Only paths on this site are followed after log-in (no scheme, host, backslash or control)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        close_member_sockets(db.session, current_user.id)
        db.session.commit()
    end_member_session()
    return logged_out_response()


def logged_out_response():  # type: ignore[no-untyped-def]
    response = redirect(url_for("main.index"))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.get("/account")
@login_required
def account():  # type: ignore[no-untyped-def]
    return render_template("accounts/account.html", errors={}, message=None)


@bp.post("/account/password")
@login_required
@_limit("LOGIN_RATE_LIMIT")
def change_password():  # type: ignore[no-untyped-def]
    member = current_user._get_current_object()  # type: ignore[attr-defined]
    try:
        do_change_password(db.session, member, current=request.form.get("current_password"),
                           new=request.form.get("new_password"))
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("accounts/account.html", errors=exc.fields, message=None), 400
    start_member_session(member)  # every other session ended; this one starts afresh
    return render_template("accounts/account.html", errors={},
                           message="Your password is changed. You were logged out everywhere else.")


@bp.route("/recover", methods=["GET", "POST"])
@_limit("RECOVERY_RATE_LIMIT")
def recover():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("accounts/recover.html", errors={}, error=None, pseudonym="")
    form = request.form
    try:
        member, code = do_reset_with_code(db.session, pseudonym=form.get("pseudonym"),
                                          code=form.get("recovery_code"), new=form.get("new_password"))
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("accounts/recover.html", errors=exc.fields, error=exc.message,
                               pseudonym=str(form.get("pseudonym", ""))[:64]), exc.status
    start_member_session(member)
    return render_template("accounts/recovery_code.html", code=code, welcome=False)
