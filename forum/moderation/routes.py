"""Moderation over HTTP. Thin: parse the form, call an action, commit, redirect or render.

Two blueprints:

* ``moderation`` (members): ``POST /flags`` (flag a post or chat message; JSON when the
  client sends ``Accept: application/json``, otherwise a redirect back with a flash),
  ``GET /flags/new`` (the flag form, for pages without JavaScript), ``/notices``.
* ``moderation.staff`` under ``/moderation`` (moderators): the queue, the log, watched
  words and (admins) the moderator role. Its ``before_request`` gate answers 404 to
  every member and visitor, exactly as for a page that does not exist, and sends a
  moderator without a second factor (when required) to set one up.

Every form is a plain POST with a CSRF token and works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.accounts.actions import access_member_by_pseudonym
from forum.accounts.auth import current_member
from forum.accounts.routes import safe_next
from forum.db import db
from forum.errors import ActionError, NotFound
from forum.extensions import limiter
from forum.moderation import actions, notices, queries, roles, words
from forum.rooms.queries import page_number

bp = Blueprint("moderation", __name__)
staff = Blueprint("staff", __name__, url_prefix="/moderation")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# Template helper: the nav's unread-notice count -----------------------------------------------

@bp.app_context_processor
def _moderation_globals() -> dict[str, Any]:
    def unread_notices() -> int:
        if not current_user.is_authenticated:
            return 0
        return notices.menu_count(db.session, current_user.id)

    return {"unread_notices": unread_notices}


@bp.app_template_global("can_flag")
def _can_flag(item: Any) -> bool:
    """A global (not context), so macros imported without context can ask it too."""
    return actions.can_flag(current_user, item)


# Members: flags and notices -----------------------------------------------------------------

def _flag_limit():  # type: ignore[no-untyped-def]
    return limiter.limit("30 per hour", methods=["POST"], key_func=lambda: f"flags:member:{current_user.id}")


@bp.get("/flags/new")
@login_required
def flag_form():  # type: ignore[no-untyped-def]
    target = actions.access_flag_target(db.session, current_member(), request.args.get("item_type"), request.args.get("item_id"))
    return render_template("moderation/flag.html", target=target, reasons=actions.FLAG_REASONS, values={},
                           errors={}, back=safe_next(request.args.get("next")) or target.link(db.session))


@bp.post("/flags")
@login_required
@_flag_limit()
def flag():  # type: ignore[no-untyped-def]
    form = request.form
    back = safe_next(form.get("next"))
    try:
        target = actions.access_flag_target(db.session, current_member(), form.get("item_type"), form.get("item_id"))
        result = actions.do_flag(db.session, current_member(), target, reason=form.get("reason"), note=form.get("note"))
        db.session.commit()
    except NotFound:
        raise
    except ActionError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(exc.to_ack()), exc.status
        target = actions.access_flag_target(db.session, current_member(), form.get("item_type"), form.get("item_id"))
        if exc.code == "own":
            flash(exc.message)
            return redirect(back or target.link(db.session))
        return render_template("moderation/flag.html", target=target, reasons=actions.FLAG_REASONS, values=form,
                               errors=exc.fields, error=exc.message,
                               back=back or target.link(db.session)), exc.status
    if _wants_json():
        return jsonify({"ok": True, "created": result.created, "hidden": result.hidden, "message": result.message})
    flash(result.message)
    return redirect(back or target.link(db.session))


@bp.get("/notices")
@login_required
def notice_list():  # type: ignore[no-untyped-def]
    """The member's private notices, newest first; opening the page marks them read."""
    items = notices.member_notices(db.session, current_user.id)
    unread = {n.id for n in items if n.read_at is None}
    if unread:
        with db.new_session() as session:  # a page's own session only reads (forum.db)
            notices.do_mark_read(session, current_user.id)
            session.commit()
        g.unread_notices = 0  # the menu on this very page counts none any more
    return render_template("moderation/notices.html", notices=items, new_ids=unread)


