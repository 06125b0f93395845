"""Safety pages over HTTP: export, delete account, change pseudonym, mute/unmute,
moderators' content warnings, and the moderators' second factor. Thin: parse, act, render.

Every form is a plain POST with a CSRF token and works without JavaScript.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from forum.accounts.auth import current_member, end_member_session
from forum.accounts.models import Member
from forum.accounts.routes import CLEAR_SITE_DATA, safe_next
from forum.chat.models import ChatMessage
from forum.db import db
from forum.errors import ActionError, NotFound
from forum.extensions import limiter
from forum.live import close_member_sockets
from forum.rooms.actions import access_post
from forum.rooms.models import Post
from forum.safety import actions, queries, twofactor
from forum.safety.crisis import crisis_groups
from forum.sessions import hash_session_id

bp = Blueprint("safety", __name__)


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page here is for logged-in members."""


def _password_limit():  # type: ignore[no-untyped-def]
    """Forms that check a password share the log-in limit (by hashed address)."""
    return limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])


def _member_limit(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return limiter.limit(lambda: current_app.config[name], methods=["POST"],
                         key_func=lambda: f"{name}:member:{current_user.id}", **kwargs)  # type: ignore[arg-type]


# Template helpers (thread pages and the account page) -----------------------------------

# Template globals (globals, not context, so macros imported without context see them) ------

def _muted_ids() -> frozenset[int]:
    """Who the viewer muted (read with their session)."""
    return queries.muted_member_ids(db.session, current_user.id if current_user.is_authenticated else None)


@bp.app_template_global()
def author_muted(item: Post | ChatMessage) -> bool:
    """Whether the viewer muted the author of a post or chat line (pages show a placeholder)."""
    return item.author_id is not None and item.author_id in _muted_ids()


@bp.app_template_global()
def can_mute_author(item: Post | ChatMessage) -> bool:
    """Whether the viewer sees a "Mute" control on a post or chat line: someone else's, not muted yet."""
    return (current_user.is_authenticated and item.author_id is not None
            and item.author_id != current_user.id and not author_muted(item))


@bp.app_template_global()
def can_warn_posts() -> bool:
    """Moderators who passed the second-factor gate see the "Content warning" control."""
    return twofactor.moderator_verified(current_user)


bp.add_app_template_global(crisis_groups, "crisis_groups")


@bp.app_template_global()
def muted_members() -> list[tuple[Member, object]]:
    if not current_user.is_authenticated:
        return []
    return list(queries.muted_members(db.session, current_user.id))


# Quick exit ------------------------------------------------------------------------------

# Not "storage": the page keeps a per-tab mark in sessionStorage so that Back, after a quick
# exit, leaves Haven again at once (see static/js/quick-exit.js); Chromium would clear it.
QUICK_EXIT_CLEAR_SITE_DATA = '"cache", "cookies"'


@bp.post("/quick-exit")
def quick_exit():  # type: ignore[no-untyped-def]
    """The quick-exit button's background log-out (a beacon): sockets closed, session ended."""
    close_member_sockets(db.session, current_user.id)
    db.session.commit()
    end_member_session()
    response = Response(status=204)
    response.headers["Clear-Site-Data"] = QUICK_EXIT_CLEAR_SITE_DATA
    return response


# Export ------------------------------------------------------------------------------------

@bp.route("/account/export", methods=["GET", "POST"])
@_password_limit()
def export():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("safety/export.html", errors={})
    member = current_member()
    try:
        actions.check_password(member, request.form.get("password"))
    except ActionError as exc:
        return render_template("safety/export.html", errors=exc.fields), 400
    sid = getattr(session, "sid", None)
    data = queries.export_member_data(db.session, member, hash_session_id(sid) if sid else None)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        # A neutral file name: a downloads folder does not name the site's topic.
        "Content-Disposition": 'attachment; filename="haven-export.json"'})


# Delete account ----------------------------------------------------------------------------

@bp.route("/account/delete", methods=["GET", "POST"])
@_password_limit()
def delete_account():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("safety/delete.html", errors={}, choice=None)
    choice = request.form.get("posts")
    member = current_member()
    try:
        if choice not in ("keep", "remove"):
            actions.check_password(member, request.form.get("password"))
            raise ActionError("Please choose what happens to your posts.", field="posts")
        actions.do_delete_account(db.session, member, password=request.form.get("password"),
                                  keep_posts=choice == "keep")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("safety/delete.html", errors=exc.fields, choice=choice), 400
    end_member_session()
    response = Response(render_template("safety/deleted.html"))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


# Pseudonym ---------------------------------------------------------------------------------

def _changed(response: Response) -> bool:
    return response.status_code == 302


@bp.route("/account/pseudonym", methods=["GET", "POST"])
@_member_limit("PSEUDONYM_CHANGE_RATE_LIMIT", deduct_when=_changed)
def change_pseudonym():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("safety/pseudonym.html", errors={}, value="")
    try:
        actions.do_change_pseudonym(db.session, current_member(), request.form.get("pseudonym"))
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("safety/pseudonym.html", errors=exc.fields,
                               value=str(request.form.get("pseudonym", ""))[:64]), 400
    flash("Your pseudonym is changed. Your posts now show the new one; the old one isn't shown anywhere.")
    return redirect(url_for("accounts.account"))


