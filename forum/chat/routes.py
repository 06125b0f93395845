"""Chat over HTTP: the room's chat on a page of its own, and sending from a plain form.

The same write path as the socket (``do_send_message``), so the chat works without
JavaScript and the form is the fallback of the live panel. A room outside the
member's audience answers 404, exactly like a missing one.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.chat import actions, events, presence, queries
from forum.db import db
from forum.errors import ActionError
from forum.rooms.actions import access_room

bp = Blueprint("chat", __name__)


@bp.before_request
@login_required
def _members_only() -> None:
    """Chat is for logged-in members (visitors are sent to log in)."""


def _render(room, error: str | None = None, body: str = "", confirm: bool = False, status: int = 200):  # type: ignore[no-untyped-def]
    seq = queries.current_seq(db.session, room)  # before the lines, so chat.js's catch-up misses nothing
    page = queries.recent_messages(db.session, current_user, room, current_app.config["CHAT_HISTORY"])
    return render_template("chat/page.html", room=room, messages=page.messages, has_more=page.has_more, chat_seq=seq,
                           present=presence.present_count(db.session, room.id), error=error, body=body,
                           confirm=confirm), status


@bp.get("/rooms/<slug>/chat")
def page(slug: str):  # type: ignore[no-untyped-def]
    room = access_room(db.session, current_user, slug)
    return _render(room)


@bp.post("/rooms/<slug>/chat")
def send(slug: str) -> Response | tuple[str, int]:
    room = access_room(db.session, current_user, slug)
    member = current_user._get_current_object()  # type: ignore[attr-defined]
    body = request.form.get("body", "")
    try:
        sent = actions.do_send_message(db.session, member, room, body, request.form.get("client_id") or None,
                                       confirmed=request.form.get("confirmed") == "yes")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        if exc.code == "duplicate":
            return redirect(url_for("chat.page", slug=room.slug))
        return _render(room, error=exc.message, body=body[:actions.MAX_RAW], confirm=exc.code == "confirm",  # type: ignore[no-any-return]
                       status=exc.status)
    ack = events.send_ack(sent)
    if not ack["ok"]:
        flash(str(ack["error"]))
    elif ack.get("crisis"):
        return redirect(url_for("chat.page", slug=room.slug, support=1) + "#chat-form")
    return redirect(url_for("chat.page", slug=room.slug) + "#chat-form")