# Moderators -------------------------------------------------------------------------------

@staff.before_request
def _moderators_only() -> Response | None:
    """404 for everyone but moderators (who also need their second factor when required)."""
    from forum.safety.twofactor import moderator_gate

    return moderator_gate()


def _take_over() -> bool:
    return request.form.get("take_over") == "yes"


def _done(message: str) -> Response:
    flash(message)
    anchor = request.form.get("return_to")
    return redirect(safe_next(anchor) or url_for("moderation.staff.queue"))


def _refused(exc: ActionError) -> Response:
    db.session.rollback()
    flash(exc.message)
    return redirect(safe_next(request.form.get("return_to")) or url_for("moderation.staff.queue"))


def _queue_context() -> dict[str, Any]:
    return {"entries": queries.queue(db.session), "open_count": queries.open_count(db.session),
            "removal_reasons": actions.REMOVAL_REASONS, "mute_periods": actions.MUTE_PERIODS,
            "action_text": queries.ACTION_TEXT}


@staff.get("")
def queue():  # type: ignore[no-untyped-def]
    """The queue; ``?fragment=1`` returns only the list, for the live refresh in moderation.js."""
    if request.args.get("fragment") == "1":
        return render_template("moderation/_queue_items.html", **_queue_context())
    return render_template("moderation/queue.html", **_queue_context())


def _item_action(item_id: int, run: Any, message: str) -> Response:
    item = actions.access_review_item(db.session, current_member(), item_id)
    try:
        run(item)
        db.session.commit()
    except ActionError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(exc)
    return _done(message)


@staff.post("/items/<int:item_id>/claim")
def claim(item_id: int):  # type: ignore[no-untyped-def]
    return _item_action(item_id, lambda item: actions.do_claim(db.session, current_member(), item, take_over=_take_over()),
                        "You're working on this item; other moderators will see that.")


@staff.post("/items/<int:item_id>/release")
def release(item_id: int):  # type: ignore[no-untyped-def]
    return _item_action(item_id, lambda item: actions.do_release(db.session, current_member(), item),
                        "The item is back in the queue for anyone.")


@staff.post("/items/<int:item_id>/approve")
def approve(item_id: int):  # type: ignore[no-untyped-def]
    return _item_action(item_id, lambda item: actions.do_approve(
        db.session, current_member(), item, take_over=_take_over(), note=request.form.get("note")),
        "Approved. It is visible, and its flags are dismissed.")


@staff.post("/items/<int:item_id>/remove")
def remove(item_id: int):  # type: ignore[no-untyped-def]
    return _item_action(item_id, lambda item: actions.do_remove(
        db.session, current_member(), item, reason=request.form.get("reason"), note=request.form.get("note"),
        take_over=_take_over()), "Removed. The author was told privately why.")


@staff.post("/items/<int:item_id>/redact")
def redact(item_id: int):  # type: ignore[no-untyped-def]
    return _item_action(item_id, lambda item: actions.do_redact(
        db.session, current_member(), item, text=request.form.get("text"), note=request.form.get("note"),
        take_over=_take_over()), "Edited and published. The author was told.")


def _member_action(member_id: int, run: Any, message: str) -> Response:
    member = actions.access_member(db.session, current_member(), member_id)
    item = None
    raw_item = request.form.get("item_id")
    if raw_item and raw_item.isdigit():
        item = actions.access_review_item(db.session, current_member(), int(raw_item))
    try:
        if item is not None and item.state == "open":
            actions.check_claim(item, current_member(), _take_over())
        run(member, item)
        db.session.commit()
    except ActionError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(exc)
    return _done(message)


@staff.post("/members/<int:member_id>/warn")
def warn(member_id: int):  # type: ignore[no-untyped-def]
    return _member_action(member_id, lambda member, item: actions.do_warn(
        db.session, current_member(), member, message=request.form.get("note"), item=item), "Warning sent privately.")