# Muting ---------------------------------------------------------------------------------------

@bp.get("/posts/<int:post_id>/mute-author")
def confirm_mute_author(post_id: int):  # type: ignore[no-untyped-def]
    """Asks before muting a post's author. Thread pages link here rather than carrying a form
    (and a CSRF token) under every post: a sixth of a long thread page's bytes."""
    post = access_post(db.session, current_user, post_id)
    author = actions.check_can_mute(current_member(), post.author)
    return render_template("safety/mute.html", post=post, author=author, already=author.id in _muted_ids())


@bp.post("/posts/<int:post_id>/mute-author")
def mute_author(post_id: int):  # type: ignore[no-untyped-def]
    post = access_post(db.session, current_user, post_id)
    actions.do_mute(db.session, current_member(), post.author)
    db.session.commit()
    flash("You won't see this member's posts or chat messages any more. They are not told. "
          "You can undo this on your account page.")
    target = url_for("rooms.post", post_id=post.id)
    return redirect(safe_next(request.form.get("next")) or target)


@bp.post("/chat/messages/<int:message_id>/mute-author")
def mute_chat_author(message_id: int):  # type: ignore[no-untyped-def]
    """The "Mute" control on a chat line (a plain form, so it works without JavaScript too)."""
    from forum.chat.actions import access_message

    message = access_message(db.session, current_member(), message_id)
    actions.do_mute(db.session, current_member(), message.author)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return {"ok": True}
    flash("You won't see this member's posts or chat messages any more. They are not told. "
          "You can undo this on your account page.")
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.account", _anchor="muted"))


@bp.post("/account/muted/<int:member_id>/unmute")
def unmute(member_id: int):  # type: ignore[no-untyped-def]
    if actions.do_unmute(db.session, current_member(), member_id):
        db.session.commit()
        flash("You will see this member's posts and chat messages again.")
    return redirect(url_for("accounts.account", _anchor="muted"))


# Content warnings (moderators) ---------------------------------------------------------------

@bp.route("/posts/<int:post_id>/warning", methods=["GET", "POST"])
def post_warning(post_id: int):  # type: ignore[no-untyped-def]
    gate = twofactor.moderator_gate()
    if gate is not None:
        return gate
    post = access_post(db.session, current_user, post_id)
    if request.method == "GET":
        return render_template("safety/warning.html", post=post, errors={},
                               value=post.content_warning or "")
    try:
        actions.do_set_content_warning(db.session, current_member(), post, request.form.get("content_warning"))
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("safety/warning.html", post=post, errors=exc.fields,
                               value=str(request.form.get("content_warning", ""))[:120]), exc.status
    flash("The content warning is saved.")
    return redirect(url_for("rooms.post", post_id=post.id))


# Second factor -----------------------------------------------------------------------------

def _moderators_only() -> Member:
    member = current_member()
    if not member.is_moderator:
        raise NotFound()
    return member


@bp.route("/account/two-factor", methods=["GET", "POST"])
@_member_limit("LOGIN_RATE_LIMIT")
def two_factor():  # type: ignore[no-untyped-def]
    member = _moderators_only()
    if twofactor.has_second_factor(member):
        return render_template("safety/two_factor.html", enrolled=True, secret=None, errors={})
    if request.method == "GET":
        with db.new_session() as session:  # a page's own session only reads (forum.db)
            secret = actions.do_start_two_factor(session, session.get_one(Member, member.id))
            session.commit()
        return render_template("safety/two_factor.html", enrolled=False, secret=secret, errors={})
    try:
        actions.do_confirm_two_factor(db.session, member, request.form.get("code"))
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("safety/two_factor.html", enrolled=False, secret=member.totp_secret,
                               errors=exc.fields), 400
    twofactor.mark_verified()
    flash("Your second factor is set up. You'll enter a code from the app after each log-in.")
    return redirect(url_for("accounts.account"))


@bp.get("/account/two-factor/qr.svg")
def two_factor_qr():  # type: ignore[no-untyped-def]
    """The pending secret as a QR image from this site (CSP: img-src 'self'; no inline style)."""
    member = _moderators_only()
    if member.totp_secret is None or member.totp_confirmed_at is not None:
        raise NotFound()
    svg = twofactor.qr_svg(twofactor.provisioning_uri(member, member.totp_secret))
    return Response(svg, mimetype="image/svg+xml")


@bp.route("/account/two-factor/verify", methods=["GET", "POST"])
@_member_limit("LOGIN_RATE_LIMIT")
@_password_limit()
def verify_code():  # type: ignore[no-untyped-def]
    member = _moderators_only()
    if not twofactor.has_second_factor(member):
        return redirect(url_for("safety.two_factor"))
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("safety/verify.html", errors={}, next=target)
    try:
        actions.check_two_factor_code(member, request.form.get("code"))
    except ActionError as exc:
        return render_template("safety/verify.html", errors=exc.fields, next=target), 400
    twofactor.mark_verified()
    return redirect(target or _moderation_home())


def _moderation_home() -> str:
    try:
        return url_for("moderation.staff.queue")
    except BuildError:  # the moderation blueprint is not installed
        return url_for("accounts.account")