@staff.post("/members/<int:member_id>/mute")
def mute(member_id: int):  # type: ignore[no-untyped-def]
    return _member_action(member_id, lambda member, item: actions.do_mute(
        db.session, current_member(), member, hours=request.form.get("hours"), message=request.form.get("note"), item=item),
        "Muted. They can read but not post or chat until the mute ends.")


@staff.post("/members/<int:member_id>/unmute")
def unmute(member_id: int):  # type: ignore[no-untyped-def]
    return _member_action(member_id, lambda member, _item: actions.do_unmute(db.session, current_member(), member),
                          "Unmuted.")


@staff.post("/members/<int:member_id>/ban")
def ban(member_id: int):  # type: ignore[no-untyped-def]
    return _member_action(member_id, lambda member, item: actions.do_ban(
        db.session, current_member(), member, reason=request.form.get("note"), item=item),
        "Banned. Their sessions and open connections were closed.")


@staff.get("/log")
def log():  # type: ignore[no-untyped-def]
    member = (request.args.get("member") or "").strip()[:40]
    moderator = (request.args.get("moderator") or "").strip()[:40]
    number = page_number(request.args.get("page"))
    page = queries.log_page(db.session, member=member or None, moderator=moderator or None, number=number,
                            size=int(current_app.config.get("MODERATION_LOG_PAGE", 50)))
    if number > page.count:
        raise NotFound()
    return render_template("moderation/log.html", page=page, member=member, moderator=moderator,
                           action_text=queries.ACTION_TEXT)


@staff.route("/words", methods=["GET", "POST"])
def watched_words():  # type: ignore[no-untyped-def]
    values: Any = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            word = words.do_add_word(db.session, current_member(), phrase=form.get("phrase"), action=form.get("action"),
                                     replacement=form.get("replacement"), label=form.get("label"))
            db.session.commit()
        except ActionError as exc:
            db.session.rollback()
            values, errors, status = form, exc.fields or {"phrase": exc.message}, exc.status
        else:
            flash(f"Added \u201c{word.phrase}\u201d. Screening uses it from now on.")
            return redirect(url_for("moderation.staff.watched_words"))
    return render_template("moderation/words.html", words=words.list_words(db.session), actions=words.ACTIONS,
                           labels=words.LABELS, values=values, errors=errors), status


@staff.post("/words/<int:word_id>/delete")
def delete_word(word_id: int):  # type: ignore[no-untyped-def]
    words.do_remove_word(db.session, current_member(), word_id)
    db.session.commit()
    flash("Removed from the list. Screening no longer matches it.")
    return redirect(url_for("moderation.staff.watched_words"))


def _admins_only() -> None:
    if not current_member().is_admin:
        raise NotFound()


@staff.get("/moderators")
def moderators():  # type: ignore[no-untyped-def]
    _admins_only()
    return render_template("moderation/moderators.html", staff=roles.staff(db.session), error=None, value="")


@staff.post("/moderators")
def grant():  # type: ignore[no-untyped-def]
    _admins_only()
    name = request.form.get("pseudonym") or ""
    member = access_member_by_pseudonym(db.session, name) if name.strip() else None
    error = None
    if member is None:
        error = "There's no member with that pseudonym."
    else:
        try:
            roles.do_set_role(db.session, current_member(), member, "moderator")
            db.session.commit()
        except ActionError as exc:
            db.session.rollback()
            error = exc.message
    if error or member is None:
        return render_template("moderation/moderators.html", staff=roles.staff(db.session), error=error,
                               value=name), 400
    flash(f"{member.pseudonym} is now a moderator.")
    return redirect(url_for("moderation.staff.moderators"))


@staff.post("/moderators/<int:member_id>/revoke")
def revoke(member_id: int):  # type: ignore[no-untyped-def]
    _admins_only()
    member = actions.access_member(db.session, current_member(), member_id)
    try:
        roles.do_set_role(db.session, current_member(), member, "member")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        flash(f"{member.pseudonym} is no longer a moderator.")
    return redirect(url_for("moderation.staff.moderators"))


bp.register_blueprint(staff)
